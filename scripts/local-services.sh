#!/usr/bin/env bash
# Make sure the local RabbitMQ (with its management API, which the tests use to
# make a throwaway vhost each) and PostgreSQL are running. Idempotent.
set -euo pipefail

if command -v rabbitmqctl >/dev/null; then
  if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting RabbitMQ"
    rabbitmq-server -detached
  fi
  timeout 120 rabbitmqctl -q await_startup
  if ! rabbitmq-plugins -q is_enabled rabbitmq_management >/dev/null 2>&1; then
    rabbitmq-plugins -q enable rabbitmq_management
  fi
  for _ in $(seq 60); do
    curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
else
  echo "rabbitmqctl not found: expecting RabbitMQ with management on 127.0.0.1" >&2
fi

if command -v pg_ctlcluster >/dev/null; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  fi
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
else
  echo "pg_ctlcluster not found: expecting PostgreSQL on 127.0.0.1:5432" >&2
fi

#!/usr/bin/env bash
# Make sure the local RabbitMQ (with its management API, which the tests use to
# make a throwaway vhost each) and PostgreSQL are running. Idempotent.
set -euo pipefail

# Quorum queues keep files open: with the usual 1024 open files, RabbitMQ runs out after
# a few vhosts' worth of this project's queues and stops taking connections. It is
# started (or, if it runs with fewer, restarted) with as many as the machine allows.
FILES_WANTED=16384
broker_files() {
  local pid
  pid=$(pgrep -u rabbitmq -x beam.smp | head -1 || true)
  [ -n "$pid" ] && awk '/Max open files/ {print $4}' "/proc/$pid/limits"
}

if command -v rabbitmqctl >/dev/null; then
  files=$(broker_files || true)
  if [ -n "$files" ] && [ "$files" -lt "$FILES_WANTED" ]; then
    echo "restarting RabbitMQ: it may open $files files, quorum queues need more"
    timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || pkill -u rabbitmq -x beam.smp || true
    for _ in $(seq 30); do [ -z "$(broker_files || true)" ] && break; sleep 1; done
  fi
  if ! timeout 30 rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting RabbitMQ"
    if id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      # as Debian's wrapper does, but with the open files raised after the switch of user
      runuser -u rabbitmq -- sh -c "cd /var/lib/rabbitmq && ulimit -n $FILES_WANTED; \
        exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached"
    else
      (ulimit -n "$FILES_WANTED" 2>/dev/null || true; rabbitmq-server -detached)
    fi
  fi
  # a node just started is not known to epmd for a moment: await_startup fails at once
  for _ in $(seq 60); do
    timeout 120 rabbitmqctl -q await_startup >/dev/null 2>&1 && break
    sleep 1
  done
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

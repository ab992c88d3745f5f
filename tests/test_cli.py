"""The conference command's queue declaration: every consumer queue exists before
any service publishes."""

import os
import subprocess
import sys

from kombu import Connection

from services.cli import SERVICES, all_handler_queues, declare_all_queues


def test_every_handler_of_every_service_gets_its_three_queues(amqp_uri):
    handlers = all_handler_queues()
    assert {queues.main.name for queues in handlers} >= {
        "evt-payments-payment_succeeded--registration.on_payment_succeeded",
        "evt-payments-payment_failed--registration.on_payment_failed",
        "evt-payments-payment_refunded--registration.on_payment_refunded",
    }
    assert declare_all_queues(amqp_uri) == 3 * len(handlers)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for queues in handlers:
            for queue in queues:
                queue.bind(channel).queue_declare(passive=True)  # raises if it is missing
    assert "registration" in SERVICES


def test_a_service_will_not_start_with_local_or_placeholder_secrets(tmp_path):
    """Outside make run and the tests, well-known values refuse to start, naming which."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "ALLOW_LOCAL_SECRETS", "SECRET_KEY", "ADMIN_TOKEN", "DESK_TOKEN", "FINANCE_TOKEN",
        "STRIPE_WEBHOOK_SECRET")}
    env |= {"ADMIN_TOKEN": "change-me-admin", "SECRET_KEY": "x" * 40,
            "REGISTRATION_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    refused = subprocess.run(
        [sys.executable, "-m", "services.cli", "run", "registration", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "ADMIN_TOKEN" in refused.stderr and "DESK_TOKEN" in refused.stderr
    assert "SECRET_KEY" not in refused.stderr.split("values of")[1].split(":")[0]

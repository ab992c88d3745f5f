"""Payments stopped for a minute in the middle of a sale: registration keeps taking
orders, and every one becomes payable once payments returns. How soon (the brief's 10 s)
is measured by ``bench/registration_rush.py --stop-payments 60``, not asserted here: this
machine is shared and noisy."""

import time

import eventlet
import pytest

from services.registration.service import RegistrationService
from tests.conftest import ADMIN_TOKEN, free_port, make_config, wait_until
from tests.registration.conftest import delegate
from tests.stack import WEBHOOK_SECRET, Stack

STOP_SECONDS = 60


def order(n: int) -> dict:
    return {"buyer": {"name": f"Buyer {n}", "email": f"buyer{n}@example.org",
                      "organisation": "Experimentarium", "country": "DK"},
            "delegates": [delegate(email=f"d{n}@example.org", add_ons=[])]}


@pytest.fixture
def payments_env(amqp_uri, tmp_path, localstripe_url):
    return {"AMQP_URI": amqp_uri, "PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
            "STRIPE_API_BASE": localstripe_url, "STRIPE_API_KEY": "sk_test_suite",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_suite", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SECRET_KEY": "test-secret-key", "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "WARNING"}


def test_orders_taken_while_payments_is_down_are_payable_soon_after_it_returns(
        service_process, payments_env, start_service, amqp_uri, tmp_path, catalog_file,
        stripe_client, webhook):
    port = free_port()
    payments = service_process("payments", payments_env, port).wait_healthy()
    webhook(port)
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}",
        CATALOG_FILE=str(catalog_file())))
    stack = Stack(registration, payments.api, stripe_client, amqp_uri)
    before = [registration.post("/api/orders", json=order(n)).json() for n in range(3)]
    for placed in before:
        stack.payment(placed)

    payments.stop()
    taken, stopped_at, n = [], time.monotonic(), 3
    while time.monotonic() - stopped_at < STOP_SECONDS:
        answer = registration.post("/api/orders", json=order(n), timeout=5)
        assert answer.status_code == 201, answer.text
        taken.append(answer.json())
        n += 1
        time.sleep(2)
    waiting = registration.get(f"/api/orders/{taken[-1]['id']}/payment",
                               headers={"X-Order-Token": taken[-1]["token"]})
    assert waiting.status_code == 202

    service_process("payments", payments_env, port).wait_healthy()
    for placed in taken:
        stack.payment(placed, timeout=60)

    everyone = before + taken
    pool = eventlet.GreenPool(10)
    assert set(pool.imap(lambda p: stack.pay(stack.payment(p)), everyone)) == {"succeeded"}
    for placed in everyone:
        wait_until(lambda p=placed: stack.order(p)["status"] == "confirmed", 30,
                   message="every order confirmed")

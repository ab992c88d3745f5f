"""Invoice and credit-note numbers have no gaps and no repeats when two payments
instances on one PostgreSQL database issue them at once."""

import eventlet
import pytest
from sqlalchemy import create_engine, select

from services.payments.models import Document
from services.payments.service import PaymentsService
from services.registration.service import RegistrationService
from tests.conftest import make_config, wait_until
from tests.registration.conftest import delegate

pytestmark = pytest.mark.postgres
ORDERS = 24
BUYER = {"name": "Kari Nordmann", "email": "kari@example.org", "organisation": "Norsk Teknisk",
         "country": "NO", "billing_address": "Kjelsåsveien 143, 0491 Oslo"}


def numbers(postgres_url, kind) -> list[int]:
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        found = connection.scalars(select(Document.number).where(Document.kind == kind)).all()
    engine.dispose()
    return sorted(int(number.rsplit("-", 1)[1]) for number in found)


def test_numbers_are_gap_free_under_concurrency(start_service, amqp_uri, tmp_path,
                                                postgres_url, catalog_file):
    for _ in range(2):
        start_service(PaymentsService, make_config(
            "payments", amqp_uri, postgres_url, STRIPE_API_BASE="http://127.0.0.1:9"))
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}",
        CATALOG_FILE=str(catalog_file())))

    def book(n):
        answer = registration.post("/api/orders", json={
            "buyer": BUYER, "payment_method": "invoice",
            "delegates": [delegate(email=f"d{n}@example.org", add_ons=[])]})
        assert answer.status_code == 201, answer.text
        return answer.json()

    orders = list(eventlet.GreenPool(ORDERS).imap(book, range(ORDERS)))
    wait_until(lambda: len(numbers(postgres_url, "invoice")) == ORDERS, timeout=30,
               message="every invoice")
    assert numbers(postgres_url, "invoice") == list(range(1, ORDERS + 1))

    def cancel(order):
        answer = registration.post(f"/api/orders/{order['id']}/cancel",
                                   headers={"X-Order-Token": order["token"]})
        assert answer.status_code == 200, answer.text

    list(eventlet.GreenPool(ORDERS).imap(cancel, orders))
    wait_until(lambda: len(numbers(postgres_url, "credit_note")) == ORDERS, timeout=30,
               message="every credit note")
    assert numbers(postgres_url, "credit_note") == list(range(1, ORDERS + 1))

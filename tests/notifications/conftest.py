"""Notifications through the real parts: a real SMTP server (the project's mail sink, in
its own process) and RabbitMQ. The stack of registration, payments and localstripe is
test_notifications.py's; tests that stand in for payments themselves need none of it."""


import pytest
from sqlalchemy.orm import Session

from services.notifications.models import Base
from shared.db import MessagingBase, UnitOfWork, make_engine
from tests.conftest import FINANCE_TOKEN, make_config
from tests.mail_sink import BOUNCING_DOMAIN, MailSink  # noqa: F401 - for the tests here
from tests.registration.conftest import delegate


@pytest.fixture
def uow(tmp_path):
    """A unit of work on a real (SQLite) notifications database, without a broker."""
    engine = make_engine(f"sqlite:///{tmp_path / 'notifications.db'}")
    MessagingBase.metadata.create_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield UnitOfWork(session, "notifications.on_event", lambda: None)
    engine.dispose()


@pytest.fixture
def mail_sink(tmp_path):
    sink = MailSink(tmp_path / "mail").start()
    yield sink
    if sink.process.poll() is None:
        sink.stop()


@pytest.fixture
def notifications_config(amqp_uri, tmp_path, mail_sink):
    return make_config(
        "notifications", amqp_uri, f"sqlite:///{tmp_path / 'notifications.db'}",
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail_sink.port), SEND_RETRY_SECONDS=0.3,
        PAYMENT_DUE_DELAY_SECONDS=0,
        PUBLIC_BASE_URL="https://tickets.ecsite.test")


BUYER = {"name": "Maria Rossi", "email": "maria.rossi@example.org",
         "organisation": "Museo Nazionale della Scienza e della Tecnologia", "country": "IT"}


def place_order(api, delegates: list[dict], **buyer) -> dict:
    """An order of ``delegates`` (changes to the usual delegate) by a buyer; the 201."""
    response = api.post("/api/orders", json={
        "buyer": {**BUYER, **buyer}, "delegates": [delegate(**d) for d in delegates],
        "payment_method": "card"})
    assert response.status_code == 201, response.text
    return response.json()


def message_log(api, registration_id) -> list[dict]:
    """The messages to one delegate."""
    return log_at(api, f"/api/admin/registrations/{registration_id}/messages")


def order_log(api, order_id) -> list[dict]:
    """The messages about one order: to its buyer and to its delegates."""
    return log_at(api, f"/api/admin/orders/{order_id}/messages")


FINANCE = {"Authorization": f"Bearer {FINANCE_TOKEN}"}


def log_at(api, path, headers=None) -> list[dict]:
    response = api.get(path, headers=headers or api.as_admin())
    assert response.status_code == 200, response.text
    return response.json()["items"]

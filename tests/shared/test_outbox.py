"""The outbox: events leave only after their transaction commits, and none is lost
when the relaying process is killed."""

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.registration.booking import seed
from shared.db import MessagingBase, OutboxEvent, UnitOfWork, make_engine, migrate, migrations
from shared.events.contracts import RegistrationData
from shared.outbox import OutboxRelay
from tests.conftest import wait_until


def registration_data(n: int) -> RegistrationData:
    return RegistrationData(
        registration_id=f"00000000-0000-4000-8000-{n:012d}",
        order_id=f"00000000-0000-4000-9000-{n:012d}", reference=f"ECS27-{n:06d}",
        status="pending_payment", ticket_type="full", ticket_type_name="Full conference",
        role="delegate", add_ons=[], amount_due=99000, vat_amount=20120, currency="EUR",
        delegate={"given_name": "Łukasz", "family_name": "Żółć", "organisation": "CSC",
                  "country": "PL", "email": f"d{n}@example.org"},
        conference={"name": "Ecsite Annual Conference 2027", "starts_on": "2027-06-10",
                    "ends_on": "2027-06-12", "venue": "Tampere Hall", "timezone":
                    "Europe/Helsinki", "name_changes_until": "2027-06-03", "organiser": {
                        "name": "Ecsite", "address": "Avenue Louise 89/7, 1050 Brussels",
                        "vat_number": "BE0459164560"}})


@pytest.fixture
def sessions(sqlite_url):
    engine = make_engine(sqlite_url)
    MessagingBase.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def write_events(sessions, count: int, commit: bool = True) -> None:
    unit = UnitOfWork(sessions(), "test", lambda: None)
    for n in range(count):
        unit.publish("registration_created", registration_data(n))
    unit.commit() if commit else unit.rollback()
    unit.close()


def test_committed_events_are_published_in_order_and_marked(sessions, amqp_uri, listen):
    events = listen("registration")
    write_events(sessions, 5)
    assert OutboxRelay(sessions, amqp_uri).relay_batch() == 5
    received = events.wait_for("registration_created", count=5)
    assert [e["data"]["reference"] for e in received] == [f"ECS27-{n:06d}" for n in range(5)]
    with sessions() as session:
        rows = session.scalars(select(OutboxEvent)).all()
        assert all(row.published_at and row.routed for row in rows)
    assert OutboxRelay(sessions, amqp_uri).relay_batch() == 0


def test_a_rolled_back_transaction_publishes_nothing(sessions, amqp_uri, listen):
    events = listen("registration")
    write_events(sessions, 3, commit=False)
    assert OutboxRelay(sessions, amqp_uri).relay_batch() == 0
    assert events.drain() == []


def test_an_event_nobody_listens_to_is_marked_unrouted_not_retried(sessions, amqp_uri):
    write_events(sessions, 1)
    assert OutboxRelay(sessions, amqp_uri).relay_batch() == 1
    with sessions() as session:
        [row] = session.scalars(select(OutboxEvent)).all()
        assert row.published_at is not None and row.routed is False


def test_a_killed_relay_loses_nothing(sqlite_url, amqp_uri, listen, service_process):
    """10,000 committed events; the service relaying them is SIGKILLed mid-way and
    restarted: every event arrives (some perhaps twice), and all are marked published.
    It is killed once it has marked its first batch: waiting for the first event to
    arrive, it had sometimes finished them all."""
    total = 10_000
    engine = make_engine(sqlite_url)
    migrate(engine, migrations("registration"), seed=seed)
    write_events(sessionmaker(engine), total)
    events = listen("registration")
    env = {"AMQP_URI": amqp_uri, "REGISTRATION_DATABASE_URL": sqlite_url}

    first = service_process("registration", env)

    def some_published():
        with Session(engine) as session:
            return session.scalar(select(func.count()).where(
                OutboxEvent.published_at.is_not(None)))

    wait_until(some_published, timeout=30, interval=0.01, message="the first batch marked")
    first.kill()
    before_restart = {e["id"] for e in events.drain()}
    assert len(before_restart) < total, "the relay finished before it was killed"

    service_process("registration", env).wait_healthy()
    wait_until(lambda: len({e["id"] for e in events.drain()}) == total, timeout=60,
               message="every event")
    copies = Counter(e["id"] for e in events.received)
    assert set(copies) >= before_restart
    # the relay marks a batch published once the broker has confirmed it, which may be a
    # moment after a consumer has the events
    with Session(engine) as session:
        wait_until(lambda: session.scalar(select(func.count()).where(
            OutboxEvent.published_at.is_(None))) == 0 or session.rollback(), timeout=15,
            message="every row marked published")
    engine.dispose()

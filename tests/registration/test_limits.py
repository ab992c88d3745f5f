"""The limits table stays equal to what registrations hold, whatever moves them;
catalog changes during the sale; a reference drawn twice."""

from collections import Counter

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.registration import booking
from services.registration.catalog import load_catalog_file
from services.registration.domain import HOLDS_SEATS, limits_taken
from services.registration.models import Limit, Registration
from services.registration.service import RegistrationService
from shared.db import UnitOfWork, make_engine, migrate, migrations
from shared.events import new_event
from tests.conftest import make_config, wait_until
from tests.registration.conftest import delegate, register


def held_by_registrations(session) -> Counter:
    held = Counter()
    for registration in session.scalars(select(Registration)):
        if registration.status in HOLDS_SEATS:
            held.update(limits_taken(registration.ticket_type, tuple(registration.add_ons),
                                     registration.discount_code))
    return held


def assert_limits_match(database_url):
    engine = create_engine(database_url)
    with Session(engine) as session:
        recorded = {limit.key: limit.held for limit in session.scalars(select(Limit))}
        recounted = held_by_registrations(session)
    engine.dispose()
    assert {k: v for k, v in recorded.items() if v} == dict(recounted)


@pytest.fixture
def sale(start_service, amqp_uri, sqlite_url, catalog_file):
    """Two seats; holds of 1.2 seconds."""
    path = catalog_file(conference={"capacity": 2, "hold_minutes": 0.02})
    config = make_config("registration", amqp_uri, sqlite_url, CATALOG_FILE=str(path))
    return start_service(RegistrationService, config)[1]


def test_every_move_keeps_the_limits_equal_to_a_recount(sale, sqlite_url, listen, publish):
    events = listen("registration")
    paid = register(sale, discount_code="NEWCOMER15", add_ons=["gala-dinner", "ws-evaluation"])
    publish(new_event("payment_succeeded", {
        "order_id": paid["order_id"], "method": "card", "payment_intent_id": "pi_1",
        "amount": paid["amount_due"], "currency": "EUR"}))
    events.wait_for("registration_confirmed", paid["id"])
    assert_limits_match(sqlite_url)

    expiring = register(sale, email="late@example.org")
    events.wait_for("registration_expired", expiring["id"], timeout=15)
    assert_limits_match(sqlite_url)

    publish(new_event("payment_succeeded", {
        "order_id": expiring["order_id"], "method": "card", "payment_intent_id": "pi_2",
        "amount": expiring["amount_due"], "currency": "EUR"}))
    events.wait_for("registration_confirmed", expiring["id"])
    assert_limits_match(sqlite_url)

    refused = sale.post("/api/registrations", json=delegate(email="full@example.org"))
    assert refused.status_code == 409
    assert_limits_match(sqlite_url)

    sale.post(f"/api/registrations/{paid['id']}/cancel", json={},
              headers={"X-Registration-Token": paid["token"]})
    publish(new_event("payment_refunded", {
        "order_id": expiring["order_id"], "method": "card", "payment_intent_id": "pi_2",
        "currency": "EUR",
        "refund_id": "re_1", "amount": expiring["amount_due"],
        "total_refunded": expiring["amount_due"], "fully_refunded": True}))
    events.wait_for("registration_cancelled", expiring["id"])
    assert_limits_match(sqlite_url)
    assert sale.get("/api/catalog").json()["remaining"] == 2


def test_a_reference_drawn_twice_is_drawn_again(registration, monkeypatch):
    drawn = iter(["ECS27-SAME22", "ECS27-SAME22", "ECS27-OTHER3"])
    monkeypatch.setattr(booking, "new_reference", lambda prefix: next(drawn))
    first = register(registration)
    second = register(registration, email="second@example.org")
    assert (first["reference"], second["reference"]) == ("ECS27-SAME22", "ECS27-OTHER3")


class TestCatalogChanges:
    @pytest.fixture
    def unit(self, sqlite_url):
        engine = make_engine(sqlite_url)
        migrate(engine, migrations("registration"), seed=booking.seed)
        session = Session(engine)
        yield UnitOfWork(session, "test", lambda: None)
        session.close()
        engine.dispose()

    def test_a_new_capacity_applies_to_the_next_registration(self, unit):
        catalog = load_catalog_file()
        smaller = catalog.model_copy(update={"conference": catalog.conference.model_copy(
            update={"capacity": 1})})
        booking.load_catalog(unit, smaller, "smaller.yaml")
        limit = unit.session.get(Limit, "conference")
        assert (limit.capacity, limit.held) == (1, 0)

    def test_a_held_add_on_cannot_be_dropped(self, unit):
        catalog = load_catalog_file()
        unit.session.get(Limit, "add_on:gala-dinner").held = 1
        unit.commit()
        without_gala = catalog.model_copy(update={"add_ons": tuple(
            a for a in catalog.add_ons if a.code != "gala-dinner")})
        with pytest.raises(ValueError, match="add_on:gala-dinner"):
            booking.load_catalog(unit, without_gala, "no-gala.yaml")

    def test_an_unheld_add_on_can_be_dropped(self, unit):
        catalog = load_catalog_file()
        without_gala = catalog.model_copy(update={"add_ons": tuple(
            a for a in catalog.add_ons if a.code != "gala-dinner")})
        booking.load_catalog(unit, without_gala, "no-gala.yaml")
        assert unit.session.get(Limit, "add_on:gala-dinner") is None


def test_catalog_changes_reach_a_running_service(registration, registration_config):
    engine = create_engine(registration_config["DATABASE_URL"])
    catalog = load_catalog_file()
    with Session(engine) as session:
        booking.load_catalog(UnitOfWork(session, "test", lambda: None), catalog.model_copy(
            update={"conference": catalog.conference.model_copy(update={"capacity": 1})}),
            "smaller.yaml")
    engine.dispose()
    register(registration)
    wait_until(lambda: registration.get("/api/catalog").json()["remaining"] == 0)
    full = registration.post("/api/registrations", json=delegate(email="b@example.org"))
    assert full.status_code == 409 and full.json()["error"]["code"] == "conference_full"

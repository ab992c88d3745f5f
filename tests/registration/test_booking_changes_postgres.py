"""Delegates changing their bookings at once for the last places, on two service
instances sharing PostgreSQL: no limit is ever exceeded, and no place is lost."""

import eventlet
import pytest
from sqlalchemy import create_engine, select, text

from services.registration.models import Limit, Order, Registration
from services.registration.service import RegistrationService
from tests.conftest import ADMIN_TOKEN, make_config, wait_until
from tests.registration.conftest import delegate, register
from tests.registration.test_payment_events import payment_succeeded, wait_for_status

pytestmark = pytest.mark.postgres
WORKSHOP, OTHER_WORKSHOP, GALA = "ws-evaluation", "ws-climate-dialogue", "gala-dinner"


@pytest.fixture
def two_instances(service_process, amqp_uri, postgres_url, catalog_file):
    """Two registration processes on one database; a workshop of 3 places."""
    def small_workshop(document):
        next(a for a in document["add_ons"] if a["code"] == WORKSHOP)["capacity"] = 3

    env = {"AMQP_URI": amqp_uri, "REGISTRATION_DATABASE_URL": postgres_url,
           "ADMIN_TOKEN": ADMIN_TOKEN,
           "REGISTRATION_CATALOG_FILE": str(catalog_file(small_workshop))}
    first = service_process("registration", env).wait_healthy()
    second = service_process("registration", env).wait_healthy()
    return [first.api, second.api]


def confirmed(api, count: int, add_ons: list[str], prefix: str) -> list[dict]:
    """Places an organiser gave away: confirmed at once, each with its delegate's token."""
    booked = []
    for n in range(count):
        person = delegate(email=f"{prefix}{n}@example.org", add_ons=add_ons)
        answer = api.post("/api/admin/complimentary", headers=api.as_admin(), json={
            "buyer": {"name": "Ecsite", "email": "office@ecsite.example",
                      "organisation": "Ecsite", "country": "BE"}, "delegates": [person]})
        assert answer.status_code == 201, answer.text
        [booked_one] = answer.json()["delegates"]
        assert answer.json()["status"] == "confirmed"
        booked.append(booked_one)
    return booked


def race(apis, jobs):
    """Ask every change at once, alternating between instances."""
    pool = eventlet.GreenPool(len(jobs))
    return list(pool.imap(lambda job: apis[job[0] % len(apis)].post(
        f"/api/registrations/{job[1]['id']}/changes", json={"add_ons": [WORKSHOP]},
        headers={"X-Registration-Token": job[1]["token"]}), enumerate(jobs)))


def held(postgres_url) -> dict[str, int]:
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        rows = dict(connection.execute(select(Limit.key, Limit.held)).all())
    engine.dispose()
    return rows


def test_changes_racing_for_the_last_places_never_exceed_a_limit(two_instances, postgres_url):
    apis = two_instances
    adding = confirmed(apis[0], 6, [], "adding")
    swapping = confirmed(apis[0], 4, [OTHER_WORKSHOP], "swapping")
    answers = race(apis, adding + swapping)
    won = [a.json() for a in answers if a.status_code == 201]
    refused = {(a.status_code, a.json()["error"]["code"], a.json()["error"]["field"])
               for a in answers if a.status_code != 201}
    assert len(won) == 3, [a.text for a in answers]
    assert refused == {(409, "sold_out", "add_ons[0]")}
    places = held(postgres_url)
    assert places[f"add_on:{WORKSHOP}"] == 3
    # Complimentary places stay free: every change takes effect at once, a swap freeing
    # its old place.
    assert {(c["status"], c["difference"]) for c in won} == {("applied", 0)}
    swapped = sum(1 for c in won if c["before"]["add_ons"] == [OTHER_WORKSHOP])
    assert places[f"add_on:{OTHER_WORKSHOP}"] == 4 - swapped


def test_paying_a_change_locks_its_booking_before_its_order(
        start_service, amqp_uri, postgres_url, publish):
    """Cancelling or changing a booking locks it, then its change's order: the payment of
    that order must take them in the same order, or the two could deadlock. While a
    booking is held, its change's payment waits for it without holding the order."""
    _, api = start_service(RegistrationService,
                           make_config("registration", amqp_uri, postgres_url))
    created = register(api, add_ons=[])
    publish(payment_succeeded(created))
    wait_for_status(api, created, "confirmed")
    made = api.post(f"/api/registrations/{created['id']}/changes", json={"add_ons": [GALA]},
                    headers={"X-Registration-Token": created["token"]})
    assert made.status_code == 201 and made.json()["status"] == "pending_payment", made.text
    made = made.json()

    engine = create_engine(postgres_url)
    with engine.connect() as cancelling, engine.connect() as other:
        cancelling.execute(select(Registration.id).where(Registration.id == created["id"])
                           .with_for_update())
        publish(payment_succeeded({"order_id": made["order_id"]}, made["difference"],
                                  intent="pi_change"))
        wait_until(lambda: other.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")).scalar() == 1, 10,
            message="the payment waiting for the booking")
        other.execute(select(Order.id).where(Order.id == made["order_id"])
                      .with_for_update(nowait=True))  # free: the payment does not hold it
        other.rollback()
        cancelling.rollback()
    engine.dispose()
    wait_until(lambda: api.get(f"/api/registrations/{created['id']}", headers={
        "X-Registration-Token": created["token"]}).json()["add_ons"] == [GALA], 10,
        message="the change taking effect")

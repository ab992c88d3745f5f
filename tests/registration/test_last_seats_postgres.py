"""Many delegates racing for the last seats, on two service instances sharing PostgreSQL."""

from collections import Counter

import eventlet
import pytest
from sqlalchemy import create_engine, func, select

from services.registration.models import Registration, RegistrationAddOn
from tests.registration.conftest import delegate

pytestmark = pytest.mark.postgres
WORKSHOP = "ws-evaluation"


@pytest.fixture
def two_instances(service_process, amqp_uri, postgres_url, catalog_file):
    """Two registration processes on one database; a sale of 6 seats in all,
    4 full-conference tickets, and a workshop of 3."""
    def small_sale(document):
        document["conference"]["capacity"] = 6
        capacities = {"full": 4, WORKSHOP: 3}
        for item in document["ticket_types"] + document["add_ons"]:
            item["capacity"] = capacities.get(item["code"], item["capacity"])

    path = catalog_file(small_sale)
    env = {"AMQP_URI": amqp_uri, "REGISTRATION_DATABASE_URL": postgres_url,
           "REGISTRATION_CATALOG_FILE": str(path)}
    first = service_process("registration", env).wait_healthy()
    second = service_process("registration", env).wait_healthy()
    return [first.api, second.api]


def race(apis, bodies):
    """Send every body at once, alternating between instances; the status codes."""
    pool = eventlet.GreenPool(len(bodies))
    return list(pool.imap(
        lambda job: apis[job[0] % len(apis)].post("/api/registrations", json=job[1]),
        enumerate(bodies)))


def created_and_refused(responses):
    created = [r.json() for r in responses if r.status_code == 201]
    refused = Counter((r.status_code, r.json()["error"]["code"], r.json()["error"]["field"])
                      for r in responses if r.status_code != 201)
    return created, refused


def test_no_limit_is_exceeded(two_instances, postgres_url):
    """Each wave of 20 parallel requests runs into one limit, exactly."""
    apis = two_instances
    wave = [delegate(email=f"ws{n}@example.org", add_ons=[WORKSHOP]) for n in range(20)]
    created, refused = created_and_refused(race(apis, wave))
    assert len(created) == 3, "the workshop has 3 places"
    assert refused == {(409, "sold_out", "add_ons[0]"): 17}

    wave = [delegate(email=f"full{n}@example.org", add_ons=[]) for n in range(20)]
    created, refused = created_and_refused(race(apis, wave))
    assert len(created) == 1, "4 full-conference tickets, 3 already taken"
    assert refused == {(409, "sold_out", "ticket_type"): 19}

    wave = [delegate(email=f"day{n}@example.org", ticket_type="day-friday", add_ons=[])
            for n in range(20)]
    created, refused = created_and_refused(race(apis, wave))
    assert len(created) == 2, "6 seats in the conference, 4 already taken"
    assert refused == {(409, "conference_full", "ticket_type"): 18}

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Registration)) == 6
        assert connection.scalar(select(func.count()).select_from(RegistrationAddOn)) == 3
    engine.dispose()
    assert apis[1].get("/api/catalog").json()["remaining"] == 0


def race_orders(apis, orders):
    """Send every order at once, alternating between instances."""
    pool = eventlet.GreenPool(len(orders))
    return list(pool.imap(
        lambda job: apis[job[0] % len(apis)].post("/api/orders", json=job[1]),
        enumerate(orders)))


def order_of(delegates, n):
    return {"buyer": {"name": f"Buyer {n}", "email": f"buyer{n}@example.org",
                      "organisation": "Universeum", "country": "SE"}, "delegates": delegates}


def test_orders_of_three_take_the_last_seats_all_or_nothing(two_instances, postgres_url):
    apis = two_instances
    wave = [order_of([delegate(email=f"ws{n}-{i}@example.org", add_ons=[WORKSHOP])
                      for i in range(3)], n) for n in range(10)]
    created, refused = created_and_refused(race_orders(apis, wave))
    assert len(created) == 1, "4 full tickets and a workshop of 3: one order of three"
    assert refused == {(409, "sold_out", "delegates[0].ticket_type"): 9}

    wave = [order_of([delegate(email=f"day{n}-{i}@example.org", ticket_type="day-friday",
                               add_ons=[]) for i in range(3)], n) for n in range(10)]
    created, refused = created_and_refused(race_orders(apis, wave))
    assert len(created) == 1, "6 seats in the conference, 3 already taken"
    assert refused == {(409, "conference_full", "delegates[0].ticket_type"): 9}

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Registration)) == 6
        assert connection.scalar(select(func.count()).select_from(RegistrationAddOn)) == 3
    engine.dispose()
    assert apis[0].get("/api/catalog").json()["remaining"] == 0

"""The waiting list under concurrency on PostgreSQL: two service instances (two sweepers)
and the public racing for places that free while people wait; many sweepers at once; many
clicks on one offer. No place is ever offered twice, nobody books one place twice, the
public never gets a place meant for the list, and what the limits hold always adds up."""

from collections import Counter
from datetime import timedelta

import eventlet
import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from services.registration import booking, waiting_list, waiting_list_booking
from services.registration.domain import WaitingStatus
from services.registration.models import Catalogs, Limit, WaitingListEntry, release_places
from services.registration.schemas import OrderRequest
from services.registration.waiting_list_schemas import WaitingListRequest
from shared.db import UnitOfWork, make_engine, migrate, migrations, utcnow
from shared.errors import Refusal
from tests.conftest import wait_until
from tests.registration.conftest import delegate, register
from tests.registration.test_waiting_list import (
    SECRET,
    WORKSHOP,
    assert_places_add_up,
    entry_headers,
    join,
    order_for,
    small_workshop,
)

pytestmark = pytest.mark.postgres
KEY = f"add_on:{WORKSHOP}"


@pytest.fixture
def two_instances(service_process, amqp_uri, postgres_url, catalog_file):
    """Two registration processes on one database; a workshop of 5 places."""
    path = catalog_file(lambda document: small_workshop(document, capacity=5))
    env = {"AMQP_URI": amqp_uri, "REGISTRATION_DATABASE_URL": postgres_url,
           "REGISTRATION_CATALOG_FILE": str(path), "SECRET_KEY": SECRET}
    first = service_process("registration", env).wait_healthy()
    second = service_process("registration", env).wait_healthy()
    return [first.api, second.api]


def entries(database_url) -> list[WaitingListEntry]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        found = list(session.scalars(select(WaitingListEntry)))
    engine.dispose()
    return found


def test_freed_places_go_to_the_list_once_each_and_never_to_the_public(two_instances,
                                                                       postgres_url):
    apis = two_instances
    holders = [register(apis[n % 2], email=f"holder{n}@example.org", add_ons=[WORKSHOP])
               for n in range(5)]
    for n in range(12):
        assert join(apis[n % 2], f"waiting{n}@example.org").status_code == 202

    # The five cancel at once; then, before the sweepers can offer the places, ten of the
    # public try to book them.
    def cancel(job):  # each their order (a registration's own cancel fails on PostgreSQL)
        n, created = job
        return apis[n % 2].post(f"/api/orders/{created['order_id']}/cancel",
                                headers={"X-Order-Token": created["order_token"]})

    def book(n):
        return apis[n % 2].post("/api/registrations", json=delegate(
            email=f"public{n}@example.org", add_ons=[WORKSHOP]))

    pool = eventlet.GreenPool(20)
    assert [a.status_code for a in pool.imap(cancel, enumerate(holders))] == [200] * 5
    public = list(pool.imap(book, range(10)))
    assert {(p.status_code, p.json()["error"]["code"]) for p in public} == {(409, "sold_out")}

    wait_until(lambda: Counter(e.status for e in entries(postgres_url))
               == {"offered": 5, "waiting": 7}, timeout=20, message="five offers")
    eventlet.sleep(5)  # both sweepers, several times more: still five
    found = entries(postgres_url)
    assert Counter(e.status for e in found) == {"offered": 5, "waiting": 7}
    first_in_line = sorted(found, key=lambda e: (e.joined_at, e.id))[:5]
    assert {e.status for e in first_in_line} == {"offered"}
    assert_places_add_up(postgres_url)

    # Each offer clicked four times at once, on both instances: one order each.
    offered = [e for e in found if e.status == WaitingStatus.OFFERED]

    def take(job):
        entry, n = job
        return apis[n % 2].post(f"/api/waiting-list/{entry.id}/order",
                                json=order_for(entry.email), headers=entry_headers(entry.id))

    answers = list(pool.imap(take, [(entry, n) for entry in offered for n in range(4)]))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 5
    assert Counter(e.status for e in entries(postgres_url)) == {"taken": 5, "waiting": 7}
    assert_places_add_up(postgres_url)
    left = apis[0].get("/api/catalog").json()["add_ons"]
    assert next(a for a in left if a["code"] == WORKSHOP)["remaining"] == 0


@pytest.fixture
def database(postgres_url, catalog_file):
    """A migrated registration database with the catalog on sale, and a unit of work
    maker; no service runs."""
    path = catalog_file(lambda document: small_workshop(document, capacity=10))
    engine = make_engine(postgres_url, pool_size=20)
    migrate(engine, migrations("registration"), seed=booking.seed,
            config={"CATALOG_FILE": str(path)})
    sessions = []

    def unit() -> UnitOfWork:
        sessions.append(Session(engine, expire_on_commit=False))
        return UnitOfWork(sessions[-1], "test", lambda: None)

    yield unit
    for session in sessions:
        session.close()
    engine.dispose()


def statuses(unit) -> Counter:
    uow = unit()
    found = Counter(uow.session.scalars(select(WaitingListEntry.status)))
    uow.rollback()
    return found


def held(unit) -> int:
    uow = unit()
    found = uow.session.get(Limit, KEY).held
    uow.rollback()
    return found


def test_many_sweepers_at_once_offer_each_freed_place_once(database):
    unit = database
    setup = unit()
    setup.session.execute(update(Limit).where(Limit.key == KEY).values(held=10))  # sold out
    setup.commit()
    catalog = Catalogs().current(setup.session)
    for n in range(20):
        waiting_list.join(unit(), catalog, WaitingListRequest(
            given_name="Ana", email=f"ana{n}@example.org", kind="add_on", code=WORKSHOP),
            utcnow())
    assert held(unit) == 30  # ten registrations' places, and twenty claims

    pool = eventlet.GreenPool(8)
    for freed in (3, 4, 2):  # places free three times; each time eight sweepers race
        uow = unit()
        release_places(uow.session, Counter({KEY: freed}))
        uow.commit()
        made = sum(pool.imap(lambda _: waiting_list.offer_freed_places(
            unit(), Catalogs(), utcnow()), range(8)))
        assert made == freed
    assert statuses(unit) == {"offered": 9, "waiting": 11}
    assert held(unit) == 10 - 9 + 9 + 11  # registrations, offers, claims

    # The sweepers lapse the offers whose time is up while their holders click on them
    # (in time, just before the end): each offer is either taken (one order) or lapsed and
    # passed on, never both.
    end = utcnow()
    uow = unit()
    uow.session.execute(update(WaitingListEntry)
                        .where(WaitingListEntry.status == WaitingStatus.OFFERED)
                        .values(offer_expires_at=end))
    uow.commit()
    offered = uow.session.execute(select(WaitingListEntry.id, WaitingListEntry.email).where(
        WaitingListEntry.status == WaitingStatus.OFFERED)).all()
    uow.rollback()

    def take(entry):
        entry_id, email = entry
        try:
            return waiting_list_booking.book(unit(), Catalogs(), entry_id,
                                     OrderRequest(**order_for(email)),
                                     end - timedelta(seconds=1), None)
        except Refusal as refused:  # the sweeper lapsed it first
            return refused

    def sweep(_):
        return waiting_list.offer_freed_places(unit(), Catalogs(), utcnow())

    jobs = []
    for n, entry in enumerate(offered):  # a sweeper started before every other click
        if n % 2 == 0:
            pool.spawn(sweep, n)
        jobs.append(pool.spawn(take, entry))
    results = [job.wait() for job in jobs]
    pool.waitall()
    orders = [r for r in results if not isinstance(r, Refusal)]
    assert {r.code for r in results if isinstance(r, Refusal)} <= {"offer_lapsed"}
    assert len({order.id for order in orders}) == len(orders)
    found = statuses(unit)
    assert found["taken"] == len(orders)
    assert found["taken"] + found["lapsed"] == 9
    # the lapsed offers' places go to the next in line (if not yet, at the next sweep)
    waiting_list.offer_freed_places(unit(), Catalogs(), utcnow())
    found = statuses(unit)
    assert found["offered"] == 9 - len(orders)
    assert held(unit) == 10 - 9 + len(orders) + found["offered"] + found["waiting"]

"""The waiting list through the real parts: a sold-out workshop's list offers a freed place
by email (real SMTP) to the first in line, the public cannot book it meanwhile, the offer
expires and moves on to the next, who books and pays with the place held for them; a
raised capacity, a place turned down and a list left pass places on, and the places held
always add up; joining is throttled and says nothing of anyone else; export and erasure
cover the list."""

import re
from collections import Counter

import eventlet
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from services.registration import booking, privacy
from services.registration.catalog import load_catalog_file
from services.registration.domain import HOLDS_SEATS, WaitingStatus, limits_taken, offer_places
from services.registration.models import Limit, Registration, WaitingListEntry
from services.registration.service import RegistrationService
from shared.auth import waiting_list_token
from shared.db import UnitOfWork
from tests.conftest import make_config, wait_until
from tests.registration.conftest import delegate, register

WORKSHOP = "ws-evaluation"
SECRET = "test-secret-key"  # tests.conftest.make_config's


def small_workshop(document, capacity=1):
    next(a for a in document["add_ons"] if a["code"] == WORKSHOP)["capacity"] = capacity


def entry_headers(entry_id: str) -> dict:
    return {"X-Waiting-List-Token": waiting_list_token(SECRET, entry_id)}


def join(api, email: str, kind="add_on", code=WORKSHOP, **person):
    return api.post("/api/waiting-list", json={
        "given_name": person.get("given_name", "Inês"), "family_name": "Gonçalves",
        "email": email, "kind": kind, "code": code})


def cancel(api, created: dict):
    answer = api.post(f"/api/registrations/{created['id']}/cancel",
                      headers={"X-Registration-Token": created["token"]})
    assert answer.status_code == 200, answer.text


def order_for(email: str, **changes) -> dict:
    return {"buyer": {"name": "Inês Gonçalves", "email": email, "organisation": "Pavilhão",
                      "country": "PT"},
            "delegates": [delegate(**{"email": email, "given_name": "Inês",
                                      "family_name": "Gonçalves", "add_ons": [WORKSHOP],
                                      **changes})]}


def left_of(api, code=WORKSHOP) -> int:
    return next(a for a in api.get("/api/catalog").json()["add_ons"]
                if a["code"] == code)["remaining"]


def assert_places_add_up(database_url):
    """Every limit holds exactly what registrations hold, plus what open offers hold, plus
    one place of the item for each person waiting (the list's claim); no registrations and
    offers beyond a capacity."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        held = Counter()
        for registration in session.scalars(select(Registration)):
            if registration.status in HOLDS_SEATS:
                held.update(limits_taken(registration.ticket_type, tuple(registration.add_ons),
                                         registration.discount_code))
        claims = Counter()
        for entry in session.scalars(select(WaitingListEntry)):
            if entry.status == WaitingStatus.OFFERED:
                held.update(offer_places(entry.item))
            elif entry.status == WaitingStatus.WAITING:
                claims[entry.item] += 1
        limits = {limit.key: limit for limit in session.scalars(select(Limit))}
    engine.dispose()
    assert {k: v.held for k, v in limits.items() if v.held} == dict(held + claims)
    assert all(held[key] <= limits[key].capacity for key in held)


def mail_to(mail, address: str, subject: str) -> list:
    return [m for m in mail.messages() if m["To"] == address and subject in m["Subject"]]


def link_in(message) -> tuple[str, str]:
    found = re.search(r"/\?offer=([0-9a-f-]{36})#token=(\S+)",
                      message.get_body(("plain",)).get_content())
    return found[1], found[2]


@pytest.mark.catalog(edit=small_workshop, waiting_list={"offer_hours": 0.002})  # 7.2 s
def test_a_freed_place_is_offered_lapses_and_moves_on(stack, mail, listen, tmp_path):
    api = stack.registration
    events = listen("registration")
    first = register(api, email="first@example.org", add_ons=[WORKSHOP])
    assert left_of(api) == 0

    answers = [join(api, "bea@example.org", given_name="Bea"),
               join(api, "carl@example.org", given_name="Carl"),
               join(api, "BEA@example.org", given_name="Bea")]  # again: nothing new
    assert [a.status_code for a in answers] == [202] * 3
    assert answers[0].json() == answers[1].json() == answers[2].json()  # nothing of others
    assert "0.002 hours" in answers[0].json()["message"]  # the catalog's offer time
    assert join(api, "dan@example.org", code="gala-dinner").status_code == 409  # on sale
    wait_until(lambda: mail_to(mail, "carl@example.org", "waiting list"), timeout=20)
    assert len(mail_to(mail, "bea@example.org", "waiting list")) == 1

    cancel(api, first)  # the place frees: it is the list's, not the public's
    late = api.post("/api/registrations", json=delegate(email="late@example.org",
                                                       add_ons=[WORKSHOP]))
    assert (late.status_code, late.json()["error"]["code"]) == (409, "sold_out")
    assert left_of(api) == 0

    (offer,) = wait_until(lambda: mail_to(mail, "bea@example.org", "A place is held"),
                          timeout=20, message="Bea's offer")
    text = offer.get_body(("plain",)).get_content()
    assert "Helsinki time" in text and "Pre-conference workshop" in text
    bea, bea_token = link_in(offer)
    seen = api.get(f"/api/waiting-list/{bea}", headers={"X-Waiting-List-Token": bea_token})
    assert seen.json()["status"] == "offered" and seen.json()["offer_expires_at"]
    assert not mail_to(mail, "carl@example.org", "A place is held")

    # Bea does nothing: her offer lapses, and Carl's comes.
    events.wait_for("waiting_list_offer_lapsed", timeout=20)
    (offer,) = wait_until(lambda: mail_to(mail, "carl@example.org", "A place is held"),
                          timeout=20, message="Carl's offer")
    carl, carl_token = link_in(offer)
    lapsed = api.post(f"/api/waiting-list/{bea}/order", json=order_for("bea@example.org"),
                      headers=entry_headers(bea))
    assert (lapsed.status_code, lapsed.json()["error"]["code"]) == (409, "offer_lapsed")

    # Carl books with the place held for him, pays, and is confirmed; twice is once.
    body = order_for("carl@example.org")
    booked = api.post(f"/api/waiting-list/{carl}/order", json=body,
                      headers={"X-Waiting-List-Token": carl_token})
    assert booked.status_code == 201, booked.text
    again = api.post(f"/api/waiting-list/{carl}/order", json=body, headers=entry_headers(carl))
    assert again.status_code == 201 and again.json()["id"] == booked.json()["id"]
    other = api.post(f"/api/waiting-list/{carl}/order", json=order_for("x@example.org"),
                     headers=entry_headers(carl))
    assert (other.status_code, other.json()["error"]["code"]) == (409, "offer_taken")
    stack.pay(stack.payment(booked.json()))
    wait_until(lambda: stack.order(booked.json())["status"] == "confirmed", timeout=20)
    assert_places_add_up(f"sqlite:///{tmp_path / 'registration.db'}")

    lists = api.get("/api/admin/waiting-lists", headers=api.as_admin()).json()
    assert lists["offer_hours"] == 0.002
    (workshop,) = lists["lists"]
    assert {k: workshop[k] for k in ("code", "waiting", "offered", "taken", "lapsed", "left",
                                     "conversion")} == {
        "code": WORKSHOP, "waiting": 0, "offered": 0, "taken": 1, "lapsed": 1, "left": 0,
        "conversion": 0.5}
    assert [e["type"] for e in events.drain() if e["type"].startswith("waiting_list")].count(
        "waiting_list_offer_made") == 2


@pytest.fixture
def sale(start_service, amqp_uri, sqlite_url, catalog_file):
    """Registration alone, a workshop of one place; its Api."""
    config = make_config("registration", amqp_uri, sqlite_url,
                         CATALOG_FILE=str(catalog_file(small_workshop)))
    return start_service(RegistrationService, config)[1]


def joined(events, email: str) -> str:
    """The id of the entry ``email`` got when it joined."""
    return wait_until(lambda: next((e["data"]["entry_id"]
                                    for e in events.of_type("waiting_list_joined")
                                    if e["data"]["person"]["email"] == email), None),
                      message=f"{email} on the list")


def offered(events, entry_id: str, timeout=15) -> dict:
    return wait_until(lambda: next((e for e in events.drain()
                                    if e["type"] == "waiting_list_offer_made"
                                    and e["data"]["entry_id"] == entry_id), None),
                      timeout, message="the offer")


def test_capacity_raised_declined_left_and_back_on_sale(sale, sqlite_url, listen):
    events = listen("registration")
    register(sale, email="first@example.org", add_ons=[WORKSHOP])
    for email in ("ana@example.org", "ben@example.org"):
        assert join(sale, email).status_code == 202
    wait_until(lambda: len(events.of_type("waiting_list_joined")) == 2)
    ana, ben = (joined(events, e) for e in ("ana@example.org", "ben@example.org"))
    assert_places_add_up(sqlite_url)

    # One more place in the catalog: Ana's; the public still sees none.
    engine = create_engine(sqlite_url)
    catalog = load_catalog_file()
    bigger = catalog.model_copy(update={"add_ons": tuple(
        a.model_copy(update={"capacity": 2}) if a.code == WORKSHOP else a
        for a in catalog.add_ons)})
    with Session(engine) as session:
        booking.load_catalog(UnitOfWork(session, "test", lambda: None), bigger, "bigger.yaml")
    engine.dispose()
    offered(events, ana)
    assert left_of(sale) == 0
    assert_places_add_up(sqlite_url)

    # Ana turns it down: Ben's. Ben leaves too: the place goes back on sale.
    turned_down = sale.post(f"/api/waiting-list/{ana}/leave", headers=entry_headers(ana))
    assert turned_down.json()["status"] == "lapsed"
    assert turned_down.json()["email"] == "erased@invalid"  # forgotten once closed
    offered(events, ben)
    assert sale.post(f"/api/waiting-list/{ben}/leave",
                     headers=entry_headers(ben)).json()["status"] == "lapsed"
    wait_until(lambda: left_of(sale) == 1, message="the place back on sale")
    assert_places_add_up(sqlite_url)
    register(sale, email="public@example.org", add_ons=[WORKSHOP])
    assert sale.get(f"/api/waiting-list/{ben}", headers={
        "X-Waiting-List-Token": "forged"}).status_code == 403
    lapsed = [e["data"]["reason"] for e in events.of_type("waiting_list_offer_lapsed")]
    assert lapsed == ["declined", "declined"]


def test_a_ticket_type_offer_holds_a_seat_and_two_clicks_book_once(
        start_service, amqp_uri, sqlite_url, catalog_file, listen):
    def one_full_ticket(document):
        next(t for t in document["ticket_types"] if t["code"] == "full")["capacity"] = 1

    config = make_config("registration", amqp_uri, sqlite_url,
                         CATALOG_FILE=str(catalog_file(one_full_ticket)))
    _, api = start_service(RegistrationService, config)
    events = listen("registration")
    first = register(api, email="first@example.org", add_ons=[])
    assert join(api, "eva@example.org", kind="ticket_type", code="full").status_code == 202
    eva = joined(events, "eva@example.org")
    waiting = api.get(f"/api/waiting-list/{eva}", headers=entry_headers(eva)).json()
    assert (waiting["status"], waiting["item"]["kind"], waiting["given_name"]) == (
        "waiting", "ticket_type", "Inês")
    not_yet = api.post(f"/api/waiting-list/{eva}/order", json=order_for("eva@example.org"),
                       headers=entry_headers(eva))
    assert not_yet.json()["error"]["code"] == "not_offered_yet"
    assert join(api, "fred@example.org", kind="ticket_type", code="full").status_code == 202
    cancel(api, first)
    offered(events, eva)
    assert_places_add_up(sqlite_url)

    wrong = api.post(f"/api/waiting-list/{eva}/order", headers=entry_headers(eva),
                     json=order_for("eva@example.org", ticket_type="day-friday", add_ons=[]))
    assert (wrong.status_code, wrong.json()["error"]["field"]) == (
        422, "delegates[0].ticket_type")
    body = order_for("eva@example.org", add_ons=[])
    pool = eventlet.GreenPool(6)
    answers = list(pool.imap(lambda _: api.post(f"/api/waiting-list/{eva}/order", json=body,
                                                headers=entry_headers(eva)), range(6)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1  # one order, however many clicks
    assert_places_add_up(sqlite_url)  # Fred still waits: his claim is held again
    late = api.post("/api/registrations", json=delegate(email="late@example.org", add_ons=[]))
    assert late.json()["error"]["code"] == "sold_out"
    assert len(events.of_type("waiting_list_offer_taken")) == 1


def test_joining_is_throttled_and_needs_a_sold_out_item(start_service, registration_config,
                                                        catalog_file):
    config = {**registration_config, "RATE_LIMITS": "on",
              "CATALOG_FILE": str(catalog_file(small_workshop)),
              "ABUSE_LIMITS": "joins_per_email=2/3600,joins_per_client=3/600"}
    _, api = start_service(RegistrationService, config)
    register(api, email="first@example.org", add_ons=[WORKSHOP])
    answers = [join(api, "same@example.org").status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    assert join(api, "other@example.org").status_code == 202
    too_many = join(api, "third@example.org")
    assert too_many.status_code == 429 and int(too_many.headers["Retry-After"]) > 500


def test_joining_refuses_what_is_not_sold_out_or_not_on_sale(registration):
    free = join(registration, "a@example.org", code="gala-dinner")
    assert (free.status_code, free.json()["error"]["code"]) == (409, "not_sold_out")
    unknown = join(registration, "a@example.org", code="no-such-workshop")
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "code")
    assert join(registration, "not an address").status_code == 422
    assert registration.get("/api/waiting-list/not-an-id",
                            headers=entry_headers("x")).status_code == 404


def test_export_and_erasure_cover_the_list(sale, sqlite_url, listen):
    events = listen("registration")
    delegate_ = register(sale, email="zofia@example.org", add_ons=[WORKSHOP])
    assert join(sale, "Zofia@example.org", kind="add_on", code=WORKSHOP).status_code == 202
    zofia = joined(events, "Zofia@example.org")
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        own = privacy.export(UnitOfWork(session, "test", lambda: None), delegate_["id"])
    assert [e["email"] for e in own["data"]["waiting_lists"]] == ["Zofia@example.org"]

    erased = sale.post(f"/api/admin/registrations/{delegate_['id']}/erase",
                       headers=sale.as_admin())
    assert erased.status_code == 202
    with Session(engine) as session:
        entry = session.get(WaitingListEntry, zofia)
        assert (entry.status, entry.email, entry.given_name) == (
            "left", "erased@invalid", "Erased")
    engine.dispose()
    assert_places_add_up(sqlite_url)

"""Abuse limits on placing orders: a burst from one client is throttled (429 with
Retry-After, nothing stored) while others still book; unpaid holds are capped per client
and per email, and per item so that one client cannot starve a scarce one; the counts are
shared by every instance of the service (PostgreSQL)."""

from types import SimpleNamespace

import pytest

from services.registration.abuse import AbuseLimits
from services.registration.service import RegistrationService
from shared.http import client_address
from tests.registration.conftest import delegate

WORKSHOP = "ws-evaluation"  # 25 seats in the seeded catalog


def from_address(address: str) -> dict:
    return {"X-Forwarded-For": address}


def book(api, address: str, **changes):
    return api.post("/api/registrations", json=delegate(**changes),
                    headers=from_address(address))


def admin_total(api) -> int:
    return api.get("/api/admin/registrations", headers=api.as_admin()).json()["total"]


@pytest.fixture
def limited(start_service, registration_config):
    """Registration with the limits on, behind one trusted load balancer, tuned small;
    ``catalog``: a catalog file of the test's own."""
    def start(limits: str, catalog=None):
        config = {**registration_config, "RATE_LIMITS": "on", "TRUSTED_PROXY_HOPS": "1",
                  "ABUSE_LIMITS": limits, **({"CATALOG_FILE": str(catalog)} if catalog else {})}
        return start_service(RegistrationService, config)[1]
    return start


def test_a_burst_from_one_client_is_throttled_while_another_books(limited):
    api = limited("bookings_per_client=3/600")
    for n in range(3):
        assert book(api, "203.0.113.5", email=f"a{n}@example.org").status_code == 201
    refused = book(api, "203.0.113.5", email="a3@example.org")
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_many_bookings"
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert admin_total(api) == 3  # nothing stored for the refused one
    assert book(api, "198.51.100.7", email="b@example.org").status_code == 201
    # an address invented left of what the load balancer saw changes nothing
    spoofed = api.post("/api/registrations", json=delegate(email="c@example.org"),
                       headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.5"})
    assert spoofed.status_code == 429


def test_one_email_cannot_book_again_and_again_from_many_addresses(limited):
    api = limited("bookings_per_email=2/3600")
    assert book(api, "203.0.113.1", email="same@example.org").status_code == 201
    assert book(api, "203.0.113.2", email="SAME@example.org").status_code == 201
    refused = book(api, "203.0.113.3", email="same@example.org")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_bookings"


def test_unpaid_bookings_are_capped_per_email_and_per_client(limited):
    api = limited("open_orders_per_email=2,open_orders_per_client=3")
    for address in ("203.0.113.1", "203.0.113.2"):
        assert book(api, address, email="boss@example.org").status_code == 201
    refused = book(api, "203.0.113.3", email="boss@example.org")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_open_bookings"
    assert int(refused.headers["Retry-After"]) > 60  # until the first hold ends
    for n in range(2):
        assert book(api, "198.51.100.9", email=f"x{n}@example.org").status_code == 201
    assert book(api, "198.51.100.9", email="x3@example.org").status_code == 201
    assert book(api, "198.51.100.9", email="x4@example.org").status_code == 429
    # a free booking holds nothing and is not capped
    free = book(api, "198.51.100.9", email="speaker@example.org", ticket_type="speaker",
                discount_code="SPEAKER27", add_ons=[])
    assert free.status_code == 201, free.text


def test_one_client_cannot_hold_a_scarce_workshop_while_others_book_it(limited):
    api = limited("scarce_share=0.1,scarce_minimum=2")  # 25 seats: at most 3 held unpaid
    for n in range(3):
        response = book(api, "203.0.113.66", email=f"bot{n}@example.org",
                        add_ons=[WORKSHOP])
        assert response.status_code == 201, response.text
    refused = book(api, "203.0.113.66", email="bot3@example.org", add_ons=[WORKSHOP])
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "holding_too_many"
    # the same client may still book what is not scarce for them
    assert book(api, "203.0.113.66", email="bot4@example.org",
                add_ons=["gala-dinner"]).status_code == 201
    for n in range(5):
        assert book(api, f"198.51.100.{n}", email=f"p{n}@example.org",
                    add_ons=[WORKSHOP]).status_code == 201


def test_a_retry_with_the_same_idempotency_key_is_not_counted_again(limited):
    api = limited("bookings_per_client=1/600")
    headers = {**from_address("203.0.113.5"), "Idempotency-Key": "once"}
    first = api.post("/api/registrations", json=delegate(), headers=headers)
    again = api.post("/api/registrations", json=delegate(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.postgres
def test_every_instance_counts_the_same_bookings(service_process, amqp_uri, postgres_url):
    env = {"AMQP_URI": amqp_uri, "REGISTRATION_DATABASE_URL": postgres_url,
           "RATE_LIMITS": "on", "TRUSTED_PROXY_HOPS": "1",
           "REGISTRATION_ABUSE_LIMITS": "bookings_per_client=4/600"}
    apis = [service_process("registration", env).wait_healthy().api for _ in range(2)]
    answers = [book(apis[n % 2], "203.0.113.5", email=f"a{n}@example.org").status_code
               for n in range(6)]
    assert answers == [201, 201, 201, 201, 429, 429]


class TestSettings:
    def test_on_by_default_off_when_asked(self):
        assert AbuseLimits.from_config({}) == AbuseLimits()
        assert AbuseLimits.from_config({"RATE_LIMITS": "off"}) is None

    def test_each_limit_can_be_tuned(self):
        limits = AbuseLimits.from_config({"ABUSE_LIMITS": "bookings_per_client=50/60, "
                                          "scarce_share=0.5, open_orders_per_email=1"})
        assert limits.bookings_per_client == (50, 60)
        assert limits.scarce_share == 0.5 and limits.open_orders_per_email == 1

    def test_an_unknown_limit_is_refused_at_start(self):
        with pytest.raises(ValueError, match="bookings_per_hour"):
            AbuseLimits.from_config({"ABUSE_LIMITS": "bookings_per_hour=5"})


class TestClientAddress:
    def request(self, forwarded=None):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return SimpleNamespace(headers=headers, remote_addr="10.0.0.2")

    def test_the_peer_without_a_load_balancer(self):
        assert client_address(self.request("203.0.113.5"), 0) == "10.0.0.2"

    def test_what_the_nearest_trusted_balancer_saw(self):
        assert client_address(self.request("1.2.3.4, 203.0.113.5"), 1) == "203.0.113.5"
        assert client_address(self.request("1.2.3.4, 203.0.113.5, 10.0.0.9"), 2) == (
            "203.0.113.5")
        assert client_address(self.request(), 1) == "10.0.0.2"


def test_a_bot_bursting_for_a_scarce_workshop_leaves_its_last_seats_to_people(limited,
                                                                               catalog_file):
    def five_seats(document):
        next(a for a in document["add_ons"] if a["code"] == WORKSHOP)["capacity"] = 5

    api = limited("scarce_share=0.1,scarce_minimum=2,bookings_per_client=20/600",
                  catalog_file(five_seats))
    burst = [book(api, "203.0.113.66", email=f"bot{n}@example.org", add_ons=[WORKSHOP])
             for n in range(10)]
    assert [r.status_code for r in burst] == [201, 201] + [429] * 8
    assert {r.json()["error"]["code"] for r in burst[2:]} == {"holding_too_many"}
    # Three people, each from their own address, take the last three seats.
    for n in range(3):
        taken = book(api, f"198.51.100.{n}", email=f"person{n}@example.org", add_ons=[WORKSHOP])
        assert taken.status_code == 201, taken.text
    left = {a["code"]: a["remaining"] for a in api.get("/api/catalog").json()["add_ons"]}
    assert left[WORKSHOP] == 0
    full = book(api, "198.51.100.9", email="late@example.org", add_ons=[WORKSHOP])
    assert (full.status_code, full.json()["error"]["code"]) == (409, "sold_out")

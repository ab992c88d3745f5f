"""A delegate's data in badges, through RabbitMQ: exported over RPC, then erased by
registration's ``delegate_erased`` (once, however often it comes), so that no row names
them and the desk can no longer find them."""

import uuid
from datetime import timedelta

import pytest
from nameko.testing.services import entrypoint_waiter

from services.badges.service import BadgesService
from shared.events import new_event
from shared.privacy import ERASED_EMAIL, ERASED_NAME
from tests.erasure import (
    deliver,
    dump,
    erased_event,
    export_of,
    mentions,
    outbox_drained,
    rows_naming,
)
from tests.notifications import samples

GIVEN, FAMILY, EMAIL = "Zdzisława", "Brzęczyszczykiewicz", "zdzislawa.b@example.org"
NEEDLES = (GIVEN, FAMILY, EMAIL)
NOTE = f"Ms {FAMILY} needs a chair at the plenary"


def confirmed(registration_id: str, given=GIVEN, family=FAMILY, email=EMAIL, **changes):
    data = samples.registration(given, family, email=email, registration_id=registration_id,
                                order_id=str(uuid.uuid4()),
                                reference=f"ECS27-{registration_id[:6].upper()}", **changes)
    data["delegate"]["pronouns"] = "she/her"
    return data


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def badges(request, start_service, badges_config, listen):
    """The badges service on SQLite or PostgreSQL, and its published events."""
    if request.param == "postgres":
        badges_config["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    events = listen("badges")
    container, api = start_service(BadgesService, badges_config)
    return container, api, events, badges_config


def test_the_export_then_the_erasure_of_a_badge(badges, publish, amqp_uri):
    container, api, events, config = badges
    url = config["DATABASE_URL"]
    erased_id, kept_id = str(uuid.uuid4()), str(uuid.uuid4())
    data = confirmed(erased_id)
    publish(new_event("registration_confirmed", data))
    publish(new_event("registration_confirmed", confirmed(kept_id, "Ana", "Nunes",
                                                          "ana.nunes@example.org")))
    for registration_id in (erased_id, kept_id):
        events.wait_for("badge_generated", registration_id)
    assert api.patch(f"/api/badges/{erased_id}", json={"attention": NOTE},
                     headers=api.as_admin()).status_code == 200
    assert api.post(f"/api/badges/{erased_id}/checkin",
                    headers=api.as_desk()).status_code == 200
    events.wait_for("delegate_checked_in", erased_id)
    outbox_drained(url)

    before = export_of(amqp_uri, "badges", erased_id, data["order_id"])
    badge = before["data"]["badge"]
    assert before["service"] == "badges" and before["kept"]
    assert (badge["given_name"], badge["family_name"], badge["email"]) == NEEDLES
    assert (badge["pronouns"], badge["attention"], badge["badge_pdf_stored"]) == (
        "she/her", NOTE, True)
    assert badge["checked_in_at"] and badge["status"] == "active"
    assert "pdf" not in badge
    assert rows_naming(url, NEEDLES)

    erasure = erased_event(erased_id, data["order_id"], whole_order=True)
    deliver(container, publish, erasure)

    assert rows_naming(url, NEEDLES) == []
    assert not [row for row in dump(url)["outbox"] if erased_id in " ".join(row)]
    assert rows_naming(url, ["ana.nunes@example.org"])  # nobody else is touched
    after = export_of(amqp_uri, "badges", erased_id, data["order_id"])
    assert mentions(after, NEEDLES + (NOTE, "she/her")) == []
    badge = after["data"]["badge"]
    assert (badge["given_name"], badge["email"], badge["status"]) == (
        ERASED_NAME, ERASED_EMAIL, "withdrawn")
    assert badge["badge_pdf_stored"] is False
    assert badge["checked_in_at"] == before["data"]["badge"]["checked_in_at"]
    assert after["kept"] == before["kept"]

    for q in (FAMILY, "zdzislawa", EMAIL):
        assert api.get("/api/desk/search", params={"q": q},
                       headers=api.as_desk()).json()["items"] == []
    assert api.get(f"/api/badges/{erased_id}.pdf", headers=api.as_desk()).status_code == 410
    scan = api.post(f"/api/badges/{erased_id}/checkin", headers=api.as_desk())
    assert scan.status_code == 409 and FAMILY not in scan.text

    everything = dump(url)
    deliver(container, publish, erasure)  # delivered again: nothing changes
    assert dump(url) == everything


def test_an_event_older_than_the_erasure_does_not_bring_the_badge_back(
        badges, publish, amqp_uri):
    container, _, events, config = badges
    registration_id = str(uuid.uuid4())
    data = confirmed(registration_id)
    placed = new_event("registration_confirmed", data)
    publish(placed)
    events.wait_for("badge_generated", registration_id)
    deliver(container, publish, erased_event(registration_id, data["order_id"], True))

    late = new_event("registration_updated", data).model_copy(
        update={"occurred_at": placed.occurred_at + timedelta(milliseconds=1)})
    with entrypoint_waiter(container, "on_registration", timeout=15):
        publish(late)

    assert rows_naming(config["DATABASE_URL"], NEEDLES) == []
    badge = export_of(amqp_uri, "badges", registration_id, data["order_id"])["data"]["badge"]
    assert badge["status"] == "withdrawn" and badge["badge_pdf_stored"] is False

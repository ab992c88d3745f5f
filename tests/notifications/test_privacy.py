"""A delegate's data in notifications, through RabbitMQ and a real SMTP server: exported
over RPC, then erased by registration's ``delegate_erased`` (once, however often it
comes): no row names them, a message still waiting is never sent, and a late event stores
nothing about them again."""

import time

import pytest
from nameko.testing.services import entrypoint_waiter

from services.notifications.service import NotificationsService
from shared.events import new_event
from shared.privacy import ERASED_EMAIL, ERASED_NAME
from tests.conftest import wait_until
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
from tests.notifications.conftest import order_log

RID, OID = samples.REGISTRATION_ID, samples.ORDER_ID
GIVEN, FAMILY, EMAIL = "Zdzisława", "Brzęczyszczykiewicz", "zdzislawa.b@example.org"
FULL = f"{GIVEN} {FAMILY}"
BILLING = "ul. Wybrzeże Kościuszkowskie 20, Warszawa"
NEEDLES = (GIVEN, FAMILY, EMAIL, BILLING)
OTHER_EMAIL = "ana.nunes@example.org"
PAYMENT_DUE_DELAY = 5  # seconds "payment due" waits: long enough to be erased first


@pytest.fixture
def notifications(start_service, notifications_config):
    notifications_config["PAYMENT_DUE_DELAY_SECONDS"] = PAYMENT_DUE_DELAY
    container, api = start_service(NotificationsService, notifications_config)
    return container, api, notifications_config["DATABASE_URL"]


def order_of_one() -> dict:
    data = samples.order(FULL, buyer_email=EMAIL, delegates=[
        samples.order_delegate(FULL, EMAIL, RID, "ECS27-7KQ3M9")])
    data["buyer"] |= {"billing_address": BILLING, "vat_number": "PL5250001090",
                      "purchase_order": "PO-9"}
    return data


def someone_else():
    """A registration of another order, which no erasure here touches."""
    return new_event("registration_confirmed", samples.registration(
        "Ana", "Nunes", email=OTHER_EMAIL, registration_id="6f1c2a5e-0000-4000-8000-0000000000aa",
        order_id="0a7d4e1b-0000-4000-8000-0000000000bb", reference="ECS27-ANA111"))


def statuses(api, order_id) -> dict:
    return {m["kind"]: m["status"] for m in order_log(api, order_id)}


def test_the_export_then_the_erasure_of_a_delegate_who_was_their_own_buyer(
        notifications, publish, mail_sink, amqp_uri):
    container, api, url = notifications
    placed = new_event("order_placed", order_of_one())
    for event in [placed, new_event("registration_confirmed", samples.registration(
                      GIVEN, FAMILY, email=EMAIL)),
                  new_event("payment_failed", samples.failed()),
                  someone_else()]:
        publish(event)
    mail_sink.wait_for(3)
    wait_until(lambda: statuses(api, OID) == {"order_received": "queued", "e_ticket": "sent",
                                              "payment_failed": "sent"})
    outbox_drained(url)

    before = export_of(amqp_uri, "notifications", RID, OID)
    assert before["service"] == "notifications" and before["kept"]
    assert before["data"]["registration"]["delegate"]["email"] == EMAIL
    assert before["data"]["order"]["buyer"]["billing_address"] == BILLING
    messages = before["data"]["messages"]
    assert sorted(m["kind"] for m in messages) == ["e_ticket", "order_received",
                                                   "payment_failed"]
    assert {m["recipient"] for m in messages} == {EMAIL}
    assert all(m["content_stored"] for m in messages)
    assert rows_naming(url, NEEDLES)

    erasure = erased_event(RID, OID, whole_order=True)
    deliver(container, publish, erasure)

    assert rows_naming(url, NEEDLES) == []
    assert rows_naming(url, [OTHER_EMAIL])  # nobody else is touched
    assert not [row for row in dump(url)["outbox"]
                if RID in " ".join(row) or OID in " ".join(row)]
    after = export_of(amqp_uri, "notifications", RID, OID)
    assert mentions(after, NEEDLES) == []
    assert after["data"]["order"]["buyer"]["name"] == ERASED_NAME
    assert {(m["kind"], m["status"]) for m in after["data"]["messages"]} == {
        ("order_received", "erased"), ("e_ticket", "sent"), ("payment_failed", "sent")}
    assert {m["recipient"] for m in after["data"]["messages"]} == {ERASED_EMAIL}
    assert not any(m["content_stored"] for m in after["data"]["messages"])
    [ticket] = [m for m in order_log(api, OID) if m["kind"] == "e_ticket"]
    resent = api.post(f"/api/admin/messages/{ticket['message_id']}/resend",
                      headers=api.as_admin())
    assert resent.status_code == 410, resent.text

    late = new_event("registration_updated", samples.registration(
        GIVEN, "Nowak", email=EMAIL)).model_copy(update={"occurred_at": placed.occurred_at})
    with entrypoint_waiter(container, "on_event", timeout=15):
        publish(late)
    assert rows_naming(url, NEEDLES + ("Nowak",)) == []
    assert len(order_log(api, OID)) == 3

    everything = dump(url)
    deliver(container, publish, erasure)  # delivered again: nothing changes
    assert dump(url) == everything

    time.sleep(PAYMENT_DUE_DELAY + 1)  # past when "payment due" was to go: it never does
    assert len(mail_sink.messages()) == 3
    assert statuses(api, OID)["order_received"] == "erased"


def test_a_delegate_of_a_larger_order_is_taken_out_of_the_buyers_messages(
        notifications, publish, mail_sink, amqp_uri):
    """The default sample order: Zofia, and Łukasz, its buyer. Zofia is erased; Łukasz's
    messages stay, without her, and his "payment due" still goes."""
    container, api, url = notifications
    zofia, her_email = "Zofia Zielińska", "zofia@example.org"
    publish(new_event("order_placed", samples.order()))
    publish(new_event("registration_confirmed", samples.registration(
        "Zofia", "Zielińska", email=her_email, registration_id=samples.OTHER_REGISTRATION_ID,
        reference="ECS27-ZZ1111")))
    mail_sink.wait_for(1)
    outbox_drained(url)
    before = export_of(amqp_uri, "notifications", samples.OTHER_REGISTRATION_ID, OID)
    assert "buyer" not in before["data"]["order"]
    assert [d["name"] for d in before["data"]["order"]["delegates"]] == [zofia]
    assert [m["kind"] for m in before["data"]["messages"]] == ["e_ticket"]
    [mentioned] = before["data"]["messages_to_the_buyer_naming_them"]
    assert mentioned["kind"] == "order_received" and "recipient" not in mentioned

    deliver(container, publish, erased_event(samples.OTHER_REGISTRATION_ID, OID, False))

    assert rows_naming(url, [zofia, her_email, "Zielińska"]) == []
    assert rows_naming(url, ["lukasz@example.org", "Łukasz Żółć"])
    after = export_of(amqp_uri, "notifications", samples.OTHER_REGISTRATION_ID, OID)
    assert mentions(after, [zofia, her_email]) == []
    assert after["data"]["messages_to_the_buyer_naming_them"] == []
    payment_due = wait_until(lambda: [m for m in mail_sink.messages()
                                      if m["To"] == "lukasz@example.org"],
                             timeout=PAYMENT_DUE_DELAY + 10, message="the buyer's email")
    text = payment_due[0].get_body(("plain",)).get_content()
    assert "Zielińska" not in text and ERASED_NAME in text

"""Every buyer and delegate gets the right email, exactly once: through RabbitMQ,
registration, payments, localstripe and a real SMTP server."""

import io
import logging
import time
from collections import Counter

import pytest
from nameko.testing.services import entrypoint_waiter
from pypdf import PdfReader

from services.notifications.service import NotificationsService
from shared.events import new_event
from tests import stack as the_stack
from tests.conftest import wait_until
from tests.notifications.conftest import (
    BOUNCING_DOMAIN,
    BUYER,
    message_log,
    order_log,
    place_order,
)
from tests.registration.conftest import register

# The stack's fixtures (registration, payments, localstripe), for this module alone: the
# notifications tests that stand in for payments do not load it.
localstripe_url, stripe_client, webhook, payments_config, stack = (
    the_stack.localstripe_url, the_stack.stripe_client, the_stack.webhook,
    the_stack.payments_config, the_stack.stack)

@pytest.fixture
def notifications(start_service, notifications_config, stack):
    """The notifications service beside registration and payments; its Api."""
    return start_service(NotificationsService, notifications_config)[1]


GREEK = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος", "country": "GR",
         "organisation": "NOESIS Thessaloniki Science Center", "email": "alexandros@noesis.gr"}
BASE_URL = "https://tickets.ecsite.test"  # the notifications_config's PUBLIC_BASE_URL
QUIET_SECONDS = 1.5  # how long to watch for an email that must not come


def bodies(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def by_subject(messages, word: str):
    [message] = [m for m in messages if word in m["Subject"]]
    return message


def pdf_text(message, filename: str) -> str:
    [document] = [part for part in message.iter_attachments()
                  if part.get_filename() == filename]
    assert document.get_content_type() == "application/pdf"
    return PdfReader(io.BytesIO(document.get_content())).pages[0].extract_text()


def receipt_text(message) -> str:
    return pdf_text(message, "receipt.pdf")


def invoice_text(message) -> str:
    """The one invoice a card payment's confirmation carries beside the receipt."""
    [invoice] = [part.get_filename() for part in message.iter_attachments()
                 if part.get_filename() != "receipt.pdf"]
    return pdf_text(message, invoice)


def order_of(stack, created: dict) -> dict:
    """A single registration's order, as its buyer (the delegate) sees it."""
    return stack.order({"id": created["order_id"], "token": created["order_token"]})


def kinds(log: list[dict]) -> Counter:
    return Counter((m["kind"], m["registration_id"]) for m in log)


def all_sent(log: list[dict]) -> bool:
    return bool(log) and all(m["status"] == "sent" for m in log)


def test_an_order_of_two_the_buyer_hears_of_the_order_each_delegate_of_their_place(
        stack, notifications, mail_sink):
    order = place_order(stack.registration, [GREEK, {}])
    [received] = mail_sink.wait_for(1)
    text, html = bodies(received)
    assert received["To"] == BUYER["email"]
    assert "Ecsite" in received["From"] and received["Message-ID"] and received["Date"]
    assert order["reference"] in received["Subject"]
    assert "Dear Maria Rossi," in text
    assert "Αλέξανδρος Παπαδόπουλος" in text and "Αλέξανδρος Παπαδόπουλος" in html
    assert "Łukasz Żółć" in text
    assert f"EUR {order['amount_due'] / 100:,.2f}" in text
    for delegate in order["delegates"]:
        assert f"EUR {delegate['amount_due'] / 100:,.2f}" in text
    assert f"{BASE_URL}/orders/{order['id']}#token={order['token']}" in text

    stack.pay(stack.payment(order))
    messages = mail_sink.wait_for(4)
    paid = by_subject(messages, "Payment received")
    assert paid["To"] == BUYER["email"] and order["reference"] in paid["Subject"]
    assert order["reference"] in receipt_text(paid)
    assert "invoice" in invoice_text(paid).lower()
    for delegate in order["delegates"]:
        [ticket] = [m for m in messages if m["To"] == delegate["email"]]
        text, html = bodies(ticket)
        assert "e-ticket" in ticket["Subject"] and delegate["reference"] in ticket["Subject"]
        assert f"Dear {delegate['given_name']} {delegate['family_name']}," in text
        assert f"{BASE_URL}/manage/{delegate['id']}#token={delegate['token']}" in text
        assert "Tampere Hall" in text and "10–12 June 2027" in text
        [qr] = [part for part in ticket.walk() if part.get_content_type() == "image/png"]
        assert qr["Content-ID"] == "<ticket-qr@ecsite>" and 'src="cid:ticket-qr@ecsite"' in html
        assert qr.get_content().startswith(b"\x89PNG")

    log = wait_until(lambda: all_sent(found := order_log(notifications, order["id"])) and found)
    assert kinds(log) == Counter([("order_received", None), ("payment_confirmed", None),
                                  *[("e_ticket", d["id"]) for d in order["delegates"]]])
    assert all(m["attempts"] == 1 and m["order_id"] == order["id"] for m in log)
    first = order["delegates"][0]["id"]
    assert [m["kind"] for m in message_log(notifications, first)] == ["e_ticket"]
    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages()) == 4


def test_registering_oneself_gets_each_email_once(stack, notifications, mail_sink):
    created = register(stack.registration, **GREEK)
    reference = order_of(stack, created)["reference"]
    [received] = mail_sink.wait_for(1)
    text, _ = bodies(received)
    assert received["To"] == "alexandros@noesis.gr" and reference in received["Subject"]
    assert "Dear Αλέξανδρος Παπαδόπουλος," in text
    assert f"{BASE_URL}/orders/{created['order_id']}#token={created['order_token']}" in text

    stack.pay(stack.payment(created))
    messages = mail_sink.wait_for(3)
    assert "Αλέξανδρος Παπαδόπουλος" in receipt_text(by_subject(messages, "Payment received"))
    ticket = by_subject(messages, "e-ticket")
    assert f"{BASE_URL}/manage/{created['id']}#token={created['token']}" in bodies(ticket)[0]
    assert {m["To"] for m in messages} == {"alexandros@noesis.gr"}

    log = wait_until(lambda: all_sent(found := order_log(notifications, created["order_id"]))
                     and len(found) == 3 and found)
    assert kinds(log) == Counter([("order_received", None), ("payment_confirmed", None),
                                  ("e_ticket", created["id"])])
    sent = {m["kind"]: m["sent_at"] for m in log}
    assert sent["payment_confirmed"] <= sent["e_ticket"], "the e-ticket never comes first"
    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages()) == 3


def test_a_free_registration_gets_its_e_ticket_only(stack, notifications, mail_sink):
    created = register(stack.registration, ticket_type="speaker", discount_code="SPEAKER27",
                       add_ons=[])
    [ticket] = mail_sink.wait_for(1)
    assert "e-ticket" in ticket["Subject"]
    wait_until(lambda: all_sent(message_log(notifications, created["id"])))
    time.sleep(QUIET_SECONDS)
    assert [m["kind"] for m in order_log(notifications, created["order_id"])] == ["e_ticket"]
    assert len(mail_sink.messages()) == 1


def test_a_declined_card_tells_the_buyer_how_to_try_again(stack, notifications, mail_sink):
    order = place_order(stack.registration, [{}])
    stack.pay(stack.payment(order), "declined")
    failed = by_subject(mail_sink.wait_for(2), "did not go through")
    text, _ = bodies(failed)
    assert failed["To"] == BUYER["email"] and order["reference"] in failed["Subject"]
    assert "Please try another card" in text and "card_declined" not in text
    assert f"/orders/{order['id']}#token={order['token']}" in text


def test_changing_the_badge_name_and_cancelling_with_a_refund(stack, notifications,
                                                              mail_sink):
    created = register(stack.registration)
    stack.pay(stack.payment(created))
    mail_sink.wait_for(3)
    headers = {"X-Registration-Token": created["token"]}
    stack.registration.patch(f"/api/registrations/{created['id']}",
                             json={"given_name": "Łukasz Jan"}, headers=headers)
    stack.registration.patch(f"/api/registrations/{created['id']}",
                             json={"pronouns": "he/him"}, headers=headers)  # not the name
    badge = by_subject(mail_sink.wait_for(4), "badge")
    assert "Łukasz Jan Żółć" in bodies(badge)[0]

    response = stack.registration.post(f"/api/registrations/{created['id']}/cancel",
                                       headers=headers)
    assert response.status_code == 200, response.text
    # One email says the cancellation, the refund and the credit note, which it carries.
    cancelled = by_subject(mail_sink.wait_for(5), "cancelled")
    amount = f"EUR {created['amount_due'] / 100:,.2f}"
    assert cancelled["Subject"].endswith(f"cancelled: refund of {amount}")
    assert f"We have refunded {amount}" in bodies(cancelled)[0]
    [credit_note] = cancelled.iter_attachments()
    assert credit_note.get_filename()[:-len(".pdf")] in bodies(cancelled)[0]
    assert "credit" in pdf_text(cancelled, credit_note.get_filename()).lower()
    time.sleep(QUIET_SECONDS)  # the delegate's own cancellation must not add a message
    log = order_log(notifications, created["order_id"])
    assert Counter((m["kind"], m["status"]) for m in log) == Counter([
        ("order_received", "sent"), ("payment_confirmed", "sent"), ("e_ticket", "sent"),
        ("badge_changed", "sent"), ("order_cancelled", "sent"), ("refunded", "combined"),
        ("credit_note", "combined")])
    assert len(mail_sink.messages()) == 5


def test_a_group_order_cancelled_by_its_buyer(stack, notifications, mail_sink):
    order = place_order(stack.registration, [GREEK, {}])
    stack.pay(stack.payment(order))
    mail_sink.wait_for(4)
    response = stack.registration.post(f"/api/orders/{order['id']}/cancel",
                                       headers={"X-Order-Token": order["token"]})
    assert response.status_code == 200, response.text
    total = f"EUR {order['amount_due'] / 100:,.2f}"

    # The whole order goes back in one refund, with one credit note: the buyer gets one
    # email that says all three and carries the credit note; each delegate, their own.
    messages = mail_sink.wait_for(4 + 1 + 2, timeout=20)
    [cancelled] = [m for m in messages if m["To"] == BUYER["email"]
                   and "cancelled" in m["Subject"]]
    text, _ = bodies(cancelled)
    assert cancelled["Subject"] == f"Order {order['reference']} cancelled: refund of {total}"
    assert "As you asked" in text
    assert "Αλέξανδρος Παπαδόπουλος" in text and "Łukasz Żółć" in text
    assert f"We have refunded {total} for order {order['reference']} to the card" in text
    [credit_note] = cancelled.iter_attachments()
    assert credit_note.get_filename()[:-len(".pdf")] in text
    note = pdf_text(cancelled, credit_note.get_filename())
    assert "credit note" in note.lower() and order["reference"] in note
    for delegate in order["delegates"]:
        [place] = [m for m in messages if m["To"] == delegate["email"]
                   and "cancelled" in m["Subject"]]
        assert "The person who booked your place has cancelled" in bodies(place)[0]
    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages()) == 4 + 1 + 2
    to_buyer = [m["Subject"] for m in mail_sink.messages() if m["To"] == BUYER["email"]]
    assert len(to_buyer) == 3  # the order received, paid, and then cancelled: that is all
    assert not [m for m in mail_sink.messages()
                if m["Subject"].startswith(("Refund of", "Credit note"))]
    statuses = {m["kind"]: m["status"] for m in order_log(notifications, order["id"])
                if m["registration_id"] is None}
    assert statuses == {"order_received": "sent", "payment_confirmed": "sent",
                        "order_cancelled": "sent", "refunded": "combined",
                        "credit_note": "combined"}


def test_a_delegate_cancelled_from_a_paid_group_is_one_refund_email_to_the_buyer(
        stack, notifications, mail_sink):
    order = place_order(stack.registration, [GREEK, {}])
    stack.pay(stack.payment(order))
    mail_sink.wait_for(4)
    leaving = order["delegates"][0]
    response = stack.registration.post(
        f"/api/orders/{order['id']}/delegates/{leaving['id']}/cancel",
        headers={"X-Order-Token": order["token"]})
    assert response.status_code == 200, response.text

    messages = mail_sink.wait_for(4 + 2, timeout=20)
    [place] = [m for m in messages if m["To"] == leaving["email"] and "cancelled" in m["Subject"]]
    assert "The person who booked your place has cancelled" in bodies(place)[0]
    [refund] = [m for m in messages if m["To"] == BUYER["email"]
                and m["Subject"].startswith("Refund of")]
    [credit_note] = refund.iter_attachments()
    assert credit_note.get_filename()[:-len(".pdf")] in bodies(refund)[0]
    assert "credit note" in pdf_text(refund, credit_note.get_filename()).lower()
    time.sleep(QUIET_SECONDS)
    assert len(mail_sink.messages()) == 4 + 2


@pytest.mark.catalog(conference={"hold_minutes": 0.02})
def test_an_expired_hold_is_announced_to_the_buyer(stack, notifications, mail_sink):
    order = place_order(stack.registration, [{}, GREEK])
    expired = by_subject(mail_sink.wait_for(2, timeout=30), "expired")
    assert expired["To"] == BUYER["email"] and order["reference"] in expired["Subject"]
    assert f"{BASE_URL}/" in bodies(expired)[0]
    time.sleep(QUIET_SECONDS)  # the delegates' expired registrations send nothing
    assert len(mail_sink.messages()) == 2


def test_the_same_event_twice_sends_one_email(start_service, notifications_config, stack,
                                              mail_sink, publish):
    container, api = start_service(NotificationsService, notifications_config)
    created = register(stack.registration)
    mail_sink.wait_for(1)
    event = new_event("payment_failed", {
        "order_id": created["order_id"], "payment_intent_id": "pi_x", "amount": 100,
        "currency": "EUR", "reason": "card_declined", "message": "Your bank declined it."})
    handled = []
    with entrypoint_waiter(container, "on_event", timeout=10,
                           callback=lambda *args: handled.append(1) or len(handled) == 3):
        for _ in range(3):
            publish(event)
    wait_until(lambda: all_sent(order_log(api, created["order_id"])))
    assert [m["kind"] for m in order_log(api, created["order_id"])] == [
        "order_received", "payment_failed"]
    assert len(mail_sink.messages()) == 2


def test_smtp_down_for_a_while_then_every_message_once(stack, notifications, mail_sink):
    mail_sink.stop()
    created = register(stack.registration)
    stack.pay(stack.payment(created))
    # the e-ticket waits for the payment confirmation, which it may not overtake
    wait_until(lambda: (log := order_log(notifications, created["order_id"])) and len(log) == 3
               and all(m["attempts"] >= 2 for m in log if m["kind"] != "e_ticket"),
               timeout=20, message="two messages tried twice")
    log = order_log(notifications, created["order_id"])
    assert all(m["status"] == "queued" for m in log)
    assert [m["attempts"] for m in log if m["kind"] == "e_ticket"] == [0]
    mail_sink.start()
    mail_sink.wait_for(3, timeout=30)
    wait_until(lambda: all_sent(order_log(notifications, created["order_id"])))
    assert len(mail_sink.messages()) == 3
    assert len({m["Message-ID"] for m in mail_sink.messages()}) == 3


def test_a_refused_address_is_recorded_and_not_tried_again(stack, notifications, mail_sink):
    created = register(stack.registration, email=f"nobody@{BOUNCING_DOMAIN}")
    [message] = wait_until(lambda: (log := order_log(notifications, created["order_id"]))
                           and log[0]["status"] == "failed" and log, timeout=20)
    assert message["attempts"] == 1 and message["last_error"].startswith("550")
    assert mail_sink.messages() == []


def test_a_restart_in_the_middle_loses_and_doubles_nothing(
        start_service, notifications_config, stack, mail_sink):
    mail_sink.stop()
    first, api = start_service(NotificationsService, notifications_config)
    created = register(stack.registration)
    stack.pay(stack.payment(created))
    wait_until(lambda: len(order_log(api, created["order_id"])) == 3, timeout=20)
    first.stop()
    mail_sink.start()
    _, api = start_service(NotificationsService, notifications_config)
    mail_sink.wait_for(3, timeout=30)
    wait_until(lambda: all_sent(order_log(api, created["order_id"])))
    assert len(mail_sink.messages()) == 3


def test_no_personal_data_in_the_logs(stack, notifications, mail_sink, caplog):
    caplog.set_level(logging.DEBUG)
    created = register(stack.registration, **GREEK)
    stack.pay(stack.payment(created), "declined")
    mail_sink.wait_for(2)
    for secret in ["Αλέξανδρος", "Παπαδόπουλος", "alexandros@noesis.gr", created["token"],
                   created["order_token"]]:
        assert secret not in caplog.text

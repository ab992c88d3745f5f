"""Every delegate gets the right email, exactly once: through RabbitMQ, registration,
payments, localstripe and a real SMTP server."""

import io
import logging

import pytest
from nameko.testing.services import entrypoint_waiter
from pypdf import PdfReader

from services.notifications.service import NotificationsService
from shared.events import new_event
from tests.conftest import wait_until
from tests.notifications.conftest import BOUNCING_DOMAIN, message_log
from tests.registration.conftest import register

GREEK = {"given_name": "Αλέξανδρος", "family_name": "Παπαδόπουλος", "country": "GR",
         "organisation": "NOESIS Thessaloniki Science Center", "email": "alexandros@noesis.gr"}


def bodies(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def by_subject(messages, word: str):
    [message] = [m for m in messages if word in m["Subject"]]
    return message


def test_registering_and_paying_sends_the_expected_emails(stack, notifications, mail_sink):
    created = register(stack.registration, **GREEK)
    [received] = mail_sink.wait_for(1)
    text, html = bodies(received)
    assert received["To"] == "alexandros@noesis.gr"
    assert "Ecsite" in received["From"] and received["Message-ID"] and received["Date"]
    assert created["reference"] in received["Subject"]
    assert "Αλέξανδρος" in text and "Αλέξανδρος" in html
    assert f"EUR {created['amount_due'] / 100:,.2f}" in text
    assert f"https://tickets.ecsite.test/manage/{created['id']}#token={created['token']}" in text

    stack.pay(created["payment"])
    messages = mail_sink.wait_for(3)
    paid = by_subject(messages, "Payment received")
    [receipt] = [part for part in paid.iter_attachments()
                 if part.get_content_type() == "application/pdf"]
    pdf = PdfReader(io.BytesIO(receipt.get_content()))
    assert "Αλέξανδρος Παπαδόπουλος" in pdf.pages[0].extract_text()

    ticket = by_subject(messages, "e-ticket")
    text, html = bodies(ticket)
    assert "Tampere Hall" in text and "10–12 June 2027" in text
    [qr] = [part for part in ticket.walk() if part.get_content_type() == "image/png"]
    assert qr["Content-ID"] == "<ticket-qr@ecsite>" and 'src="cid:ticket-qr@ecsite"' in html
    assert qr.get_content().startswith(b"\x89PNG")

    log = message_log(notifications, created["id"])
    assert [(m["kind"], m["status"], m["attempts"]) for m in log] == [
        ("registration_received", "sent", 1), ("payment_confirmed", "sent", 1),
        ("e_ticket", "sent", 1)]


def test_a_free_registration_gets_its_e_ticket_only(stack, notifications, mail_sink):
    created = register(stack.registration, ticket_type="speaker", discount_code="SPEAKER27",
                       add_ons=[])
    [ticket] = mail_sink.wait_for(1)
    assert "e-ticket" in ticket["Subject"]
    wait_until(lambda: message_log(notifications, created["id"])[0]["status"] == "sent")
    assert len(message_log(notifications, created["id"])) == 1


def test_a_declined_card_explains_how_to_try_again(stack, notifications, mail_sink):
    created = register(stack.registration)
    stack.pay(created["payment"], "declined")
    failed = by_subject(mail_sink.wait_for(2), "did not go through")
    text, _ = bodies(failed)
    assert "Reason:" in text and f"/manage/{created['id']}#token=" in text


def test_changing_the_badge_name_and_cancelling_with_a_refund(stack, notifications,
                                                              mail_sink):
    created = register(stack.registration)
    stack.pay(created["payment"])
    mail_sink.wait_for(3)
    headers = {"X-Registration-Token": created["token"]}
    stack.registration.patch(f"/api/registrations/{created['id']}",
                             json={"given_name": "Łukasz Jan"}, headers=headers)
    stack.registration.patch(f"/api/registrations/{created['id']}",
                             json={"pronouns": "he/him"}, headers=headers)  # not the name
    badge = by_subject(mail_sink.wait_for(4), "badge")
    assert "Łukasz Jan Żółć" in bodies(badge)[0]

    stack.registration.post(f"/api/registrations/{created['id']}/cancel", headers=headers)
    messages = mail_sink.wait_for(6)
    cancelled, refunded = by_subject(messages, "cancelled"), by_subject(messages, "Refund of")
    amount = f"EUR {created['amount_due'] / 100:,.2f}"
    assert amount in bodies(cancelled)[0] and amount in bodies(refunded)[0]
    kinds = [m["kind"] for m in message_log(notifications, created["id"])]
    assert kinds.count("badge_changed") == 1 and {"cancelled", "refunded"} <= set(kinds)


@pytest.mark.catalog(conference={"hold_minutes": 0.02})
def test_an_expired_hold_is_announced(stack, notifications, mail_sink):
    created = register(stack.registration)
    expired = by_subject(mail_sink.wait_for(2, timeout=30), "expired")
    assert created["reference"] in expired["Subject"] + bodies(expired)[0]


def test_the_same_event_twice_sends_one_email(start_service, notifications_config, stack,
                                              mail_sink, publish):
    container, api = start_service(NotificationsService, notifications_config)
    created = register(stack.registration)
    mail_sink.wait_for(1)
    event = new_event("payment_failed", {
        "registration_id": created["id"], "payment_intent_id": "pi_x", "amount": 100,
        "currency": "EUR", "reason": "card_declined"})
    handled = []
    with entrypoint_waiter(container, "on_event", timeout=10,
                           callback=lambda *args: handled.append(1) or len(handled) == 3):
        for _ in range(3):
            publish(event)
    wait_until(lambda: all(m["status"] == "sent" for m in message_log(api, created["id"])))
    assert [m["kind"] for m in message_log(api, created["id"])] == [
        "registration_received", "payment_failed"]
    assert len(mail_sink.messages()) == 2


def test_smtp_down_for_a_while_then_every_message_once(stack, notifications, mail_sink):
    mail_sink.stop()
    created = register(stack.registration)
    stack.pay(created["payment"])
    wait_until(lambda: (log := message_log(notifications, created["id"])) and len(log) == 3
               and all(m["attempts"] >= 2 for m in log), timeout=20,
               message="three messages tried twice")
    assert all(m["status"] == "queued" and m["last_error"]
               for m in message_log(notifications, created["id"]))
    mail_sink.start()
    mail_sink.wait_for(3, timeout=30)
    wait_until(lambda: all(m["status"] == "sent"
                           for m in message_log(notifications, created["id"])))
    assert len(mail_sink.messages()) == 3
    assert len({m["Message-ID"] for m in mail_sink.messages()}) == 3


def test_a_refused_address_is_recorded_and_not_tried_again(stack, notifications, mail_sink):
    created = register(stack.registration, email=f"nobody@{BOUNCING_DOMAIN}")
    [message] = wait_until(lambda: (log := message_log(notifications, created["id"]))
                           and log[0]["status"] == "failed" and log, timeout=20)
    assert message["attempts"] == 1 and message["last_error"].startswith("550")
    assert mail_sink.messages() == []


def test_a_restart_in_the_middle_loses_and_doubles_nothing(
        start_service, notifications_config, stack, mail_sink):
    mail_sink.stop()
    first, api = start_service(NotificationsService, notifications_config)
    created = register(stack.registration)
    stack.pay(created["payment"])
    wait_until(lambda: len(message_log(api, created["id"])) == 3, timeout=20)
    first.stop()
    mail_sink.start()
    _, api = start_service(NotificationsService, notifications_config)
    mail_sink.wait_for(3, timeout=30)
    wait_until(lambda: all(m["status"] == "sent" for m in message_log(api, created["id"])))
    assert len(mail_sink.messages()) == 3


def test_the_message_log_is_for_the_admin_only(stack, notifications):
    path = "/api/admin/registrations/x/messages"
    assert notifications.get(path).status_code == 401
    assert notifications.get(path, headers=notifications.as_desk()).status_code == 403


def test_no_personal_data_in_the_logs(stack, notifications, mail_sink, caplog):
    caplog.set_level(logging.DEBUG)
    created = register(stack.registration, **GREEK)
    stack.pay(created["payment"], "declined")
    mail_sink.wait_for(2)
    for secret in ["Αλέξανδρος", "Παπαδόπουλος", "alexandros@noesis.gr", created["token"]]:
        assert secret not in caplog.text

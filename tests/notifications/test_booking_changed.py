"""A changed booking, through the real parts: registration's booking_changed published on
RabbitMQ to a running notifications service, and a real SMTP server (the mail sink)."""

import time

from nameko.testing.services import entrypoint_waiter

from services.notifications.service import NotificationsService
from shared.auth import registration_token
from shared.events import new_event
from tests.conftest import wait_until
from tests.notifications import samples
from tests.notifications.conftest import message_log, order_log

BUYER = "finance@ahhaa.example"  # the group's buyer, who is not the delegate
DELEGATE = "lukasz@example.org"  # the samples' delegate
QUIET_SECONDS = 1.5  # how long to watch for an email that must not come


def test_a_changed_booking_is_one_email_to_its_delegate_with_the_updated_e_ticket(
        start_service, notifications_config, mail_sink, publish):
    container, api = start_service(NotificationsService, notifications_config)
    publish(new_event("order_confirmed", samples.order(buyer_email=BUYER, status="confirmed")))
    wait_until(lambda: api.get(f"/api/admin/orders/{samples.ORDER_ID}/messages",
                               headers=api.as_admin()).status_code == 200)
    changed = new_event("booking_changed", samples.booking_changed(by="buyer"))
    handled = []
    with entrypoint_waiter(container, "on_event", timeout=10,
                           callback=lambda *args: handled.append(1) or len(handled) == 2):
        publish(changed)
        publish(changed)  # delivered again, as at least once delivery may

    [email] = mail_sink.wait_for(1)
    text = email.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = email.get_body(("html",)).get_content()
    assert email["To"] == DELEGATE and "ECS27-7KQ3M9" in email["Subject"]
    assert "The person who booked your place has changed your booking" in text
    assert f"Before:\n- Ticket: {samples.DAY_TICKET}\n- Add-ons: none" in text
    assert f"Now:\n- Ticket: {samples.TICKET}\n- Add-ons: Gala dinner" in text
    assert "The difference of EUR 250.00 (VAT included) has been paid." in text
    token = registration_token("test-secret-key", samples.REGISTRATION_ID)
    assert (f"https://tickets.ecsite.test/manage/{samples.REGISTRATION_ID}#token={token}"
            in text)
    [qr] = [part for part in email.walk() if part.get_content_type() == "image/png"]
    assert qr["Content-ID"] == "<ticket-qr@ecsite>" and 'src="cid:ticket-qr@ecsite"' in html

    time.sleep(QUIET_SECONDS)  # the redelivered event, and the buyer, get nothing
    assert len(mail_sink.messages()) == 1
    [message] = message_log(api, samples.REGISTRATION_ID)
    assert (message["kind"], message["status"], message["attempts"]) == (
        "booking_changed", "sent", 1)
    assert [m["kind"] for m in order_log(api, samples.ORDER_ID)] == ["booking_changed"]

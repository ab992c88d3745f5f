"""An unpaid card order's buyer is reminded once before the hold ends, through the real
parts (registration, payments, notifications on RabbitMQ, localstripe, SMTP); a buyer who
has paid by then is not."""

import time

import pytest

from tests.conftest import wait_until
from tests.registration.conftest import delegate


def reminders_to(sink, address: str) -> list:
    return [m for m in sink.messages()
            if m["To"] == address and m["Subject"].startswith("Reminder:")]


@pytest.mark.catalog(conference={"hold_minutes": 0.2, "payment_reminder_minutes": 0.1})
def test_one_reminder_before_the_hold_ends_and_none_once_paid(stack, mail):
    api = stack.registration
    unpaid = api.post("/api/registrations", json=delegate(email="late@example.org")).json()
    paid = api.post("/api/registrations", json=delegate(email="prompt@example.org")).json()
    assert stack.pay(stack.payment(paid)) == "succeeded"

    [reminder] = wait_until(lambda: reminders_to(mail, "late@example.org"), 30,
                            message="the reminder")
    assert unpaid["reference"] in reminder["Subject"]
    text = reminder.get_body(("plain",)).get_content()
    assert "not paid yet" in text and f"/orders/{unpaid['order_id']}#token=" in text
    wait_until(lambda: [m for m in mail.messages() if m["To"] == "late@example.org"
                        and "expired" in m["Subject"]], 30, message="the hold expired")
    time.sleep(1)  # anything sent twice would be here by now
    assert len(reminders_to(mail, "late@example.org")) == 1
    assert reminders_to(mail, "prompt@example.org") == []

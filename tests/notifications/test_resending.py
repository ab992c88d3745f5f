"""An organiser's resend, on a real database without a broker: a copy with its own
Message-ID, queued now, and one copy however often the button is pressed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notifications import operations, resending, sending
from services.notifications.models import Message
from shared.errors import NotFound
from shared.events import new_event
from tests.notifications import samples
from tests.notifications.fakes import SETTINGS, FakeDocuments, Mailbox, attachments

BUYER = "buyer@example.org"
NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def sent(uow) -> Message:
    """An order's payment confirmation, sent."""
    operations.record(uow, new_event("order_placed", samples.order(
        buyer_email=BUYER, status="confirmed")))
    operations.record(uow, new_event("payment_succeeded", samples.paid()))
    sending.send_due(uow, Mailbox(), FakeDocuments(), SETTINGS, datetime.now(UTC))
    message = uow.session.scalars(select(Message)).one()
    assert message.status == "sent"
    return message


def copies(uow, original: Message) -> list[Message]:
    return list(uow.session.scalars(select(Message).where(Message.resend_of == original.id)))


def test_a_resend_is_a_copy_with_its_own_message_id_queued_now(uow, sent):
    copy = resending.resend(uow, sent.message_id, None, "finance", NOW)

    assert (copy.kind, copy.to_address, copy.event_data, copy.order_id, copy.registration_id
            ) == (sent.kind, sent.to_address, sent.event_data, sent.order_id, None)
    assert copy.message_id != sent.message_id
    assert (copy.status, copy.attempts, copy.next_attempt_at) == ("queued", 0, NOW)
    assert (copy.original, copy.resent_by) == (sent, "finance")

    mailbox = Mailbox()
    assert sending.send_due(uow, mailbox, FakeDocuments(("invoice", "ECS27-I-000001")),
                            SETTINGS, NOW) == 1
    [email] = mailbox.sent
    assert email["Message-ID"] == copy.message_id and email["To"] == BUYER
    assert "Payment received" in email["Subject"]
    assert set(attachments(email)) == {"receipt.pdf", "ECS27-I-000001.pdf"}


def test_the_same_idempotency_key_gives_the_same_copy_even_once_sent(uow, sent):
    first = resending.resend(uow, sent.message_id, "click-1", "admin", NOW)
    sending.send_due(uow, Mailbox(), FakeDocuments(), SETTINGS, NOW)
    again = resending.resend(uow, sent.message_id, "click-1", "admin", NOW)
    other = resending.resend(uow, sent.message_id, "click-2", "admin", NOW)

    assert again.id == first.id and first.status == "sent"
    assert other.id != first.id
    assert len(copies(uow, sent)) == 2


def test_without_a_key_a_copy_still_queued_answers_a_second_resend(uow, sent):
    first = resending.resend(uow, sent.message_id, None, "admin", NOW)
    assert resending.resend(uow, sent.message_id, None, "admin", NOW).id == first.id

    sending.send_due(uow, Mailbox(), FakeDocuments(), SETTINGS, NOW)  # the copy goes
    later = resending.resend(uow, sent.message_id, None, "admin", NOW + timedelta(hours=1))
    assert later.id != first.id and len(copies(uow, sent)) == 2


def test_a_copy_of_a_copy_copies_the_first_message(uow, sent):
    first = resending.resend(uow, sent.message_id, None, "admin", NOW)
    assert resending.resend(uow, first.message_id, None, "admin", NOW).id == first.id
    sending.send_due(uow, Mailbox(), FakeDocuments(), SETTINGS, NOW)
    second = resending.resend(uow, first.message_id, None, "admin", NOW)
    assert second.resend_of == sent.id and second.id != first.id


def test_an_unknown_message_is_not_found_naming_the_field(uow, sent):
    with pytest.raises(NotFound) as refused:
        resending.resend(uow, "<nobody@ecsite-ticketing>", None, "admin", NOW)
    assert refused.value.field == "message_id"
    assert uow.session.scalars(select(Message)).all() == [sent]


def test_a_message_id_may_be_given_without_its_angle_brackets(uow, sent):
    copy = resending.resend(uow, sent.message_id.strip("<>"), None, "admin", NOW)
    assert copy.resend_of == sent.id


def test_each_reminder_of_an_order_can_be_resent_and_a_copy_goes_even_once_paid(uow):
    operations.record(uow, new_event("order_placed", samples.invoice_order(buyer_email=BUYER)))
    first, second = uow.session.scalars(select(Message).order_by(Message.id))
    copies_made = [resending.resend(uow, m.message_id, None, "finance", NOW)
                   for m in (first, second)]
    operations.record(uow, new_event("order_confirmed", samples.invoice_order(
        buyer_email=BUYER, status="confirmed")))
    operations.record(uow, new_event("invoice_issued", samples.invoice()))

    mailbox = Mailbox()
    sending.send_due(uow, mailbox, FakeDocuments(("invoice", samples.INVOICE_NUMBER)),
                     SETTINGS, NOW)
    # The organiser asked for them: they go, though the originals would be skipped.
    assert [c.status for c in copies_made] == ["sent", "sent"]
    assert sum(m["Subject"].startswith("Reminder") for m in mailbox.sent) == 2


def test_the_database_holds_one_copy_per_key(uow, sent):
    resending.resend(uow, sent.message_id, "click-1", "admin", NOW)
    uow.session.add(Message(
        event_id=sent.event_id, kind=sent.kind, occasion="another", order_id=sent.order_id,
        event_data={}, to_address=BUYER, message_id="<twin@ecsite-ticketing>",
        resend_of=sent.id, idempotency_key="click-1"))
    with pytest.raises(IntegrityError):
        uow.session.flush()


def test_a_copy_of_a_cancellation_says_the_refund_and_credit_note_it_said(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER,
                                                                    status="confirmed")))
    operations.record(uow, new_event("order_cancelled", samples.order(
        buyer_email=BUYER, status="cancelled", reason="buyer", refund_due=59000)))
    operations.record(uow, new_event("payment_refunded", samples.refund(amount=59000)))
    operations.record(uow, new_event("credit_note_issued", samples.credit_note()))
    documents = FakeDocuments(("credit_note", samples.CREDIT_NOTE_NUMBER))
    sending.send_due(uow, Mailbox(), documents, SETTINGS, datetime.now(UTC))
    cancelled = uow.session.scalars(select(Message).where(
        Message.kind == "order_cancelled")).one()

    resending.resend(uow, cancelled.message_id, None, "finance", NOW)
    mailbox = Mailbox()
    assert sending.send_due(uow, mailbox, documents, SETTINGS, NOW) == 1
    [email] = mailbox.sent
    assert email["Subject"].endswith("cancelled: refund of EUR 590.00")
    assert set(attachments(email)) == {f"{samples.CREDIT_NOTE_NUMBER}.pdf"}
    assert [m.status for m in uow.session.scalars(select(Message).where(
        Message.kind.in_(["refunded", "credit_note"])))] == ["combined", "combined"]

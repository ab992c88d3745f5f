"""Recording and sending messages on a real database, without a broker: who each message
goes to, once, and what is sent with it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.notifications import operations, sending
from services.notifications.models import Message
from shared.db import OutboxEvent
from shared.events import new_event
from tests.notifications import samples
from tests.notifications.fakes import SETTINGS, FakeDocuments, Mailbox, attachments

BUYER = "buyer@example.org"


def messages(uow) -> list[tuple]:
    return [(m.kind, m.to_address, m.registration_id, m.order_id)
            for m in uow.session.scalars(select(Message).order_by(Message.id))]


def test_the_buyer_hears_of_the_order_and_its_payment_and_each_delegate_of_their_place(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("payment_succeeded", samples.paid()))
    operations.record(uow, new_event("registration_confirmed", samples.registration()))

    assert messages(uow) == [
        ("order_received", BUYER, None, samples.ORDER_ID),
        ("payment_confirmed", BUYER, None, samples.ORDER_ID),
        ("e_ticket", "lukasz@example.org", samples.REGISTRATION_ID, samples.ORDER_ID)]


def test_a_payment_event_before_its_order_waits_for_it(uow):
    payment = new_event("payment_failed", samples.failed())
    with pytest.raises(operations.OrderNotKnownYet):
        operations.record(uow, payment)
    uow.rollback()  # as the failed worker's transaction is

    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, payment)  # the retry
    assert [kind for kind, *_ in messages(uow)] == ["order_received", "payment_failed"]


def test_the_same_event_twice_stores_one_message(uow):
    event = new_event("order_placed", samples.order())
    operations.record(uow, event)
    operations.record(uow, event)
    assert len(messages(uow)) == 1


def test_payment_messages_go_to_the_latest_buyer_address(uow):
    placed = new_event("order_placed", samples.order(buyer_email="old@example.org"))
    later = new_event("order_confirmed", samples.order(buyer_email=BUYER, status="confirmed"))
    operations.record(uow, later)
    operations.record(uow, placed)  # delivered late: it does not undo the newer one
    operations.record(uow, new_event("payment_refunded", samples.refund()))
    assert messages(uow)[-1][:2] == ("refunded", BUYER)


def test_a_full_refund_tells_a_delegate_someone_else_paid_for(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    for registration_id, email in [(samples.OTHER_REGISTRATION_ID, "zofia@example.org"),
                                   (samples.REGISTRATION_ID, BUYER)]:
        operations.record(uow, new_event("registration_cancelled", samples.registration(
            registration_id=registration_id, email=email, status="cancelled",
            reason="refunded", refund_due=0)))
    assert messages(uow) == [("order_received", BUYER, None, samples.ORDER_ID),
                             ("cancelled", "zofia@example.org", samples.OTHER_REGISTRATION_ID,
                              samples.ORDER_ID)]


def test_a_badge_name_change_is_noticed_against_what_was_known(uow):
    operations.record(uow, new_event("registration_confirmed", samples.registration()))
    operations.record(uow, new_event("registration_updated", samples.registration(
        delegate={**samples.registration()["delegate"], "pronouns": "they/them"})))
    operations.record(uow, new_event("registration_updated", samples.registration("Łukasz Jan")))
    assert [kind for kind, *_ in messages(uow)] == ["e_ticket", "badge_changed"]


def test_sending_attaches_the_receipt_and_every_invoice_and_announces_the_email(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("payment_succeeded", samples.paid()))
    documents = FakeDocuments(("invoice", "ECS27-I-000001"), ("credit_note", "ECS27-C-000001"),
                              ("invoice", "ECS27-I-000002"), ("receipt", "ECS27-000007"))

    now = datetime.now(UTC)
    assert sending.send_due(uow, Mailbox(), documents, SETTINGS, now) == 2
    received, paid = uow.session.scalars(select(Message).order_by(Message.id))
    assert (received.status, paid.status) == ("sent", "sent")
    assert documents.asked == [
        ("receipt_pdf", samples.ORDER_ID), ("documents_of", samples.ORDER_ID),
        ("document_pdf", samples.ORDER_ID, "ECS27-I-000001"),
        ("document_pdf", samples.ORDER_ID, "ECS27-I-000002")]
    announced = [e.envelope["data"] for e in uow.session.scalars(select(OutboxEvent))]
    assert [(d["kind"], d["order_id"], d["registration_id"]) for d in announced] == [
        ("order_received", samples.ORDER_ID, None),
        ("payment_confirmed", samples.ORDER_ID, None)]


def test_the_payment_confirmation_carries_its_documents_and_names_the_invoices(uow):
    operations.record(uow, new_event("order_placed", samples.order(
        buyer_email=BUYER, status="confirmed")))
    operations.record(uow, new_event("payment_succeeded", samples.paid()))
    mailbox = Mailbox()
    sending.send_due(uow, mailbox, FakeDocuments(("invoice", "ECS27-I-000001")), SETTINGS,
                     datetime.now(UTC))

    [paid] = mailbox.sent
    assert paid["To"] == BUYER
    assert f"/orders/{samples.ORDER_ID}#token=" in paid.get_body(("plain",)).get_content()
    assert attachments(paid) == {"receipt.pdf": b"%PDF-1.7 receipt",
                                 "ECS27-I-000001.pdf": b"%PDF-1.7 ECS27-I-000001"}
    assert "with your invoice ECS27-I-000001" in paid.get_body(("plain",)).get_content()


def test_a_document_payments_cannot_give_now_is_tried_again_later(uow):
    operations.record(uow, new_event("order_placed", samples.order(status="confirmed")))
    operations.record(uow, new_event("payment_succeeded", samples.paid()))
    mailbox, now, documents = Mailbox(), datetime.now(UTC), FakeDocuments()
    documents.unavailable = True

    sending.send_due(uow, mailbox, documents, SETTINGS, now)
    [message] = uow.session.scalars(select(Message)).all()
    assert (message.status, message.attempts) == ("queued", 1)
    assert message.next_attempt_at == now + timedelta(seconds=5)
    assert message.last_error.startswith("TemporaryFailure") and mailbox.sent == []

    documents.unavailable = False
    sending.send_due(uow, mailbox, documents, SETTINGS, now + timedelta(seconds=5))
    assert message.status == "sent" and len(mailbox.sent) == 1


def test_payment_due_waits_and_is_not_sent_once_the_order_is_paid(uow):
    placed = new_event("order_placed", samples.order(buyer_email=BUYER))
    operations.record(uow, placed, defer=timedelta(seconds=60))
    mailbox = Mailbox()
    assert sending.send_due(uow, mailbox, None, SETTINGS, placed.occurred_at) == 0
    confirmed = new_event("order_confirmed", samples.order(buyer_email=BUYER,
                                                            status="confirmed"))
    operations.record(uow, confirmed)
    later = placed.occurred_at + timedelta(seconds=61)
    assert sending.send_due(uow, mailbox, None, SETTINGS, later) == 1
    assert mailbox.sent == []
    assert uow.session.scalars(select(Message.status)).all() == ["skipped"]


def test_payment_due_is_sent_when_the_order_is_still_unpaid(uow):
    placed = new_event("order_placed", samples.order(buyer_email=BUYER))
    operations.record(uow, placed, defer=timedelta(seconds=60))
    mailbox = Mailbox()
    later = placed.occurred_at + timedelta(seconds=61)
    assert sending.send_due(uow, mailbox, None, SETTINGS, later) == 1
    assert len(mailbox.sent) == 1

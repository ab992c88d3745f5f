"""Recording and sending messages on a real database, without a broker: who each message
goes to, once, and what is sent with it."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from services.notifications import operations, sending
from services.notifications.models import Message
from shared.auth import ticket_token
from shared.db import OutboxEvent
from shared.events import new_event
from tests.notifications import samples
from tests.notifications.fakes import SETTINGS, FakeDocuments, Mailbox, attachments, text_of

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


def test_a_changed_booking_is_told_to_its_delegate_alone_once(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("registration_confirmed", samples.registration()))
    changed = new_event("booking_changed", samples.booking_changed(by="buyer"))
    # published with the change: the same name, so no "badge updated" email
    operations.record(uow, new_event("registration_updated", samples.registration()))
    operations.record(uow, changed)
    operations.record(uow, changed)  # redelivered

    assert messages(uow) == [
        ("order_received", BUYER, None, samples.ORDER_ID),
        ("e_ticket", "lukasz@example.org", samples.REGISTRATION_ID, samples.ORDER_ID),
        ("booking_changed", "lukasz@example.org", samples.REGISTRATION_ID, samples.ORDER_ID)]


def test_a_changed_booking_carries_the_e_ticket_s_qr_code(uow):
    operations.record(uow, new_event("booking_changed", samples.booking_changed()))
    mailbox = Mailbox()
    sending.send_due(uow, mailbox, FakeDocuments(), SETTINGS, datetime.now(UTC))

    [email] = mailbox.sent
    [qr] = [part for part in email.walk() if part.get_content_type() == "image/png"]
    assert qr["Content-ID"] == "<ticket-qr@ecsite>" and qr.get_content().startswith(b"\x89PNG")
    assert email["To"] == "lukasz@example.org"
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.get_content())))
    assert read.text == ticket_token(SETTINGS.secret_key, samples.REGISTRATION_ID)


REFUND_DUE = 59000


def cancel_with_refund(uow, refund: bool = True, note: bool = True) -> None:
    """A paid order cancelled by its buyer; payments' refund and credit note, if asked."""
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER,
                                                                    status="confirmed")))
    operations.record(uow, new_event("order_cancelled", samples.order(
        buyer_email=BUYER, status="cancelled", reason="buyer", refund_due=REFUND_DUE)))
    if note:
        operations.record(uow, new_event("credit_note_issued", samples.credit_note(
            amount=REFUND_DUE)))
    if refund:
        operations.record(uow, new_event("payment_refunded", samples.refund(
            amount=REFUND_DUE, total_refunded=REFUND_DUE)))


def states(uow) -> dict[str, tuple]:
    by_id = {m.id: m.kind for m in uow.session.scalars(select(Message))}
    return {m.kind: (m.status, by_id.get(m.carried_by))
            for m in uow.session.scalars(select(Message).order_by(Message.id))}


def test_a_cancellation_its_refund_and_its_credit_note_are_one_email(uow):
    cancel_with_refund(uow)
    mailbox, documents = Mailbox(), FakeDocuments(("credit_note", samples.CREDIT_NOTE_NUMBER))

    sending.send_due(uow, mailbox, documents, SETTINGS, datetime.now(UTC))

    [email] = mailbox.sent
    assert email["To"] == BUYER and email["Subject"].endswith("cancelled: refund of EUR 590.00")
    assert attachments(email) == {f"{samples.CREDIT_NOTE_NUMBER}.pdf":
                                  f"%PDF-1.7 {samples.CREDIT_NOTE_NUMBER}".encode()}
    assert "to the card you paid with" in text_of(email)
    assert states(uow) == {"order_cancelled": ("sent", None),
                           "credit_note": ("combined", "order_cancelled"),
                           "refunded": ("combined", "order_cancelled")}
    announced = [e.envelope["data"]["kind"] for e in uow.session.scalars(select(OutboxEvent))]
    assert announced == ["order_cancelled"]


def test_a_cancellation_waits_for_its_refund_a_while_then_goes_alone(uow):
    cancel_with_refund(uow, refund=False, note=False)
    mailbox, documents = Mailbox(), FakeDocuments(("credit_note", samples.CREDIT_NOTE_NUMBER))
    cancelled = uow.session.scalars(select(Message)).one()
    soon = cancelled.created_at + timedelta(seconds=30)

    assert sending.send_due(uow, mailbox, documents, SETTINGS, soon) == 1
    assert mailbox.sent == [] and cancelled.status == "queued"

    later = cancelled.created_at + timedelta(minutes=2, seconds=1)
    sending.send_due(uow, mailbox, documents, SETTINGS, later)
    [alone] = mailbox.sent
    assert "A refund of EUR 590.00 is on its way to your card" in text_of(alone)
    assert attachments(alone) == {}

    # The refund and its credit note come late: they follow as one email of their own.
    operations.record(uow, new_event("credit_note_issued", samples.credit_note(
        amount=REFUND_DUE)))
    operations.record(uow, new_event("payment_refunded", samples.refund(
        amount=REFUND_DUE, total_refunded=REFUND_DUE)))
    sending.send_due(uow, mailbox, documents, SETTINGS, later + timedelta(minutes=3))
    assert [m["Subject"].split(" for ")[0] for m in mailbox.sent] == [
        f"Order {samples.order()['reference']} cancelled", "Refund of EUR 590.00"]
    assert samples.CREDIT_NOTE_NUMBER in text_of(mailbox.sent[1])
    assert f"{samples.CREDIT_NOTE_NUMBER}.pdf" in attachments(mailbox.sent[1])
    assert states(uow)["credit_note"] == ("combined", "refunded")


def test_a_cancellation_with_nothing_to_refund_goes_at_once(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER)))
    operations.record(uow, new_event("order_cancelled", samples.order(
        buyer_email=BUYER, status="cancelled", reason="buyer", refund_due=0)))
    mailbox = Mailbox()

    sending.send_due(uow, mailbox, FakeDocuments(), SETTINGS, datetime.now(UTC))
    assert [m["Subject"] for m in mailbox.sent] == [
        "Order ECS27-O-4F2K8P received: payment due", "Order ECS27-O-4F2K8P cancelled"]


def test_a_delegate_s_refund_and_its_credit_note_are_one_email_to_the_buyer(uow):
    operations.record(uow, new_event("order_placed", samples.order(buyer_email=BUYER,
                                                                    status="confirmed")))
    operations.record(uow, new_event("registration_cancelled", samples.registration(
        registration_id=samples.OTHER_REGISTRATION_ID, email="zofia@example.org",
        status="cancelled", reason="buyer", refund_due=REFUND_DUE)))
    operations.record(uow, new_event("payment_refunded", samples.refund(amount=REFUND_DUE)))
    operations.record(uow, new_event("credit_note_issued", samples.credit_note(
        amount=REFUND_DUE)))
    mailbox = Mailbox()

    sending.send_due(uow, mailbox, FakeDocuments(("credit_note", samples.CREDIT_NOTE_NUMBER)),
                     SETTINGS, datetime.now(UTC))

    assert [(m["To"], m["Subject"].split(" for ")[0]) for m in mailbox.sent] == [
        ("zofia@example.org", "Registration ECS27-7KQ3M9 cancelled"),
        (BUYER, "Refund of EUR 590.00")]
    assert f"{samples.CREDIT_NOTE_NUMBER}.pdf" in attachments(mailbox.sent[1])

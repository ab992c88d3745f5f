"""Paying by invoice, on a real database without a broker: the invoice instead of
"payment due", reminders at their times (once each, and only while the order waits for
its money), part payments, credit notes, and the documents each email carries."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from services.notifications import operations, sending
from services.notifications.models import Message, Order
from shared.events import new_event
from tests.notifications import samples
from tests.notifications.fakes import SETTINGS, FakeDocuments, Mailbox, attachments, text_of

BUYER = "buyer@example.org"
FIRST, SECOND = (datetime.fromisoformat(t) for t in samples.REMINDERS)
PLACED_AT = FIRST - timedelta(days=7)
INVOICE_PDF = {f"{samples.INVOICE_NUMBER}.pdf":
               f"%PDF-1.7 {samples.INVOICE_NUMBER}".encode()}


def stored(uow) -> list[tuple]:
    return [(m.kind, m.occasion, m.next_attempt_at, m.status)
            for m in uow.session.scalars(select(Message).order_by(Message.id))]


def record(uow, event_type: str, data: dict, at: datetime = PLACED_AT):
    event = new_event(event_type, data).model_copy(update={"occurred_at": at})
    operations.record(uow, event)
    return event


@pytest.fixture
def placed(uow):
    """An invoice order placed, and its invoice issued."""
    record(uow, "order_placed", samples.invoice_order(buyer_email=BUYER))
    record(uow, "invoice_issued", samples.invoice())
    return uow


def test_an_invoice_order_gets_its_invoice_instead_of_payment_due_and_two_reminders(uow):
    operations.record(uow, new_event("order_placed", samples.invoice_order(buyer_email=BUYER)),
                      defer=timedelta(0))
    assert stored(uow) == [("invoice_reminder", FIRST.isoformat(), FIRST, "queued"),
                           ("invoice_reminder", SECOND.isoformat(), SECOND, "queued")]
    record(uow, "invoice_issued", samples.invoice())
    assert [kind for kind, *_ in stored(uow)] == [
        "invoice_reminder", "invoice_reminder", "invoice"]


def test_the_invoice_email_carries_that_invoice(placed):
    documents, mailbox = FakeDocuments(("invoice", samples.INVOICE_NUMBER)), Mailbox()
    assert sending.send_due(placed, mailbox, documents, SETTINGS, PLACED_AT) == 1
    [email] = mailbox.sent
    assert email["To"] == BUYER and samples.INVOICE_NUMBER in email["Subject"]
    assert documents.asked == [("document_pdf", samples.ORDER_ID, samples.INVOICE_NUMBER)]
    assert attachments(email) == INVOICE_PDF
    assert "RF18 5390 0754 7034" in text_of(email)


def test_each_reminder_is_sent_once_at_its_time_with_the_latest_invoice(placed):
    documents = FakeDocuments(("invoice", samples.INVOICE_NUMBER))
    mailbox = Mailbox()
    sending.send_due(placed, mailbox, documents, SETTINGS, PLACED_AT)  # the invoice
    documents.asked.clear()

    assert sending.send_due(placed, mailbox, documents, SETTINGS, FIRST - timedelta(
        seconds=1)) == 0
    assert sending.send_due(placed, mailbox, documents, SETTINGS, FIRST) == 1
    assert sending.send_due(placed, mailbox, documents, SETTINGS, FIRST + timedelta(
        hours=1)) == 0
    assert sending.send_due(placed, mailbox, documents, SETTINGS, SECOND) == 1
    assert sending.send_due(placed, mailbox, documents, SETTINGS, SECOND + timedelta(
        days=30)) == 0

    invoice, first, second = mailbox.sent
    assert [m["Subject"].startswith("Reminder") for m in (first, second)] == [True, True]
    assert len({m["Message-ID"] for m in mailbox.sent}) == 3
    for reminder in (first, second):
        assert attachments(reminder) == INVOICE_PDF
        text = text_of(reminder)
        assert "EUR 1,180.00" in text and "15 March 2027" in text
        assert "RF18 5390 0754 7034" in text
    assert documents.asked == [("documents_of", samples.ORDER_ID),
                               ("document_pdf", samples.ORDER_ID, samples.INVOICE_NUMBER)] * 2
    assert [status for *_, status in stored(placed)] == ["sent"] * 3


@pytest.mark.parametrize(("event_type", "status"), [
    ("order_confirmed", "confirmed"), ("order_expired", "expired"),
    ("order_cancelled", "cancelled")])
def test_a_reminder_is_skipped_when_the_order_no_longer_waits_for_payment(
        placed, event_type, status):
    extra = {"reason": "buyer", "refund_due": 0} if status == "cancelled" else {}
    record(placed, event_type, samples.invoice_order(buyer_email=BUYER, status=status,
                                                     payment_reminders_at=[]) | extra,
           at=FIRST - timedelta(days=1))
    mailbox, documents = Mailbox(), FakeDocuments(("invoice", samples.INVOICE_NUMBER))
    sending.send_due(placed, mailbox, documents, SETTINGS, SECOND)

    reminders = [status for kind, *_, status in stored(placed) if kind == "invoice_reminder"]
    assert reminders == ["skipped", "skipped"]
    assert all("Reminder" not in m["Subject"] for m in mailbox.sent)


def test_a_reminder_that_could_not_go_is_not_sent_once_the_order_is_paid(placed):
    mailbox, documents = Mailbox(), FakeDocuments(("invoice", samples.INVOICE_NUMBER))
    sending.send_due(placed, mailbox, documents, SETTINGS, PLACED_AT)
    documents.unavailable = True
    sending.send_due(placed, mailbox, documents, SETTINGS, FIRST)  # tried, and failed
    record(placed, "order_confirmed", samples.invoice_order(status="confirmed"),
           at=FIRST + timedelta(minutes=1))
    documents.unavailable = False
    sending.send_due(placed, mailbox, documents, SETTINGS, FIRST + timedelta(hours=1))

    first = placed.session.scalars(select(Message).where(
        Message.kind == "invoice_reminder").order_by(Message.id)).first()
    assert (first.status, first.attempts) == ("skipped", 1)
    assert len(mailbox.sent) == 1  # the invoice


def test_a_reminder_waits_for_news_of_the_invoice_it_attaches(uow):
    record(uow, "order_placed", samples.invoice_order(buyer_email=BUYER))
    mailbox, documents = Mailbox(), FakeDocuments()
    sending.send_due(uow, mailbox, documents, SETTINGS, FIRST)  # no invoice heard of yet
    record(uow, "invoice_issued", samples.invoice())
    documents.issue("invoice", samples.INVOICE_NUMBER)
    documents.issue("invoice", "ECS27-I-000013")  # corrected; its event still on its way
    sending.send_due(uow, mailbox, documents, SETTINGS, FIRST + timedelta(seconds=5))
    first = uow.session.scalars(select(Message).order_by(Message.id)).first()
    assert (first.status, first.attempts) == ("queued", 2)
    assert "not known here yet" in first.last_error
    assert [m["Subject"].split()[0] for m in mailbox.sent] == ["Invoice"]

    record(uow, "invoice_issued", samples.invoice(number="ECS27-I-000013",
                                                  reason="billing_corrected"),
           at=PLACED_AT + timedelta(days=1))
    sending.send_due(uow, mailbox, documents, SETTINGS, FIRST + timedelta(minutes=5))
    reminder = next(m for m in mailbox.sent if m["Subject"].startswith("Reminder"))
    assert list(attachments(reminder)) == ["ECS27-I-000013.pdf"]
    assert "ECS27-I-000013" in text_of(reminder)


def test_a_part_payment_is_acknowledged_and_the_reminder_asks_for_the_rest(placed):
    record(placed, "transfer_recorded", samples.transfer(), at=FIRST - timedelta(days=2))
    mailbox, documents = Mailbox(), FakeDocuments(("invoice", samples.INVOICE_NUMBER))
    sending.send_due(placed, mailbox, documents, SETTINGS, FIRST)

    acknowledged = next(m for m in mailbox.sent if "Transfer received" in m["Subject"])
    reminder = next(m for m in mailbox.sent if m["Subject"].startswith("Reminder"))
    assert "EUR 680.00 still due" in acknowledged["Subject"]
    assert "EUR 680.00 is still due by 15 March 2027" in text_of(acknowledged)
    assert attachments(acknowledged) == INVOICE_PDF
    assert "Amount due: EUR 680.00" in text_of(reminder)
    assert "Received so far: EUR 500.00 of EUR 1,180.00" in text_of(reminder)


def test_the_transfer_that_completes_the_payment_is_left_to_the_payment_confirmation(placed):
    record(placed, "transfer_recorded", samples.transfer(), at=FIRST - timedelta(days=2))
    record(placed, "transfer_recorded", samples.transfer(
        transfer_id="tr-2", amount=68000, total_received=118000), at=FIRST - timedelta(days=1))
    assert [kind for kind, *_ in stored(placed)].count("transfer_received") == 1
    assert placed.session.get(Order, samples.ORDER_ID).received == 118000


def test_corrected_billing_sends_the_new_invoice_and_the_credit_note_each_with_its_pdf(
        placed):
    record(placed, "credit_note_issued", samples.credit_note(
        reason="billing_corrected", amount=118000), at=PLACED_AT + timedelta(days=1))
    record(placed, "invoice_issued", samples.invoice(
        number="ECS27-I-000013", reason="billing_corrected"), at=PLACED_AT + timedelta(days=1))
    mailbox = Mailbox()
    documents = FakeDocuments(("invoice", samples.INVOICE_NUMBER),
                              ("credit_note", samples.CREDIT_NOTE_NUMBER),
                              ("invoice", "ECS27-I-000013"))
    sending.send_due(placed, mailbox, documents, SETTINGS, PLACED_AT + timedelta(days=1))

    assert documents.asked == [
        ("document_pdf", samples.ORDER_ID, number)
        for number in (samples.INVOICE_NUMBER, samples.CREDIT_NOTE_NUMBER, "ECS27-I-000013")]
    _, note, corrected = mailbox.sent
    assert list(attachments(note)) == [f"{samples.CREDIT_NOTE_NUMBER}.pdf"]
    assert list(attachments(corrected)) == ["ECS27-I-000013.pdf"]
    assert corrected["Subject"].startswith("Corrected invoice ECS27-I-000013")
    assert placed.session.get(Order, samples.ORDER_ID).invoice["number"] == "ECS27-I-000013"


def test_a_card_payment_s_invoice_is_not_an_email_of_its_own(uow):
    record(uow, "order_placed", samples.order(buyer_email=BUYER, status="confirmed"))
    record(uow, "invoice_issued", samples.invoice(reason="card_payment", paid=True,
                                                  payment_reference=None, due_on=None))
    assert stored(uow) == []
    assert uow.session.get(Order, samples.ORDER_ID).invoice["reason"] == "card_payment"


def test_an_older_invoice_delivered_late_does_not_replace_the_newer(placed):
    record(placed, "invoice_issued", samples.invoice(number="ECS27-I-000013",
                                                     reason="billing_corrected"),
           at=PLACED_AT + timedelta(days=1))
    event = new_event("invoice_issued", samples.invoice(number="ECS27-I-000011")).model_copy(
        update={"occurred_at": PLACED_AT - timedelta(hours=1)})
    operations.record(placed, event)
    assert placed.session.get(Order, samples.ORDER_ID).invoice["number"] == "ECS27-I-000013"


def test_a_reminder_greets_the_buyer_as_corrected_since(placed):
    buyer = {**samples.invoice_order()["buyer"], "name": "Łucja Żółć-Nowak",
             "billing_address": "ul. Długa 1, 00-001 Warszawa"}
    record(placed, "order_updated", samples.invoice_order(buyer_email=BUYER) | {
        "buyer": {**buyer, "email": BUYER}}, at=PLACED_AT + timedelta(days=1))
    mailbox = Mailbox()
    sending.send_due(placed, mailbox, FakeDocuments(("invoice", samples.INVOICE_NUMBER)),
                     SETTINGS, FIRST)
    [reminder] = [m for m in mailbox.sent if m["Subject"].startswith("Reminder")]
    # Stored from order_placed, it greets the buyer as the order says when it goes.
    assert "Dear Łucja Żółć-Nowak," in text_of(reminder) and reminder["To"] == BUYER

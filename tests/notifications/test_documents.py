"""Paying by invoice, through the real parts: RabbitMQ, the notifications service, a real
SMTP server (the mail sink, in its own process), and over real RPC a payments service
of this test's own that serves an order's documents as payments does. Registration's and
payments' events are published as they publish them."""

import base64
import io
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from services.notifications.service import NotificationsService
from shared.errors import NotFound
from shared.events import new_event
from shared.rpc import rpc
from tests.conftest import DESK_TOKEN, make_config, wait_until
from tests.notifications import samples
from tests.notifications.conftest import FINANCE, log_at

BUYER = "lukasz@example.org"  # the samples' buyer
ISSUED: dict[str, list[tuple[str, str]]] = {}  # order id -> (kind, number), oldest first


def pdf_of(title: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, title)
    canvas.save()
    return buffer.getvalue()


class StandInPayments:
    """The payments service as notifications asks it: an order's documents, over RPC."""

    name = "payments"

    @rpc
    def documents_of(self, order_id: str) -> list[dict]:
        return [{"kind": kind, "number": number, "issued_on": "2027-03-01"}
                for kind, number in ISSUED.get(order_id, [])]

    @rpc
    def document_pdf(self, order_id: str, number: str) -> str:
        kinds = {n: kind for kind, n in ISSUED.get(order_id, [])}
        if number not in kinds:
            raise NotFound("The order has no document with this number.", "number")
        return base64.b64encode(pdf_of(f"{kinds[number]} {number}")).decode()

    @rpc
    def receipt_pdf(self, order_id: str) -> str:
        return base64.b64encode(pdf_of(f"receipt of {order_id}")).decode()


@pytest.fixture
def notifications(container_factory, start_service, amqp_uri, notifications_config):
    """Notifications, with this test's payments beside it; its Api."""
    ISSUED.clear()
    container_factory(StandInPayments, make_config("payments", amqp_uri, "sqlite://")).start()
    return start_service(NotificationsService, notifications_config)[1]


def pdf_text(email, filename: str) -> str:
    [part] = [p for p in email.iter_attachments() if p.get_filename() == filename]
    assert part.get_content_type() == "application/pdf"
    return PdfReader(io.BytesIO(part.get_content())).pages[0].extract_text()


def titled(sink, start: str) -> list:
    return [m for m in sink.messages() if m["Subject"].startswith(start)]


def place_invoice_order(publish, api, reminders: list[datetime]) -> None:
    """Registration's order_placed, then payments' invoice for it (once the order is known
    here: a payments event before its order's own would wait for it)."""
    publish(new_event("order_placed", samples.invoice_order(
        payment_reminders_at=[t.isoformat() for t in reminders])))
    wait_until(lambda: len(order_messages(api)) == len(reminders), message="the reminders")
    ISSUED[samples.ORDER_ID] = [("invoice", samples.INVOICE_NUMBER)]
    publish(new_event("invoice_issued", samples.invoice()))


def order_messages(api, headers=None) -> list[dict]:
    return log_at(api, f"/api/admin/orders/{samples.ORDER_ID}/messages", headers)


def test_an_invoice_order_s_invoice_reminders_and_credit_note_arrive_with_their_pdfs(
        notifications, mail_sink, publish):
    now = datetime.now(UTC)
    reminders = [now + timedelta(seconds=s) for s in (2, 4, 10)]
    place_invoice_order(publish, notifications, reminders)

    [invoice] = wait_until(lambda: titled(mail_sink, "Invoice"), message="the invoice")
    assert invoice["To"] == BUYER
    text = invoice.get_body(("plain",)).get_content()
    assert "EUR 1,180.00" in text and "RF18 5390 0754 7034" in text
    assert "15 March 2027" in text and "bank details are on the attached invoice" in text
    assert samples.INVOICE_NUMBER in pdf_text(invoice, f"{samples.INVOICE_NUMBER}.pdf")

    first, second = wait_until(lambda: len(found := titled(mail_sink, "Reminder")) >= 2
                               and found, timeout=15, message="two reminders")
    for reminder in (first, second):
        assert samples.INVOICE_NUMBER in pdf_text(
            reminder, f"{samples.INVOICE_NUMBER}.pdf")
        assert "RF18 5390 0754 7034" in reminder.get_body(("plain",)).get_content()
    assert first["Message-ID"] != second["Message-ID"]

    # The hold ends unpaid before the third reminder: payments credits the invoice.
    ISSUED[samples.ORDER_ID].append(("credit_note", samples.CREDIT_NOTE_NUMBER))
    publish(new_event("order_expired", samples.invoice_order(
        status="expired", payment_reminders_at=[])))
    publish(new_event("credit_note_issued", samples.credit_note(
        reason="expired", amount=118000, vat_amount=23976)))
    [note] = wait_until(lambda: titled(mail_sink, "Credit note"), message="the credit note")
    assert f"invoice {samples.INVOICE_NUMBER}" in note.get_body(("plain",)).get_content()
    assert samples.CREDIT_NOTE_NUMBER in pdf_text(
        note, f"{samples.CREDIT_NOTE_NUMBER}.pdf")

    log = wait_until(lambda: (found := order_messages(notifications, FINANCE))
                     and all(m["status"] != "queued" for m in found) and found,
                     timeout=15, message="every message settled")
    # hold_expired and credit_note come from two queues: in either order.
    assert Counter((m["kind"], m["status"]) for m in log) == Counter([
        ("invoice_reminder", "sent"), ("invoice_reminder", "sent"),
        ("invoice_reminder", "skipped"), ("invoice", "sent"), ("hold_expired", "sent"),
        ("credit_note", "sent")])
    assert len(titled(mail_sink, "Reminder")) == 2  # once each, the third never
    assert len(mail_sink.messages()) == 5


def test_an_organiser_resends_an_email_once_however_often_they_click(
        notifications, mail_sink, publish):
    place_invoice_order(publish, notifications, [])
    wait_until(lambda: titled(mail_sink, "Invoice"), message="the invoice")
    [original] = order_messages(notifications, FINANCE)
    path = f"/api/admin/messages/{quote(original['message_id'], safe='')}/resend"

    clicks = [notifications.post(path, headers={**FINANCE, "Idempotency-Key": "resend-1"})
              for _ in range(2)]
    assert [c.status_code for c in clicks] == [202, 202]
    copy = clicks[0].json()
    assert clicks[1].json()["message_id"] == copy["message_id"] != original["message_id"]
    assert (copy["kind"], copy["resend_of"], copy["order_id"]) == (
        "invoice", original["message_id"], samples.ORDER_ID)

    sent_again = wait_until(lambda: len(found := titled(mail_sink, "Invoice")) == 2 and found,
                            message="the copy")
    assert {m["Message-ID"] for m in sent_again} == {original["message_id"],
                                                     copy["message_id"]}
    assert all(m["To"] == BUYER for m in sent_again)
    assert samples.INVOICE_NUMBER in pdf_text(sent_again[1],
                                              f"{samples.INVOICE_NUMBER}.pdf")
    time.sleep(1.5)
    assert len(mail_sink.messages()) == 2
    assert [m["kind"] for m in order_messages(notifications)] == ["invoice", "invoice"]


def test_the_message_logs_and_resends_are_for_admin_and_finance(notifications):
    desk = {"Authorization": f"Bearer {DESK_TOKEN}"}
    for path in ["/api/admin/registrations/x/messages", "/api/admin/orders/x/messages"]:
        assert notifications.get(path).status_code == 401
        assert notifications.get(path, headers=desk).status_code == 403
        assert notifications.get(path, headers=FINANCE).json() == {"items": []}
    resend = "/api/admin/messages/%3Cnobody%40ecsite-ticketing%3E/resend"
    assert notifications.post(resend).status_code == 401
    assert notifications.post(resend, headers=desk).status_code == 403
    unknown = notifications.post(resend, headers=FINANCE)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "message_id"
    bad_key = notifications.post(resend, headers={**FINANCE, "Idempotency-Key": "é"})
    assert bad_key.status_code == 422

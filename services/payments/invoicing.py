"""Invoices and credit notes: issued once, each from its own gap-free sequence, never
changed afterwards; a correction or a refund is a credit note referring to the invoice.

An invoice order gets its invoice (with its RF payment reference) as soon as
registration announces it; a card order gets one, marked paid, with its payment. A
refund, a cancellation or an expiry credits the invoice; corrected billing details
credit it in full and issue a new one.
"""

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pycountry
from sqlalchemy import func, select

from services.payments import documents, domain, rf
from services.payments.models import (
    DOCUMENT_KINDS,
    Document,
    Order,
    Payment,
    next_document_sequence,
)
from shared.db import UnitOfWork
from shared.errors import NotFound
from shared.events import Event
from shared.events.contracts import OrderData

log = logging.getLogger(__name__)


def keep_order(uow: UnitOfWork, event: Event) -> Order:
    """Payments' copy of the order an event reports, kept at registration's latest word
    (events may arrive out of order)."""
    data: OrderData = event.data
    order = uow.session.get(Order, data.order_id, with_for_update=True)
    fields = {"reference": data.reference, "payment_method": data.payment_method,
              "status": data.status, "amount_due": data.amount_due, "currency": data.currency,
              "snapshot": data.model_dump(mode="json", include=set(OrderData.model_fields)),
              "as_of": event.occurred_at}
    if order is None:
        order = Order(order_id=data.order_id, **fields)
        uow.session.add(order)
    elif event.occurred_at >= order.as_of:
        for name, value in fields.items():
            setattr(order, name, value)
    return order


def take_invoice_order(uow: UnitOfWork, event: Event, prefix: str, now: datetime) -> None:
    """An order to be paid by bank transfer: its invoice, with the RF reference the
    transfer quotes, issued at once."""
    if not uow.first_delivery(event):
        uow.commit()
        return
    order = keep_order(uow, event)
    if order.amount_due and order.status == "pending_payment":
        order.payment_reference = rf.for_order(order.reference)
        issue_invoice(uow, order, prefix, now, "invoice_order")
    uow.commit()


def order_updated(uow: UnitOfWork, event: Event, prefix: str, now: datetime) -> None:
    """The buyer's billing details were corrected: credit the invoice in full and issue
    it again with the new details (paid if the one it replaces was)."""
    if not uow.first_delivery(event):
        uow.commit()
        return
    order = keep_order(uow, event)
    invoice = current_invoice(uow, order.order_id)
    if invoice is not None and credited(uow, invoice) < invoice.amount:
        credit(uow, order, invoice, "billing_corrected", prefix, now)
        issue_invoice(uow, order, prefix, now, "billing_corrected",
                      paid_note=invoice.content["paid_note"], lines=invoice.content["lines"])
    uow.commit()


def current_invoice(uow: UnitOfWork, order_id: str) -> Document | None:
    return uow.session.scalars(
        select(Document).where(Document.order_id == order_id, Document.kind == "invoice")
        .order_by(Document.number.desc()).limit(1)).first()


def credited(uow: UnitOfWork, invoice: Document) -> int:
    return uow.session.scalar(select(func.coalesce(func.sum(Document.amount), 0)).where(
        Document.credits == invoice.number))


def _party(buyer: dict) -> dict:
    country = pycountry.countries.get(alpha_2=buyer["country"])
    return {"name": buyer["name"], "organisation": buyer["organisation"],
            "address": buyer.get("billing_address"), "vat_number": buyer.get("vat_number"),
            "country": getattr(country, "common_name", None) or getattr(country, "name", None)
            or buyer["country"]}


def _line(description: str, gross: int, rate: Decimal) -> dict:
    line = documents.line(description, gross, rate)
    return {"description": line.description, "gross": line.gross, "net": line.net,
            "vat": line.vat}


def _issue(uow: UnitOfWork, order: Order, kind: str, why: str, prefix: str,
           now: datetime, lines: list[dict], credits_number: str | None = None,
           **content) -> Document:
    """Number, store and announce a document of ``kind`` for ``order``, issued ``why``
    (a reason code: ``invoice_order``, ``refund``...), crediting the invoice
    ``credits_number`` if it is a credit note; ``content`` is what it prints beyond what
    every document does."""
    data = OrderData.model_validate(order.snapshot)
    conference = data.conference
    number = domain.document_number(prefix, DOCUMENT_KINDS[kind],
                                    next_document_sequence(uow.session, kind))
    issued_on = now.astimezone(conference_zone(data)).date()
    organiser = conference.organiser
    document = Document(
        number=number, kind=kind, order_id=order.order_id, issued_at=now, reason=why,
        amount=sum(line["gross"] for line in lines), credits=credits_number,
        content={
            "kind": kind, "number": number, "issued_on": issued_on.isoformat(),
            "supplied": domain.supply_dates(conference.starts_on, conference.ends_on),
            "supplier": {"name": organiser.name, "organisation": None,
                         "address": organiser.address, "country": None,
                         "vat_number": organiser.vat_number},
            "buyer": _party(data.buyer.model_dump()), "conference_name": conference.name,
            "order_reference": data.reference, "purchase_order": data.buyer.purchase_order,
            "lines": lines, "vat_rate_percent": data.vat_rate_percent,
            "currency": data.currency, "payment_reference": None, "due_on": None,
            "bank": None, "paid_note": None, "credits": None, "reason": None,
            **content})
    uow.session.add(document)
    uow.publish(f"{kind}_issued", {
        "order_id": order.order_id, "kind": kind, "number": number, "issued_on": issued_on,
        "amount": document.amount, "vat_amount": sum(line["vat"] for line in lines),
        "currency": data.currency, "paid": bool(document.content["paid_note"]),
        "payment_reference": document.content["payment_reference"],
        "due_on": document.content["due_on"], "invoice_number": document.credits,
        "reason": why})
    return document


def conference_zone(data: OrderData) -> ZoneInfo:
    return ZoneInfo(data.conference.timezone)


def issue_invoice(uow: UnitOfWork, order: Order, prefix: str, now: datetime, reason: str,
                  paid_note: str | None = None, lines: list[dict] | None = None) -> Document:
    """The order's invoice: its lines (or those of the invoice it replaces), and either
    how to pay it by transfer or how it was paid."""
    data = OrderData.model_validate(order.snapshot)
    rate = Decimal(data.vat_rate_percent)
    lines = lines or [_line(line.description, line.amount, rate) for line in data.lines]
    unpaid = paid_note is None and order.payment_reference is not None
    due_on = data.hold_expires_at.astimezone(conference_zone(data)).date() \
        if unpaid and data.hold_expires_at else None
    return _issue(uow, order, "invoice", reason, prefix, now, lines, paid_note=paid_note,
                  payment_reference=order.payment_reference if unpaid else None,
                  due_on=due_on.isoformat() if due_on else None,
                  bank=data.bank_account.model_dump() if unpaid and data.bank_account else None)


def credit(uow: UnitOfWork, order: Order, invoice: Document, reason: str, prefix: str,
           now: datetime, amount: int | None = None, description: str | None = None
           ) -> Document | None:
    """A credit note for ``amount`` of ``invoice`` (what is left of it by default, as its
    own lines), never more than is left; None when nothing is."""
    left = domain.creditable(invoice.amount, credited(uow, invoice))
    amount = domain.creditable(invoice.amount, invoice.amount - left, amount)
    if amount <= 0:
        return None
    if amount == left == invoice.amount:
        lines = invoice.content["lines"]
    else:
        rate = Decimal(invoice.content["vat_rate_percent"])
        lines = [_line(description or domain.CREDIT_REASONS[reason], amount, rate)]
    issued = date.fromisoformat(invoice.content["issued_on"])
    return _issue(uow, order, "credit_note", reason, prefix, now, lines,
                  credits_number=invoice.number,
                  credits=f"{invoice.number} of {issued.day} {issued:%B %Y}",
                  reason=domain.CREDIT_REASONS[reason])


def credit_order(uow: UnitOfWork, order_id: str, reason: str, prefix: str, now: datetime,
                 amount: int | None = None, description: str | None = None) -> None:
    """Credit the order's current invoice, if it has one (orders paid before invoices
    existed have none)."""
    order = uow.session.get(Order, order_id)
    invoice = current_invoice(uow, order_id)
    if order is None or invoice is None:
        log.info("order %s has no invoice to credit", order_id)
        return
    credit(uow, order, invoice, reason, prefix, now, amount, description)


def documents_of(uow: UnitOfWork, order_id: str) -> list[dict]:
    """Every invoice, receipt and credit note of an order, oldest first: kind, number,
    issued_on, amount."""
    issued = [{"kind": d.kind, "number": d.number, "issued_at": d.issued_at,
               "amount": d.amount} for d in uow.session.scalars(
                   select(Document).where(Document.order_id == order_id))]
    receipts = uow.session.execute(
        select(Payment.receipt_number, Payment.succeeded_at, Payment.amount_received)
        .where(Payment.order_id == order_id, Payment.receipt_number.is_not(None))).all()
    order = uow.session.get(Order, order_id)
    if order is not None and order.receipt_number:
        receipts.append((order.receipt_number, order.paid_at, order.amount_received))
    issued += [{"kind": "receipt", "number": number, "issued_at": at, "amount": amount}
               for number, at, amount in receipts]
    issued.sort(key=lambda d: (d["issued_at"], d["number"]))
    zone = conference_zone(OrderData.model_validate(order.snapshot)) if order else UTC
    return [{**d, "issued_on": d.pop("issued_at").astimezone(zone).date()} for d in issued]


def is_receipt(uow: UnitOfWork, order_id: str, number: str) -> bool:
    return any(d["kind"] == "receipt" and d["number"] == number
               for d in documents_of(uow, order_id))


def document(uow: UnitOfWork, order_id: str, number: str) -> documents.Document:
    """One issued invoice or credit note of the order, ready to render."""
    found = uow.session.get(Document, number)
    if found is None or found.order_id != order_id:
        raise NotFound("This order has no document with this number.", "number")
    return as_printed(found.content)


def as_printed(content: dict) -> documents.Document:
    """The stored content of a document as the renderer takes it."""
    return documents.Document(**{
        **content,
        "issued_on": date.fromisoformat(content["issued_on"]),
        "due_on": date.fromisoformat(content["due_on"]) if content["due_on"] else None,
        "supplier": documents.Party(**content["supplier"]),
        "buyer": documents.Party(**content["buyer"]),
        "bank": documents.BankAccount(**content["bank"]) if content["bank"] else None,
        "lines": tuple(documents.DocumentLine(**line) for line in content["lines"]),
        "vat_rate_percent": Decimal(content["vat_rate_percent"])})

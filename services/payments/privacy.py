"""A delegate's data in payments: exported on request, erased when registration announces
``delegate_erased``.

Payments holds a copy of each order (its buyer, delegates and lines), its payments,
refunds and bank transfers, and the documents issued for it. An erasure anonymises the
copies and the free text that names the delegate (and the buyer, when the order was only
theirs), but never touches an issued invoice or credit note: the law keeps those whole.
Stripe's webhook events are stored without their payload, so there is nothing to blank
there; and payments never creates Stripe customers, so there is no customer to erase at
Stripe.
"""

from sqlalchemy import select

from services.payments.models import Document, Order, Payment, Refund, Transfer, payments_of
from shared.db import UnitOfWork
from shared.events import Event
from shared.privacy import (
    ERASED_NAME,
    anonymised_order,
    export,
    forget_published_events,
    json_value,
    mentions,
    names_in_order,
    only_theirs,
    row_of,
)

SERVICE = "payments"
KEPT = [
    "the invoices and credit notes issued, whole and unchanged (the buyer's and delegates' "
    "names and billing details they print included): the law keeps an issued document, "
    "and it never changes",
    "payments, refunds, receipt numbers and bank transfers as amounts, dates, states and "
    "Stripe's ids, without a name, an email or an address: the books of the sale",
    "Stripe's webhook events: their id, type and time (payments never stores their payload)",
    "at Stripe: the PaymentIntents (the order's id and reference in their metadata) and the "
    "payment method the buyer's page made; payments creates no Stripe customer, so there is "
    "none to erase",
]
PAYMENT_FIELDS = ("attempt", "payment_intent_id", "amount", "currency", "status",
                  "failure_reason", "method_type", "created_at", "succeeded_at",
                  "amount_received", "amount_refunded", "receipt_number")
ORDER_FIELDS = ("reference", "payment_method", "status", "amount_due", "currency",
                "payment_reference", "amount_received", "paid_at", "receipt_number", "as_of")


def order_copy(snapshot: dict, registration_id: str, whole_order: bool) -> dict:
    """What a copy of an order (``OrderData``) says of the delegate, and of its buyer when
    the order is only theirs."""
    if whole_order:
        return {"buyer": snapshot["buyer"], "delegates": snapshot["delegates"],
                "lines": snapshot["lines"]}
    return {"delegates": [d for d in snapshot["delegates"]
                          if d["registration_id"] == registration_id],
            "lines": [line for line in snapshot["lines"]
                      if line["registration_id"] == registration_id]}


def payment_view(payment: Payment, registration_id: str, whole_order: bool) -> dict:
    return {**{field: json_value(getattr(payment, field)) for field in PAYMENT_FIELDS},
            "order_as_placed": order_copy(payment.order, registration_id, whole_order),
            "refunds": [row_of(r, exclude=("idempotency_key", "payment_id"))
                        for r in payment.refunds]}


def document_view(document: Document) -> dict:
    return {"number": document.number, "kind": document.kind, "amount": document.amount,
            "issued_on": document.issued_at.date().isoformat(), "credits": document.credits}


def export_delegate(uow: UnitOfWork, registration_id: str, order_id: str) -> dict:
    """What payments holds about a delegate: of an order only theirs, everything about the
    order and its buyer; of a larger order, what names them (their part of the order, the
    refunds that mention them), and the documents."""
    try:
        order = uow.session.get(Order, order_id)
        payments = payments_of(uow.session, order_id)
        snapshot = order.snapshot if order else (payments[-1].order if payments else None)
        whole_order = snapshot is None or only_theirs(snapshot, registration_id)
        data = {}
        if order is not None:
            data["order"] = {**{f: json_value(getattr(order, f)) for f in ORDER_FIELDS},
                             **order_copy(order.snapshot, registration_id, whole_order)}
        if whole_order:
            data["payments"] = [payment_view(p, registration_id, True) for p in payments]
            data["transfers"] = [row_of(t, exclude=("idempotency_key",))
                                 for t in transfers_of(uow, order_id)]
        else:
            needles = identifying(registration_id, False, [snapshot])
            data["refunds"] = [row_of(r, exclude=("idempotency_key", "payment_id"))
                               for p in payments for r in p.refunds
                               if mentions(r.reason, needles)]
        data["documents"] = [document_view(d) for d in uow.session.scalars(
            select(Document).where(Document.order_id == order_id).order_by(Document.number))]
        return export(SERVICE, data, KEPT)
    finally:
        uow.rollback()


def identifying(registration_id: str, whole_order: bool, copies: list[dict]) -> set[str]:
    """What names the delegate (and the buyer when ``whole_order``) in free text, from
    copies of their order: names, emails, and the registration's reference, by which a
    refund for its cancellation names it."""
    return set().union(*(names_in_order(c, registration_id, whole_order) for c in copies)) | {
        d["reference"] for c in copies for d in c["delegates"]
        if d["registration_id"] == registration_id}


def transfers_of(uow: UnitOfWork, order_id: str, lock: bool = False) -> list[Transfer]:
    query = select(Transfer).where(Transfer.order_id == order_id).order_by(Transfer.created_at)
    return list(uow.session.scalars(query.with_for_update() if lock else query))


def erase_delegate(uow: UnitOfWork, event: Event) -> None:
    """Anonymise payments' copies of what names the delegate (and the buyer, when the
    order was only theirs); once, however often the event comes. Issued documents stay as
    they are."""
    if not uow.first_delivery(event):
        uow.rollback()
        return
    erased = event.data
    rid, whole_order = erased.registration_id, erased.whole_order
    order = uow.session.get(Order, erased.order_id, with_for_update=True)
    payments = list(uow.session.scalars(select(Payment).where(
        Payment.order_id == erased.order_id).with_for_update()))
    needles = identifying(rid, whole_order,
                          ([order.snapshot] if order else []) + [p.order for p in payments])
    if order is not None:
        order.snapshot = anonymised_order(order.snapshot, rid, whole_order)
        # an older event about the order, come late, must not bring the names back
        order.as_of = max(order.as_of, erased.erased_at)
    for payment in payments:
        payment.order = anonymised_order(payment.order, rid, whole_order)
    erase_refund_reasons(uow, [p.id for p in payments], needles)
    for transfer in transfers_of(uow, erased.order_id, lock=True):
        erase_transfer(transfer, needles, whole_order, order)
    forget_published_events(uow, [rid, erased.order_id] if whole_order else [rid])
    uow.commit()


def erase_refund_reasons(uow: UnitOfWork, payment_ids: list[int], needles: set[str]) -> None:
    """A refund's reason that names the delegate (an organiser's words, or a cancellation
    "of <name> (<reference>)") is erased whole: the names in it may be in any order."""
    if not payment_ids:
        return
    for refund in uow.session.scalars(select(Refund).where(
            Refund.payment_id.in_(payment_ids)).with_for_update()):
        if mentions(refund.reason, needles):
            refund.reason = ERASED_NAME


def erase_transfer(transfer: Transfer, needles: set[str], whole_order: bool,
                   order: Order | None) -> None:
    """A transfer keeps its amount, date and state; of an order only the delegate's, who
    paid and what they wrote go (the RF reference it quoted stays), and of any order, text
    that names them."""
    if whole_order:
        transfer.payer, transfer.note = None, None
        transfer.reference = (order and order.payment_reference) or ""
        return
    if mentions(transfer.payer, needles):
        transfer.payer = None
    if mentions(transfer.reference, needles):
        transfer.reference = ERASED_NAME
    if mentions(transfer.note, needles):
        transfer.note = ERASED_NAME

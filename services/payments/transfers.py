"""Bank transfers: recorded on an order by an organiser, or imported from the bank's
camt.053 statement and matched to orders by their RF reference. When an order's
transfers cover what is due, it is paid: a receipt, and ``payment_succeeded``.
Transfers nobody can match wait for a person to assign or dismiss them.
"""

import contextlib
import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.payments import camt, domain, invoicing, rf
from services.payments.domain import PaymentStatus
from services.payments.models import Order, Transfer, next_receipt_sequence, payments_of
from shared.db import UnitOfWork, is_unique_violation
from shared.errors import Conflict, Invalid, NotFound


def _order(uow: UnitOfWork, order_id: str) -> Order:
    order = uow.session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound("Payments knows no order with this id.", "order_id")
    return order


def record(uow: UnitOfWork, order_id: str, amount: int, received_on: date, reference: str,
           payer: str | None, prefix: str, now: datetime,
           idempotency_key: str | None = None) -> Transfer:
    """An organiser records a transfer on an order; the same idempotency key records it
    once."""
    if idempotency_key and (done := _by_key(uow, idempotency_key)) is not None:
        return done
    order = _order(uow, order_id)
    if order.currency != "EUR" or not order.amount_due:
        raise Conflict("Nothing is due on this order.", "order_id", code="nothing_due")
    transfer = Transfer(id=str(uuid.uuid4()), order_id=order.order_id, status="matched",
                        amount=amount, currency=order.currency, received_on=received_on,
                        reference=reference, payer=payer, source="organiser",
                        idempotency_key=idempotency_key)
    uow.session.add(transfer)
    apply(uow, order, transfer, prefix, now)
    try:
        uow.commit()
    except IntegrityError as exc:  # the same key, twice at once
        uow.rollback()
        if not (idempotency_key and is_unique_violation(exc)):
            raise
        return _by_key(uow, idempotency_key)
    return transfer


def _by_key(uow: UnitOfWork, key: str) -> Transfer | None:
    return uow.session.scalars(select(Transfer).where(Transfer.idempotency_key == key)).first()


def apply(uow: UnitOfWork, order: Order, transfer: Transfer, prefix: str,
          now: datetime) -> None:
    """Count a matched transfer on its order, say so, and if the order is now covered
    mark it paid (once): a receipt, an invoice marked paid if its own was credited, and
    ``payment_succeeded``."""
    order.amount_received += transfer.amount
    uow.publish("transfer_recorded", {
        "order_id": order.order_id, "transfer_id": transfer.id, "amount": transfer.amount,
        "currency": transfer.currency, "received_on": transfer.received_on,
        "total_received": order.amount_received, "amount_due": order.amount_due})
    if order.paid_at is not None or order.amount_received < order.amount_due:
        return
    order.paid_at = now
    order.receipt_number = domain.receipt_number(prefix, next_receipt_sequence(uow.session))
    invoice = invoicing.current_invoice(uow, order.order_id)
    if invoice is None or invoicing.credited(uow, invoice) >= invoice.amount:
        invoicing.issue_invoice(
            uow, order, prefix, now, "transfer_payment",
            paid_note=f"Paid by bank transfer on {transfer.received_on.isoformat()}")
    uow.publish("payment_succeeded", {
        "order_id": order.order_id, "method": "transfer", "amount": order.amount_received,
        "currency": order.currency})


def import_statement(uow: UnitOfWork, xml: bytes, prefix: str, now: datetime) -> dict:
    """Import a camt.053 statement: each credit once (a statement imported again adds
    nothing), matched to an order by its RF reference, structured or in the free text;
    the rest listed for a person to decide."""
    try:
        statement = camt.parse_statement(xml)
    except camt.StatementError as error:
        raise Invalid(str(error), "statement", code="invalid_statement") from None
    orders = dict(uow.session.execute(select(Order.payment_reference, Order.order_id).where(
        Order.payment_reference.is_not(None))).all())
    outcome = {"statement_id": statement.statement_id, "matched": [], "unmatched": [],
               "already_imported": 0}
    for entry in statement.entries:
        if uow.session.scalars(select(Transfer.id).where(
                Transfer.bank_entry == entry.entry_reference)).first():
            outcome["already_imported"] += 1
            continue
        structured = rf.compact(entry.structured_reference or "") or None
        order_id = None
        if entry.currency == "EUR":  # the orders' currency; any other waits for a person
            order_id = domain.order_of_transfer(structured, rf.references_in(
                f"{structured or ''} {entry.remittance_text}", orders), orders)
        transfer = Transfer(
            id=str(uuid.uuid4()), order_id=order_id,
            status="matched" if order_id else "unmatched", amount=entry.amount,
            currency=entry.currency, received_on=entry.value_on or entry.booked_on,
            reference=" ".join(filter(None, [entry.structured_reference,
                                             entry.remittance_text])),
            payer=entry.debtor_name, source="statement", bank_entry=entry.entry_reference)
        uow.session.add(transfer)
        if order_id:
            apply(uow, _order(uow, order_id), transfer, prefix, now)
        outcome["matched" if order_id else "unmatched"].append(transfer)
    try:
        uow.commit()
    except IntegrityError as exc:
        uow.rollback()
        if not is_unique_violation(exc):
            raise
        raise Conflict("This statement is being imported by someone else just now.",
                       "statement", code="import_in_progress") from None
    return outcome


def assign(uow: UnitOfWork, transfer_id: str, order_id: str, prefix: str,
           now: datetime) -> Transfer:
    """A person decides which order an unmatched transfer pays."""
    transfer = _unmatched(uow, transfer_id)
    order = _order(uow, order_id)
    transfer.order_id, transfer.status = order.order_id, "matched"
    apply(uow, order, transfer, prefix, now)
    uow.commit()
    return transfer


def dismiss(uow: UnitOfWork, transfer_id: str, note: str) -> Transfer:
    """A person decides an unmatched transfer pays no order (returned to its payer, say)."""
    transfer = _unmatched(uow, transfer_id)
    transfer.status, transfer.note = "dismissed", note
    uow.commit()
    return transfer


def _unmatched(uow: UnitOfWork, transfer_id: str) -> Transfer:
    transfer = None
    with contextlib.suppress(ValueError):
        transfer = uow.session.get(Transfer, str(uuid.UUID(transfer_id)), with_for_update=True)
    if transfer is None:
        raise NotFound("No transfer has this id.", "transfer_id")
    if transfer.status != "unmatched":
        raise Conflict(f"This transfer is {transfer.status} already.", "transfer_id",
                       code="not_unmatched")
    return transfer


def owe_back(uow: UnitOfWork, order: Order, amount: int, reason: str, now: datetime
             ) -> Transfer:
    """A refund of transfer-paid money (``amount`` checked by the caller against what is
    left): the organiser pays it back by transfer. Recorded as a negative transfer
    ``refund_due``."""
    transfer = Transfer(id=str(uuid.uuid4()), order_id=order.order_id, status="refund_due",
                        amount=-amount, currency=order.currency,
                        received_on=now.date(), reference=reason, payer=None,
                        source="refund")
    uow.session.add(transfer)
    return transfer


def owed_back(uow: UnitOfWork, order_id: str) -> int:
    """Cents of an order's transfers refunded so far (owed back by transfer)."""
    return -uow.session.scalar(select(func.coalesce(func.sum(Transfer.amount), 0)).where(
        Transfer.order_id == order_id, Transfer.source == "refund"))


def money_of(uow: UnitOfWork, order_id: str) -> dict:
    """Everything payments holds of an order's money: due, received (card and
    transfers), refunded, outstanding (negative when paid over), and its payments and
    transfers."""
    order = uow.session.get(Order, order_id)
    payments = payments_of(uow.session, order_id)
    if order is None and not payments:
        raise NotFound("Payments knows no order with this id.", "order_id")
    by_card = sum(p.amount_received for p in payments if p.status == PaymentStatus.SUCCEEDED)
    by_transfer = order.amount_received if order else 0
    due = order.amount_due if order else payments[-1].amount
    return {
        "order_id": order_id, "payment_method": order.payment_method if order else "card",
        "amount_due": due, "amount_received": by_card + by_transfer,
        "amount_refunded": sum(p.amount_refunded for p in payments)
        + owed_back(uow, order_id),
        "outstanding": due - by_card - by_transfer,
        "payment_reference": order.payment_reference if order else None,
        "payments": payments, "transfers": listed(uow, order_id)}


def listed(uow: UnitOfWork, order_id: str | None = None, status: str | None = None
           ) -> list[Transfer]:
    query = select(Transfer).order_by(Transfer.created_at)
    if order_id is not None:
        query = query.where(Transfer.order_id == order_id)
    if status is not None:
        query = query.where(Transfer.status == status)
    return list(uow.session.scalars(query.limit(500)))

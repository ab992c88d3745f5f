"""Refunds: what an organiser refunds, and what a cancellation owes. A card payment is
refunded through Stripe; money received by bank transfer is owed back by transfer.
Every refund credits the order's invoice by as much."""

import hashlib
import logging
from datetime import datetime

from sqlalchemy import select

from services.payments import domain, invoicing, transfers
from services.payments.domain import PaymentStatus, RefundRefused
from services.payments.gateway import Stripe
from services.payments.models import Order, Refund, Transfer, latest_payment
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Event

log = logging.getLogger(__name__)


def refund(uow: UnitOfWork, stripe: Stripe, order_id: str, amount: int | None,
           reason: str, prefix: str, now: datetime, idempotency_key: str | None = None
           ) -> tuple[str, int]:
    """Refund part or all of what an order paid, credit its invoice by as much, and say
    so on the bus: (the refund's id, its amount). A card payment is refunded through
    Stripe; money that came by bank transfer is owed back by transfer.

    A request repeated with the same idempotency key is answered with the first refund;
    the key belongs to this order and this amount (reused for another, it is refused).
    Without a key, one is made from the payment's state and the amount."""
    idempotency_key = idempotency_key and scoped(order_id, idempotency_key)
    payment = latest_payment(uow.session, order_id, lock=True)
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        return _refund_transfers(uow, order_id, amount, reason, prefix, now, idempotency_key)
    done = idempotency_key and uow.session.scalars(
        select(Refund).where(Refund.idempotency_key == idempotency_key)).first()
    if done:
        return _same_refund(uow, done.refund_id, done.amount, amount)
    amount = _refundable(amount, payment.amount_received, payment.amount_refunded)
    idempotency_key = idempotency_key or (
        f"refund-{payment.payment_intent_id}-after-{payment.amount_refunded}-of-{amount}")
    refund_id, refunded = stripe.refund(payment.payment_intent_id, amount, idempotency_key)
    existing = uow.session.get(Refund, refund_id)
    if existing is not None:  # Stripe recognised the key and answered with the first refund
        uow.rollback()
        return existing.refund_id, existing.amount
    uow.session.add(Refund(refund_id=refund_id, idempotency_key=idempotency_key,
                           payment_id=payment.id, amount=refunded, reason=reason))
    payment.amount_refunded += refunded
    _refunded(uow, order_id, refund_id, refunded, payment.amount_refunded,
              payment.amount_received, payment.currency, reason, prefix, now,
              payment_intent_id=payment.payment_intent_id, method="card")
    uow.commit()
    return refund_id, refunded


def scoped(order_id: str, key: str) -> str:
    """A client's idempotency key, bound to the order it was sent for (and short enough
    for its column, whatever the client sent)."""
    return hashlib.sha256(f"{order_id}\n{key}".encode()).hexdigest()


def _same_refund(uow: UnitOfWork, refund_id: str, amount: int, asked: int | None
                 ) -> tuple[str, int]:
    """The refund an idempotency key made before, unless it is asked for another amount."""
    uow.rollback()
    if asked is not None and asked != amount:
        raise Conflict("This Idempotency-Key was sent before with another amount; use a new "
                       "key for a new refund.", "Idempotency-Key", code="idempotency_key_reused")
    return refund_id, amount


def _refundable(requested: int | None, paid: int, refunded: int) -> int:
    try:
        return domain.refund_amount(requested, paid, refunded)
    except RefundRefused as refused:
        raise Invalid(str(refused), "amount", code="invalid_refund") from None


def _refund_transfers(uow: UnitOfWork, order_id: str, amount: int | None, reason: str,
                      prefix: str, now: datetime, idempotency_key: str | None
                      ) -> tuple[str, int]:
    """Refund money received by bank transfer: owed back by transfer (the organiser
    pays it), credited on the invoice."""
    order = uow.session.get(Order, order_id, with_for_update=True)
    if order is None or order.amount_received <= 0:
        raise NotFound("This order has no payment to refund.", "order_id")
    done = idempotency_key and uow.session.scalars(
        select(Transfer).where(Transfer.idempotency_key == idempotency_key)).first()
    if done:
        return _same_refund(uow, done.id, -done.amount, amount)
    owed = transfers.owed_back(uow, order_id)
    amount = _refundable(amount, order.amount_received, owed)
    transfer = transfers.owe_back(uow, order, amount, reason, now)
    transfer.idempotency_key = idempotency_key
    _refunded(uow, order_id, transfer.id, amount, owed + amount, order.amount_received,
              order.currency, reason, prefix, now, payment_intent_id=None, method="transfer")
    uow.commit()
    return transfer.id, amount


def _refunded(uow: UnitOfWork, order_id: str, refund_id: str, amount: int,
              total_refunded: int, paid: int, currency: str, reason: str, prefix: str,
              now: datetime, **how) -> None:
    invoicing.credit_order(uow, order_id, "refund", prefix, now, amount, description=reason)
    uow.publish("payment_refunded", {
        "order_id": order_id, "amount": amount, "currency": currency, "refund_id": refund_id,
        "total_refunded": total_refunded, "fully_refunded": total_refunded >= paid, **how})


def refund_for_cancellation(uow: UnitOfWork, stripe: Stripe, event: Event, prefix: str,
                            now: datetime) -> None:
    """A delegate cancelled alone with money to give back: refund their share, once (one
    cancelled with their whole order is refunded with the order)."""
    data = event.data
    if data.with_order:
        uow.commit()
        return
    refund_owed(uow, stripe, data.order_id, data.refund_due, event, prefix, now)


def refund_owed(uow: UnitOfWork, stripe: Stripe, order_id: str, amount: int,
                event: Event, prefix: str, now: datetime) -> None:
    """Refund what a cancellation event says is owed (never more than is left), once."""
    payment = latest_payment(uow.session, order_id)
    order = uow.session.get(Order, order_id)
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
        left = payment.amount_received - payment.amount_refunded
    elif order is not None and order.amount_received > 0:
        left = order.amount_received - transfers.owed_back(uow, order_id)
    else:
        if amount > 0:
            log.warning("order %s is owed a refund but has no payment", order_id)
        uow.commit()
        return
    if amount <= 0 or left <= 0:
        uow.commit()
        return
    refund(uow, stripe, order_id, min(amount, left), _about(event), prefix, now,
           idempotency_key=f"refund-for-event-{event.id}")


def _about(event: Event) -> str:
    """Why an event's refund is made, as its credit note says."""
    data = event.data
    if event.type == "order_cancelled":
        return f"Cancellation of order {data.reference}: {data.reason}"
    who = f"{data.delegate.given_name} {data.delegate.family_name} ({data.reference})"
    if event.type == "booking_changed":
        return f"Change to the booking of {who}"
    return f"Cancellation of {who}: {data.reason}"


def refund_for_change(uow: UnitOfWork, stripe: Stripe, event: Event, prefix: str,
                      now: datetime) -> None:
    """A booking changed to cost less: each payment the change names gives its part back,
    once (the refund policy's share, as registration decided)."""
    for part in event.data.refunds:
        refund_owed(uow, stripe, part.order_id, part.amount, event, prefix, now)
    uow.commit()

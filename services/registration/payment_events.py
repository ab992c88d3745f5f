"""What registration does when payments reports on an order's money, and when the desk
checks a delegate in. Each handler is idempotent (``first_delivery``)."""

import logging
from datetime import datetime

from sqlalchemy import select, update

from services.registration import booking_changes
from services.registration.changes import cancel_all
from services.registration.domain import Status
from services.registration.models import BookingChange, Catalogs, Order, Registration
from services.registration.orders import (
    announce,
    announce_order,
    holders,
    live,
    move,
    move_order,
)
from shared.db import UnitOfWork
from shared.events import Event

log = logging.getLogger(__name__)


def _order(uow: UnitOfWork, event: Event) -> Order | None:
    """The order an event names, locked, the first time this handler sees the event.
    The order of a booking change is locked after its booking, as cancelling or changing
    that booking locks them: the other way round, two of them could deadlock."""
    booking = uow.session.scalar(select(BookingChange.registration_id)
                                 .where(BookingChange.order_id == event.data.order_id))
    if booking is not None:
        uow.session.get(Registration, booking, with_for_update={"of": Registration})
    order = uow.session.get(Order, event.data.order_id, with_for_update=True)
    if order is None:
        log.warning("%s %s names an unknown order", event.type, event.id)
        return None
    return order if uow.first_delivery(event) else None


def record_payment_ready(uow: UnitOfWork, event: Event) -> None:
    """Keep what the buyer's browser needs to pay: the latest attempt's PaymentIntent.
    One conditional update: a redelivered or older attempt changes nothing, so this
    handler needs no record of the events it has seen."""
    data, orders = event.data, Order.__table__.c
    uow.session.connection().execute(
        update(Order.__table__)
        .where(orders.id == data.order_id, orders.payment_attempt <= data.attempt)
        .values(payment_attempt=data.attempt, payment_intent_id=data.payment_intent_id,
                client_secret=data.client_secret))
    uow.commit()


def confirm_payment(uow: UnitOfWork, catalogs: Catalogs, event: Event, now: datetime) -> None:
    """An order is paid: confirm its delegates, or, if their seats went meanwhile or the
    order was cancelled, hand the money back."""
    order = _order(uow, event)
    if order is None:
        uow.commit()
        return
    data = event.data
    catalog = catalogs.current(uow.session)
    order.amount_paid += data.amount
    order.payment_intent_id = data.payment_intent_id or order.payment_intent_id
    order.last_payment_error = None
    status = Status(order.status)
    if status == Status.CANCELLED:
        announce_order(uow, catalog, "order_cancelled", order, reason="paid_after_cancellation",
                       refund_due=data.amount)
    elif status == Status.CONFIRMED:
        log.warning("order %s was already confirmed; payment %s is extra", order.id,
                    data.payment_intent_id)
    elif order.amount_paid < order.amount_due:
        log.warning("order %s is paid in part", order.id)
    else:
        delegates = live(order)
        for registration in delegates:
            registration.amount_paid = registration.amount_due
        if move(uow, delegates, "confirm", now) and (
                order.change is None or booking_changes.paid(uow, catalog, order.change, now)):
            move_order(order, Status.CONFIRMED, now)
            announce_order(uow, catalog, "order_confirmed", order)
            announce(uow, catalog, "registration_confirmed", delegates)
        else:
            cancel_all(uow, catalog, order, now, "no_capacity_after_payment", None,
                          refund=order.amount_paid)
    uow.commit()


def record_invoice(uow: UnitOfWork, event: Event) -> None:
    """Keep the number of the order's latest invoice and the reference its transfer
    quotes, for the buyer's page. One conditional update, like ``record_payment_ready``."""
    data, orders = event.data, Order.__table__.c
    values = {"invoice_number": data.number}
    if data.payment_reference:
        values["payment_reference"] = data.payment_reference
    uow.session.connection().execute(
        update(Order.__table__)
        .where(orders.id == data.order_id,
               (orders.invoice_number.is_(None)) | (orders.invoice_number < data.number))
        .values(**values))
    uow.commit()


def record_payment_failure(uow: UnitOfWork, event: Event) -> None:
    """Say why a payment failed, for the buyer to try again; a failure that arrives after
    a success (events may come out of order) changes nothing."""
    order = _order(uow, event)
    if order is not None and order.status == Status.PENDING_PAYMENT:
        order.last_payment_error = event.data.message
    uow.commit()


def record_refund(uow: UnitOfWork, catalogs: Catalogs, event: Event, now: datetime) -> None:
    """Track refunds; a full refund of a live order cancels it."""
    order = _order(uow, event)
    if order is not None:
        order.amount_refunded = max(order.amount_refunded, event.data.total_refunded)
        places = holders(order)
        if len(places) == 1:  # an order of one place: its delegate's refund
            places[0].amount_refunded = max(places[0].amount_refunded, order.amount_refunded)
        if event.data.fully_refunded and order.status in (Status.PENDING_PAYMENT,
                                                          Status.CONFIRMED):
            for registration in live(order):
                registration.amount_refunded = registration.amount_paid
            cancel_all(uow, catalogs.current(uow.session), order, now, "refunded", None,
                          refund=0)
    uow.commit()


def record_check_in(uow: UnitOfWork, event: Event) -> None:
    registration = uow.session.get(Registration, event.data.registration_id,
                                   with_for_update={"of": Registration})
    if registration is None or not uow.first_delivery(event):
        return
    registration.checked_in_at = registration.checked_in_at or event.data.checked_in_at
    uow.commit()

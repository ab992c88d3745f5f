"""Changes to a booking: fixing what a badge says, cancelling a delegate or a whole
order (refunded as the policy says, or as an organiser decides), and holds that end.

Refunds are registration's decision; payments pays them back: one delegate's on their
``registration_cancelled``, a whole order's in one refund on ``order_cancelled``.
"""

from datetime import datetime

from sqlalchemy import select

from services.registration import booking_changes, domain
from services.registration.catalog import Catalog
from services.registration.domain import Status
from services.registration.models import Catalogs, Order, Registration
from services.registration.orders import (
    announce,
    announce_order,
    find,
    live,
    move,
    move_order,
    order_search_text,
    registration_search_text,
    today,
)
from services.registration.schemas import BillingChange, RegistrationChange
from shared.db import UnitOfWork
from shared.errors import Conflict


def change(uow: UnitOfWork, catalogs: Catalogs, registration_id: str, request: RegistrationChange,
           now: datetime) -> Registration:
    """Fix what the badge says; published as registration_updated when anything changed."""
    catalog = catalogs.current(uow.session)
    registration = find(uow, Registration, registration_id, lock=True)
    if today(catalog, now) > catalog.conference.name_changes_until:
        raise Conflict("Badge details can no longer be changed online; ask at the desk.",
                       code="changes_closed")
    if registration.status not in (Status.PENDING_PAYMENT, Status.CONFIRMED):
        raise Conflict(f"This registration is {registration.status}.", "status",
                       code="not_changeable")
    changes = request.model_dump(exclude_unset=True)
    if "pronouns" in changes:
        changes["pronouns"] = changes["pronouns"] or None
    changed = {k: v for k, v in changes.items() if getattr(registration, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(registration, key, value)
        registration.search_text = registration_search_text(registration)
        registration.order.search_text = order_search_text(registration.order)
        announce(uow, catalog, "registration_updated", [registration])
    uow.commit()
    return registration


BILLING_COLUMNS = {"name": "buyer_name", "organisation": "buyer_organisation",
                   "country": "buyer_country", "billing_address": "billing_address",
                   "vat_number": "billing_vat_number", "purchase_order": "purchase_order"}


def correct_billing(uow: UnitOfWork, catalogs: Catalogs, order_id: str, request: BillingChange
                    ) -> Order:
    """An organiser corrects what the order's documents say of its buyer; announced as
    order_updated when anything changed (payments then re-issues the invoice)."""
    order = find(uow, Order, order_id, lock=True)
    changes = {BILLING_COLUMNS[k]: v or None
               for k, v in request.model_dump(exclude_unset=True).items()}
    changed = {k: v for k, v in changes.items() if getattr(order, k) != v}
    if changed:
        for column, value in changed.items():
            setattr(order, column, value)
        order.search_text = order_search_text(order)
        announce_order(uow, catalogs.current(uow.session), "order_updated", order)
    uow.commit()
    return order


def refund_for(catalog: Catalog, refundable: int, now: datetime,
               refund_all: bool | None) -> int:
    """What goes back: the policy's share, or an organiser's all (True) or nothing."""
    if refund_all is None:
        return domain.refund_due(catalog.conference, refundable, today(catalog, now))
    return refundable if refund_all else 0


def refundable(registration: Registration) -> int:
    return registration.amount_paid - registration.amount_refunded


def cancel_registration(uow: UnitOfWork, catalogs: Catalogs, registration_id: str,
                        now: datetime, *, reason: str, refund_all: bool | None = None
                        ) -> Registration:
    """Cancel one delegate and free their seats, refunding their share. The last live
    delegate of an order takes the order with them. An unpaid order of several is paid
    once for all: cancel it whole, or pay and then cancel a delegate."""
    registration = find(uow, Registration, registration_id, lock=True)
    order = registration.order
    if registration.status == Status.CANCELLED:
        raise Conflict("This registration is already cancelled.", "status",
                       code="already_cancelled")
    if live(order) == [registration]:
        cancel_all(uow, catalogs.current(uow.session), order, now, reason, refund_all)
    elif order.status != Status.CONFIRMED:
        raise Conflict("This order is not paid yet, and it is paid once for all its "
                       "delegates: cancel the whole order instead.", "status",
                       code="order_not_paid")
    else:
        catalog = catalogs.current(uow.session)
        refund = refund_for(catalog, refundable(registration), now, refund_all)
        on_booking = _end_changes(uow, catalog, [registration], {registration.id: refund},
                                  now, reason)
        move(uow, [registration], "cancel", now)
        registration.amount_refunded += refund
        announce(uow, catalog, "registration_cancelled", [registration], reason=reason,
                 refund_due=on_booking[registration.id])
    uow.commit()
    return registration


def _end_changes(uow: UnitOfWork, catalog: Catalog, delegates: list[Registration],
                 refunds: dict[str, int], now: datetime, reason: str) -> dict[str, int]:
    """Cancelled delegates take their changes with them: one waiting for payment is
    dropped with its order; money a change was paid with apart is given back first by
    the order that took it (``refunds``: each delegate's refund). What each delegate's
    own booking still refunds."""
    on_booking = {}
    for registration in delegates:
        waiting = booking_changes.pending_change(uow, registration.id)
        if waiting is not None:
            cancel_all(uow, catalog, waiting.order, now, reason, None, refund=0,
                       with_booking=True)
        on_booking[registration.id] = 0
        for order, amount in booking_changes.refund_sources(uow, registration,
                                                            refunds[registration.id]):
            if order.id == registration.order_id:
                on_booking[registration.id] = amount
            else:
                cancel_all(uow, catalog, order, now, reason, None, refund=amount,
                           with_booking=True)
    return on_booking


def cancel_order(uow: UnitOfWork, catalogs: Catalogs, order_id: str, now: datetime, *,
                 reason: str, refund_all: bool | None = None) -> Order:
    """Cancel every delegate of an order and the order, refunding as the policy says."""
    order = find(uow, Order, order_id, lock=True)
    if order.status == Status.CANCELLED:
        raise Conflict("This order is already cancelled.", "status", code="already_cancelled")
    if order.change is not None and order.change.status == booking_changes.APPLIED:
        raise Conflict("The change this order paid for has taken effect: change the booking "
                       "again, or cancel the delegate, instead.", "status",
                       code="change_applied")
    cancel_all(uow, catalogs.current(uow.session), order, now, reason, refund_all)
    uow.commit()
    return order


def cancel_all(uow: UnitOfWork, catalog: Catalog, order: Order, now: datetime, reason: str,
                  refund_all: bool | None, refund: int | None = None,
                  with_booking: bool = False) -> None:
    """Cancel the order's live delegates; ``refund`` (default: the policy's, or the
    organiser's choice, of what they paid) is split over them by what each paid.
    ``with_booking``: the order of a change, ended because its booking is."""
    delegates = live(order)
    if refund is None:
        refund = refund_for(catalog, sum(map(refundable, delegates)), now, refund_all)
    shares = dict(zip((r.id for r in delegates), domain.share_of_refund(
        refund, [refundable(r) for r in delegates]), strict=True))
    on_booking = _end_changes(uow, catalog, delegates, shares, now, reason)
    if order.change is not None:
        booking_changes.drop(uow, order.change, booking_changes.CANCELLED, now)
    move(uow, delegates, "cancel", now)
    move_order(order, Status.CANCELLED, now)
    for registration in delegates:
        registration.amount_refunded += shares[registration.id]
    announce(uow, catalog, "registration_cancelled", delegates, reason=reason,
             refund_due=lambda r: shares[r.id], with_order=True)
    announce_order(uow, catalog, "order_cancelled", order, reason=reason,
                   refund_due=sum(on_booking.values()) if delegates else refund,
                   with_booking=with_booking)


def expire_holds(uow: UnitOfWork, catalogs: Catalogs, now: datetime, batch: int = 200) -> int:
    """Expire unpaid orders whose hold has ended, freeing their seats; returns how many."""
    due = uow.session.scalars(
        select(Order)
        .where(Order.status == Status.PENDING_PAYMENT, Order.hold_expires_at <= now)
        .order_by(Order.hold_expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if due:
        catalog = catalogs.current(uow.session)
    for order in due:
        delegates = live(order)
        if order.change is not None:
            booking_changes.drop(uow, order.change, booking_changes.EXPIRED, now)
        move(uow, delegates, "expire", now)
        move_order(order, Status.EXPIRED, now)
        announce(uow, catalog, "registration_expired", delegates)
        announce_order(uow, catalog, "order_expired", order)
    uow.commit()
    return len(due)

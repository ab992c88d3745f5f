"""Changing a confirmed booking: adding or dropping add-ons, swapping a workshop for one
in the same slot, changing ticket type (``change_rules`` holds the rules).

A change that costs the same or less takes effect at once: in one transaction the places
it needs are taken (all or none) and those it no longer needs freed, and the policy's
share of the difference is refunded by the payments that took the money. One that costs
more takes the new places at once, keeps the old ones, and is paid for by an order of
its own (by card, or on a supplementary invoice if the booking was invoiced): paid, it
takes effect and frees the old places; expired or cancelled unpaid, it frees the new
ones and the booking stays exactly as it was.
"""

import json
import uuid
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.registration import change_rules, domain
from services.registration.booking import digest, new_reference, refusal
from services.registration.booking_change_schemas import BookingChangeRequest
from services.registration.catalog import Catalog
from services.registration.change_rules import Booked, ChangeQuote
from services.registration.domain import Refused, Status
from services.registration.models import (
    BookingChange,
    Catalogs,
    Order,
    Registration,
    RegistrationAddOn,
    release_places,
    take_places,
)
from services.registration.orders import (
    announce,
    announce_order,
    find,
    holders,
    order_search_text,
    today,
)
from shared.db import UnitOfWork, is_unique_violation
from shared.errors import Conflict

PENDING, APPLIED, CANCELLED, EXPIRED = "pending_payment", "applied", "cancelled", "expired"


def booked(catalog: Catalog, registration: Registration) -> Booked:
    """The delegate's booking as the rules price it: as on the day the order was placed."""
    return Booked(
        ticket_type=registration.ticket_type, add_ons=tuple(registration.add_ons),
        member_price=registration.member_price, discount_code=registration.discount_code,
        complimentary=any(line["code"] == "complimentary" for line in registration.price_lines),
        booked_on=today(catalog, registration.order.created_at),
        amount_due=registration.amount_due)


def pending_change(uow: UnitOfWork, registration_id: str) -> BookingChange | None:
    return uow.session.scalars(select(BookingChange).where(
        BookingChange.registration_id == registration_id,
        BookingChange.status == PENDING)).first()


def changes_of(uow: UnitOfWork, registration_ids: list[str]) -> list[BookingChange]:
    """The changes asked of these registrations, oldest first."""
    return list(uow.session.scalars(select(BookingChange).where(
        BookingChange.registration_id.in_(registration_ids))
        .order_by(BookingChange.created_at, BookingChange.id)))


def _check_changeable(uow: UnitOfWork, catalog: Catalog, registration: Registration,
                      now: datetime, by: str) -> None:
    if registration.status != Status.CONFIRMED:
        raise Conflict(f"This booking is {registration.status}: only a confirmed booking can "
                       "be changed (pay for it first).", "status", code="not_changeable")
    if by != "organiser" and change_rules.changes_closed(catalog.conference,
                                                         today(catalog, now)):
        raise Conflict("Bookings can no longer be changed online; please ask the organisers.",
                       code="changes_closed")
    if pending_change(uow, registration.id) is not None:
        raise Conflict("A change of this booking is waiting for its payment: pay for it or "
                       "cancel it first.", "status", code="change_pending")


def _quote(catalog: Catalog, registration: Registration, request: BookingChangeRequest,
           now: datetime, by: str) -> ChangeQuote:
    try:
        return change_rules.quote_change(
            catalog, booked(catalog, registration), request.ticket_type,
            None if request.add_ons is None else tuple(request.add_ons), today(catalog, now),
            by_organiser=by == "organiser")
    except Refused as refused:
        raise refusal(refused) from None


def quote(uow: UnitOfWork, catalogs: Catalogs, registration_id: str,
          request: BookingChangeRequest, now: datetime, *, by: str
          ) -> tuple[Registration, ChangeQuote]:
    """What a change would cost or give back, changing nothing."""
    catalog = catalogs.current(uow.session)
    registration = find(uow, Registration, registration_id)
    _check_changeable(uow, catalog, registration, now, by)
    return registration, _quote(catalog, registration, request, now, by)


def change_booking(uow: UnitOfWork, catalogs: Catalogs, registration_id: str,
                   request: BookingChangeRequest, now: datetime, *, by: str,
                   idempotency_key: str | None = None) -> BookingChange:
    """Change a confirmed booking, ``by`` the delegate, the buyer or an organiser: at once
    when it costs the same or less, else once its own order is paid. The same
    ``idempotency_key`` with the same request returns the change it made."""
    key = digest(f"change\n{idempotency_key}") if idempotency_key else None
    asked = digest(json.dumps([registration_id, by, request.model_dump(mode="json")],
                              sort_keys=True))
    try:
        return _change(uow, catalogs, registration_id, request, now, by, key, asked)
    except IntegrityError as exc:  # the same key, sent twice at once: the first's change
        uow.rollback()
        if key and is_unique_violation(exc) and (earlier := _changed_with(uow, key, asked)):
            return earlier
        raise


def _changed_with(uow: UnitOfWork, key: str, asked: str) -> BookingChange | None:
    change = uow.session.scalars(select(BookingChange).where(
        BookingChange.idempotency_key == key)).first()
    if change is not None and change.request_digest != asked:
        raise Conflict("This Idempotency-Key was sent before with another change; use a new "
                       "key for a new change.", "Idempotency-Key", code="idempotency_key_reused")
    return change


def _change(uow: UnitOfWork, catalogs: Catalogs, registration_id: str,
            request: BookingChangeRequest, now: datetime, by: str, key: str | None,
            asked: str) -> BookingChange:
    catalog = catalogs.current(uow.session)
    registration = find(uow, Registration, registration_id, lock=True)
    if key and (earlier := _changed_with(uow, key, asked)) is not None:
        uow.commit()
        return earlier
    _check_changeable(uow, catalog, registration, now, by)
    wanted = _quote(catalog, registration, request, now, by)
    quoted = wanted.quote
    change = BookingChange(
        id=str(uuid.uuid4()), registration_id=registration.id, by=by, idempotency_key=key,
        request_digest=asked, before=_items(registration),
        after={"ticket_type": wanted.ticket_type, "add_ons": list(wanted.add_ons),
               "price_lines": [line.__dict__ for line in quoted.lines],
               "amount_due": quoted.total, "vat_amount": quoted.vat_amount},
        lines=change_rules.change_lines(registration.price_lines, wanted),
        difference=wanted.difference, created_at=now,
        status=PENDING if wanted.difference > 0 else APPLIED)
    uow.session.add(change)
    if refused := take_places(uow.session, wanted.take):
        uow.rollback()
        raise _no_room(refused, catalog, wanted)
    if wanted.difference > 0:
        _order_for(uow, catalog, registration, change, now)
    else:
        release_places(uow.session, wanted.free)
        change.refund_due = wanted.refund_due
        _take_effect(uow, catalog, change, now)
    uow.commit()
    return change


def _items(registration: Registration) -> dict:
    return {"ticket_type": registration.ticket_type, "add_ons": registration.add_ons,
            "price_lines": registration.price_lines, "amount_due": registration.amount_due,
            "vat_amount": registration.vat_amount}


def _no_room(key: str, catalog: Catalog, wanted: ChangeQuote):
    if key not in domain.limits(catalog):
        return Conflict("The catalog changed just now; please try again.",
                        code="catalog_changed")
    return refusal(change_rules.refusal_for_place(key, catalog, wanted.add_ons))


def _order_for(uow: UnitOfWork, catalog: Catalog, registration: Registration,
               change: BookingChange, now: datetime) -> Order:
    """The order that pays for a change: the booking's buyer, the difference, paid as the
    booking was (by card when invoices are no longer offered)."""
    booking = registration.order
    method = booking.payment_method
    if method == "invoice":
        try:
            domain.invoice_offered(catalog, today(catalog, now))
        except Refused:
            method = "card"
    conference = catalog.conference
    order = Order(
        id=str(uuid.uuid4()), reference=new_reference(conference.reference_prefix),
        status=Status.PENDING_PAYMENT, payment_method=method, buyer_name=booking.buyer_name,
        buyer_email=booking.buyer_email, buyer_organisation=booking.buyer_organisation,
        buyer_country=booking.buyer_country, billing_address=booking.billing_address,
        billing_vat_number=booking.billing_vat_number, purchase_order=booking.purchase_order,
        amount_due=change.difference,
        vat_amount=domain.vat_included(change.difference, conference.vat_rate_percent),
        vat_rate_percent=str(conference.vat_rate_percent), currency=conference.currency,
        created_at=now, hold_expires_at=domain.hold_until(catalog, method, now))
    order.search_text = order_search_text(order)
    uow.session.add(order)
    change.order = order
    uow.session.flush()
    announce_order(uow, catalog, "order_placed", order)
    return order


def _take_effect(uow: UnitOfWork, catalog: Catalog, change: BookingChange,
                 now: datetime) -> None:
    """Give the registration the change's items and price, refund what the policy gives
    back, and announce it (badges and e-tickets follow ``registration_updated``)."""
    registration, after = change.registration, change.after
    registration.ticket_type = after["ticket_type"]
    kept = {row.add_on: row for row in registration.add_on_rows}
    registration.add_on_rows = [kept.get(code) or RegistrationAddOn(add_on=code, position=i)
                                for i, code in enumerate(after["add_ons"])]
    for position, row in enumerate(registration.add_on_rows):
        row.position = position
    registration.price_lines = after["price_lines"]
    registration.amount_due, registration.vat_amount = after["amount_due"], after["vat_amount"]
    registration.amount_paid += max(change.difference, 0)
    refunds = refund_sources(uow, registration, change.refund_due)
    registration.amount_refunded += change.refund_due
    booking = registration.order
    booking.amount_due = sum(r.amount_due for r in holders(booking))
    booking.vat_amount = domain.vat_included(booking.amount_due,
                                             catalog.conference.vat_rate_percent)
    change.status, change.closed_at = APPLIED, now
    uow.session.flush()
    announce(uow, catalog, "registration_updated", [registration])
    announce(uow, catalog, "booking_changed", [registration], change_id=change.id,
             by=change.by, before=_booking_items(catalog, change.before),
             difference=change.difference, refund_due=change.refund_due,
             refunds=[{"order_id": order.id, "amount": amount} for order, amount in refunds],
             paid_with=change.order_id)


def _booking_items(catalog: Catalog, items: dict) -> dict:
    ticket = catalog.ticket_type(items["ticket_type"])
    return {"ticket_type": items["ticket_type"],
            "ticket_type_name": ticket.name if ticket else items["ticket_type"],
            "add_ons": items["add_ons"],
            "add_on_names": [a.name if (a := catalog.add_on(code)) else code
                             for code in items["add_ons"]]}


def refund_sources(uow: UnitOfWork, registration: Registration, amount: int
                   ) -> list[tuple[Order, int]]:
    """Which payments give ``amount`` of a delegate's money back, and how much each: the
    changes they paid for apart, newest first, then their booking's own. Each order's
    ``amount_refunded`` counts its share at once (payments' word on it comes later)."""
    paid_changes = uow.session.scalars(
        select(BookingChange).where(BookingChange.registration_id == registration.id,
                                    BookingChange.status == APPLIED,
                                    BookingChange.order_id.is_not(None))
        .order_by(BookingChange.created_at.desc())).all()
    sources, left = [], amount
    for order in [change.order for change in paid_changes]:
        share = min(left, max(order.amount_paid - order.amount_refunded, 0))
        if share > 0:
            order.amount_refunded += share
            sources.append((order, share))
            left -= share
    if left > 0:
        sources.append((registration.order, left))
    return sources


def places_taken(change: BookingChange) -> Counter:
    """The places a change that waits for its payment holds beyond its booking's."""
    discount = change.registration.discount_code
    before, after = change.before, change.after
    return (change_rules.places(after["ticket_type"], tuple(after["add_ons"]), discount)
            - change_rules.places(before["ticket_type"], tuple(before["add_ons"]), discount))


def places_freed(change: BookingChange) -> Counter:
    discount = change.registration.discount_code
    before, after = change.before, change.after
    return (change_rules.places(before["ticket_type"], tuple(before["add_ons"]), discount)
            - change_rules.places(after["ticket_type"], tuple(after["add_ons"]), discount))


def drop(uow: UnitOfWork, change: BookingChange, status: str, now: datetime) -> None:
    """A change whose order expired or was cancelled unpaid: its places go back, and the
    booking stays as it was."""
    if change.status == PENDING:
        release_places(uow.session, places_taken(change))
        change.status, change.closed_at = status, now


def paid(uow: UnitOfWork, catalog: Catalog, change: BookingChange, now: datetime) -> bool:
    """The order of a change is paid: the change takes effect. One whose order had expired
    takes its places again; False (nothing changed) if one has gone meanwhile, or if the
    booking is no longer what the change was made for."""
    registration = change.registration
    if change.status == APPLIED:
        return True
    if registration.status != Status.CONFIRMED or registration.ticket_type != \
            change.before["ticket_type"] or registration.add_ons != change.before["add_ons"]:
        return False
    taken = places_taken(change) if change.status != PENDING else None
    if taken and take_places(uow.session, taken):
        release_places(uow.session, taken)
        return False
    release_places(uow.session, places_freed(change))
    _take_effect(uow, catalog, change, now)
    return True

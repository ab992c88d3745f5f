"""Substitution: a museum sends a colleague instead of the delegate it booked.

The colleague gets a registration of their own (so their own private link, e-ticket,
QR code and badge), with the replaced delegate's ticket, add-ons, price lines and share
of the money; the replaced registration is cancelled with reason ``substituted``, so that
its link and QR code stop working (the desk shows it red: "replaced"). The place itself
never changes hands with the sale: no limit is released or taken, nothing is refunded.
The buyer may do it until the catalog's name-change deadline; organisers (the desk
included, on the day) at any time.
"""

import uuid
from datetime import datetime

from sqlalchemy import update

from services.registration.booking import DELEGATE_COLUMNS, new_reference
from services.registration.booking_changes import pending_change
from services.registration.domain import Status
from services.registration.models import (
    BookingChange,
    Catalogs,
    Registration,
    RegistrationAddOn,
)
from services.registration.orders import (
    announce,
    find,
    order_search_text,
    registration_search_text,
    today,
)
from services.registration.schemas import Substitution
from shared.db import UnitOfWork
from shared.errors import Conflict

SUBSTITUTABLE = (Status.PENDING_PAYMENT, Status.CONFIRMED)


def substitute(uow: UnitOfWork, catalogs: Catalogs, registration_id: str,
               colleague: Substitution, now: datetime, *, by: str) -> Registration:
    """Put ``colleague`` in the place of registration ``registration_id``, ``by`` the buyer
    or an organiser; the colleague's new registration."""
    catalog = catalogs.current(uow.session)
    replaced = find(uow, Registration, registration_id, lock=True)
    if by == "buyer" and today(catalog, now) > catalog.conference.name_changes_until:
        raise Conflict("A colleague can no longer be sent instead online; the registration "
                       "desk can still do it.", code="substitution_closed")
    if replaced.status not in SUBSTITUTABLE:
        raise Conflict(f"This registration is {replaced.status}: nobody holds its place.",
                       "status", code="not_substitutable")
    if pending_change(uow, replaced.id) is not None:
        raise Conflict("A change of this booking is waiting for its payment: pay for it or "
                       "cancel it first.", "status", code="change_pending")
    if replaced.checked_in_at is not None:
        raise Conflict("This delegate has already checked in.", "status",
                       code="already_checked_in")
    order = replaced.order
    colleague_in = Registration(
        id=str(uuid.uuid4()), position=replaced.position,
        reference=new_reference(catalog.conference.reference_prefix), status=replaced.status,
        ticket_type=replaced.ticket_type, member_price=replaced.member_price,
        discount_code=replaced.discount_code, price_lines=replaced.price_lines,
        amount_due=replaced.amount_due, vat_amount=replaced.vat_amount,
        vat_rate_percent=replaced.vat_rate_percent, currency=replaced.currency,
        amount_paid=replaced.amount_paid, amount_refunded=replaced.amount_refunded,
        created_at=now, confirmed_at=now if replaced.status == Status.CONFIRMED else None,
        add_on_rows=[RegistrationAddOn(add_on=code, position=i)
                     for i, code in enumerate(replaced.add_ons)],
        **colleague.model_dump(include=DELEGATE_COLUMNS))
    colleague_in.search_text = registration_search_text(colleague_in)
    order.registrations.append(colleague_in)
    replaced.status, replaced.cancelled_at = Status.CANCELLED, now
    replaced.replaced_by = colleague_in.id
    replaced.amount_paid = replaced.amount_refunded = 0  # the colleague's share now
    order.search_text = order_search_text(order)
    uow.session.flush()
    # what was paid apart for changes to the place is the colleague's too, to refund
    uow.session.execute(update(BookingChange).where(
        BookingChange.registration_id == replaced.id).values(registration_id=colleague_in.id))
    announce(uow, catalog, "registration_cancelled", [replaced], reason="substituted",
             refund_due=0, replaced_by=colleague_in.id)
    announce(uow, catalog, "registration_created", [colleague_in])
    if colleague_in.status == Status.CONFIRMED:
        announce(uow, catalog, "registration_confirmed", [colleague_in])
    uow.publish("delegate_substituted", {
        "order_id": order.id, "replaced_registration_id": replaced.id,
        "registration_id": colleague_in.id, "by": by})
    uow.commit()
    return colleague_in

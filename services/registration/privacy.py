"""A delegate's right of access and right to be forgotten, on registration's side.

``export`` is what registration holds about a delegate (and about the buyer of an order
that is only theirs: the same person). ``erase`` anonymises it, deletes the published
outbox rows that carried it, and announces ``delegate_erased`` so that every other service
erases its copy. The registration row stays, anonymised, so that the sale's figures and
the seats still add up; the money it records is not personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from services.registration import waiting_list
from services.registration.catalog import Catalog
from services.registration.domain import Status
from services.registration.models import Catalogs, Order, Registration
from services.registration.orders import find, today
from shared.db import UnitOfWork
from shared.privacy import ERASED_EMAIL, ERASED_NAME, forget_published_events
from shared.retention import days

DELEGATE_FIELDS = ("reference", "status", "ticket_type", "add_ons", "given_name", "family_name",
                   "name_order", "pronouns", "organisation", "country", "email",
                   "dietary_needs", "accessibility_needs", "amount_due", "amount_paid",
                   "amount_refunded", "created_at", "confirmed_at", "cancelled_at",
                   "expired_at", "checked_in_at", "erased_at")
BUYER_FIELDS = ("reference", "status", "payment_method", "buyer_name", "buyer_email",
                "buyer_organisation", "buyer_country", "billing_address",
                "billing_vat_number", "purchase_order", "amount_due", "amount_paid",
                "amount_refunded", "created_at")
KEPT = ["the registration's reference, ticket, status and amounts (the sale's figures and "
        "the seats it held), without a name"]


def _as_dict(row, fields) -> dict:
    return {field: getattr(row, field) for field in fields}


def only_theirs(order: Order) -> bool:
    """An order of one: its buyer is the delegate."""
    return len(order.registrations) == 1


def export(uow: UnitOfWork, registration_id: str) -> dict:
    registration = find(uow, Registration, registration_id)
    order = registration.order
    data = {"registration": _as_dict(registration, DELEGATE_FIELDS),
            "order": _as_dict(order, BUYER_FIELDS) if only_theirs(order) else
            {"reference": order.reference, "status": order.status,
             "booked_by": order.buyer_organisation},
            "changes": [{"status": change.status, "created_at": change.created_at,
                         "difference": change.difference, "refund_due": change.refund_due,
                         **{side: {key: getattr(change, side)[key]
                                   for key in ("ticket_type", "add_ons")}
                            for side in ("before", "after")}}
                        for change in registration.changes],
            "waiting_lists": waiting_list.export(uow, registration.email)}
    return {"service": "registration", "data": data,
            "kept": KEPT if registration.erased_at else []}


def erase(uow: UnitOfWork, registration_id: str, now: datetime) -> Registration:
    """Anonymise the delegate (and the buyer of an order only theirs, of it and of the
    orders that paid for changes to it), take their email off every waiting list, drop the
    published events that carried them, and announce it for each of those orders; a second
    time changes nothing."""
    registration = find(uow, Registration, registration_id, lock=True)
    if registration.erased_at is not None:
        uow.commit()
        return registration
    order = registration.order
    whole_order = only_theirs(order)
    waiting_list.close(uow, Catalogs().current(uow.session), now, "declined",
                       email=registration.email)
    registration.given_name, registration.family_name = ERASED_NAME, ""
    registration.pronouns = registration.dietary_needs = registration.accessibility_needs = None
    registration.organisation, registration.email = ERASED_NAME, ERASED_EMAIL
    registration.search_text = ""
    registration.erased_at = now
    # the orders that paid for changes to their booking have the same buyer
    orders = [order, *(change.order for change in registration.changes if change.order)]
    if whole_order:
        for each in orders:
            each.buyer_name, each.buyer_email = ERASED_NAME, ERASED_EMAIL
            each.buyer_organisation = ERASED_NAME
            each.billing_address = each.billing_vat_number = each.purchase_order = None
            each.search_text = each.reference
    forget_published_events(uow, [registration.id,
                                  *([each.id for each in orders] if whole_order else [])])
    for each in orders:
        uow.publish("delegate_erased", {"registration_id": registration.id,
                                        "order_id": each.id, "whole_order": whole_order,
                                        "erased_at": now})
    uow.commit()
    return registration


def forget_what_is_due(uow: UnitOfWork, catalog: Catalog, config: dict, now: datetime,
                       batch: int = 200) -> dict[str, int]:
    """Registration's retention rules (run hourly, ``shared.retention``):
    dietary and accessibility needs are deleted ``RETENTION_NEEDS_DAYS`` (30) after the
    conference ends; a registration that expired unpaid or was cancelled is erased
    everywhere (as if its delegate had asked) ``RETENTION_CLOSED_DAYS`` (90) after it
    closed, ``batch`` at a time."""
    deleted = {"needs": 0, "closed_registrations_erased": 0}
    needs_until = catalog.conference.ends_on + timedelta(days=days(config,
                                                                   "RETENTION_NEEDS_DAYS", 30))
    if today(catalog, now) > needs_until:
        deleted["needs"] = uow.session.execute(
            update(Registration).where(or_(Registration.dietary_needs.is_not(None),
                                           Registration.accessibility_needs.is_not(None)))
            .values(dietary_needs=None, accessibility_needs=None)).rowcount
    closed_before = now - timedelta(days=days(config, "RETENTION_CLOSED_DAYS", 90))
    due = list(uow.session.scalars(select(Registration.id).where(
        Registration.status.in_([Status.EXPIRED, Status.CANCELLED]),
        Registration.erased_at.is_(None),
        func.coalesce(Registration.cancelled_at, Registration.expired_at) < closed_before,
    ).limit(batch)))
    for registration_id in due:
        erase(uow, registration_id, now)
    deleted["closed_registrations_erased"] = len(due)
    return deleted

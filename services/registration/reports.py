"""Reports for organisers: searching registrations and orders, CSV lists, the sale in
figures. Read only."""

import csv
import io
from collections import Counter
from datetime import datetime

from sqlalchemy import func, select

from services.registration import domain, models
from services.registration.domain import Status
from services.registration.models import Catalogs, Order, Registration, limits_in_force
from services.registration.schemas import AdminQuery, OrderQuery
from shared.db import UnitOfWork
from shared.text import search_key
from shared.typesetting import unprintable


def search(uow: UnitOfWork, query: AdminQuery) -> tuple[int, list[Registration]]:
    """Registrations matching every word of ``query.q`` in any script, accents ignored."""
    return models.search(uow.session, Registration, search_key(query.q).split(), query.limit,
                         query.offset, status=query.status, ticket_type=query.ticket_type)


def search_orders(uow: UnitOfWork, query: OrderQuery) -> tuple[int, list[Order]]:
    """Orders whose buyer, reference or any delegate matches every word of ``query.q``."""
    return models.search(uow.session, Order, search_key(query.q).split(), query.limit,
                         query.offset, status=query.status)


EXPORTS = {
    "delegates": ["reference", "status", "given_name", "family_name", "pronouns",
                  "organisation", "country", "email", "ticket_type", "add_ons",
                  "dietary_needs", "accessibility_needs", "amount_due", "amount_paid",
                  "amount_refunded", "currency", "created_at", "confirmed_at", "cancelled_at",
                  "checked_in_at"],
    "catering": ["reference", "given_name", "family_name", "organisation", "ticket_type",
                 "add_ons", "dietary_needs"],
    "accessibility": ["reference", "given_name", "family_name", "organisation", "email",
                      "ticket_type", "accessibility_needs"],
    "attendance": ["reference", "given_name", "family_name", "organisation", "country",
                   "ticket_type", "checked_in_at"],
}


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, datetime):
        value = value.isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(uow: UnitOfWork, kind: str = "delegates") -> str:
    """A list organisers need, surname order, as CSV that Excel opens in UTF-8: every
    registration; or the confirmed ones with dietary needs (catering), with
    accessibility needs, or who checked in (attendance)."""
    query = select(Registration)
    if kind != "delegates":
        query = query.where(Registration.status == Status.CONFIRMED)
    needs = {"catering": Registration.dietary_needs,
             "accessibility": Registration.accessibility_needs,
             "attendance": Registration.checked_in_at}
    if kind in needs:
        query = query.where(needs[kind].is_not(None))
    columns = EXPORTS[kind]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    for registration in uow.session.scalars(query.order_by(
            Registration.family_name, Registration.given_name, Registration.id)):
        writer.writerow([csv_cell(getattr(registration, column)) for column in columns])
    return out.getvalue()


SUBSTITUTED = "substituted"  # cancelled, because a colleague came instead


def stats(uow: UnitOfWork, catalogs: Catalogs) -> dict:
    """The sale at a glance: registrations by status (a delegate a colleague replaced is
    counted apart from the cancelled) and ticket type, money, places left."""
    catalog = catalogs.current(uow.session)
    limits = limits_in_force(uow.session)
    replaced = Registration.replaced_by.is_not(None)
    rows = uow.session.execute(select(
        Registration.status, replaced, Registration.ticket_type, func.count(),
    ).group_by(Registration.status, replaced, Registration.ticket_type)).all()
    by_status: dict = {status.value: 0 for status in Status} | {SUBSTITUTED: 0}
    by_ticket: dict = {}
    for status, was_replaced, ticket_type, count in rows:
        by_status[SUBSTITUTED if was_replaced else status] += count
        by_ticket.setdefault(ticket_type, Counter())[status] += count
    gross, refunded = (value or 0 for value in uow.session.execute(select(
        func.sum(Order.amount_paid), func.sum(Order.amount_refunded))).one())
    rate = catalog.conference.vat_rate_percent

    def left(key: str) -> int:
        return domain.remaining(limits[key].capacity, limits[key].held)

    return {
        "by_status": by_status,
        "by_ticket_type": [{
            "code": t.code, "name": t.name, "capacity": t.capacity,
            "confirmed": by_ticket.get(t.code, {}).get(Status.CONFIRMED, 0),
            "pending": by_ticket.get(t.code, {}).get(Status.PENDING_PAYMENT, 0),
            "remaining": left(f"ticket_type:{t.code}")} for t in catalog.ticket_types],
        "add_ons": [{
            "code": a.code, "name": a.name, "capacity": a.capacity,
            "held": limits[f"add_on:{a.code}"].held, "remaining": left(f"add_on:{a.code}")}
            for a in catalog.add_ons],
        "revenue": {"gross": gross, "refunded": refunded, "net": gross - refunded,
                    "vat": domain.vat_included(gross - refunded, rate),
                    "currency": catalog.conference.currency},
        "conference": {"capacity": catalog.conference.capacity,
                       "remaining": left(domain.CONFERENCE)},
        "unprintable": unprintable_badges(uow),
    }


def unprintable_badges(uow: UnitOfWork) -> list[dict]:
    """Live registrations whose badge would have holes: characters no font has, stored
    before registration refused them (or since a font was dropped)."""
    rows = uow.session.execute(select(
        Registration.id, Registration.reference, Registration.given_name,
        Registration.family_name, Registration.pronouns, Registration.organisation,
    ).where(Registration.status.in_([Status.PENDING_PAYMENT, Status.CONFIRMED]))
     .order_by(Registration.reference)).all()
    found = []
    for id_, reference, given, family, pronouns, organisation in rows:
        if missing := unprintable(" ".join(filter(None, [given, family, pronouns,
                                                          organisation]))):
            found.append({"id": id_, "reference": reference,
                          "name": " ".join(filter(None, [given, family])),
                          "characters": missing})
    return found


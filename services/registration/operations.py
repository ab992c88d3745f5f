"""What the registration service does, each as a function of a unit of work.

The nameko entrypoints call these; they hold the order of steps (read, take
places, change, publish, commit) while the rules live in ``domain``.
"""

import csv
import io
import logging
import secrets
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registration import domain, models
from services.registration.catalog import Catalog, load_catalog_file
from services.registration.domain import Order, Refused, Status
from services.registration.models import (
    Catalogs,
    CatalogVersion,
    Registration,
    RegistrationAddOn,
    limits_in_force,
    release_places,
    sync_limits,
    take_places,
)
from services.registration.schemas import (
    AddOnView,
    AdminQuery,
    CatalogView,
    RegistrationChange,
    RegistrationRequest,
    TicketTypeView,
)
from shared.db import UnitOfWork, is_unique_violation
from shared.events import (
    Billing,
    Delegate,
    Event,
    Organiser,
    PaymentLine,
    PaymentRequest,
    RegistrationCancelledData,
    RegistrationData,
)
from shared.http import Conflict, InvalidField, NotFound
from shared.text import search_key

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CONFLICTS = {"sold_out", "conference_full", "code_used_up", "catalog_changed"}
BILLING_FIELDS = {"billing_address", "billing_vat_number", "purchase_order"}
STATUS_TIMES = {Status.CONFIRMED: "confirmed_at", Status.CANCELLED: "cancelled_at",
                Status.EXPIRED: "expired_at"}


def api_error(refusal: Refused):
    kind = Conflict if refusal.code in CONFLICTS else InvalidField
    return kind(refusal.message, refusal.field, code=refusal.code)


def seed(session: Session, config: dict) -> None:
    """Put the catalog file on sale if no catalog is loaded yet."""
    if session.scalar(select(CatalogVersion.id).limit(1)) is None:
        path = config.get("CATALOG_FILE")
        put_on_sale(session, load_catalog_file(path) if path else load_catalog_file(),
                    str(path or "catalog.yaml"))


def put_on_sale(session: Session, catalog: Catalog, source: str) -> CatalogVersion:
    sync_limits(session, catalog)
    version = CatalogVersion(document=catalog.model_dump(mode="json"), source=source)
    session.add(version)
    return version


def load_catalog(uow: UnitOfWork, catalog: Catalog, source: str) -> int:
    """Put a new catalog on sale; refuse one that drops what registrations hold."""
    version = put_on_sale(uow.session, catalog, source)
    uow.commit()
    return version.id


def today(catalog: Catalog, now: datetime):
    return now.astimezone(catalog.conference.zone).date()


def catalog_view(uow: UnitOfWork, catalogs: Catalogs, now: datetime) -> CatalogView:
    catalog = catalogs.current(uow.session)
    limits = limits_in_force(uow.session)

    def left(key: str) -> int:
        return domain.remaining(limits[key].capacity, limits[key].held)

    conference = catalog.conference
    left_overall = left(domain.CONFERENCE)
    early = today(catalog, now)
    return CatalogView(
        conference={
            "name": conference.name,
            "starts_on": conference.starts_on,
            "ends_on": conference.ends_on,
            "venue": conference.venue,
            "currency": conference.currency,
            "vat_rate_percent": str(conference.vat_rate_percent),
            "hold_minutes": conference.hold_minutes,
            "name_changes_until": conference.name_changes_until,
            "refund_policy": [step.model_dump(mode="json") for step in conference.refund_policy],
        },
        ticket_types=[
            TicketTypeView(
                code=t.code, name=t.name, role=t.role, requires_code=t.requires_code,
                price_member=t.prices.member, price_non_member=t.prices.non_member,
                early_bird_until=t.early_bird.until.isoformat() if t.early_bird else None,
                early_bird_member=t.early_bird.member if t.early_bird else None,
                early_bird_non_member=t.early_bird.non_member if t.early_bird else None,
                early_bird_now=bool(t.early_bird and early <= t.early_bird.until),
                capacity=t.capacity,
                remaining=min(left_overall, left(f"ticket_type:{t.code}")),
            )
            for t in catalog.ticket_types
        ],
        add_ons=[
            AddOnView(
                code=a.code, name=a.name, price=a.price, exclusive_group=a.exclusive_group,
                ticket_types=list(a.ticket_types) if a.ticket_types is not None else None,
                capacity=a.capacity, remaining=left(f"add_on:{a.code}"),
            )
            for a in catalog.add_ons
        ],
        remaining=left_overall,
    )


def register(uow: UnitOfWork, catalogs: Catalogs, request: RegistrationRequest,
             now: datetime) -> Registration:
    """Price the order, hold its seats, and record it; free registrations are confirmed at once.

    A reference drawn twice (one chance in 10^9 per registration) is refused by the
    unique constraint; the registration is then made again with a new one.
    """
    for attempt in range(1, 4):
        try:
            return _register(uow, catalogs, request, now)
        except IntegrityError as exc:
            uow.rollback()
            if attempt == 3 or not is_unique_violation(exc):
                raise


def _register(uow: UnitOfWork, catalogs: Catalogs, request: RegistrationRequest,
              now: datetime) -> Registration:
    """One attempt at ``register``.

    The places are taken last, just before the commit, so that the row locks on the
    limits are held as briefly as can be.
    """
    catalog = catalogs.current(uow.session)
    order = Order(request.ticket_type, tuple(request.add_ons), request.member_code,
                  request.discount_code)
    try:
        priced = domain.quote(catalog, order, today(catalog, now))
    except Refused as refusal:
        raise api_error(refusal) from None

    free = priced.total == 0
    registration = Registration(
        id=str(uuid.uuid4()),
        reference=new_reference(catalog.conference.reference_prefix),
        status=Status.CONFIRMED if free else Status.PENDING_PAYMENT,
        ticket_type=order.ticket_type,
        member_price=priced.member_price,
        discount_code=priced.discount_code,
        price_lines=[line.__dict__ for line in priced.lines],
        amount_due=priced.total,
        vat_amount=priced.vat_amount,
        vat_rate_percent=str(priced.vat_rate_percent),
        currency=priced.currency,
        hold_expires_at=None if free else domain.hold_until(catalog.conference, now),
        confirmed_at=now if free else None,
        created_at=now,
        add_on_rows=[RegistrationAddOn(add_on=code, position=i)
                     for i, code in enumerate(order.add_ons)],
        **request.model_dump(include=set(Delegate.model_fields) | BILLING_FIELDS),
    )
    registration.search_text = search_text(registration)
    uow.session.add(registration)
    uow.publish("registration_created", snapshot(registration, catalog))
    if free:
        uow.publish("registration_confirmed", snapshot(registration, catalog))
    uow.session.flush()
    refused = take_places(uow.session, places_of(registration))
    if refused:
        uow.rollback()
        raise api_error(refusal_for(refused, catalog, order))
    uow.commit()
    return registration


def payment_request(registration: Registration, catalog: Catalog) -> PaymentRequest:
    """What payments needs to charge this registration and write its receipt."""
    organiser = catalog.conference.organiser
    return PaymentRequest(
        registration_id=registration.id, reference=registration.reference,
        conference_name=catalog.conference.name, amount=registration.amount_due,
        currency=registration.currency, vat_rate_percent=registration.vat_rate_percent,
        vat_amount=registration.vat_amount,
        lines=[PaymentLine(description=line["description"], amount=line["amount"])
               for line in registration.price_lines],
        delegate_name=" ".join(filter(None, [registration.given_name,
                                             registration.family_name])),
        organisation=registration.organisation, email=registration.email,
        billing=Billing(address=registration.billing_address,
                        vat_number=registration.billing_vat_number,
                        purchase_order=registration.purchase_order),
        organiser=Organiser(name=organiser.name, address=organiser.address,
                            vat_number=organiser.vat_number))


def places_of(registration: Registration) -> list[str]:
    return domain.limits_taken(registration.ticket_type, tuple(registration.add_ons),
                               registration.discount_code)


def refusal_for(key: str, catalog: Catalog, order: Order) -> Refused:
    if key not in domain.limits(catalog):
        return Refused(None, "catalog_changed",
                       "The catalog changed just now; please send the registration again.")
    return domain.refusal_for(key, catalog, order)


def move(session: Session, registration: Registration, action: str, now: datetime) -> bool:
    """Move a registration to its next state, taking or freeing its places; False (and
    nothing changed) when a place it needs back is gone."""
    new = domain.transition(registration.status, action)
    change = domain.seat_change(Status(registration.status), new)
    if change > 0 and take_places(session, places_of(registration)):
        return False
    if change < 0:
        release_places(session, places_of(registration))
    registration.status = new
    registration.hold_expires_at = None
    setattr(registration, STATUS_TIMES[new], now)
    return True


def search_text(registration: Registration) -> str:
    """What organisers search in: names, organisation, email and reference."""
    return search_key(" ".join(getattr(registration, k) or "" for k in (
        "given_name", "family_name", "organisation", "email", "reference")))


def new_reference(prefix: str) -> str:
    """A short reference a person can read out over the phone."""
    return f"{prefix}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def snapshot(registration: Registration, catalog: Catalog) -> RegistrationData:
    ticket = catalog.ticket_type(registration.ticket_type)
    return RegistrationData(
        registration_id=registration.id,
        reference=registration.reference,
        status=registration.status,
        ticket_type=registration.ticket_type,
        ticket_type_name=ticket.name,
        role=ticket.role,
        add_ons=registration.add_ons,
        amount_due=registration.amount_due,
        vat_amount=registration.vat_amount,
        currency=registration.currency,
        delegate=Delegate(**{k: getattr(registration, k) for k in Delegate.model_fields}),
        hold_expires_at=registration.hold_expires_at,
    )


def find(uow: UnitOfWork, registration_id: str, lock: bool = False) -> Registration:
    registration = None
    try:
        uuid.UUID(registration_id)
        registration = uow.session.get(Registration, registration_id, with_for_update=lock)
    except ValueError:
        pass
    if registration is None:
        raise NotFound("No registration has this id.", "registration_id")
    return registration


def search(uow: UnitOfWork, query: AdminQuery) -> tuple[int, list[Registration]]:
    """Registrations matching every word of ``query.q`` in any script, accents ignored."""
    return models.search(uow.session, search_key(query.q).split(), query.status,
                         query.ticket_type, query.limit, query.offset)


def change(uow: UnitOfWork, catalogs: Catalogs, registration_id: str, request: RegistrationChange,
           now: datetime) -> Registration:
    """Fix what the badge says; published as registration_updated when anything changed."""
    catalog = catalogs.current(uow.session)
    registration = find(uow, registration_id, lock=True)
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
        registration.search_text = search_text(registration)
        uow.publish("registration_updated", snapshot(registration, catalog))
    uow.commit()
    return registration


def cancel(uow: UnitOfWork, catalogs: Catalogs, registration_id: str, now: datetime, *,
           reason: str, refund_all: bool | None = None) -> Registration:
    """Cancel and free the seats. A delegate's refund follows the catalog's policy;
    an organiser chooses (``refund_all``)."""
    catalog = catalogs.current(uow.session)
    registration = find(uow, registration_id, lock=True)
    if registration.status == Status.CANCELLED:
        raise Conflict("This registration is already cancelled.", "status",
                       code="already_cancelled")
    refundable = registration.amount_paid - registration.amount_refunded
    if refund_all is None:
        refund = domain.refund_due(catalog.conference, refundable, today(catalog, now))
    else:
        refund = refundable if refund_all else 0
    _cancel(uow, catalog, registration, now, reason, refund)
    uow.commit()
    return registration


def _cancel(uow, catalog, registration, now, reason: str, refund_due: int) -> None:
    move(uow.session, registration, "cancel", now)
    uow.publish("registration_cancelled", RegistrationCancelledData(
        **snapshot(registration, catalog).model_dump(), reason=reason, refund_due=refund_due))


def confirm_payment(uow: UnitOfWork, catalogs: Catalogs, event: Event, now: datetime) -> None:
    """A payment succeeded: confirm, or, if the seats went meanwhile, hand the money back."""
    data = event.data
    registration = uow.session.get(Registration, data.registration_id, with_for_update=True)
    if registration is None:
        log.warning("payment_succeeded %s names an unknown registration", event.id)
        return
    if not uow.first_delivery(event):
        return
    catalog = catalogs.current(uow.session)
    registration.amount_paid += data.amount
    registration.payment_intent_id = data.payment_intent_id
    registration.last_payment_error = None
    status = Status(registration.status)
    if status == Status.CANCELLED:
        uow.publish("registration_cancelled", RegistrationCancelledData(
            **snapshot(registration, catalog).model_dump(), reason="paid_after_cancellation",
            refund_due=data.amount))
    elif status == Status.CONFIRMED:
        log.warning("registration %s was already confirmed; payment %s is extra",
                    registration.id, data.payment_intent_id)
    elif registration.amount_paid < registration.amount_due:
        log.warning("registration %s is paid in part", registration.id)
    elif move(uow.session, registration, "confirm", now):
        uow.publish("registration_confirmed", snapshot(registration, catalog))
    else:
        _cancel(uow, catalog, registration, now, "no_capacity_after_payment",
                registration.amount_paid)
    uow.commit()


def record_payment_failure(uow: UnitOfWork, event: Event) -> None:
    """Say why a payment failed, for the delegate to try again; a failure that arrives
    after a success (events may come out of order) changes nothing."""
    registration = uow.session.get(Registration, event.data.registration_id, with_for_update=True)
    if registration is None or not uow.first_delivery(event):
        return
    if registration.status == Status.PENDING_PAYMENT:
        registration.last_payment_error = event.data.reason
    uow.commit()


def record_refund(uow: UnitOfWork, catalogs: Catalogs, event: Event, now: datetime) -> None:
    """Track refunds; a full refund of a live registration cancels it."""
    data = event.data
    registration = uow.session.get(Registration, data.registration_id, with_for_update=True)
    if registration is None or not uow.first_delivery(event):
        return
    registration.amount_refunded = max(registration.amount_refunded, data.total_refunded)
    if data.fully_refunded and registration.status in (Status.PENDING_PAYMENT,
                                                       Status.CONFIRMED):
        catalog = catalogs.current(uow.session)
        _cancel(uow, catalog, registration, now, "refunded", 0)
    uow.commit()


def expire_holds(uow: UnitOfWork, catalogs: Catalogs, now: datetime, batch: int = 200) -> int:
    """Expire pending registrations whose hold has ended; returns how many."""
    due = uow.session.scalars(
        select(Registration)
        .where(Registration.status == Status.PENDING_PAYMENT, Registration.hold_expires_at <= now)
        .order_by(Registration.hold_expires_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    if due:
        catalog = catalogs.current(uow.session)
    for registration in due:
        move(uow.session, registration, "expire", now)
        uow.publish("registration_expired", snapshot(registration, catalog))
    uow.commit()
    return len(due)


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


def record_check_in(uow: UnitOfWork, event: Event) -> None:
    registration = uow.session.get(Registration, event.data.registration_id,
                                   with_for_update=True)
    if registration is None or not uow.first_delivery(event):
        return
    registration.checked_in_at = registration.checked_in_at or event.data.checked_in_at
    uow.commit()


def stats(uow: UnitOfWork, catalogs: Catalogs) -> dict:
    """The sale at a glance: registrations by status and ticket type, money, places left."""
    catalog = catalogs.current(uow.session)
    limits = limits_in_force(uow.session)
    rows = uow.session.execute(select(
        Registration.status, Registration.ticket_type, func.count(),
        func.sum(Registration.amount_paid), func.sum(Registration.amount_refunded),
    ).group_by(Registration.status, Registration.ticket_type)).all()
    by_status: dict = {status.value: 0 for status in Status}
    by_ticket: dict = {}
    gross = refunded = 0
    for status, ticket_type, count, paid, back in rows:
        by_status[status] += count
        by_ticket.setdefault(ticket_type, {})[status] = count
        gross, refunded = gross + (paid or 0), refunded + (back or 0)
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
    }


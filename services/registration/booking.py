"""Booking: the catalog on sale, and placing an order for one or more delegates.

Placing an order is one local transaction: price every delegate, hold every
seat (all or nothing), record the order and announce it. Nothing waits for
payments: it prepares the payment when it hears ``order_placed``.
"""

import hashlib
import json
import secrets
import uuid
from collections import Counter
from datetime import datetime

import pycountry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registration import domain
from services.registration.abuse import Client
from services.registration.catalog import Catalog, load_catalog_file
from services.registration.domain import Refused, Status
from services.registration.models import (
    Catalogs,
    CatalogVersion,
    Order,
    Registration,
    RegistrationAddOn,
    limits_in_force,
    sync_limits,
)
from services.registration.orders import (
    announce,
    announce_order,
    hold_places,
    order_search_text,
    registration_search_text,
    today,
)
from services.registration.schemas import (
    COUNTRY_CODES,
    AddOnView,
    BuyerRequest,
    CatalogView,
    Country,
    DelegateRequest,
    TicketTypeView,
)
from shared.db import UnitOfWork, is_unique_violation
from shared.errors import Conflict, Invalid
from shared.events.contracts import Delegate
from shared.text import full_name

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CONFLICTS = {"sold_out", "conference_full", "code_used_up", "catalog_changed"}
COUNTRIES = sorted(
    [Country(code=c.alpha_2, name=getattr(c, "common_name", c.name)) for c in pycountry.countries
     if c.alpha_2 in COUNTRY_CODES] + [Country(code="XK", name="Kosovo")],
    key=lambda country: country.name)


def refusal(refused: Refused):
    """The rules' refusal as the error a client gets."""
    kind = Conflict if refused.code in CONFLICTS else Invalid
    return kind(refused.message, refused.field, code=refused.code)


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
            "changes_until": conference.last_change_day,
            "refund_policy": [step.model_dump(mode="json") for step in conference.refund_policy],
            "payment_methods": ["card", *(["invoice"] if _offers_invoice(catalog, early)
                                          else [])],
            "invoice_period_days": catalog.invoice.period_days if catalog.invoice else None,
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
        countries=COUNTRIES,
    )


def _offers_invoice(catalog: Catalog, day) -> bool:
    try:
        domain.invoice_offered(catalog, day)
    except Refused:
        return False
    return True


def new_reference(prefix: str) -> str:
    """A short reference a person can read out over the phone."""
    return f"{prefix}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# What a registration keeps of a delegate: what events say of them, and their needs.
DELEGATE_COLUMNS = set(Delegate.model_fields) | {"dietary_needs", "accessibility_needs"}


def place_order(uow: UnitOfWork, catalogs: Catalogs, buyer: BuyerRequest,
                delegates: list[DelegateRequest], payment_method: str, now: datetime, *,
                idempotency_key: str | None = None, fields_of: str = "delegates",
                complimentary: bool = False, client: Client | None = None) -> Order:
    """Price every delegate, hold all their seats or none, record the order and announce
    it; an order with nothing to pay is confirmed at once.

    The same ``idempotency_key`` with the same request returns the order it made
    (also when two such requests race); with another request it is refused. A
    reference drawn twice (one chance in 10^9) is refused by the unique constraint,
    and the order is made again with a new one. ``fields_of="delegates"`` names a
    refused field ``delegates[i].field``; ``""`` names it plainly (an order of one).
    A ``complimentary`` order (an organiser's) is free and needs no codes. A ``client``
    (a booking from the public) must pass the abuse limits first.
    """
    key = digest(idempotency_key) if idempotency_key else None
    asked = digest(json.dumps([buyer.model_dump(mode="json"), payment_method, complimentary,
                               [d.model_dump(mode="json") for d in delegates]], sort_keys=True))
    for attempt in range(1, 4):
        if key and (earlier := _ordered_with(uow, key, asked)) is not None:
            return earlier
        try:
            return _place_order(uow, catalogs, buyer, delegates, payment_method, now, key,
                                asked, fields_of, complimentary, client)
        except IntegrityError as exc:
            uow.rollback()
            if attempt == 3 or not is_unique_violation(exc):
                raise


def _ordered_with(uow: UnitOfWork, key: str, asked: str) -> Order | None:
    order = uow.session.scalars(select(Order).where(Order.idempotency_key == key)).first()
    if order is not None and order.request_digest != asked:
        raise Conflict("This Idempotency-Key was sent before with another booking; "
                       "use a new key for a new booking.", "Idempotency-Key",
                       code="idempotency_key_reused")
    return order


def _place_order(uow: UnitOfWork, catalogs: Catalogs, buyer: BuyerRequest,
                 delegates: list[DelegateRequest], payment_method: str, now: datetime,
                 key: str | None, asked: str, fields_of: str, complimentary: bool,
                 client: Client | None) -> Order:
    """One attempt at ``place_order``. The places are taken last, just before the
    commit, so that the row locks on the limits are held as briefly as can be."""
    catalog = catalogs.current(uow.session)
    conference = catalog.conference
    billing_field = "buyer.billing_address" if fields_of else "billing_address"

    def within(index: int, refused: Refused):
        return refusal(refused.within(f"{fields_of}[{index}]") if fields_of else refused)

    quotes = []
    for index, delegate in enumerate(delegates):
        wanted = domain.Order(delegate.ticket_type, tuple(delegate.add_ons),
                              delegate.member_code, delegate.discount_code)
        try:
            quote = domain.quote(catalog, wanted, today(catalog, now), complimentary)
        except Refused as refused:
            raise within(index, refused) from None
        quotes.append((wanted, domain.complimentary(quote) if complimentary else quote))

    total = sum(quote.total for _, quote in quotes)
    if total and payment_method == "invoice":
        _invoice_possible(catalog, buyer, now, billing_field)
    if client is not None and not complimentary:
        client.admit(uow, buyer.email, Counter(
            limit for wanted, quote in quotes if total
            for limit in domain.limits_taken(wanted.ticket_type, wanted.add_ons,
                                             quote.discount_code)), now)
    status = Status.PENDING_PAYMENT if total else Status.CONFIRMED
    order = Order(
        id=str(uuid.uuid4()), reference=new_reference(conference.reference_prefix),
        status=status, payment_method=payment_method, idempotency_key=key,
        request_digest=asked, client_key=client.key if client else None,
        buyer_name=buyer.name, buyer_email=buyer.email,
        buyer_organisation=buyer.organisation, buyer_country=buyer.country,
        billing_address=buyer.billing_address, billing_vat_number=buyer.vat_number,
        purchase_order=buyer.purchase_order, amount_due=total,
        vat_amount=domain.vat_included(total, conference.vat_rate_percent),
        vat_rate_percent=str(conference.vat_rate_percent), currency=conference.currency,
        created_at=now,
        hold_expires_at=domain.hold_until(catalog, payment_method, now) if total else None,
        confirmed_at=None if total else now,
        change=None)  # a new booking pays for no change: known, not asked of the database
    for position, (delegate, (wanted, quote)) in enumerate(zip(delegates, quotes, strict=True)):
        registration = Registration(
            id=str(uuid.uuid4()), position=position,
            reference=order.reference if len(delegates) == 1 else
            new_reference(conference.reference_prefix),
            status=status, ticket_type=wanted.ticket_type, member_price=quote.member_price,
            discount_code=quote.discount_code,
            price_lines=[line.__dict__ for line in quote.lines], amount_due=quote.total,
            vat_amount=quote.vat_amount, vat_rate_percent=str(quote.vat_rate_percent),
            currency=quote.currency, created_at=now, confirmed_at=order.confirmed_at,
            add_on_rows=[RegistrationAddOn(add_on=code, position=i)
                         for i, code in enumerate(wanted.add_ons)],
            **delegate.model_dump(include=DELEGATE_COLUMNS))
        registration.search_text = registration_search_text(registration)
        order.registrations.append(registration)
    order.search_text = order_search_text(order)
    uow.session.add(order)
    uow.session.flush()
    announce_order(uow, catalog, "order_placed", order)
    announce(uow, catalog, "registration_created", order.registrations)
    if not total:
        announce_order(uow, catalog, "order_confirmed", order)
        announce(uow, catalog, "registration_confirmed", order.registrations)
    refused = hold_places(uow, order.registrations)
    if refused:
        uow.rollback()
        raise _no_room(refused, catalog, quotes, within)
    uow.commit()
    return order


def _invoice_possible(catalog: Catalog, buyer: BuyerRequest, now: datetime,
                      billing_field: str) -> None:
    """An invoice needs the catalog to offer it and an address to send it to."""
    try:
        domain.invoice_offered(catalog, today(catalog, now))
    except Refused as refused:
        raise refusal(refused) from None
    if not buyer.billing_address:
        raise Invalid("An invoice needs the billing address it is made out to.",
                      billing_field, code="billing_address_required")


def _no_room(key: str, catalog: Catalog, quotes: list, within):
    """The refusal for a limit with no room, naming the first delegate who needs it."""
    if key not in domain.limits(catalog):
        return Conflict("The catalog changed just now; please send the booking again.",
                        code="catalog_changed")
    index, wanted = next((i, wanted) for i, (wanted, quote) in enumerate(quotes)
                         if key in domain.limits_taken(wanted.ticket_type, wanted.add_ons,
                                                       quote.discount_code))
    return within(index, domain.refusal_for(key, catalog, wanted))


def buyer_of_one(delegate, billing: dict) -> BuyerRequest:
    """The buyer of an order of one: the delegate, with the billing details they gave."""
    return BuyerRequest(name=full_name(delegate.given_name, delegate.family_name,
                                       delegate.name_order),
                        email=delegate.email, organisation=delegate.organisation,
                        country=delegate.country, **billing)

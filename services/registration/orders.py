"""What every registration use case needs: finding orders and registrations, moving
them between states with their places, and announcing them on the bus."""

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from services.registration import domain
from services.registration.catalog import Catalog
from services.registration.domain import Status
from services.registration.models import Order, Registration, release_places, take_places
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound
from shared.events.contracts import (
    BankAccount,
    Buyer,
    ConferenceFacts,
    Delegate,
    OrderData,
    OrderDelegate,
    OrderLine,
    Organiser,
    RegistrationData,
)
from shared.text import full_name, search_key

STATUS_TIMES = {Status.CONFIRMED: "confirmed_at", Status.CANCELLED: "cancelled_at",
                Status.EXPIRED: "expired_at"}


def today(catalog: Catalog, now: datetime) -> date:
    return now.astimezone(catalog.conference.zone).date()


def find(uow: UnitOfWork, model: type[Order] | type[Registration], id_: str,
         lock: bool = False):
    """The order or registration with this id, or NotFound naming what was looked for."""
    found = None
    try:
        uuid.UUID(id_)
        # only the row itself: PostgreSQL refuses to lock the outer-joined order with it
        found = uow.session.get(model, id_, with_for_update={"of": model} if lock else None)
    except ValueError:
        pass
    if found is None:
        noun = "order" if model is Order else "registration"
        raise NotFound(f"No {noun} has this id.", f"{noun}_id")
    return found


def payable(order: Order) -> Order:
    """The order, if something is due on it now by card; else Conflict."""
    if order.status != Status.PENDING_PAYMENT or not order.amount_due:
        raise Conflict(f"This booking is {order.status}; nothing is due.", "status",
                       code="nothing_due")
    if order.payment_method == "invoice":
        raise Conflict("This order is paid by bank transfer against its invoice.",
                       "payment_method", code="pay_by_invoice")
    return order


def places_of(registrations: Iterable[Registration]) -> Counter:
    """How many places of each limit these registrations hold."""
    return Counter(key for r in registrations for key in domain.limits_taken(
        r.ticket_type, tuple(r.add_ons), r.discount_code))


def hold_places(uow: UnitOfWork, registrations: list[Registration]) -> str | None:
    """Take the places of all these registrations, or none: the key of the first limit
    that has no room (and nothing taken), or None."""
    places = places_of(registrations)
    refused = take_places(uow.session, places)
    if refused:
        release_places(uow.session, places)
    return refused


def move(uow: UnitOfWork, registrations: list[Registration], action: str,
         now: datetime) -> bool:
    """Move registrations to their next state together, taking or freeing their places;
    False (and nothing changed) when a place one needs back is gone."""
    moves = [(r, domain.transition(r.status, action)) for r in registrations]
    taking = [r for r, new in moves if domain.seat_change(Status(r.status), new) > 0]
    freeing = [r for r, new in moves if domain.seat_change(Status(r.status), new) < 0]
    if taking and hold_places(uow, taking):
        return False
    if freeing:
        release_places(uow.session, places_of(freeing))
    for registration, new in moves:
        registration.status = new
        setattr(registration, STATUS_TIMES[new], now)
    return True


def move_order(order: Order, status: Status, now: datetime) -> None:
    if order.status != status:
        order.status = status
        order.hold_expires_at = None
        setattr(order, STATUS_TIMES[status], now)


def live(order: Order) -> list[Registration]:
    """The order's delegates that are not cancelled."""
    return [r for r in order.registrations if r.status != Status.CANCELLED]


def holders(order: Order) -> list[Registration]:
    """The order's places, each with the delegate who holds it now: a delegate a colleague
    replaced is left out (their place, share and price lines are the colleague's)."""
    return [r for r in order.registrations if r.replaced_by is None]


def registration_search_text(registration: Registration) -> str:
    """What organisers search in: names, organisation, email and reference."""
    return search_key(" ".join(getattr(registration, k) or "" for k in (
        "given_name", "family_name", "organisation", "email", "reference")))


def order_search_text(order: Order) -> str:
    return search_key(" ".join([
        order.reference, order.buyer_name, order.buyer_email, order.buyer_organisation,
        *(registration_search_text(r) for r in order.registrations)]))


def conference_facts(catalog: Catalog) -> ConferenceFacts:
    conference = catalog.conference
    return ConferenceFacts(
        name=conference.name, starts_on=conference.starts_on, ends_on=conference.ends_on,
        venue=conference.venue, timezone=conference.timezone,
        name_changes_until=conference.name_changes_until,
        organiser=Organiser(**conference.organiser.model_dump()))


def registration_data(registration: Registration, catalog: Catalog) -> RegistrationData:
    ticket = catalog.ticket_type(registration.ticket_type)
    return RegistrationData(
        registration_id=registration.id, order_id=registration.order_id,
        reference=registration.reference, status=registration.status,
        ticket_type=registration.ticket_type, ticket_type_name=ticket.name, role=ticket.role,
        add_ons=registration.add_ons, amount_due=registration.amount_due,
        vat_amount=registration.vat_amount, currency=registration.currency,
        delegate=Delegate(**{k: getattr(registration, k) for k in Delegate.model_fields}),
        hold_expires_at=registration.hold_expires_at if registration.status ==
        Status.PENDING_PAYMENT else None,
        conference=conference_facts(catalog),
        add_on_names=[catalog.add_on(code).name for code in registration.add_ons],
        valid_on=list(ticket.valid_on) if ticket.valid_on else None)


def order_lines(order: Order) -> list[OrderLine]:
    """Each delegate's price lines, named after the delegate when there are several; an
    order that pays for a change: what the change adds and drops, named after its
    delegate."""
    if order.change is not None:
        r = order.change.registration
        name = full_name(r.given_name, r.family_name, r.name_order)
        return [OrderLine(registration_id=r.id, amount=line["amount"],
                          description=f"Change for {name}: {line['description']}")
                for line in order.change.lines]
    places = holders(order)
    return [OrderLine(registration_id=r.id, amount=line["amount"], description=(
                f"{full_name(r.given_name, r.family_name, r.name_order)}: {line['description']}"
                if len(places) > 1 else line["description"]))
            for r in places for line in r.price_lines]


def paid_for(order: Order) -> list[tuple[Registration, int]]:
    """The delegates an order pays for, each with their share: its places, or the delegate
    whose change it pays for (the difference)."""
    if order.change is not None:
        return [(order.change.registration, order.change.difference)]
    return [(r, r.amount_due) for r in holders(order)]


def order_data(order: Order, catalog: Catalog) -> OrderData:
    return OrderData(
        order_id=order.id, reference=order.reference, status=order.status,
        payment_method=order.payment_method, amount_due=order.amount_due,
        vat_amount=order.vat_amount, vat_rate_percent=order.vat_rate_percent,
        currency=order.currency, lines=order_lines(order),
        buyer=Buyer(name=order.buyer_name, email=order.buyer_email,
                    organisation=order.buyer_organisation, country=order.buyer_country,
                    billing_address=order.billing_address, vat_number=order.billing_vat_number,
                    purchase_order=order.purchase_order),
        delegates=[OrderDelegate(
            registration_id=r.id, reference=r.reference,
            name=full_name(r.given_name, r.family_name, r.name_order), email=r.email,
            ticket_type_name=catalog.ticket_type(r.ticket_type).name, status=r.status,
            amount_due=share) for r, share in paid_for(order)],
        hold_expires_at=order.hold_expires_at, conference=conference_facts(catalog),
        change_of=order.change.registration_id if order.change else None,
        **(invoice_terms(order, catalog) if order.payment_method == "invoice" else
           card_terms(order, catalog)))


def invoice_terms(order: Order, catalog: Catalog) -> dict:
    """What an invoice order's events add: where to pay, and when to remind the buyer."""
    terms = catalog.invoice
    if terms is None:
        return {}
    return {"bank_account": BankAccount(**terms.bank.model_dump()),
            "payment_reminders_at": domain.reminders(terms, order.created_at,
                                                     order.hold_expires_at)
            if order.status == Status.PENDING_PAYMENT and order.hold_expires_at else []}


def card_terms(order: Order, catalog: Catalog) -> dict:
    """What an unpaid card order's events add: when to remind the buyer to pay."""
    if order.status != Status.PENDING_PAYMENT or not order.hold_expires_at:
        return {}
    return {"payment_reminders_at": domain.card_reminders(catalog.conference, order.created_at,
                                                          order.hold_expires_at)}


def announce(uow: UnitOfWork, catalog: Catalog, event_type: str,
             registrations: Iterable[Registration], **extra) -> None:
    """Publish ``event_type`` for each registration; ``extra`` fields are the same on each
    (or a function of the registration)."""
    for registration in registrations:
        fields = {k: v(registration) if callable(v) else v for k, v in extra.items()}
        uow.publish(event_type, {**registration_data(registration, catalog).model_dump(),
                                 **fields})


def announce_order(uow: UnitOfWork, catalog: Catalog, event_type: str, order: Order,
                   **extra) -> None:
    uow.publish(event_type, {**order_data(order, catalog).model_dump(), **extra})

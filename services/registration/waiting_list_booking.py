"""Booking with a place offered from a waiting list: an order placed as any other
(``booking.place_order``), in the transaction that gives it the places the offer held, so
that it never needs a second one. Two clicks on one offer never book twice: the entry is
locked, and the booking's Idempotency-Key is the offer's own."""

from collections import Counter
from datetime import datetime

from services.registration import booking, domain
from services.registration.domain import WaitingStatus
from services.registration.models import Catalogs, Order, WaitingListEntry, release_places
from services.registration.schemas import DelegateRequest, OrderRequest
from services.registration.waiting_list import (
    close_entry,
    find_entry,
    hold,
    item_of,
    locked_limits,
)
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, Refusal


def booking_key(entry_id: str) -> str:
    """The Idempotency-Key of the booking an offer makes: one booking per offer."""
    return f"waiting-list-offer:{entry_id}"


def book(uow: UnitOfWork, catalogs: Catalogs, entry_id: str, request: OrderRequest,
         now: datetime, client) -> Order:
    """Book with the place offered: an order placed as any other (``booking.place_order``,
    ``client`` passing the abuse limits), in the transaction that gives it the places the
    offer held; asked again, the order it made."""
    entry = find_entry(uow, entry_id, lock=True)
    if entry.status == WaitingStatus.TAKEN:  # a second click, or a retry after a lost answer
        return _booked_before(uow, catalogs, request, entry_id, now)
    if entry.status != WaitingStatus.OFFERED or entry.offer_expires_at <= now:
        raise _not_offered(entry)
    catalog = catalogs.current(uow.session)
    if not any(domain.books_item(entry.item, d.ticket_type, tuple(d.add_ons))
               for d in request.delegates):
        raise Invalid(f"The place offered is for {item_of(catalog, entry.item).name!r}: choose "
                      "it for a delegate.", _field_of(entry.item), code="offer_not_chosen")
    uow.publish("waiting_list_offer_taken", {
        "entry_id": entry.id, "item": item_of(catalog, entry.item),
        "offered_at": entry.offered_at, "taken_at": now})
    close_entry(uow, entry, WaitingStatus.TAKEN, now)
    offered = domain.offer_places(entry.item)
    # Every limit the booking takes, locked in key order before it takes them.
    limits = locked_limits(uow, {*offered, *_limits_of(request.delegates)})
    beyond = Counter({key: limits[key][1] - limits[key][0] for key in offered
                      if limits[key][1] > limits[key][0]})
    release_places(uow.session, Counter(offered) + beyond)
    booking_uow = _ClaimsLent(uow, beyond)
    try:
        order = booking.place_order(booking_uow, catalogs, request.buyer, request.delegates,
                                    request.payment_method, now,
                                    idempotency_key=booking_key(entry_id), client=client)
    except Refusal:
        booking_uow.rollback()  # the offer stays as it was
        raise
    # place_order has committed, but for one case: it answers with the order it made for
    # this offer before (when a reference drawn twice made it book again, without the
    # offer's places); the offer is taken all the same.
    booking_uow.commit()
    return order


class _ClaimsLent:
    """The unit of work of a booking with the place offered. What a limit holds past its
    capacity (the list's claims for those still waiting) would refuse the booking that
    place: it is lent, released while the booking takes its places, and held again in the
    transaction that commits it; a rollback undoes the lending with the rest."""

    def __init__(self, uow: UnitOfWork, lent: Counter):
        self.uow, self.lent, self.session = uow, lent, uow.session

    def publish(self, event_type: str, data):
        return self.uow.publish(event_type, data)

    def commit(self) -> None:
        hold(self.uow, self.lent)
        self.lent = Counter()
        self.uow.commit()

    def rollback(self) -> None:
        self.lent = Counter()
        self.uow.rollback()


def _booked_before(uow: UnitOfWork, catalogs: Catalogs, request: OrderRequest, entry_id: str,
                   now: datetime) -> Order:
    """The order an offer made (place_order answers with it, the same request again)."""
    try:
        return booking.place_order(uow, catalogs, request.buyer, request.delegates,
                                   request.payment_method, now,
                                   idempotency_key=booking_key(entry_id))
    except Conflict as refused:
        if refused.code != "idempotency_key_reused":
            raise
        raise Conflict("This offer was used for a booking already: its links are in the "
                       "booking's emails.", "status", code="offer_taken") from None


def _not_offered(entry: WaitingListEntry) -> Conflict:
    if entry.status == WaitingStatus.WAITING:
        return Conflict("No place is offered to you yet: you will get an email when one "
                        "frees.", "status", code="not_offered_yet")
    if entry.status == WaitingStatus.LEFT:
        return Conflict("You left this waiting list.", "status", code="left_the_list")
    return Conflict("This offer has lapsed: the place went to the next person in line.",
                    "status", code="offer_lapsed")


def _field_of(item: str) -> str:
    return "delegates[0].ticket_type" if item.startswith("ticket_type:") else \
        "delegates[0].add_ons"


def _limits_of(delegates: list[DelegateRequest]) -> set[str]:
    """The limits a booking of these delegates takes places of."""
    return {key for d in delegates
            for key in domain.limits_taken(d.ticket_type, tuple(d.add_ons), d.discount_code)}

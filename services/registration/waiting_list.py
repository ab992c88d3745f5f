"""The waiting list of a sold-out ticket type or add-on.

Whoever joins gives a name, an email and what they want; the answer is the same whether or
not the address was on that list already, and says nothing of anyone else on it. While
people wait for an item, the list claims one place of the item's own limit for each of
them, held past the capacity if need be (``domain.offers_to_make``): the catalog shows the
item sold out, and a place that frees (a cancellation, an expiry, a bigger capacity) cannot
be booked by the public. A sweeper on every instance offers each such place to the next
person in line: their claim becomes an offer holding the places a booking of the item
needs, for the catalog's ``waiting_list.offer_hours``, and they get an email with their
private link; booking through it is ``waiting_list_booking``. An offer not taken in time
lapses, and its places go to the next person, or back on sale when nobody waits. An entry
that closes (taken, lapsed, left) forgets the person's name and email. The entrypoints are
``waiting_list_api``.

Every change to what a list holds locks the limits' rows in key order, as ``take_places``
does, in the transaction that changes the entry: two sweepers never offer one place twice.
"""

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update

from services.registration import domain
from services.registration.catalog import Catalog
from services.registration.domain import CONFERENCE, WaitingStatus
from services.registration.models import Catalogs, Limit, WaitingListEntry, release_places
from services.registration.orders import conference_facts, today
from services.registration.waiting_list_schemas import (
    WaitingListEntryView,
    WaitingListFigures,
    WaitingListItemView,
    WaitingListReport,
    WaitingListRequest,
)
from shared.db import UnitOfWork
from shared.errors import Conflict, Invalid, NotFound
from shared.events.contracts import WaitingListItem, WaitingPerson
from shared.privacy import ERASED_EMAIL, ERASED_NAME, forget_published_events


def locked_limits(uow: UnitOfWork, keys: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Each limit's (capacity, held), its row locked until the transaction ends; locked in
    key order, as ``take_places`` locks them, so that the two never deadlock."""
    limits = Limit.__table__.c
    rows = uow.session.connection().execute(
        select(limits.key, limits.capacity, limits.held).where(limits.key.in_(set(keys)))
        .order_by(limits.key).with_for_update()).all()
    return {key: (capacity, held) for key, capacity, held in rows}


def hold(uow: UnitOfWork, places: Counter) -> None:
    """Hold more places, unchecked: the caller has checked under the rows' locks (a claim
    may pass the capacity)."""
    limits = Limit.__table__.c
    for key, count in places.items():
        uow.session.connection().execute(update(Limit.__table__).where(limits.key == key)
                                         .values(held=limits.held + count))


def item_of(catalog: Catalog, item: str) -> WaitingListItem:
    kind, _, code = item.partition(":")
    return WaitingListItem(kind=kind, code=code, name=domain.item_name(catalog, item) or code)


def _person(entry: WaitingListEntry) -> WaitingPerson:
    return WaitingPerson(given_name=entry.given_name, family_name=entry.family_name,
                         email=entry.email)


def find_entry(uow: UnitOfWork, entry_id: str, lock: bool = False) -> WaitingListEntry:
    """The entry with this id (its row locked, and read afresh, if ``lock``), or NotFound."""
    found = None
    try:
        uuid.UUID(entry_id)
        found = uow.session.get(WaitingListEntry, entry_id, with_for_update=lock,
                                populate_existing=lock)
    except ValueError:
        pass
    if found is None:
        raise NotFound("No place on a waiting list has this id.", "entry_id")
    return found


def join(uow: UnitOfWork, catalog: Catalog, request: WaitingListRequest, now: datetime) -> None:
    """Put someone on the list of a sold-out item, claiming a place of it for them, and
    announce it; nothing changes when the address is on that list already."""
    item = domain.waiting_list_item(request.kind, request.code)
    name = domain.item_name(catalog, item)
    if name is None:
        raise Invalid("Nothing of this kind and code is on sale.", "code", code="unknown_item")
    keys = domain.offer_places(item)
    limits = locked_limits(uow, keys)
    if len(limits) != len(keys):
        raise Conflict("The catalog changed just now; please try again.",
                       code="catalog_changed")
    if domain.left_for_public(item, limits) > 0:
        raise Conflict(f"{name!r} is not sold out: book it instead.", "code",
                       code="not_sold_out")
    email_key = request.email.casefold()
    already = uow.session.scalar(select(WaitingListEntry.id).where(
        WaitingListEntry.item == item, WaitingListEntry.email_key == email_key,
        WaitingListEntry.status.in_(domain.OPEN)))
    if already is None:
        entry = WaitingListEntry(
            id=str(uuid.uuid4()), item=item, status=WaitingStatus.WAITING,
            given_name=request.given_name, family_name=request.family_name,
            email=request.email, email_key=email_key, joined_at=now)
        uow.session.add(entry)
        hold(uow, Counter({item: 1}))
        uow.publish("waiting_list_joined", {
            "entry_id": entry.id, "item": item_of(catalog, item), "person": _person(entry),
            "joined_at": now, "offer_hours": catalog.waiting_list.offer_hours,
            "conference": conference_facts(catalog)})
    uow.commit_unless_duplicate()  # the same address, joining at the same moment: once


def offer_freed_places(uow: UnitOfWork, catalogs: Catalogs, now: datetime) -> int:
    """The sweeper: lapse the offers whose time is up, then offer every place the lists may
    have to the next people in line, one item per transaction; how many offers were made.
    Once the conference is over, the lists close instead."""
    catalog = catalogs.current(uow.session)
    if domain.list_closed(catalog.conference, today(catalog, now)):
        close(uow, catalog, now, "expired")
        uow.commit()
        return 0
    _lapse_offers(uow, catalog, now)
    uow.commit()
    made = 0
    for item in uow.session.scalars(select(WaitingListEntry.item).where(
            WaitingListEntry.status == WaitingStatus.WAITING).distinct()).all():
        made += _offer(uow, catalog, item, now)
        uow.commit()
    return made


def _offer(uow: UnitOfWork, catalog: Catalog, item: str, now: datetime) -> int:
    """Offer the places of ``item`` that the list may have now to the first in line."""
    limits = locked_limits(uow, domain.offer_places(item))
    entries = WaitingListEntry.__table__.c
    waiting = uow.session.scalar(select(func.count()).select_from(WaitingListEntry.__table__)
                                 .where(entries.item == item,
                                        entries.status == WaitingStatus.WAITING))
    count = domain.offers_to_make(item, limits, waiting)
    if not count:
        return 0
    # Someone leaving at this very moment holds their entry's lock: skip them, not wait.
    first = uow.session.scalars(
        select(WaitingListEntry).where(WaitingListEntry.item == item,
                                       WaitingListEntry.status == WaitingStatus.WAITING)
        .order_by(WaitingListEntry.joined_at, WaitingListEntry.id).limit(count)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)).all()
    if item.startswith("ticket_type:"):  # the claim was on the ticket type: a seat too
        hold(uow, Counter({CONFERENCE: len(first)}))
    expires = domain.offer_expires(catalog, now)
    for entry in first:
        entry.status, entry.offered_at, entry.offer_expires_at = (
            WaitingStatus.OFFERED, now, expires)
        uow.publish("waiting_list_offer_made", {
            "entry_id": entry.id, "item": item_of(catalog, item), "person": _person(entry),
            "offered_at": now, "expires_at": expires, "conference": conference_facts(catalog)})
    return len(first)


def _lapse_offers(uow: UnitOfWork, catalog: Catalog, now: datetime, batch: int = 200) -> None:
    due = uow.session.scalars(
        select(WaitingListEntry).where(WaitingListEntry.status == WaitingStatus.OFFERED,
                                       WaitingListEntry.offer_expires_at <= now)
        .order_by(WaitingListEntry.offer_expires_at).limit(batch)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)).all()
    _close_all(uow, catalog, due, now)


def close(uow: UnitOfWork, catalog: Catalog, now: datetime, reason: str,
          email: str | None = None) -> None:
    """Close every open entry (of one address, if ``email``), its place going to the next in
    line. The caller commits."""
    query = select(WaitingListEntry).where(WaitingListEntry.status.in_(domain.OPEN))
    if email is not None:
        query = query.where(WaitingListEntry.email_key == email.casefold())
    found = uow.session.scalars(query.order_by(WaitingListEntry.joined_at).with_for_update()
                                .execution_options(populate_existing=True)).all()
    _close_all(uow, catalog, found, now, reason)


def _close_all(uow: UnitOfWork, catalog: Catalog, entries: list[WaitingListEntry],
               now: datetime, reason: str = "expired") -> None:
    """Close open entries: a waiting one leaves (its claim goes), an offered one lapses for
    ``reason``; the places they held go to the next in line, or back on sale."""
    freed = Counter()
    for entry in entries:
        if entry.status == WaitingStatus.WAITING:
            freed[entry.item] += 1
            close_entry(uow, entry, WaitingStatus.LEFT, now)
            continue
        freed.update(domain.offer_places(entry.item))
        uow.publish("waiting_list_offer_lapsed", {
            "entry_id": entry.id, "item": item_of(catalog, entry.item),
            "offered_at": entry.offered_at, "lapsed_at": now, "reason": reason})
        close_entry(uow, entry, WaitingStatus.LAPSED, now)
    if freed:
        locked_limits(uow, freed)
        release_places(uow.session, freed)


def close_entry(uow: UnitOfWork, entry: WaitingListEntry, status: WaitingStatus,
            now: datetime) -> None:
    """The entry closed, and the person forgotten, here and in the published events that
    named them."""
    entry.status, entry.closed_at = status, now
    entry.given_name, entry.family_name = ERASED_NAME, ""
    entry.email = entry.email_key = ERASED_EMAIL
    forget_published_events(uow, [entry.id])


def leave(uow: UnitOfWork, catalog: Catalog, entry_id: str, now: datetime) -> WaitingListEntry:
    """Leave a list, or turn the offered place down: it goes to the next person in line.
    Once closed, an entry stays as it is."""
    entry = find_entry(uow, entry_id, lock=True)
    if entry.status in domain.OPEN:
        _close_all(uow, catalog, [entry], now, reason="declined")
    uow.commit()
    return entry


def export(uow: UnitOfWork, email: str) -> list[dict]:
    """The open entries of an address (a closed one holds nobody's name or email)."""
    return [{"item": entry.item, "status": entry.status, "given_name": entry.given_name,
             "family_name": entry.family_name, "email": entry.email,
             "joined_at": entry.joined_at, "offer_expires_at": entry.offer_expires_at}
            for entry in uow.session.scalars(select(WaitingListEntry).where(
                WaitingListEntry.email_key == email.casefold(),
                WaitingListEntry.status.in_(domain.OPEN)).order_by(WaitingListEntry.joined_at))]


def entry_view(entry: WaitingListEntry, catalog: Catalog) -> WaitingListEntryView:
    return WaitingListEntryView(
        id=entry.id, status=entry.status,
        item=WaitingListItemView(**item_of(catalog, entry.item).model_dump()),
        given_name=entry.given_name, family_name=entry.family_name, email=entry.email,
        joined_at=entry.joined_at,
        offer_expires_at=entry.offer_expires_at if entry.status == WaitingStatus.OFFERED
        else None)


def report(uow: UnitOfWork, catalog: Catalog) -> WaitingListReport:
    """Each list that anyone joined, in the catalog's order: who waits, and what became of
    the offers."""
    counts = Counter({(item, status): count for item, status, count in uow.session.execute(
        select(WaitingListEntry.item, WaitingListEntry.status, func.count())
        .group_by(WaitingListEntry.item, WaitingListEntry.status))})
    items = [domain.waiting_list_item("ticket_type", t.code) for t in catalog.ticket_types] + \
        [domain.waiting_list_item("add_on", a.code) for a in catalog.add_ons]
    lists = []
    for item in items:
        by_status = {status: counts[item, status] for status in WaitingStatus}
        if any(by_status.values()):
            lists.append(WaitingListFigures(
                **item_of(catalog, item).model_dump(), **by_status,
                conversion=domain.conversion(by_status["taken"], by_status["lapsed"])))
    return WaitingListReport(offer_hours=catalog.waiting_list.offer_hours, lists=lists)

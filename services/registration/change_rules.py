"""Rules of changing a confirmed booking: what the new items cost, which places change
hands, and what goes back. Pure: no I/O, no clock.

A change is priced with the rules of booking as they stood when the delegate booked:
the same member price, the same code (its validity window as at the booking), the early
bird if the booking had it, the catalog's prices and VAT as they are. The difference is
what is paid (apart, before the change takes effect) or given back under the refund
policy (at once).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from services.registration import domain
from services.registration.catalog import Catalog, Conference
from services.registration.domain import Quote, Refused


@dataclass(frozen=True)
class Booked:
    """A delegate's booking as it stands: its items and how it was priced."""

    ticket_type: str
    add_ons: tuple[str, ...]
    member_price: bool
    discount_code: str | None
    complimentary: bool
    booked_on: date
    amount_due: int


@dataclass(frozen=True)
class ChangeQuote:
    ticket_type: str
    add_ons: tuple[str, ...]
    quote: Quote
    difference: int  # cents: the new price less the old
    refund_due: int  # cents given back now under the policy (a change that costs less)
    take: Counter  # the places the change takes...
    free: Counter  # ...and those it frees

    @property
    def to_pay(self) -> int:
        return max(self.difference, 0)


def changes_closed(conference: Conference, today: date) -> bool:
    """Whether the day is past the last on which a booking may be changed online."""
    return today > conference.last_change_day


def quote_change(catalog: Catalog, booked: Booked, ticket_type: str | None,
                 add_ons: tuple[str, ...] | None, today: date,
                 by_organiser: bool = False) -> ChangeQuote:
    """Price ``booked`` with another ticket type and/or other add-ons (None: as they are),
    or refuse the change with the field at fault."""
    ticket_type = booked.ticket_type if ticket_type is None else ticket_type
    add_ons = booked.add_ons if add_ons is None else tuple(add_ons)
    if (ticket_type, sorted(add_ons)) == (booked.ticket_type, sorted(booked.add_ons)):
        raise Refused(None, "no_change", "This is what the booking already holds.")
    wanted = domain.Order(ticket_type, add_ons)
    ticket = catalog.ticket_type(ticket_type)
    if ticket is None:
        raise Refused("ticket_type", "unknown_ticket_type", "This ticket type is not on sale.")
    domain.check_add_ons(catalog, wanted)
    discount = catalog.discount_code(booked.discount_code) if booked.discount_code else None
    if discount is not None and ticket_type not in discount.ticket_types:
        raise Refused("ticket_type", "code_not_for_ticket_type",
                      f"The code {discount.code} of this booking does not apply to "
                      f"{ticket.name!r}; please ask the organisers.")
    if ticket.requires_code and discount is None and ticket_type != booked.ticket_type \
            and not by_organiser:
        raise Refused("ticket_type", "code_required",
                      f"{ticket.name!r} needs a code; please ask the organisers.")
    quote = domain.priced(catalog, wanted, booked.member_price, discount, booked.booked_on)
    if booked.complimentary:
        quote = domain.complimentary(quote)
    difference = quote.total - booked.amount_due
    before = places(booked.ticket_type, booked.add_ons, booked.discount_code)
    after = places(ticket_type, add_ons, booked.discount_code)
    return ChangeQuote(
        ticket_type=ticket_type, add_ons=add_ons, quote=quote, difference=difference,
        refund_due=domain.refund_due(catalog.conference, -difference, today)
        if difference < 0 else 0,
        take=after - before, free=before - after)


def places(ticket_type: str, add_ons: tuple[str, ...], discount_code: str | None) -> Counter:
    return Counter(domain.limits_taken(ticket_type, tuple(add_ons), discount_code))


def refusal_for_place(key: str, catalog: Catalog, wanted: tuple[str, ...]) -> Refused:
    """Why a change cannot take a place of the limit ``key``; ``wanted``: its add-ons."""
    return domain.refusal_for(key, catalog, domain.Order("", wanted))


def change_lines(booked_lines: list[dict], after: ChangeQuote) -> list[dict]:
    """What a change is priced with, line by line: each line of the new price that the
    booking's lines (``booked_lines``, as stored) did not have, and each of theirs that
    the new price drops, negated. They add up to the difference."""
    old = {(line["kind"], line["code"]): line for line in booked_lines}
    new = {(line.kind, line.code): dict(line.__dict__) for line in after.quote.lines}
    lines = [{**line, "description": f"{line['description']} (added)"}
             for key, line in new.items() if old.get(key) != line]
    lines += [{**line, "amount": -line["amount"],
               "description": f"{line['description']} (no longer booked)"}
              for key, line in old.items() if new.get(key) != line]
    return [line for line in lines if line["amount"]]

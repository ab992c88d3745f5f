"""Rules of registration: prices, capacity, states, refunds. Pure: no I/O, no clock."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.registration.catalog import Catalog, Conference, DiscountCode, InvoiceTerms


class Refused(Exception):
    """A request the rules refuse, naming the field at fault."""

    def __init__(self, field: str | None, code: str, message: str):
        super().__init__(message)
        self.field, self.code, self.message = field, code, message

    def within(self, prefix: str) -> "Refused":
        """The same refusal, for a field inside ``prefix`` (``delegates[2]``)."""
        return Refused(f"{prefix}.{self.field}" if self.field else prefix, self.code,
                       self.message)


@dataclass(frozen=True)
class Order:
    ticket_type: str
    add_ons: tuple[str, ...] = ()
    member_code: str | None = None
    discount_code: str | None = None


@dataclass(frozen=True)
class PriceLine:
    kind: str  # ticket, add_on or discount
    code: str
    description: str
    amount: int  # cents, VAT included; negative for a discount


@dataclass(frozen=True)
class Quote:
    lines: tuple[PriceLine, ...]
    total: int
    vat_amount: int
    vat_rate_percent: Decimal
    currency: str
    member_price: bool
    early_bird: bool
    discount_code: str | None


def round_cents(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_included(gross: int, rate_percent: Decimal) -> int:
    """The VAT inside a VAT-inclusive amount."""
    return gross - round_cents(Decimal(gross) * 100 / (100 + rate_percent))


def discount_amount(code: DiscountCode, price: int) -> int:
    if code.kind == "free":
        return price
    if code.kind == "percent":
        return round_cents(Decimal(price) * code.value / 100)
    if code.kind == "fixed":
        return min(code.value, price)
    return 0


def usable_code(catalog: Catalog, code: str, ticket_type: str, today: date) -> DiscountCode:
    discount = catalog.discount_code(code)
    if discount is None:
        raise Refused("discount_code", "unknown_code", "This code is not known.")
    if (discount.valid_from and today < discount.valid_from) or (
        discount.valid_until and today > discount.valid_until
    ):
        raise Refused("discount_code", "code_not_valid_now", "This code is not valid today.")
    if ticket_type not in discount.ticket_types:
        raise Refused("discount_code", "code_not_for_ticket_type",
                      "This code does not apply to the chosen ticket type.")
    return discount


def quote(catalog: Catalog, order: Order, today: date, by_organiser: bool = False) -> Quote:
    """Price an order, or refuse it with the field at fault. An organiser needs no code
    for a ticket type that requires one."""
    ticket = catalog.ticket_type(order.ticket_type)
    if ticket is None:
        raise Refused("ticket_type", "unknown_ticket_type", "This ticket type is not on sale.")
    check_add_ons(catalog, order)
    member = bool(order.member_code)
    if member and not catalog.is_member_code(order.member_code):
        raise Refused("member_code", "invalid_member_code", "This member code is not valid.")
    discount = None
    if order.discount_code:
        discount = usable_code(catalog, order.discount_code, ticket.code, today)
    elif ticket.requires_code and not by_organiser:
        raise Refused("discount_code", "code_required",
                      f"A code is needed for the ticket type {ticket.name!r}.")
    return priced(catalog, order, member, discount, today)


def priced(catalog: Catalog, order: Order, member: bool, discount: DiscountCode | None,
           today: date) -> Quote:
    """The quote of an order whose codes are settled: member price or not, a discount."""
    ticket = catalog.ticket_type(order.ticket_type)
    early_bird = ticket.early_bird is not None and today <= ticket.early_bird.until
    prices = ticket.early_bird if early_bird else ticket.prices
    ticket_price = prices.member if member else prices.non_member
    label = ("member" if member else "non-member") + (", early bird" if early_bird else "")
    lines = [PriceLine("ticket", ticket.code, f"{ticket.name} ({label})", ticket_price)]
    if discount is not None and discount_amount(discount, ticket_price):
        lines.append(PriceLine("discount", discount.code, f"Code {discount.code}",
                               -discount_amount(discount, ticket_price)))
    for code in order.add_ons:
        add_on = catalog.add_on(code)
        lines.append(PriceLine("add_on", add_on.code, add_on.name, add_on.price))
    total = sum(line.amount for line in lines)
    rate = catalog.conference.vat_rate_percent
    return Quote(
        lines=tuple(lines),
        total=total,
        vat_amount=vat_included(total, rate),
        vat_rate_percent=rate,
        currency=catalog.conference.currency,
        member_price=member,
        early_bird=early_bird,
        discount_code=discount.code if discount else None,
    )


def check_add_ons(catalog: Catalog, order: Order) -> None:
    groups: dict[str, str] = {}
    for index, code in enumerate(order.add_ons):
        where = f"add_ons[{index}]"
        add_on = catalog.add_on(code)
        if add_on is None:
            raise Refused(where, "unknown_add_on", f"The add-on {code!r} is not on sale.")
        if order.add_ons.index(code) != index:
            raise Refused(where, "duplicate_add_on", f"The add-on {code!r} is listed twice.")
        if add_on.ticket_types is not None and order.ticket_type not in add_on.ticket_types:
            raise Refused(where, "add_on_not_for_ticket_type",
                          f"{add_on.name!r} is not available with this ticket type.")
        if add_on.exclusive_group:
            if add_on.exclusive_group in groups:
                raise Refused(where, "add_ons_clash",
                              f"{add_on.name!r} runs at the same time as "
                              f"{groups[add_on.exclusive_group]!r}; choose one.")
            groups[add_on.exclusive_group] = add_on.name


CONFERENCE = "conference"


def limits(catalog: Catalog) -> dict[str, int]:
    """Every limit of the sale, by key: the conference, each ticket type, add-on and code."""
    return {
        CONFERENCE: catalog.conference.capacity,
        **{f"ticket_type:{t.code}": t.capacity for t in catalog.ticket_types},
        **{f"add_on:{a.code}": a.capacity for a in catalog.add_ons},
        **{f"code:{d.code}": d.max_uses for d in catalog.discount_codes},
    }


def limits_taken(ticket_type: str, add_ons: tuple[str, ...], discount_code: str | None
                 ) -> list[str]:
    """The limits a registration takes one place of while it holds its seats."""
    keys = [CONFERENCE, f"ticket_type:{ticket_type}", *(f"add_on:{code}" for code in add_ons)]
    return keys + [f"code:{discount_code}"] if discount_code else keys


def refusal_for(key: str, catalog: Catalog, order: Order) -> Refused:
    """Why an order cannot have a place of the limit ``key``."""
    kind, _, code = key.partition(":")
    if kind == CONFERENCE:
        return Refused("ticket_type", "conference_full", "The conference is fully booked.")
    if kind == "ticket_type":
        name = catalog.ticket_type(code).name
        return Refused("ticket_type", "sold_out", f"{name!r} is sold out.")
    if kind == "add_on":
        return Refused(f"add_ons[{order.add_ons.index(code)}]", "sold_out",
                       f"{catalog.add_on(code).name!r} is fully booked.")
    return Refused("discount_code", "code_used_up", "This code has been used up.")


def remaining(capacity: int, held: int) -> int:
    return max(capacity - held, 0)


class Status(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Which action moves a registration from which status to which.
TRANSITIONS = {
    "confirm": {Status.PENDING_PAYMENT: Status.CONFIRMED, Status.EXPIRED: Status.CONFIRMED},
    "expire": {Status.PENDING_PAYMENT: Status.EXPIRED},
    "cancel": {Status.PENDING_PAYMENT: Status.CANCELLED, Status.CONFIRMED: Status.CANCELLED,
               Status.EXPIRED: Status.CANCELLED},
}


class InvalidTransition(Exception):
    pass


def transition(status: Status, action: str) -> Status:
    try:
        return TRANSITIONS[action][Status(status)]
    except KeyError:
        raise InvalidTransition(f"cannot {action} a registration that is {status}") from None


HOLDS_SEATS = {Status.PENDING_PAYMENT, Status.CONFIRMED}


def seat_change(old: Status, new: Status) -> int:
    """+1 when a move takes seats, -1 when it frees them, 0 otherwise."""
    return (new in HOLDS_SEATS) - (old in HOLDS_SEATS)


def share_of_refund(refund: int, shares: list[int]) -> list[int]:
    """Split ``refund`` over delegates in proportion to their ``shares``, to the cent,
    the rounding left on the last one that has a share."""
    total = sum(shares)
    if not total:
        return [0] * len(shares)
    split = [refund * share // total for share in shares]
    last = max(i for i, share in enumerate(shares) if share)
    split[last] += refund - sum(split)
    return split


def hold_until(catalog: Catalog, payment_method: str, now: datetime) -> datetime:
    """When an unpaid order's hold ends: the catalog's hold time for a card, its invoice
    period for an invoice."""
    if payment_method == "invoice":
        return now + timedelta(days=catalog.invoice.period_days)
    return now + timedelta(minutes=catalog.conference.hold_minutes)


def card_reminders(conference: Conference, placed_at: datetime, hold_ends: datetime
                   ) -> list[datetime]:
    """When to remind the buyer of an unpaid card order: once, the catalog's minutes before
    the hold ends, if that is after it was placed."""
    minutes = conference.payment_reminder_minutes
    at = hold_ends - timedelta(minutes=minutes)
    return [at] if minutes and at > placed_at else []


def invoice_offered(catalog: Catalog, today: date) -> None:
    """Refuse paying by invoice when the catalog does not offer it (any more)."""
    terms = catalog.invoice
    if terms is None or (terms.offered_until and today > terms.offered_until):
        raise Refused("payment_method", "invoice_not_offered",
                      "Paying by invoice is not offered now; please pay by card.")


def reminders(terms: InvoiceTerms, placed_at: datetime, hold_ends: datetime
              ) -> list[datetime]:
    """When to remind the buyer of an unpaid invoice: the catalog's days before the hold
    ends, those still after the order was placed, earliest first."""
    times = {hold_ends - timedelta(days=days) for days in terms.reminder_days_before}
    return sorted(t for t in times if t > placed_at)


def complimentary(quote: Quote) -> Quote:
    """The quote with everything given away: an organiser's complimentary place."""
    if not quote.total:
        return quote
    line = PriceLine("discount", "complimentary", "Complimentary", -quote.total)
    return replace(quote, lines=(*quote.lines, line), total=0, vat_amount=0)


def refund_percent(conference: Conference, today: date) -> int:
    """The share of the amount paid that a delegate's own cancellation gets back."""
    for step in sorted(conference.refund_policy, key=lambda s: s.until):
        if today <= step.until:
            return step.refund_percent
    return 0


def refund_due(conference: Conference, amount_paid: int, today: date) -> int:
    return round_cents(Decimal(amount_paid) * refund_percent(conference, today) / 100)


# The waiting list of a sold-out ticket type or add-on. While people wait for an item, the
# list claims one place of the item's own limit for each of them: counted as held, past
# the capacity if need be, so that a place that frees (a cancellation, an expiry, a bigger
# capacity) is the list's and not the public's until it is offered. An offer holds the
# places a booking of the item needs; taking it books with them; a lapsed one frees them.

class WaitingStatus(StrEnum):
    WAITING = "waiting"  # in line: the list claims a place for them
    OFFERED = "offered"  # a place is held for them until the offer expires
    TAKEN = "taken"  # they booked with it
    LAPSED = "lapsed"  # not taken in time, or declined: the place went to the next
    LEFT = "left"  # left the list before an offer (or the conference ended)


OPEN = (WaitingStatus.WAITING, WaitingStatus.OFFERED)
ITEM_KINDS = ("ticket_type", "add_on")


def waiting_list_item(kind: str, code: str) -> str:
    """What a list is for: the key of the item's own limit."""
    return f"{kind}:{code}"


def item_name(catalog: Catalog, item: str) -> str | None:
    """The catalog's name for a ticket type or add-on; None when it is not on sale."""
    kind, _, code = item.partition(":")
    found = catalog.ticket_type(code) if kind == "ticket_type" else catalog.add_on(code)
    return found.name if found else None


def offer_places(item: str) -> list[str]:
    """The limits an offer holds one place of, in key order (as places are locked): a
    ticket type needs a seat at the conference too."""
    return sorted([CONFERENCE, item]) if item.startswith("ticket_type:") else [item]


def left_for_public(item: str, limits: dict[str, tuple[int, int]]) -> int:
    """What the catalog shows left of an item, from each limit's (capacity, held)."""
    return min(remaining(*limits[key]) for key in offer_places(item))


def offers_to_make(item: str, limits: dict[str, tuple[int, int]], waiting: int) -> int:
    """How many of the ``waiting`` may be offered a place of ``item`` now: its places that
    neither registrations nor offers hold (``held`` counts a claim for each of the waiting)
    and, for a ticket type, as many seats left at the conference."""
    capacity, held = limits[item]
    free = capacity - (held - waiting)
    if item.startswith("ticket_type:"):
        free = min(free, remaining(*limits[CONFERENCE]))
    return max(min(free, waiting), 0)


def offer_expires(catalog: Catalog, now: datetime) -> datetime:
    return now + timedelta(hours=catalog.waiting_list.offer_hours)


def books_item(item: str, ticket_type: str, add_ons: tuple[str, ...]) -> bool:
    """Whether a delegate's booking takes a place of ``item``."""
    return item in limits_taken(ticket_type, add_ons, None)


def list_closed(conference: Conference, today: date) -> bool:
    """Nobody waits for a conference that is over."""
    return today > conference.ends_on


def conversion(taken: int, lapsed: int) -> float | None:
    """The share of the offers that ended that were taken; None before any ended."""
    return round(taken / (taken + lapsed), 3) if taken + lapsed else None

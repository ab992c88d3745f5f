"""Abuse limits on placing orders: so that one client cannot hold the conference's scarce
places, or send email to any address, by booking again and again.

Before an order is placed (never for an organiser's complimentary one):
- bookings per client address and per buyer email within a window;
- open (unpaid) orders per client address and per buyer email;
- the places one client holds unpaid of any one ticket type or add-on, capped at a share
  of its capacity (at least a group's worth).
A refusal is :class:`TooManyRequests` (429) with the seconds until it would pass. The
counts live in the service's database, so every instance of the service sees the same.
Addresses and emails are kept only as keyed hashes, and attempts only for the longest
window.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from services.registration.domain import Status
from services.registration.models import BookingAttempt, Order, limits_in_force
from services.registration.orders import places_of
from shared.db import UnitOfWork
from shared.errors import TooManyRequests


@dataclass(frozen=True)
class AbuseLimits:
    """The limits, each tunable in ``ABUSE_LIMITS`` ("name=value,..."; windows as
    "count/seconds"), all off with ``RATE_LIMITS=off``."""

    bookings_per_client: tuple[int, int] = (10, 600)  # a busy office behind one address
    bookings_per_email: tuple[int, int] = (5, 3600)
    open_orders_per_client: int = 10
    open_orders_per_email: int = 3
    scarce_share: float = 0.25  # of an item's capacity one client may hold unpaid
    scarce_minimum: int = 10  # ... but always a group's worth
    links_per_client: tuple[int, int] = (10, 600)  # asking for one's links again
    links_per_email: tuple[int, int] = (3, 3600)
    joins_per_client: tuple[int, int] = (10, 600)  # joining waiting lists
    joins_per_email: tuple[int, int] = (5, 3600)

    @classmethod
    def from_config(cls, config: dict) -> AbuseLimits | None:
        if str(config.get("RATE_LIMITS", "on")).lower() in ("off", "0", "false", "no"):
            return None
        limits = cls()
        known = {field.name: field.type for field in fields(cls)}
        for pair in filter(None, str(config.get("ABUSE_LIMITS") or "").split(",")):
            name, _, value = (part.strip() for part in pair.partition("="))
            if name not in known:
                raise ValueError(f"ABUSE_LIMITS: unknown limit {name!r}")
            if "tuple" in str(known[name]):
                count, _, seconds = value.partition("/")
                parsed = (int(count), int(seconds))
            else:
                parsed = float(value) if "float" in str(known[name]) else int(value)
            limits = replace(limits, **{name: parsed})
        return limits

    @property
    def longest_window(self) -> int:
        return max(self.bookings_per_client[1], self.bookings_per_email[1],
                   self.links_per_client[1], self.links_per_email[1],
                   self.joins_per_client[1], self.joins_per_email[1])


def pseudonym(secret_key: str, kind: str, value: str) -> str:
    """A keyed hash: the same address or email gives the same key, and the key gives
    neither back."""
    digest = hmac.new(secret_key.encode(), f"abuse:{kind}:{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _seconds_until(moment: datetime | None, now: datetime) -> int:
    return math.ceil((moment - now).total_seconds()) if moment else 60


def _recent(uow: UnitOfWork, column, key: str, window: tuple[int, int], now: datetime,
            what: str) -> None:
    count, seconds = window
    times = uow.session.scalars(
        select(BookingAttempt.at).where(column == key,
                                        BookingAttempt.at > now - timedelta(seconds=seconds))
        .order_by(BookingAttempt.at).limit(count)).all()
    if len(times) >= count:
        raise TooManyRequests(
            f"Too many bookings from {what} in a short time; please wait a little.",
            code="too_many_bookings",
            retry_after=_seconds_until(times[0] + timedelta(seconds=seconds), now))


def _open_orders(uow: UnitOfWork, condition, limit: int, now: datetime, what: str) -> None:
    count, first_expiry = uow.session.execute(
        select(func.count(), func.min(Order.hold_expires_at))
        .where(condition, Order.status == Status.PENDING_PAYMENT)).one()
    if count >= limit:
        raise TooManyRequests(
            f"{what} already has {count} unpaid bookings: pay or cancel one first.",
            code="too_many_open_bookings", retry_after=_seconds_until(first_expiry, now))


@dataclass(frozen=True)
class Client:
    """Who is booking, as the limits see them."""

    limits: AbuseLimits
    key: str  # pseudonym of their address
    secret_key: str

    @classmethod
    def at(cls, limits: AbuseLimits, address: str, secret_key: str) -> Client:
        return cls(limits, pseudonym(secret_key, "client", address), secret_key)

    def admit(self, uow: UnitOfWork, email: str, wanted: Counter, now: datetime) -> None:
        admit(uow, self.limits, self.key, email, self.secret_key, wanted, now)

    def admit_link_request(self, uow: UnitOfWork, email: str, now: datetime) -> None:
        """Asking for one's links again: counted apart from bookings (their own keys), and
        whether or not the address has a booking, so that a refusal tells nothing."""
        self._admit_asking(uow, "links", email, self.limits.links_per_client,
                           self.limits.links_per_email, now)

    def admit_joining(self, uow: UnitOfWork, email: str, now: datetime) -> None:
        """Joining a waiting list: counted apart too, and whether or not the address is on
        that list already, so that a refusal tells nothing."""
        self._admit_asking(uow, "joins", email, self.limits.joins_per_client,
                           self.limits.joins_per_email, now)

    def _admit_asking(self, uow: UnitOfWork, kind: str, email: str,
                      per_client: tuple[int, int], per_email: tuple[int, int],
                      now: datetime) -> None:
        client_key = pseudonym(self.secret_key, f"{kind}-client", self.key)
        email_key = pseudonym(self.secret_key, f"{kind}-email", email.casefold())
        _recent(uow, BookingAttempt.client_key, client_key, per_client, now, "this address")
        _recent(uow, BookingAttempt.email_key, email_key, per_email, now, "this email address")
        uow.session.add(BookingAttempt(client_key=client_key, email_key=email_key, at=now))


def admit(uow: UnitOfWork, limits: AbuseLimits, client_key: str, email: str,
          secret_key: str, wanted: Counter, now: datetime) -> None:
    """Refuse the booking if it passes a limit; else count it (in the booking's own
    transaction, so a booking refused later for another reason is not counted). ``wanted``
    is the places it would hold unpaid: none for a free booking, confirmed at once."""
    email_key = pseudonym(secret_key, "email", email.casefold())
    _recent(uow, BookingAttempt.client_key, client_key, limits.bookings_per_client, now,
            "this address")
    _recent(uow, BookingAttempt.email_key, email_key, limits.bookings_per_email, now,
            "this email address")
    if wanted:
        _open_orders(uow, Order.client_key == client_key, limits.open_orders_per_client, now,
                     "This address")
        _open_orders(uow, func.lower(Order.buyer_email) == email.casefold(),
                     limits.open_orders_per_email, now, "This email address")
        _scarce(uow, limits, client_key, wanted, now)
    uow.session.execute(delete(BookingAttempt).where(
        BookingAttempt.at < now - timedelta(seconds=limits.longest_window)))
    uow.session.add(BookingAttempt(client_key=client_key, email_key=email_key, at=now))


def _scarce(uow: UnitOfWork, limits: AbuseLimits, client_key: str, wanted: Counter,
            now: datetime) -> None:
    pending = uow.session.scalars(select(Order).where(
        Order.client_key == client_key, Order.status == Status.PENDING_PAYMENT)).all()
    held = places_of(r for order in pending for r in order.registrations)
    capacities = limits_in_force(uow.session)
    for key, count in wanted.items():
        if not key.startswith(("ticket_type:", "add_on:")) or key not in capacities:
            continue
        cap = max(limits.scarce_minimum,
                  math.ceil(limits.scarce_share * capacities[key].capacity))
        if held[key] + count > cap:
            first_expiry = min((o.hold_expires_at for o in pending if o.hold_expires_at),
                               default=None)
            raise TooManyRequests(
                f"This address already holds {held[key]} unpaid places of what you chose; "
                f"at most {cap} may wait for payment at once.",
                code="holding_too_many", retry_after=_seconds_until(first_expiry, now))

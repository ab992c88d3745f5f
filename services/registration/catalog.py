"""The conference catalog: ticket types, add-ons, codes, limits and policies.

Seeded from ``catalog.yaml`` and replaceable during the sale. Plain values,
validated on load; no I/O beyond reading the file.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_CATALOG_FILE = Path(__file__).with_name("catalog.yaml")

Code = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
Cents = Field(ge=0, le=10_000_000)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prices(Item):
    member: int = Cents
    non_member: int = Cents


class EarlyBird(Prices):
    until: date


class RefundStep(Item):
    until: date
    refund_percent: int = Field(ge=0, le=100)


class Organiser(Item):
    name: str
    address: str
    vat_number: str


class BankAccount(Item):
    account_holder: str
    iban: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{10,40}$")
    bic: str = Field(pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    bank_name: str


class InvoiceTerms(Item):
    """Paying by invoice: how long an invoice order is held, when its buyer is reminded,
    until when it is offered, and where the transfer goes."""

    period_days: float = Field(gt=0, le=90)
    reminder_days_before: tuple[float, ...] = Field(
        (), description="days before the hold ends to remind the buyer, once each")
    offered_until: date | None = Field(None, description="the last day an invoice is offered")
    bank: BankAccount


class Conference(Item):
    name: str
    reference_prefix: str = Field(pattern=r"^[A-Z0-9]{2,8}$")
    starts_on: date
    ends_on: date
    venue: str
    timezone: str
    currency: Literal["EUR"]
    vat_rate_percent: Decimal = Field(ge=0, le=100)
    capacity: int = Field(ge=0)
    hold_minutes: float = Field(gt=0, le=7 * 24 * 60)
    payment_reminder_minutes: float = Field(
        10, ge=0, le=7 * 24 * 60, description="how long before an unpaid card order's hold "
        "ends its buyer is reminded once (0: never)")
    name_changes_until: date
    changes_until: date | None = Field(
        None, description="the last day a delegate may change their booking online (add or "
        "drop add-ons, swap a workshop, change ticket type); absent: name_changes_until")
    refund_policy: tuple[RefundStep, ...] = ()
    organiser: Organiser

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value):
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def last_change_day(self) -> date:
        return self.changes_until or self.name_changes_until


class TicketType(Item):
    code: str = Code
    name: str
    role: Literal["delegate", "speaker", "exhibitor", "staff", "press", "volunteer"]
    capacity: int = Field(ge=0)
    prices: Prices
    early_bird: EarlyBird | None = None
    requires_code: bool = False
    valid_on: tuple[date, ...] | None = Field(
        None, description="the days a day pass admits its holder; absent: every day")


class AddOn(Item):
    code: str = Code
    name: str
    price: int = Cents
    capacity: int = Field(ge=0)
    exclusive_group: str | None = None
    ticket_types: tuple[str, ...] | None = Field(
        None, description="who may book it; everyone when absent")


class DiscountCode(Item):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]{2,39}$")
    kind: Literal["percent", "fixed", "free", "access"]
    value: int = Field(0, ge=0)
    ticket_types: tuple[str, ...]
    max_uses: int = Field(ge=0)
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _value_fits_kind(self):
        if self.kind == "percent" and not 0 < self.value <= 100:
            raise ValueError(f"{self.code}: a percent code needs a value from 1 to 100")
        if self.kind == "fixed" and self.value <= 0:
            raise ValueError(f"{self.code}: a fixed code needs a value in cents")
        return self


class WaitingListTerms(Item):
    """The waiting list of a sold-out ticket type or add-on: how long a freed place is held
    for the person it is offered to."""

    offer_hours: float = Field(48, gt=0, le=14 * 24,
                               description="how long an offer lasts before it goes to the next")


class Catalog(Item):
    conference: Conference
    ticket_types: tuple[TicketType, ...]
    add_ons: tuple[AddOn, ...] = ()
    member_codes: tuple[str, ...] = ()
    discount_codes: tuple[DiscountCode, ...] = ()
    invoice: InvoiceTerms | None = Field(None, description="absent: card payments only")
    waiting_list: WaitingListTerms = WaitingListTerms()

    @model_validator(mode="after")
    def _references_resolve(self):
        tickets = [t.code for t in self.ticket_types]
        for kind, codes in [("ticket type", tickets),
                            ("add-on", [a.code for a in self.add_ons]),
                            ("discount code", [d.code for d in self.discount_codes])]:
            duplicates = {c for c in codes if codes.count(c) > 1}
            if duplicates:
                raise ValueError(f"duplicate {kind} codes: {sorted(duplicates)}")
        for item in [*self.add_ons, *self.discount_codes]:
            unknown = set(item.ticket_types or ()) - set(tickets)
            if unknown:
                raise ValueError(f"{item.code} names unknown ticket types {sorted(unknown)}")
        conference = self.conference
        for ticket in self.ticket_types:
            if any(not conference.starts_on <= day <= conference.ends_on
                   for day in ticket.valid_on or ()):
                raise ValueError(f"{ticket.code} is valid on a day outside the conference")
        return self

    def ticket_type(self, code: str) -> TicketType | None:
        return next((t for t in self.ticket_types if t.code == code), None)

    def add_on(self, code: str) -> AddOn | None:
        return next((a for a in self.add_ons if a.code == code), None)

    def discount_code(self, code: str) -> DiscountCode | None:
        return next((d for d in self.discount_codes if d.code == code.upper()), None)

    def is_member_code(self, code: str) -> bool:
        return code.upper() in {c.upper() for c in self.member_codes}


def load_catalog_file(path: Path | str = DEFAULT_CATALOG_FILE) -> Catalog:
    with open(path, encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))

"""What the registration service's HTTP interface accepts and returns."""

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

import pycountry
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.registration.domain import Status
from services.registration.orders import order_lines, paid_for
from shared.text import default_ignorable
from shared.typesetting import unprintable

# Kosovo's code is user-assigned in ISO 3166 but used across Europe.
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiners: part of Persian and Indic names


def clean_text(value: str) -> str:
    """NFC, single spaces, no control, formatting or other invisible characters (but the
    joiners)."""
    value = " ".join(unicodedata.normalize("NFC", value).split())
    if any((unicodedata.category(c) in _BAD_CATEGORIES or default_ignorable(c))
           and c not in _JOINERS for c in value):
        raise ValueError("contains characters that cannot be printed")
    return value


def printable(value: str | None) -> str | None:
    """Text that badges and documents print: every character must be in one of their
    fonts, so that nobody gets a badge with holes in their name."""
    if value and (missing := unprintable(value)):
        shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in missing)
        raise ValueError(f"has characters no badge font can print: {shown}")
    return value


def has_letter(value: str) -> str:
    if not any(c.isalpha() and not default_ignorable(c) for c in value):
        raise ValueError("must contain letters")
    return value


def email_address(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


def country_code(value: str) -> str:
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, such as BE or PL")
    return code


def upper(value: str) -> str:
    return value.upper()


def Text(max_length: int, min_length: int = 1):  # noqa: N802 - reads as a type
    """Cleaned text of a bounded length."""

    def bounded(value: str) -> str:
        value = clean_text(value)
        if len(value) < min_length:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value

    return Annotated[str, AfterValidator(bounded)]


def Printed(max_length: int, min_length: int = 1):  # noqa: N802 - reads as a type
    """Cleaned text that is printed on badges or documents."""
    return Annotated[Text(max_length, min_length), AfterValidator(printable)]


Name = Annotated[Printed(60), AfterValidator(has_letter)]
OptionalName = Annotated[Printed(60, min_length=0),
                         AfterValidator(lambda v: v and has_letter(v))]
NameOrder = Literal["given_first", "family_first"]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(email_address)]
CountryCode = Annotated[str, StringConstraints(min_length=2, max_length=2),
                        AfterValidator(country_code)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
                 AfterValidator(upper)]
CatalogCode = Annotated[str, StringConstraints(min_length=1, max_length=48)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              hide_input_in_errors=True)


class Person(Request):
    """Who comes: what their badge, e-ticket and the catering and accessibility lists say."""

    given_name: Name = Field(description="given name, as it should appear on the badge")
    family_name: OptionalName = Field("", description="family name; may be empty for mononyms")
    name_order: NameOrder = Field("given_first", description="which name the badge prints "
                                  "first: given_first (Anna Kowalska) or family_first (王 小明)")
    pronouns: Printed(30) | None = None
    organisation: Printed(120)
    country: CountryCode
    email: Email
    dietary_needs: Text(500) | None = None
    accessibility_needs: Text(500) | None = None


class DelegateRequest(Person):
    """One delegate, as a booking names them."""

    ticket_type: CatalogCode
    add_ons: list[CatalogCode] = Field(default_factory=list, max_length=10)
    member_code: Code | None = None
    discount_code: Code | None = None


class Substitution(Person):
    """The colleague who comes instead of a delegate, with the same ticket and add-ons."""


class RegistrationRequest(DelegateRequest):
    """One delegate who books and pays for themselves: an order of one."""

    billing_address: Printed(300) | None = Field(None, description="for the receipt, on one line")
    billing_vat_number: Text(30) | None = None
    purchase_order: Text(60) | None = None

    def billing(self) -> dict:
        return {"billing_address": self.billing_address, "vat_number": self.billing_vat_number,
                "purchase_order": self.purchase_order}


class BuyerRequest(Request):
    """Who books and pays, and what their documents say."""

    name: Annotated[Printed(121), AfterValidator(has_letter)] = Field(
        description="the contact person")
    email: Email
    organisation: Printed(120)
    country: CountryCode
    billing_address: Printed(300) | None = Field(None, description="on one line")
    vat_number: Text(30) | None = None
    purchase_order: Text(60) | None = None


class OrderRequest(Request):
    buyer: BuyerRequest
    delegates: list[DelegateRequest] = Field(min_length=1, max_length=50)
    payment_method: Literal["card", "invoice"] = Field(
        "card", description="card, or invoice (paid by bank transfer; needs the buyer's "
        "billing address)")


class LinksRequest(Request):
    email: Email = Field(description="the address the bookings were made with")


class RegistrationChange(Request):
    """A delegate's fix to what their badge says: only the fields sent change."""

    given_name: Name = None
    family_name: OptionalName = None
    name_order: NameOrder = None
    pronouns: Printed(30, min_length=0) | None = None
    organisation: Printed(120) = None


class CardPayment(Request):
    payment_method: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,100}$")] = (
        Field(description="the PaymentMethod Stripe.js made from the card form"))


class OrganiserCancelRequest(Request):
    refund: bool = Field(description="refund everything paid")


class BillingChange(Request):
    """An organiser's correction of what an order's documents say of its buyer: only the
    fields sent change; the invoice is re-issued through a credit note."""

    name: Annotated[Text(121), AfterValidator(has_letter)] = None
    organisation: Text(120) = None
    country: CountryCode = None
    billing_address: Text(300) = None
    vat_number: Text(30, min_length=0) | None = None
    purchase_order: Text(60, min_length=0) | None = None


class ComplimentaryRequest(Request):
    """An organiser's free booking: no payment, no codes needed."""

    buyer: BuyerRequest
    delegates: list[DelegateRequest] = Field(min_length=1, max_length=50)


class OrderQuery(Request):
    q: Text(100, min_length=0) = ""
    status: Status | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)  # the database's integers end at 2**63


class AdminQuery(OrderQuery):
    ticket_type: CatalogCode | None = None


class PriceLineView(BaseModel):
    kind: Literal["ticket", "add_on", "discount"]
    code: str
    description: str
    amount: int


class PaymentView(BaseModel):
    payment_intent_id: str
    client_secret: str
    publishable_key: str
    status: str


class BookingState(BaseModel):
    """What a delegate's registration and a buyer's order both show of money and time."""

    amount_due: int = Field(description="cents, VAT included")
    vat_amount: int
    vat_rate_percent: str
    currency: str
    amount_paid: int
    amount_refunded: int
    last_payment_error: str | None
    hold_expires_at: datetime | None
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None


class DeskRegistrationView(BaseModel):
    """What the registration desk sees of a delegate: who, what ticket, what state; no
    email, needs, billing or money."""

    id: str
    reference: str
    status: Status
    ticket_type: str
    add_ons: list[str]
    given_name: str
    family_name: str
    pronouns: str | None
    organisation: str
    country: str
    checked_in_at: datetime | None


class RegistrationView(BookingState, DeskRegistrationView):
    """What a delegate, and an admin, see of a registration."""

    order_id: str
    name_order: NameOrder
    paid_by_buyer: bool = Field(description="one of a group: the buyer pays for everyone")
    buyer_organisation: str
    email: str
    dietary_needs: str | None
    accessibility_needs: str | None
    billing_address: str | None
    billing_vat_number: str | None
    purchase_order: str | None
    price_lines: list[PriceLineView]


class DeskRegistrationPage(BaseModel):
    total: int
    items: list[DeskRegistrationView]


class RegistrationCreated(RegistrationView):
    token: str = Field(description="the delegate's private token: X-Registration-Token")
    order_token: str = Field(description="the buyer's private token: X-Order-Token")


class BuyerView(BaseModel):
    name: str
    email: str
    organisation: str
    country: str
    billing_address: str | None
    vat_number: str | None
    purchase_order: str | None


class OrderDelegateView(BaseModel):
    id: str
    reference: str
    status: Status
    given_name: str
    family_name: str
    pronouns: str | None
    organisation: str
    country: str
    name_order: NameOrder
    email: str
    ticket_type: str
    add_ons: list[str]
    price_lines: list[PriceLineView]
    amount_due: int
    amount_refunded: int
    checked_in_at: datetime | None


class OrderDelegateCreated(OrderDelegateView):
    token: str = Field(description="this delegate's private token: X-Registration-Token")


class OrderLineView(BaseModel):
    registration_id: str
    description: str
    amount: int


class InvoicePayment(BaseModel):
    """How to pay an invoice order by bank transfer."""

    invoice_number: str | None = Field(description="none until payments has issued it")
    payment_reference: str | None = Field(description="the RF reference to quote")
    due_on: date | None
    bank: dict | None = Field(description="account_holder, iban, bic, bank_name")


class OrderView(BookingState):
    id: str
    reference: str
    status: Status
    payment_method: str
    buyer: BuyerView
    delegates: list[OrderDelegateView]
    lines: list[OrderLineView]
    invoice: InvoicePayment | None = Field(None, description="for an order paid by invoice")
    change_id: str | None = Field(None, description="an order that pays for a change to a "
                                  "delegate's booking: the change (its delegate is listed)")

    @classmethod
    def of(cls, order, catalog=None) -> "OrderView":
        """The view of an ``Order`` row (with how to pay it, given the ``catalog``)."""
        invoice = None
        if order.payment_method == "invoice" and catalog is not None and order.amount_due:
            zone, terms = catalog.conference.zone, catalog.invoice
            invoice = InvoicePayment(
                invoice_number=order.invoice_number, payment_reference=order.payment_reference,
                due_on=order.hold_expires_at.astimezone(zone).date()
                if order.hold_expires_at else None,
                bank=terms.bank.model_dump() if terms else None)
        return cls.model_validate({
            "invoice": invoice,
            **{name: getattr(order, name) for name in OrderView.model_fields
               if name not in ("buyer", "delegates", "lines", "invoice", "change_id")},
            "buyer": BuyerView(
                name=order.buyer_name, email=order.buyer_email,
                organisation=order.buyer_organisation, country=order.buyer_country,
                billing_address=order.billing_address, vat_number=order.billing_vat_number,
                purchase_order=order.purchase_order),
            "change_id": order.change.id if order.change else None,
            "delegates": [OrderDelegateView.model_validate(r, from_attributes=True)
                          .model_dump() for r, _ in paid_for(order)],
            "lines": [line.model_dump() for line in order_lines(order)]})


class OrderCreated(OrderView):
    token: str = Field(description="the buyer's private token: X-Order-Token")
    delegates: list[OrderDelegateCreated]


class OrderPage(BaseModel):
    total: int
    items: list[OrderView]


class PaymentPreparing(BaseModel):
    status: Literal["preparing"]


class RegistrationPage(BaseModel):
    total: int
    items: list[RegistrationView]


class Availability(BaseModel):
    capacity: int
    remaining: int


class TicketTypeView(Availability):
    code: str
    name: str
    role: str
    requires_code: bool
    price_member: int
    price_non_member: int
    early_bird_until: str | None
    early_bird_member: int | None
    early_bird_non_member: int | None
    early_bird_now: bool


class AddOnView(Availability):
    code: str
    name: str
    price: int
    exclusive_group: str | None
    ticket_types: list[str] | None


class Country(BaseModel):
    code: str
    name: str


class CatalogView(BaseModel):
    conference: dict
    ticket_types: list[TicketTypeView]
    add_ons: list[AddOnView]
    remaining: int
    countries: list[Country] = Field(description="every country a booking may name")

"""The data of every event on the bus: one contract per kind of fact, and the shared
parts they are made of (the envelope and the registry of types are in ``shared.events``)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    # hide_input_in_errors: a validation error must not carry a delegate's data into a log
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Delegate(Contract):
    given_name: str
    family_name: str
    name_order: Literal["given_first", "family_first"] = Field(
        "given_first", description="which name the badge prints first")
    pronouns: str | None = None
    organisation: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    email: str
    # No dietary or accessibility needs: they can be health data, and only registration's
    # catering and accessibility lists need them (data minimisation).


class Organiser(Contract):
    name: str
    address: str
    vat_number: str


class ConferenceFacts(Contract):
    """What every service needs to know of the conference, carried on registration's
    events so that nobody has to ask for it."""

    name: str
    starts_on: date
    ends_on: date
    venue: str
    timezone: str
    name_changes_until: date
    organiser: Organiser


RegistrationStatus = Literal["pending_payment", "confirmed", "cancelled", "expired"]
BadgeRole = Literal["delegate", "speaker", "exhibitor", "staff", "press", "volunteer"]


class RegistrationData(Contract):
    """The state of one delegate's registration after the change the event reports."""

    registration_id: str
    order_id: str
    reference: str
    status: RegistrationStatus
    ticket_type: str
    ticket_type_name: str
    role: BadgeRole
    add_ons: list[str]
    amount_due: int = Field(description="this delegate's share, cents, VAT included")
    vat_amount: int
    currency: str
    delegate: Delegate
    hold_expires_at: datetime | None = None
    conference: ConferenceFacts
    add_on_names: list[str] = Field(
        default_factory=list, description="the add-ons' names, as the catalog says them "
        "(for the registration desk)")
    valid_on: list[date] | None = Field(
        None, description="the days the ticket admits its holder (a day pass), in the "
        "conference's time zone; None: every day")


CancelReason = Literal["delegate", "buyer", "organiser", "refunded",
                       "no_capacity_after_payment", "paid_after_cancellation", "substituted"]


class RegistrationCancelledData(RegistrationData):
    reason: CancelReason
    refund_due: int = Field(description="this delegate's refund, cents")
    with_order: bool = Field(False, description="cancelled with its whole order, whose "
                             "order_cancelled carries the refund; else payments refunds "
                             "refund_due for this delegate")
    replaced_by: str | None = Field(None, description="substituted: the registration of the "
                                    "colleague who takes the place (and its share)")


class BookingItems(Contract):
    """What a delegate's place holds: a ticket type and add-ons."""

    ticket_type: str
    ticket_type_name: str
    add_ons: list[str]
    add_on_names: list[str]


class RefundOfOrder(Contract):
    order_id: str = Field(description="the order whose payment gives the money back: the "
                          "booking's own, or a change's that was paid apart")
    amount: int = Field(gt=0, description="cents")


class BookingChangedData(RegistrationData):
    """A confirmed booking now holds other items (the registration as it is now); the
    places were swapped in one step. Paid for apart (``paid_with``: the change's own order)
    when it cost more; refunded as the policy says (``refunds``) when it cost less."""

    change_id: str
    by: Literal["delegate", "buyer", "organiser"]
    before: BookingItems
    difference: int = Field(description="the new price less the old, cents: positive was "
                            "paid, negative is what the booking no longer costs")
    refund_due: int = Field(description="cents given back under the refund policy")
    refunds: list[RefundOfOrder] = Field(description="who refunds refund_due: payments "
                                         "refunds each amount on its order, once")
    paid_with: str | None = Field(None, description="the order that paid the difference")


PaymentMethod = Literal["card", "invoice"]


class BankAccount(Contract):
    """Where an invoice's transfer goes."""

    account_holder: str
    iban: str
    bic: str
    bank_name: str


class Buyer(Contract):
    """Who books and pays for an order, and what the documents say of them."""

    name: str
    email: str
    organisation: str
    country: str
    billing_address: str | None = None
    vat_number: str | None = None
    purchase_order: str | None = None


class OrderLine(Contract):
    registration_id: str
    description: str
    amount: int = Field(description="cents, VAT included; negative for a discount")


class OrderDelegate(Contract):
    registration_id: str
    reference: str
    name: str
    email: str
    ticket_type_name: str
    status: RegistrationStatus
    amount_due: int


class OrderData(Contract):
    """The state of an order (one buyer, one or more delegates, one payment) after the
    change the event reports. The amount is registration's, never a browser's."""

    order_id: str
    reference: str
    status: RegistrationStatus
    payment_method: PaymentMethod
    amount_due: int = Field(description="cents, VAT included")
    vat_amount: int
    vat_rate_percent: str
    currency: str
    lines: list[OrderLine]
    buyer: Buyer
    delegates: list[OrderDelegate]
    hold_expires_at: datetime | None = None
    payment_reminders_at: list[datetime] = Field(
        default_factory=list, description="when to remind the buyer to pay (an unpaid "
        "invoice, or an unpaid card order before its hold ends)")
    bank_account: BankAccount | None = Field(None, description="an invoice order's payee")
    conference: ConferenceFacts
    change_of: str | None = Field(None, description="an order that pays for a change to a "
                                  "delegate's confirmed booking: that registration")


class OrderCancelledData(OrderData):
    reason: CancelReason
    refund_due: int = Field(description="cents the payments service should refund, at once")
    with_booking: bool = Field(False, description="an order that pays for a change, cancelled "
                               "because the delegate's booking was: the booking's own "
                               "cancellation tells of it")


class PaymentData(Contract):
    order_id: str
    payment_intent_id: str
    amount: int
    currency: str


class PaymentSucceededData(Contract):
    """An order is paid in full: by card (its PaymentIntent), or by bank transfers
    (``amount`` is everything received)."""

    order_id: str
    method: Literal["card", "transfer"]
    payment_intent_id: str | None = None
    amount: int
    currency: str


class PaymentReadyData(PaymentData):
    """A PaymentIntent the buyer's browser can pay now (Stripe.js needs the secret)."""

    client_secret: str
    attempt: int


class PaymentFailedData(PaymentData):
    reason: str = Field(description="Stripe's decline code, for organisers")
    message: str = Field(description="why, in words the buyer can act on")


class PaymentRefundedData(Contract):
    """Money handed back: through Stripe for a card payment; for money received by bank
    transfer, owed back by transfer (the organiser pays it)."""

    order_id: str
    method: Literal["card", "transfer"]
    payment_intent_id: str | None = None
    amount: int
    currency: str
    refund_id: str
    total_refunded: int = Field(description="cents refunded on this payment so far")
    fully_refunded: bool


DocumentKind = Literal["invoice", "credit_note"]


class DocumentData(Contract):
    """An invoice or credit note, as issued (it never changes afterwards)."""

    order_id: str
    kind: DocumentKind
    number: str
    issued_on: date
    amount: int = Field(description="gross cents; a credit note's is positive")
    vat_amount: int
    currency: str
    paid: bool = Field(False, description="an invoice issued for money already received")
    payment_reference: str | None = Field(None, description="ISO 11649 RF reference")
    due_on: date | None = None
    invoice_number: str | None = Field(None, description="the invoice a credit note credits")
    reason: str | None = None


class TransferData(Contract):
    """A bank transfer recorded on an order (by an organiser, or from a statement)."""

    order_id: str
    transfer_id: str
    amount: int
    currency: str
    received_on: date
    total_received: int
    amount_due: int


class LinkedBooking(Contract):
    id: str = Field(description="a registration's id, or an order's")
    reference: str
    name: str = Field(description="the delegate's name, or the order's buyer's")


class LinksRequestedData(Contract):
    """Someone asked for the private links of the bookings made with ``email``: the
    delegates' (to see or fix their own) and the buyers' (to manage a whole order)."""

    email: str
    registrations: list[LinkedBooking]
    orders: list[LinkedBooking]
    conference: ConferenceFacts


class DelegateSubstitutedData(Contract):
    """A colleague took a delegate's place: the same ticket, add-ons and share, their own
    registration (id, token, e-ticket, badge); the replaced one's codes stop working."""

    order_id: str
    replaced_registration_id: str
    registration_id: str
    by: Literal["buyer", "organiser"]


class WaitingListItem(Contract):
    """What someone waits for: a sold-out ticket type or add-on."""

    kind: Literal["ticket_type", "add_on"]
    code: str
    name: str = Field(description="as the catalog names it")


class WaitingPerson(Contract):
    given_name: str
    family_name: str
    email: str


class WaitingListJoinedData(Contract):
    """Someone joined the waiting list of a sold-out item; nothing is said of anyone else
    on it."""

    entry_id: str
    item: WaitingListItem
    person: WaitingPerson
    joined_at: datetime
    offer_hours: float = Field(description="how long a place offered to them is held")
    conference: ConferenceFacts


class WaitingListOfferData(Contract):
    """A place of the item freed and is held for the next person in line until
    ``expires_at``: they book it through their private link, or it goes to the next."""

    entry_id: str
    item: WaitingListItem
    person: WaitingPerson
    offered_at: datetime
    expires_at: datetime
    conference: ConferenceFacts


class WaitingListOfferTakenData(Contract):
    """The person booked with the place offered to them (``order_placed``, in the same
    transaction, is the booking)."""

    entry_id: str
    item: WaitingListItem
    offered_at: datetime
    taken_at: datetime


class WaitingListOfferLapsedData(Contract):
    """An offer ended untaken: its place goes to the next person in line, or back on sale
    when nobody waits."""

    entry_id: str
    item: WaitingListItem
    offered_at: datetime
    lapsed_at: datetime
    reason: Literal["expired", "declined"]


class DelegateErasedData(Contract):
    """A delegate asked to be forgotten: every service erases or anonymises what it holds
    about them, keeping only what the law makes it keep (issued invoices, credit notes)."""

    registration_id: str
    order_id: str
    whole_order: bool = Field(description="the order had no other delegate: its buyer (the "
                              "same person) is erased too")
    erased_at: datetime


class BadgeGeneratedData(Contract):
    registration_id: str
    badge_version: int


class DelegateCheckedInData(Contract):
    registration_id: str
    checked_in_at: datetime


class EmailSentData(Contract):
    registration_id: str | None
    order_id: str | None = None
    kind: str
    message_id: str

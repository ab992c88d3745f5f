"""Event contracts: every event on the bus, its source, schema version and data.

An event travels as an envelope::

    {"id": "<uuid>", "type": "registration_created", "version": 1,
     "source": "registration", "occurred_at": "<ISO 8601 UTC>", "data": {...}}

and is published on the topic exchange ``<source>.events`` with the type as
routing key, so nameko's ``event_handler(source, type)`` hears it. A change
that breaks consumers gets a new version; consumers reject versions they do
not know rather than guess.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Contract(BaseModel):
    # hide_input_in_errors: a validation error must not carry a delegate's data into a log
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Delegate(Contract):
    given_name: str
    family_name: str
    pronouns: str | None = None
    organisation: str
    country: str = Field(description="ISO 3166-1 alpha-2")
    email: str
    dietary_needs: str | None = None
    accessibility_needs: str | None = None


RegistrationStatus = Literal["pending_payment", "confirmed", "cancelled", "expired"]
BadgeRole = Literal["delegate", "speaker", "exhibitor", "staff", "press", "volunteer"]


class RegistrationData(Contract):
    """The state of a registration after the change the event reports."""

    registration_id: str
    reference: str
    status: RegistrationStatus
    ticket_type: str
    ticket_type_name: str
    role: BadgeRole
    add_ons: list[str]
    amount_due: int = Field(description="cents, VAT included")
    vat_amount: int
    currency: str
    delegate: Delegate
    hold_expires_at: datetime | None = None


class RegistrationCancelledData(RegistrationData):
    reason: Literal["delegate", "organiser", "refunded", "no_capacity_after_payment",
                    "paid_after_cancellation"]
    refund_due: int = Field(description="cents the payments service should refund")


class PaymentData(Contract):
    registration_id: str
    payment_intent_id: str
    amount: int
    currency: str


class PaymentFailedData(PaymentData):
    reason: str


class PaymentRefundedData(PaymentData):
    refund_id: str
    total_refunded: int = Field(description="cents refunded on this payment so far")
    fully_refunded: bool


class BadgeGeneratedData(Contract):
    registration_id: str
    badge_version: int


class DelegateCheckedInData(Contract):
    registration_id: str
    checked_in_at: datetime


class EmailSentData(Contract):
    registration_id: str | None
    kind: str
    message_id: str


# RPC: registration asks payments to take a registration's payment.


class PaymentLine(Contract):
    description: str
    amount: int


class Organiser(Contract):
    name: str
    address: str
    vat_number: str


class Billing(Contract):
    address: str | None = None
    vat_number: str | None = None
    purchase_order: str | None = None


class PaymentRequest(Contract):
    """What payments needs to charge a registration and write its receipt; the amount
    is the registration service's, never the browser's."""

    registration_id: str
    reference: str
    conference_name: str
    amount: int = Field(gt=0, description="cents, VAT included")
    currency: str
    vat_rate_percent: str
    vat_amount: int
    lines: list[PaymentLine]
    delegate_name: str
    organisation: str
    email: str
    billing: Billing = Billing()
    organiser: Organiser


class PaymentDetails(Contract):
    """How the delegate's browser pays: the PaymentIntent and Stripe.js's keys."""

    payment_intent_id: str
    client_secret: str
    publishable_key: str
    status: str


@dataclass(frozen=True)
class EventType:
    source: str
    name: str
    version: int
    data: type[Contract]


EVENT_TYPES = {
    event.name: event
    for event in [
        EventType("registration", "registration_created", 1, RegistrationData),
        EventType("registration", "registration_confirmed", 1, RegistrationData),
        EventType("registration", "registration_updated", 1, RegistrationData),
        EventType("registration", "registration_cancelled", 1, RegistrationCancelledData),
        EventType("registration", "registration_expired", 1, RegistrationData),
        EventType("payments", "payment_succeeded", 1, PaymentData),
        EventType("payments", "payment_failed", 1, PaymentFailedData),
        EventType("payments", "payment_refunded", 1, PaymentRefundedData),
        EventType("badges", "badge_generated", 1, BadgeGeneratedData),
        EventType("badges", "delegate_checked_in", 1, DelegateCheckedInData),
        EventType("notifications", "email_sent", 1, EmailSentData),
    ]
}


class InvalidEvent(ValueError):
    """A message on the bus that does not match its contract; retrying cannot help."""


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    type: str
    version: int
    source: str
    occurred_at: datetime
    data: Contract

    def envelope(self) -> dict:
        return {**self.model_dump(mode="json", exclude={"data"}),
                "data": self.data.model_dump(mode="json")}


def new_event(event_type: str, data: Contract | dict) -> Event:
    """An event of ``event_type`` with a fresh id, validated against its contract."""
    contract = EVENT_TYPES[event_type]
    if not isinstance(data, contract.data):
        data = contract.data.model_validate(data if isinstance(data, dict) else dict(data))
    return Event(
        id=uuid.uuid4(),
        type=event_type,
        version=contract.version,
        source=contract.source,
        occurred_at=datetime.now(UTC),
        data=data,
    )


def parse_event(envelope: dict) -> Event:
    """Validate a received envelope against the contract of its type and version."""
    try:
        contract = EVENT_TYPES[envelope["type"]]
        if envelope["version"] != contract.version:
            raise InvalidEvent(
                f"{envelope['type']} version {envelope['version']} is not understood "
                f"(this code knows version {contract.version})"
            )
        return Event(**{**envelope, "data": contract.data.model_validate(envelope["data"])})
    except (KeyError, TypeError, ValidationError) as exc:
        raise InvalidEvent(f"malformed event: {exc}") from exc

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

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.events.contracts import (
    BadgeGeneratedData,
    BookingChangedData,
    Contract,
    DelegateCheckedInData,
    DelegateErasedData,
    DelegateSubstitutedData,
    DocumentData,
    EmailSentData,
    LinksRequestedData,
    OrderCancelledData,
    OrderData,
    PaymentFailedData,
    PaymentReadyData,
    PaymentRefundedData,
    PaymentSucceededData,
    RegistrationCancelledData,
    RegistrationData,
    TransferData,
    WaitingListJoinedData,
    WaitingListOfferData,
    WaitingListOfferLapsedData,
    WaitingListOfferTakenData,
)


@dataclass(frozen=True)
class EventType:
    """An event's contract. ``reads_from``: the oldest version the contract still reads,
    when the versions since only added optional fields; events queued before an upgrade
    are then handled after it, not dead-lettered."""

    source: str
    name: str
    version: int
    data: type[Contract]
    reads_from: int | None = None

    def reads(self, version: object) -> bool:
        return isinstance(version, int) and \
            (self.reads_from or self.version) <= version <= self.version


EVENT_TYPES = {
    event.name: event
    for event in [
        EventType("registration", "order_placed", 3, OrderData, reads_from=2),
        EventType("registration", "order_confirmed", 3, OrderData, reads_from=2),
        EventType("registration", "order_updated", 2, OrderData, reads_from=1),
        EventType("registration", "order_cancelled", 4, OrderCancelledData, reads_from=2),
        EventType("registration", "order_expired", 3, OrderData, reads_from=2),
        EventType("registration", "registration_created", 3, RegistrationData),
        EventType("registration", "registration_confirmed", 3, RegistrationData),
        EventType("registration", "registration_updated", 3, RegistrationData),
        EventType("registration", "registration_cancelled", 4, RegistrationCancelledData),
        EventType("registration", "registration_expired", 3, RegistrationData),
        EventType("registration", "delegate_substituted", 1, DelegateSubstitutedData),
        EventType("registration", "booking_changed", 1, BookingChangedData),
        EventType("registration", "delegate_erased", 1, DelegateErasedData),
        EventType("registration", "links_requested", 1, LinksRequestedData),
        EventType("registration", "waiting_list_joined", 1, WaitingListJoinedData),
        EventType("registration", "waiting_list_offer_made", 1, WaitingListOfferData),
        EventType("registration", "waiting_list_offer_taken", 1, WaitingListOfferTakenData),
        EventType("registration", "waiting_list_offer_lapsed", 1, WaitingListOfferLapsedData),
        EventType("payments", "payment_ready", 1, PaymentReadyData),
        EventType("payments", "payment_succeeded", 3, PaymentSucceededData),
        EventType("payments", "payment_failed", 3, PaymentFailedData),
        EventType("payments", "payment_refunded", 3, PaymentRefundedData),
        EventType("payments", "invoice_issued", 1, DocumentData),
        EventType("payments", "credit_note_issued", 1, DocumentData),
        EventType("payments", "transfer_recorded", 1, TransferData),
        EventType("badges", "badge_generated", 1, BadgeGeneratedData),
        EventType("badges", "delegate_checked_in", 1, DelegateCheckedInData),
        EventType("notifications", "email_sent", 2, EmailSentData),
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
        if not contract.reads(envelope["version"]):
            raise InvalidEvent(
                f"{envelope['type']} version {envelope['version']} is not understood "
                f"(this code knows version {contract.version})"
            )
        return Event(**{**envelope, "data": contract.data.model_validate(envelope["data"])})
    except (KeyError, TypeError, ValidationError) as exc:
        raise InvalidEvent(f"malformed event: {exc}") from exc

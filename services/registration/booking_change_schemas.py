"""Changes to a booking: what is asked and what is answered (the rest of registration's
HTTP schemas are in ``schemas``)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from services.registration.schemas import CatalogCode, PriceLineView, Request


class BookingChangeRequest(Request):
    """What the booking should hold from now on: another ticket type, other add-ons, or
    both (what is left out stays as it is)."""

    ticket_type: CatalogCode | None = Field(None, description="the ticket type to change to")
    add_ons: list[CatalogCode] | None = Field(
        None, max_length=10, description="every add-on the booking should hold, kept or new; "
        "an empty list drops them all")

    @model_validator(mode="after")
    def _something_asked(self):
        if self.ticket_type is None and self.add_ons is None:
            raise ValueError("name a ticket_type or the add_ons the booking should hold")
        return self


class ChangeQuoteView(BaseModel):
    """What a change would do, asked before making it."""

    ticket_type: str
    add_ons: list[str]
    price_lines: list[PriceLineView] = Field(description="the booking's price after it")
    amount_due: int = Field(description="the booking's price after it, cents")
    difference: int = Field(description="the new price less the old, cents")
    to_pay: int = Field(description="cents to pay before the change takes effect")
    refund_due: int = Field(description="cents given back at once, as the refund policy says")
    payment_method: Literal["card", "invoice"] | None = Field(
        description="how the difference would be paid; none when nothing is to pay")
    currency: str


class BookedItems(BaseModel):
    ticket_type: str
    add_ons: list[str]


class ChangeLineView(BaseModel):
    description: str
    amount: int


class BookingChangeView(BaseModel):
    id: str
    registration_id: str
    status: Literal["pending_payment", "applied", "cancelled", "expired"] = Field(
        description="pending_payment: waiting for its own order to be paid; applied: in "
        "effect; cancelled or expired: dropped unpaid, the booking unchanged")
    by: Literal["delegate", "buyer", "organiser"]
    before: BookedItems
    after: BookedItems
    lines: list[ChangeLineView] = Field(description="what the difference is made of")
    difference: int
    refund_due: int
    order_id: str | None = Field(description="the order that pays the difference")
    order_reference: str | None
    created_at: datetime
    closed_at: datetime | None


class BookingChangeCreated(BookingChangeView):
    order_token: str | None = Field(
        description="the X-Order-Token of the order that pays the difference, while it waits "
        "for payment (pay it as any order: .../payment, .../card-setup, .../pay)")


class BookingChangeList(BaseModel):
    items: list[BookingChangeCreated]

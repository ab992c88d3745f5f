"""What the payments service's HTTP interface accepts and returns."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    amount: StrictInt | None = Field(None, gt=0, le=100_000_000,
                                     description="cents; everything left when absent")
    reason: str = Field("refunded by the organisers", min_length=1, max_length=200)


class RefundCreated(BaseModel):
    refund_id: str
    amount: int = Field(description="cents")


class RefundView(BaseModel):
    refund_id: str
    amount: int
    reason: str
    created_at: datetime


class PaymentView(BaseModel):
    payment_intent_id: str | None
    attempt: int
    amount: int
    currency: str
    status: str
    failure_reason: str | None
    amount_received: int
    amount_refunded: int
    receipt_number: str | None
    created_at: datetime
    succeeded_at: datetime | None
    refunds: list[RefundView]


class PaymentList(BaseModel):
    items: list[PaymentView]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              hide_input_in_errors=True)


class TransferRequest(Request):
    """A bank transfer an organiser saw arrive for an order."""

    amount: StrictInt = Field(gt=0, le=100_000_000, description="cents received")
    received_on: date = Field(description="the day the bank credited it")
    reference: str = Field("", max_length=200, description="what the payer wrote")
    payer: str | None = Field(None, max_length=140)


class TransferQuery(Request):
    status: Literal["matched", "unmatched", "dismissed", "refund_due"] | None = None


class AssignRequest(Request):
    order_id: str = Field(pattern=r"^[0-9a-f-]{36}$")


class DismissRequest(Request):
    note: str = Field(min_length=1, max_length=500, description="why it pays no order")


class TransferView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str | None
    status: str = Field(description="matched, unmatched, dismissed, or refund_due (owed "
                                    "back to the payer)")
    amount: int = Field(description="cents; negative for a refund owed back")
    currency: str
    received_on: date
    reference: str
    payer: str | None
    source: str
    note: str | None
    created_at: datetime


class TransferList(BaseModel):
    items: list[TransferView]


class StatementImported(BaseModel):
    statement_id: str
    matched: list[TransferView]
    unmatched: list[TransferView]
    already_imported: int = Field(description="credits of this statement imported before")


class DocumentView(BaseModel):
    kind: Literal["invoice", "receipt", "credit_note"]
    number: str
    issued_on: date
    amount: int
    url: str


class OrderMoney(BaseModel):
    """Everything payments holds of an order's money."""

    order_id: str
    payment_method: str | None
    amount_due: int
    amount_received: int = Field(description="by card and by transfer, before refunds")
    amount_refunded: int
    outstanding: int = Field(description="negative when paid over")
    payment_reference: str | None
    payments: list[PaymentView]
    transfers: list[TransferView]
    documents: list[DocumentView]


class FlaggedEvent(BaseModel):
    id: str
    type: str
    received_at: datetime
    problem: str


class FlaggedEvents(BaseModel):
    items: list[FlaggedEvent]

"""What the payments service's HTTP interface accepts and returns."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class RefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    amount: int | None = Field(None, gt=0, description="cents; everything left when absent")
    reason: str = Field("refunded by the organisers", min_length=1, max_length=200)


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

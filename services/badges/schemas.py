"""What the badges service's HTTP interface accepts and returns."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class PrintRequest(Request):
    """Badges by id, or by filter; in one PDF."""

    registration_ids: list[str] | None = Field(None, min_length=1, max_length=2000)
    ticket_type: str | None = Field(None, max_length=48)
    not_printed: bool = False
    order: Literal["surname", "organisation", "ticket_type"] = "surname"
    layout: Literal["a6", "a4"] = "a4"


class CheckInRequest(Request):
    token: str = Field(min_length=1, max_length=200, description="what the QR code says")


class SearchQuery(Request):
    q: str = Field(min_length=1, max_length=100)


class CheckInResult(BaseModel):
    status: Literal["checked_in", "already_checked_in"]
    message: str
    registration_id: str
    name: str
    organisation: str
    checked_in_at: datetime
    printed_count: int


class BadgeView(BaseModel):
    registration_id: str
    reference: str
    name: str
    organisation: str
    ticket_type_name: str
    role: str
    status: str
    printed_count: int
    last_printed_at: datetime | None
    checked_in_at: datetime | None


class SearchResult(BaseModel):
    items: list[BadgeView]

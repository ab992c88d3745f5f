"""The waiting lists' requests and answers (the rest of registration's HTTP schemas are in
``schemas``)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.registration.domain import WaitingStatus
from services.registration.schemas import CatalogCode, Email, Name, OptionalName, Request


class WaitingListRequest(Request):
    """Joining the waiting list of a sold-out ticket type or add-on: who, and what."""

    given_name: Name
    family_name: OptionalName = ""
    email: Email = Field(description="where the offer of a place is sent")
    kind: Literal["ticket_type", "add_on"] = Field(description="what is wanted")
    code: CatalogCode = Field(description="the ticket type's or add-on's code in the catalog")


class WaitingListJoined(BaseModel):
    status: Literal["accepted"]
    message: str


class WaitingListItemView(BaseModel):
    kind: str
    code: str
    name: str


class WaitingListEntryView(BaseModel):
    """What someone on a waiting list sees of their own place in it (nothing of others')."""

    id: str
    status: WaitingStatus
    item: WaitingListItemView
    given_name: str
    family_name: str
    email: str
    joined_at: datetime
    offer_expires_at: datetime | None = Field(description="while a place is offered to them")


class WaitingListFigures(BaseModel):
    """One item's waiting list: how many wait, and what became of the offers made."""

    kind: str
    code: str
    name: str
    waiting: int
    offered: int = Field(description="offers open now")
    taken: int
    lapsed: int
    left: int = Field(description="left the list before an offer")
    conversion: float | None = Field(description="taken, of the offers that ended")


class WaitingListReport(BaseModel):
    offer_hours: float
    lists: list[WaitingListFigures]

"""What the badges service's HTTP interface accepts and returns."""

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class PrintRequest(Request):
    """Badges by id, or by filter; in one PDF."""

    registration_ids: list[str] | None = Field(None, min_length=1, max_length=2000)
    ticket_type: str | None = Field(None, max_length=48)
    not_printed: bool = False
    order: Literal["surname", "organisation", "ticket_type"] = "surname"
    layout: Literal["a6", "a4"] = "a4"


class DeskPrintRequest(Request):
    printer: str = Field(min_length=1, max_length=40, description="a name in DESK_PRINTERS")


class BrowserPrintRequest(Request):
    badge_version: int = Field(ge=1, le=1_000_000, description="the X-Badge-Version of the "
                               "preview printed")


class CheckInRequest(Request):
    token: str = Field(min_length=1, max_length=200, description="what the QR code says")


class AttentionRequest(Request):
    attention: str | None = Field(max_length=200, description="a short note the desk sees "
                                  "on scanning (e.g. speaker: send to the speakers' room); "
                                  "null or blank removes it")


class SearchQuery(Request):
    q: str = Field(min_length=1, max_length=100)


BadgeStatus = Literal["pending", "active", "withdrawn", "replaced", "expired"]


class DeskPerson(BaseModel):
    """What the desk may see of a registration: who, ticket, state; no email, needs or
    money. Times are UTC; ``timezone`` is the conference's, to show them in."""

    registration_id: str
    reference: str
    name: str
    organisation: str
    country: str = Field(description="ISO 3166-1 alpha-2, as the badge prints it")
    ticket_type_name: str
    role: str
    add_on_names: list[str]
    attention: str | None = Field(description="an organiser's note for the desk")
    unprintable: str | None = Field(description="characters no font could print on the "
                                    "badge: check with the delegate before printing")
    badge_version: int
    printed_count: int = Field(description="prints of this version of the badge")
    last_printed_at: datetime | None
    checked_in_at: datetime | None
    timezone: str


class BadgeView(DeskPerson):
    status: BadgeStatus = Field(description="pending (awaiting payment), active, withdrawn "
                                "(cancelled), replaced (a colleague came instead), expired "
                                "(never paid)")


class CheckInResult(DeskPerson):
    """Green (checked in now) or amber (already in: ``checked_in_at`` says since when)."""

    status: Literal["checked_in", "already_checked_in"]
    message: str


class DeskPrintResult(BaseModel):
    registration_id: str
    printer: str
    job_id: int = Field(description="the printer queue's job id")
    badge_version: int
    printed_count: int = Field(description="prints of this version of the badge")


class BrowserPrintResult(BaseModel):
    registration_id: str
    badge_version: int
    printed_count: int


class DeskPageConfig(BaseModel):
    registration_url: str = Field(description="where the desk page calls registration "
                                  "(REGISTRATION_PUBLIC_URL)")


class PrinterList(BaseModel):
    printers: list[str] = Field(description="the desk printers' names, as configured")


class SearchResult(BaseModel):
    items: list[BadgeView]


class DayListItem(BaseModel):
    registration_id: str
    reference: str
    name: str
    organisation: str
    ticket_type_name: str
    add_on_names: list[str]
    status: BadgeStatus
    checked_in_at: datetime | None
    attention: str | None


class DayList(BaseModel):
    """What an offline desk keeps for the day."""

    today: date = Field(description="in the conference's time zone")
    timezone: str
    public_key: str = Field(description="the raw Ed25519 key that checks ticket tokens "
                            "(base64url): what the QR carries is the registration id's 16 "
                            "bytes and the signature of b'ecsite-ticket:' + those bytes")
    generated_at: datetime
    items: list[DayListItem] = Field(description="whoever may be met today (a day pass for "
                                     "another day left out)")


class OfflineCheckIn(Request):
    registration_id: str = Field(min_length=1, max_length=36)
    scanned_at: AwareDatetime = Field(description="when the desk scanned it (a time ahead of "
                                      "the server's is taken as now)")


class CheckInBatch(Request):
    checkins: list[OfflineCheckIn] = Field(min_length=1, max_length=2000)


class BatchOutcome(BaseModel):
    registration_id: str
    outcome: Literal["checked_in", "already_checked_in", "refused"]
    code: str | None = Field(description="why it was refused (as a scan's error code)")
    message: str
    checked_in_at: datetime | None


class BatchResult(BaseModel):
    results: list[BatchOutcome]

"""The badges service's table: the desk's copy of every registration, with the badge of a
confirmed one."""

from datetime import datetime

from anyascii import anyascii
from sqlalchemy import JSON, LargeBinary, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.text import search_key

# A badge's status, after its registration's: pending (awaiting payment), active
# (confirmed: the badge can be printed), withdrawn (cancelled), replaced (a colleague
# came instead: cancelled, and its QR code is another's place now), expired (never paid).
STATUS_OF_REGISTRATION = {"pending_payment": "pending", "confirmed": "active",
                          "cancelled": "withdrawn", "expired": "expired"}


def badge_status(data) -> str:
    """The badge's status after a registration event's ``data``."""
    if getattr(data, "reason", None) == "substituted":
        return "replaced"
    return STATUS_OF_REGISTRATION[data.status]


class Base(DeclarativeBase):
    pass


class Badge(Base):
    __tablename__ = "badges"

    registration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), index=True)
    given_name: Mapped[str] = mapped_column(String(60))
    family_name: Mapped[str] = mapped_column(String(60))
    name_order: Mapped[str] = mapped_column(String(12), default="given_first",
                                            doc="given_first or family_first")
    pronouns: Mapped[str | None] = mapped_column(String(30))
    organisation: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(20))
    ticket_type: Mapped[str] = mapped_column(String(48), index=True)
    ticket_type_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64), doc="the conference's, for check-in times")
    search_text: Mapped[str] = mapped_column(Text)
    add_on_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_on: Mapped[list[str] | None] = mapped_column(
        JSON, doc="ISO dates a day pass admits its holder on; None: every day")
    attention: Mapped[str | None] = mapped_column(String(200), doc="an organiser's note for "
                                                  "the desk")
    status: Mapped[str] = mapped_column(String(10), index=True, default="active")
    version: Mapped[int] = mapped_column(default=0)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when its data was true")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True,
                                              doc="the A6 badge, made on change")
    missing_glyphs: Mapped[str | None] = mapped_column(String(200))
    printed_count: Mapped[int] = mapped_column(default=0)
    last_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def search_text(*parts: str | None) -> str:
    """What the desk's search looks in: the text without accents, and the same in Latin
    letters (anyascii), so that "papad" finds Παπαδόπουλος and "wang" finds 王小明."""
    text = search_key(" ".join(filter(None, parts)))
    latin = search_key(anyascii(text))
    return text if latin == text else f"{text} {latin}"


def badges_matching(session: Session, terms: list[str], limit: int = 50) -> list[Badge]:
    query = select(Badge)
    for term in terms:
        query = query.where(Badge.search_text.contains(term, autoescape=True))
    return list(session.scalars(query.order_by(Badge.family_name, Badge.given_name)
                                .limit(limit)))

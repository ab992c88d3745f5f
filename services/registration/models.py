"""The registration service's tables, and the queries that read them."""

from collections import Counter
from datetime import datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from services.registration.catalog import Catalog
from services.registration.domain import Status, Usage
from shared.db import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class CatalogVersion(Base):
    """Every catalog ever loaded; the newest is the one on sale."""

    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SaleLock(Base):
    """One row that every seat-taking transaction updates first, so they run one at a time."""

    __tablename__ = "sale_lock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Registration(Base):
    __tablename__ = "registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    ticket_type: Mapped[str] = mapped_column(String(48), index=True)
    member_price: Mapped[bool]
    discount_code: Mapped[str | None] = mapped_column(String(40), index=True)
    price_lines: Mapped[list] = mapped_column(JSON)
    amount_due: Mapped[int]
    vat_amount: Mapped[int]
    vat_rate_percent: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    amount_paid: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    last_payment_error: Mapped[str | None] = mapped_column(Text)

    given_name: Mapped[str] = mapped_column(String(60))
    family_name: Mapped[str] = mapped_column(String(60))
    pronouns: Mapped[str | None] = mapped_column(String(30))
    organisation: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(254))
    dietary_needs: Mapped[str | None] = mapped_column(Text)
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    add_on_rows: Mapped[list["RegistrationAddOn"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RegistrationAddOn.position"
    )

    @property
    def add_ons(self) -> list[str]:
        return [row.add_on for row in self.add_on_rows]


class RegistrationAddOn(Base):
    __tablename__ = "registration_add_ons"

    registration_id: Mapped[str] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    add_on: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)
    position: Mapped[int]


class CatalogCache(DependencyProvider):
    """Parsed catalog versions, shared by one service container's workers."""

    def setup(self):
        self.versions: dict[int, Catalog] = {}

    def get_dependency(self, worker_ctx):
        return self.versions


def current_catalog(session: Session, cache: dict) -> tuple[int, Catalog]:
    """The catalog on sale, parsed once per version and kept in ``cache``."""
    version = session.scalar(select(func.max(CatalogVersion.id)))
    if version not in cache:
        document = session.get(CatalogVersion, version).document
        cache[version] = Catalog.model_validate(document)
    return version, cache[version]


def take_sale_lock(session: Session) -> None:
    """Serialise seat-taking transactions (a row lock on PostgreSQL, the write lock on SQLite)."""
    session.execute(update(SaleLock).where(SaleLock.id == 1).values(taken_at=utcnow()))


def holding_seat(now: datetime):
    """SQL for domain.holds_seat."""
    return or_(
        Registration.status == Status.CONFIRMED,
        and_(Registration.status == Status.PENDING_PAYMENT, Registration.hold_expires_at > now),
    )


def usage(session: Session, now: datetime) -> Usage:
    holding = holding_seat(now)
    by_ticket = Counter(dict(session.execute(
        select(Registration.ticket_type, func.count()).where(holding)
        .group_by(Registration.ticket_type)).all()))
    by_add_on = Counter(dict(session.execute(
        select(RegistrationAddOn.add_on, func.count()).join(Registration).where(holding)
        .group_by(RegistrationAddOn.add_on)).all()))
    by_code = Counter(dict(session.execute(
        select(Registration.discount_code, func.count())
        .where(holding, Registration.discount_code.is_not(None))
        .group_by(Registration.discount_code)).all()))
    return Usage(conference=sum(by_ticket.values()), ticket_types=by_ticket,
                 add_ons=by_add_on, codes=by_code)


def search(session: Session, terms: list[str], status: str | None, ticket_type: str | None,
           limit: int, offset: int) -> tuple[int, list[Registration]]:
    query = select(Registration)
    for term in terms:
        query = query.where(Registration.search_text.contains(term, autoescape=True))
    if status:
        query = query.where(Registration.status == status)
    if ticket_type:
        query = query.where(Registration.ticket_type == ticket_type)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(
        query.order_by(Registration.family_name, Registration.given_name, Registration.id)
        .limit(limit).offset(offset)
    ).all()
    return total, rows

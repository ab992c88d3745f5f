"""The registration service's tables, and the queries that read them."""

import time
from collections import Counter
from datetime import datetime

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from services.registration import domain
from services.registration.catalog import Catalog
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


class Limit(Base):
    """One limit of the sale (the conference, a ticket type, an add-on, a code): its
    capacity from the catalog and how many places registrations hold. Taking a place
    and reading the capacity in force is one conditional update of this row."""

    __tablename__ = "limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    capacity: Mapped[int]
    held: Mapped[int] = mapped_column(default=0)


class BookingAttempt(Base):
    """A booking placed, counted for the abuse limits; kept only as long as a limit's
    window (no address or email: keyed hashes of them)."""

    __tablename__ = "booking_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_key: Mapped[str] = mapped_column(String(32), index=True)
    email_key: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Order(Base):
    """One booking: a buyer, one or more delegates, one amount due and one payment. Its
    seats are held all or nothing; its status leads its delegates' until one is cancelled
    alone."""

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    payment_method: Mapped[str] = mapped_column(String(10))
    idempotency_key: Mapped[str | None] = mapped_column(
        String(64), unique=True, doc="the client's Idempotency-Key, hashed with its kind")
    request_digest: Mapped[str | None] = mapped_column(
        String(64), doc="what was asked with that key, to refuse the key's reuse for another")
    client_key: Mapped[str | None] = mapped_column(
        String(32), index=True, doc="who placed it (its address, keyed-hashed), for the limits")

    buyer_name: Mapped[str] = mapped_column(String(121))
    buyer_email: Mapped[str] = mapped_column(String(254))
    buyer_organisation: Mapped[str] = mapped_column(String(120))
    buyer_country: Mapped[str] = mapped_column(String(2))
    billing_address: Mapped[str | None] = mapped_column(String(300))
    billing_vat_number: Mapped[str | None] = mapped_column(String(30))
    purchase_order: Mapped[str | None] = mapped_column(String(60))

    amount_due: Mapped[int]
    vat_amount: Mapped[int]
    vat_rate_percent: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    amount_paid: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    payment_intent_id: Mapped[str | None] = mapped_column(String(64))
    payment_attempt: Mapped[int] = mapped_column(default=0)
    client_secret: Mapped[str | None] = mapped_column(String(200))
    last_payment_error: Mapped[str | None] = mapped_column(Text)
    invoice_number: Mapped[str | None] = mapped_column(
        String(32), doc="the order's current invoice, as payments issued it")
    payment_reference: Mapped[str | None] = mapped_column(
        String(40), doc="the RF reference a bank transfer quotes")
    search_text: Mapped[str] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    registrations: Mapped[list["Registration"]] = relationship(
        back_populates="order", lazy="selectin", order_by="Registration.position")
    change: Mapped["BookingChange | None"] = relationship(
        back_populates="order", uselist=False, lazy="select",
        doc="an order that pays for a change to a delegate's booking: the change")


class Registration(Base):
    """One delegate of an order: their ticket, add-ons, badge details and share."""

    __tablename__ = "registrations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
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

    given_name: Mapped[str] = mapped_column(String(60))
    family_name: Mapped[str] = mapped_column(String(60))
    name_order: Mapped[str] = mapped_column(String(12), default="given_first",
                                            server_default="given_first")
    pronouns: Mapped[str | None] = mapped_column(String(30))
    organisation: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(254))
    dietary_needs: Mapped[str | None] = mapped_column(Text)
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when the delegate asked to be forgotten; their details are gone")
    replaced_by: Mapped[str | None] = mapped_column(
        String(36), doc="the registration of the colleague who took this delegate's place")

    order: Mapped[Order] = relationship(back_populates="registrations", lazy="joined")
    add_on_rows: Mapped[list["RegistrationAddOn"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RegistrationAddOn.position"
    )

    changes: Mapped[list["BookingChange"]] = relationship(
        back_populates="registration", lazy="select", order_by="BookingChange.created_at")

    @property
    def add_ons(self) -> list[str]:
        return [row.add_on for row in self.add_on_rows]

    # What the delegate's own view shows of their order.
    hold_expires_at = property(lambda self: self.order.hold_expires_at)
    last_payment_error = property(lambda self: self.order.last_payment_error)
    billing_address = property(lambda self: self.order.billing_address)
    billing_vat_number = property(lambda self: self.order.billing_vat_number)
    purchase_order = property(lambda self: self.order.purchase_order)
    buyer_organisation = property(lambda self: self.order.buyer_organisation)
    paid_by_buyer = property(lambda self: len(self.order.registrations) > 1,
                             doc="one of a group, or in a colleague's place: the buyer "
                                 "pays, not the delegate")


class RegistrationAddOn(Base):
    __tablename__ = "registration_add_ons"

    registration_id: Mapped[str] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    add_on: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)
    position: Mapped[int]


class BookingChange(Base):
    """A change to a confirmed delegate's booking: the items before and after, each as
    ``{ticket_type, add_ons, price_lines, amount_due, vat_amount}``. One that costs more
    is paid for by an order of its own and holds the places it takes until then; the
    rest take effect at once."""

    __tablename__ = "booking_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), index=True)
    order_id: Mapped[str | None] = mapped_column(
        ForeignKey("orders.id"), unique=True, doc="the order that pays the difference")
    status: Mapped[str] = mapped_column(String(20), index=True)
    by: Mapped[str] = mapped_column(String(10))
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    lines: Mapped[list] = mapped_column(JSON, doc="what the difference is made of")
    difference: Mapped[int]
    refund_due: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when it took effect, or was dropped")

    registration: Mapped[Registration] = relationship(back_populates="changes", lazy="joined")
    order: Mapped[Order | None] = relationship(back_populates="change", lazy="select")

    @property
    def order_reference(self) -> str | None:
        return self.order.reference if self.order else None


class Catalogs:
    """The catalog on sale, parsed once per version. Its version is looked up at most
    every ``refresh_seconds``: a new price shows a moment later, while capacities are
    never stale (they are read from ``limits`` as places are taken)."""

    def __init__(self, refresh_seconds: float = 1.0):
        self.refresh_seconds = refresh_seconds
        self.version: int | None = None
        self.catalog: Catalog | None = None
        self.checked_at = float("-inf")

    def current(self, session: Session) -> Catalog:
        if time.monotonic() - self.checked_at >= self.refresh_seconds:
            version = session.scalar(select(func.max(CatalogVersion.id)))
            if version != self.version:
                document = session.get(CatalogVersion, version).document
                self.version, self.catalog = version, Catalog.model_validate(document)
            self.checked_at = time.monotonic()
        return self.catalog


class CatalogCache(DependencyProvider):
    """One ``Catalogs`` for all of a service container's workers."""

    def setup(self):
        self.catalogs = Catalogs()

    def get_dependency(self, worker_ctx):
        return self.catalogs


def _by_key(places: Counter) -> ColumnElement[int]:
    return case(*((Limit.__table__.c.key == key, count) for key, count in places.items()),
                else_=0)


def take_places(session: Session, places: Counter) -> str | None:
    """Take ``places[key]`` places of each limit; return the first key past its capacity
    (or gone from the catalog), or None. The caller rolls back on a refusal.

    One statement: its subquery locks the rows in key order, so two orders wanting
    overlapping limits queue on the first one they share and never deadlock.
    """
    if not places:
        return None
    keys = list(places)
    limits = Limit.__table__.c
    # A Core statement on the session's connection: the ORM's bulk-update bookkeeping
    # costs more than the update itself, and no Limit object is loaded anyway.
    session.flush()
    rows = session.connection().execute(
        update(Limit.__table__).where(limits.key.in_(_locked_in_key_order(keys)))
        .values(held=limits.held + _by_key(places))
        .returning(limits.key, limits.held, limits.capacity)
    ).all()
    within = {key: held <= capacity for key, held, capacity in rows}
    return next((key for key in keys if not within.get(key)), None)


def release_places(session: Session, places: Counter) -> None:
    """Give back ``places[key]`` places of each limit; its rows locked in key order, as
    ``take_places`` locks them, so that a release and a booking never deadlock."""
    if not places:
        return
    limits = Limit.__table__.c
    session.flush()
    session.connection().execute(
        update(Limit.__table__).where(limits.key.in_(_locked_in_key_order(list(places))))
        .values(held=limits.held - _by_key(places)))


def _locked_in_key_order(keys: list[str]):
    """The keys, as a subquery that locks their rows in key order."""
    limits = Limit.__table__.c
    return (select(limits.key).where(limits.key.in_(keys)).order_by(limits.key)
            .with_for_update().scalar_subquery())


def limits_in_force(session: Session) -> dict[str, Limit]:
    return {limit.key: limit for limit in session.scalars(select(Limit))}


def sync_limits(session: Session, catalog: Catalog) -> None:
    """Give every limit the capacity the catalog sets; refuse to drop one that is held."""
    wanted = domain.limits(catalog)
    existing = limits_in_force(session)
    held = sorted(key for key, limit in existing.items() if key not in wanted and limit.held)
    if held:
        raise ValueError(f"registrations hold {held}; keep them in the catalog "
                         "(set their capacity to 0 to stop selling them)")
    for key, limit in existing.items():
        if key not in wanted:
            session.delete(limit)
    for key, capacity in wanted.items():
        if key in existing:
            existing[key].capacity = capacity
        else:
            session.add(Limit(key=key, capacity=capacity, held=0))


def search(session: Session, model: type[Registration] | type[Order], terms: list[str],
           limit: int, offset: int, **equal) -> tuple[int, list]:
    """Rows of ``model`` whose search text holds every term and whose columns have the
    values in ``equal`` (None: any); delegates by name when searching, else newest first."""
    query = select(model)
    for term in terms:
        query = query.where(model.search_text.contains(term, autoescape=True))
    for column, value in equal.items():
        if value:
            query = query.where(getattr(model, column) == value)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = ((Registration.family_name, Registration.given_name, Registration.id)
             if terms and model is Registration else (model.created_at.desc(), model.id))
    rows = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
    return total, rows


OPEN_ENTRY = text("status IN ('waiting', 'offered')")


class WaitingListEntry(Base):
    """A person waiting for a place of a sold-out ticket type or add-on (``item``: the key of
    its limit), and the place offered to them when one frees; one open entry per email and
    item. Their name and email are forgotten once the entry is closed."""

    __tablename__ = "waiting_list_entries"
    __table_args__ = (
        Index("ix_waiting_list_entries_item_status", "item", "status"),
        Index("uq_waiting_list_entries_open", "item", "email_key", unique=True,
              postgresql_where=OPEN_ENTRY, sqlite_where=OPEN_ENTRY),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    given_name: Mapped[str] = mapped_column(String(60))
    family_name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), doc="the email, case folded")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

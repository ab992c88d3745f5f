"""The payments service's tables."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from shared.db import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Payment(Base):
    """One PaymentIntent for one order; after a declined card the next try is a new
    attempt with a new intent."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("order_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    attempt: Mapped[int]
    payment_intent_id: Mapped[str | None] = mapped_column(
        String(64), unique=True, doc="None while the intent is being prepared")
    client_secret: Mapped[str | None] = mapped_column(String(200))
    prepare_tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), index=True, doc="when to ask Stripe for the intent (again)")
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    order: Mapped[dict] = mapped_column(JSON, doc="the OrderData as placed, for the receipt")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when reconciliation last asked Stripe about it")
    next_check_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), index=True,
        doc="once the buyer has tried to pay: when to ask Stripe if no webhook has come")
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount_received: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    method_type: Mapped[str | None] = mapped_column(
        String(20), doc="Stripe's payment method type the buyer paid with (card, sepa_debit)")

    refunds: Mapped[list["Refund"]] = relationship(lazy="selectin", order_by="Refund.created_at")


class Refund(Base):
    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReceiptSequence(Base):
    """The last receipt number given. Taken in the transaction that records the payment,
    so a rolled-back payment gives its number back: the numbers have no gaps."""

    __tablename__ = "receipt_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Order(Base):
    """What payments knows of an order (registration's latest word on it), and what has
    come in for it by bank transfer."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    amount_due: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    snapshot: Mapped[dict] = mapped_column(JSON, doc="the latest OrderData heard")
    as_of: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when that was true")
    payment_reference: Mapped[str | None] = mapped_column(
        String(40), unique=True, doc="the RF reference an invoice's transfer quotes")
    amount_received: Mapped[int] = mapped_column(default=0, doc="by bank transfer")
    paid_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when transfers first covered the amount due")
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)


class Document(Base):
    """An invoice or a credit note as issued: never changed afterwards. ``content`` is
    everything it prints."""

    __tablename__ = "documents"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    order_id: Mapped[str] = mapped_column(String(36), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    amount: Mapped[int] = mapped_column(doc="gross cents; positive on a credit note too")
    reason: Mapped[str] = mapped_column(String(20))
    credits: Mapped[str | None] = mapped_column(
        String(32), index=True, doc="a credit note's invoice number")
    content: Mapped[dict] = mapped_column(JSON)


class DocumentSequence(Base):
    """The last number given to each kind of document; taken in the transaction that
    issues it, so the numbers have no gaps (like receipts)."""

    __tablename__ = "document_sequences"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Transfer(Base):
    """Money by bank transfer: recorded by an organiser or imported from a statement;
    unmatched until someone (or its RF reference) says which order it pays. A negative
    amount is a refund the organiser owes back by transfer."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(Text, doc="what the payer wrote, or the RF")
    payer: Mapped[str | None] = mapped_column(String(140))
    source: Mapped[str] = mapped_column(String(10), doc="organiser, statement or refund")
    bank_entry: Mapped[str | None] = mapped_column(
        String(100), unique=True, doc="the statement entry's id: imported once")
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StripeEvent(Base):
    """Webhook events handled, so that a replayed one has no second effect."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    problem: Mapped[str | None] = mapped_column(
        Text, doc="why an organiser should look at it (an amount not asked for, an unexpected "
                  "shape)")


DOCUMENT_KINDS = {"invoice": "I", "credit_note": "C"}  # and the letter in their numbers


def seed(session: Session, config: dict) -> None:
    if session.get(ReceiptSequence, 1) is None:
        session.add(ReceiptSequence(id=1, last=0))
    for kind in DOCUMENT_KINDS:
        if session.get(DocumentSequence, kind) is None:
            session.add(DocumentSequence(kind=kind, last=0))


def next_document_sequence(session: Session, kind: str) -> int:
    return session.execute(
        update(DocumentSequence).where(DocumentSequence.kind == kind)
        .values(last=DocumentSequence.last + 1).returning(DocumentSequence.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def next_receipt_sequence(session: Session) -> int:
    return session.execute(
        update(ReceiptSequence).where(ReceiptSequence.id == 1)
        .values(last=ReceiptSequence.last + 1).returning(ReceiptSequence.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def latest_payment(session: Session, order_id: str, lock: bool = False) -> Payment | None:
    query = (select(Payment).where(Payment.order_id == order_id)
             .order_by(Payment.attempt.desc()).limit(1))
    return session.scalars(query.with_for_update() if lock else query).first()


def payments_of(session: Session, order_id: str) -> list[Payment]:
    """An order's payments, one per attempt, oldest first."""
    return list(session.scalars(select(Payment).where(Payment.order_id == order_id)
                                .order_by(Payment.attempt)))

"""The payments service's tables."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, select, update
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
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amount_received: Mapped[int] = mapped_column(default=0)
    amount_refunded: Mapped[int] = mapped_column(default=0)
    receipt_number: Mapped[str | None] = mapped_column(String(32), unique=True)

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


class StripeEvent(Base):
    """Webhook events handled, so that a replayed one has no second effect."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def seed(session: Session, config: dict) -> None:
    if session.get(ReceiptSequence, 1) is None:
        session.add(ReceiptSequence(id=1, last=0))


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

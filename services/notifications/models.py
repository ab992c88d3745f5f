"""The notifications service's tables: what is known of registrations and orders, and
every message."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from shared.db import UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Recipient(Base):
    """What this service knows of a delegate's registration, from the registration
    service's events."""

    __tablename__ = "recipients"

    registration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    snapshot: Mapped[dict] = mapped_column(JSON, doc="the latest RegistrationData")
    as_of: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when that snapshot was true")


class Order(Base):
    """What this service knows of an order, from the registration service's events: the
    buyer, whom payment events (which carry only the order id) are addressed to; and from
    the payments service's, how its invoice is to be paid."""

    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    snapshot: Mapped[dict] = mapped_column(JSON, doc="the latest OrderData")
    as_of: Mapped[datetime] = mapped_column(UTCDateTime(), doc="when that snapshot was true")
    invoice: Mapped[dict | None] = mapped_column(
        JSON, doc="the latest invoice issued for the order (DocumentData)")
    invoice_as_of: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="when that invoice was issued")
    received: Mapped[int] = mapped_column(
        Integer, default=0, doc="cents received by bank transfer so far")


class Message(Base):
    """One email, stored before it is sent: one per (event, kind, occasion), whatever the
    redeliveries. A message to a buyer has no registration id.

    Most events call for one message of a kind, whose occasion is ``""``; an order placed
    to be paid by invoice calls for a reminder at each of its times (the occasion is the
    time); an organiser's resend is a copy of a message (``resend_of``), its occasion
    numbering the copies of that message. One whose news another email of its order said
    too (a cancellation's refund, say) is not sent on its own: it is ``combined``, and
    ``carried_by`` names that message."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("event_id", "kind", "occasion", name="uq_messages_occasion"),
        UniqueConstraint("resend_of", "idempotency_key", name="uq_messages_resend_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    occasion: Mapped[str] = mapped_column(
        String(64), default="", doc="what tells apart messages of one kind from one event")
    registration_id: Mapped[str | None] = mapped_column(
        String(36), index=True, doc="the delegate's, for a message to a delegate")
    order_id: Mapped[str | None] = mapped_column(
        String(36), index=True, doc="the order it is about (none on messages from before orders)")
    event_data: Mapped[dict] = mapped_column(JSON)
    to_address: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(200), unique=True,
                                            doc="the Message-ID header, the same on every try")
    status: Mapped[str] = mapped_column(String(10), index=True, default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resend_of: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", name="fk_messages_resend_of"), index=True,
        doc="the message this one is a copy of")
    idempotency_key: Mapped[str | None] = mapped_column(
        String(255), doc="the Idempotency-Key of the resend that made this copy")
    resent_by: Mapped[str | None] = mapped_column(
        String(20), doc="the organiser role that asked for this copy")
    carried_by: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", name="fk_messages_carried_by"), index=True,
        doc="the message whose email said this one's news too (its status: combined)")

    original: Mapped["Message | None"] = relationship(remote_side=[id],
                                                      foreign_keys=[resend_of])


def next_due(session: Session, now: datetime) -> Message | None:
    """The oldest message due for a try, locked so no other instance sends it too."""
    return session.scalars(
        select(Message).where(Message.status == "queued", Message.next_attempt_at <= now)
        .order_by(Message.id).limit(1).with_for_update(skip_locked=True)
    ).first()

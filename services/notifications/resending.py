"""An organiser's resend of a message: a copy with the same kind, recipient and content,
its own Message-ID, queued now. Safe against a double click: with an Idempotency-Key, a
repeat gets the copy the key made; without one, a resend while an earlier copy still
waits to go gets that copy."""

from datetime import datetime

from sqlalchemy import func, select

from services.notifications.models import Message
from services.notifications.operations import new_message_id
from shared.db import UnitOfWork
from shared.errors import Gone, NotFound
from shared.privacy import ERASED_EMAIL


def find(uow: UnitOfWork, message_id: str, lock: bool = False) -> Message:
    """The message with this Message-ID (its angle brackets may be left out)."""
    ids = {message_id, f"<{message_id.strip('<>')}>"}
    query = select(Message).where(Message.message_id.in_(ids))
    if lock:
        query = query.with_for_update()
    message = uow.session.scalars(query).first()
    if message is None:
        raise NotFound("No message has this id.", "message_id", code="unknown_message")
    return message


def earlier_copy(uow: UnitOfWork, original: Message, key: str | None) -> Message | None:
    """The copy a repeat of this resend should get, if there is one."""
    query = select(Message).where(Message.resend_of == original.id)
    if key is not None:
        query = query.where(Message.idempotency_key == key)
    else:
        query = query.where(Message.status == "queued")
    return uow.session.scalars(query.order_by(Message.id).limit(1)).first()


def resend(uow: UnitOfWork, message_id: str, key: str | None, role: str | None,
           now: datetime) -> Message:
    """A copy of the message ``message_id`` (a copy of a copy copies the first one), sent
    as soon as the sender runs; or the copy an earlier, same resend made."""
    clicked = find(uow, message_id)
    if clicked.to_address == ERASED_EMAIL:
        raise Gone("This message's recipient was erased: it cannot be sent again.",
                   "message_id", code="recipient_erased")
    original = clicked.original or clicked
    # Resends of one message, one at a time (PostgreSQL; SQLite has one writer anyway).
    uow.session.refresh(original, with_for_update=True)
    if (copy := earlier_copy(uow, original, key)) is not None:
        uow.commit()  # nothing changed: only the lock ends
        return copy
    copies = uow.session.scalar(select(func.count()).where(Message.resend_of == original.id))
    copy = Message(
        event_id=original.event_id, kind=original.kind,
        occasion=f"copy {copies + 1} of {original.id}", order_id=original.order_id,
        registration_id=original.registration_id, event_data=original.event_data,
        to_address=clicked.to_address, message_id=new_message_id(), status="queued",
        attempts=0, next_attempt_at=now, created_at=now, resend_of=original.id,
        idempotency_key=key, resent_by=role)
    uow.session.add(copy)
    if uow.commit_unless_duplicate():
        return copy
    # Another worker made the same copy in the meantime (same key, or same number).
    query = select(Message).where(Message.resend_of == find(uow, original.message_id).id)
    if key is not None:
        query = query.where(Message.idempotency_key == key)
    return uow.session.scalars(query.order_by(Message.id.desc()).limit(1)).one()

"""What the notifications service does, each as a function of a unit of work."""

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import make_msgid

import segno
from sqlalchemy import select

from services.notifications import domain
from services.notifications.mailer import (
    Attachment,
    Mailer,
    PermanentFailure,
    TemporaryFailure,
    compose,
)
from services.notifications.models import Message, Recipient, next_due
from services.notifications.rendering import render
from shared.auth import registration_token, ticket_token
from shared.db import UnitOfWork
from shared.events import Event

log = logging.getLogger(__name__)

TICKET_QR_CID = "ticket-qr@ecsite"


class RecipientNotKnownYet(Exception):
    """A payment event came before the registration's own: retried after a delay."""


def record(uow: UnitOfWork, event: Event) -> None:
    """Keep what is known of the registration up to date, and store the message the
    event calls for: once, however often the event is delivered."""
    if not uow.first_delivery(event):
        return
    data = event.data
    recipient = uow.session.get(Recipient, data.registration_id, with_for_update=True)
    name_before = recipient and (recipient.snapshot["delegate"]["given_name"],
                                 recipient.snapshot["delegate"]["family_name"])
    if event.type in domain.REGISTRATION_EVENTS:
        snapshot = data.model_dump(mode="json")
        if recipient is None:
            recipient = Recipient(registration_id=data.registration_id, snapshot=snapshot,
                                  as_of=event.occurred_at)
            uow.session.add(recipient)
        elif event.occurred_at >= recipient.as_of:
            recipient.snapshot, recipient.as_of = snapshot, event.occurred_at
    elif recipient is None:
        raise RecipientNotKnownYet(f"{event.type} {event.id} before its registration")
    kind = domain.message_kind(event, name_before)
    if kind:
        uow.session.add(Message(
            event_id=str(event.id), kind=kind, registration_id=data.registration_id,
            event_data=data.model_dump(mode="json"),
            to_address=recipient.snapshot["delegate"]["email"],
            message_id=make_msgid(domain="ecsite-ticketing")))
    uow.commit()


@dataclass(frozen=True)
class Sources:
    """What composing a message needs from elsewhere; each raises TemporaryFailure
    when it cannot answer now."""

    conference: Callable[[], dict]
    receipt_pdf: Callable[[str], bytes]


@dataclass(frozen=True)
class Settings:
    from_address: str
    public_base_url: str
    secret_key: str
    retry_base_seconds: float


def context(message: Message, snapshot: dict, conference: dict, settings: Settings) -> dict:
    """What a template sees; a registration event's own snapshot wins over the latest."""
    data = message.event_data if "delegate" in message.event_data else snapshot
    delegate = data["delegate"]
    registration_id = data["registration_id"]
    token = registration_token(settings.secret_key, registration_id)
    return {
        "conference": conference,
        "delegate": {**delegate, "name": " ".join(
            filter(None, [delegate["given_name"], delegate["family_name"]]))},
        "registration": {key: data[key] for key in (
            "reference", "ticket_type_name", "add_ons", "amount_due", "currency", "status",
            "hold_expires_at")} | {"id": registration_id},
        # The token goes after '#': browsers never send it to a server, so no log keeps it.
        "manage_url": f"{settings.public_base_url}/manage/{registration_id}#token={token}",
        "event": message.event_data,
        "ticket_qr_cid": TICKET_QR_CID,
    }


def attachments(message: Message, sources: Sources, settings: Settings) -> tuple:
    if message.kind == "payment_confirmed":
        pdf = sources.receipt_pdf(message.registration_id)
        return (Attachment("receipt.pdf", pdf, "application", "pdf"),)
    if message.kind == "e_ticket":
        qr = io.BytesIO()
        segno.make(ticket_token(settings.secret_key, message.registration_id), error="m").save(
            qr, kind="png", scale=8, border=2)
        return (Attachment("ticket-qr.png", qr.getvalue(), "image", "png",
                           inline_cid=TICKET_QR_CID),)
    return ()


def send_due(uow: UnitOfWork, mailer: Mailer, sources: Sources, settings: Settings,
             now: datetime, batch: int = 50) -> int:
    """Send the messages that are due, one transaction each; returns how many were tried.

    A temporary failure is tried again later, with growing delays; a permanent one is
    recorded and not tried again. A sent message is marked in the same transaction that
    publishes ``email_sent``."""
    tried = 0
    while tried < batch and (message := next_due(uow.session, now)) is not None:
        tried += 1
        message.attempts += 1
        try:
            recipient = uow.session.get(Recipient, message.registration_id)
            rendered = render(message.kind, context(
                message, recipient.snapshot, sources.conference(), settings))
            mailer.send(compose(settings.from_address, message.to_address, message.message_id,
                                rendered.subject, rendered.text, rendered.html,
                                attachments(message, sources, settings)))
        except PermanentFailure as failure:
            message.status, message.last_error = "failed", str(failure)
            log.warning("message %s (%s) refused for good", message.id, message.kind)
        except Exception as failure:  # TemporaryFailure, or a fault of ours: back off
            if not isinstance(failure, TemporaryFailure):
                log.exception("message %s (%s) could not be composed", message.id, message.kind)
            message.last_error = f"{type(failure).__name__}: {failure}"[:500]
            message.next_attempt_at = now + timedelta(
                seconds=domain.retry_delay(message.attempts, settings.retry_base_seconds))
            log.warning("message %s (%s) not sent yet: %s", message.id, message.kind,
                        type(failure).__name__)
        else:
            message.status, message.sent_at, message.last_error = "sent", now, None
            uow.publish("email_sent", {"registration_id": message.registration_id,
                                       "kind": message.kind,
                                       "message_id": message.message_id})
        uow.commit()
    return tried


def messages_of(uow: UnitOfWork, registration_id: str) -> list[Message]:
    return list(uow.session.scalars(select(Message).where(
        Message.registration_id == registration_id).order_by(Message.id)))

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
from services.notifications.models import Message, Order, Recipient, next_due
from services.notifications.rendering import render
from shared.auth import order_token, registration_token, ticket_token
from shared.db import UnitOfWork
from shared.events import Event

log = logging.getLogger(__name__)

TICKET_QR_CID = "ticket-qr@ecsite"

# An order's receipt as PDF; raises TemporaryFailure when it cannot be had now.
ReceiptPdf = Callable[[str], bytes]


class OrderNotKnownYet(Exception):
    """A payment event came before its order's own: retried after a delay."""


def keep_latest(uow: UnitOfWork, model: type[Recipient | Order], event: Event, **key):
    """The row of ``model`` at ``key``, holding the event's data unless it holds newer."""
    row = uow.session.get(model, key, with_for_update=True)
    snapshot = event.data.model_dump(mode="json")
    if row is None:
        row = model(**key, snapshot=snapshot, as_of=event.occurred_at)
        uow.session.add(row)
    elif event.occurred_at >= row.as_of:
        row.snapshot, row.as_of = snapshot, event.occurred_at
    return row


def to_delegate(uow: UnitOfWork, event: Event) -> tuple[str | None, str]:
    """The message a registration event calls for, and the delegate's address."""
    data = event.data
    known = uow.session.get(Recipient, data.registration_id, with_for_update=True)
    name_before = known and (known.snapshot["delegate"]["given_name"],
                             known.snapshot["delegate"]["family_name"])
    recipient = keep_latest(uow, Recipient, event, registration_id=data.registration_id)
    order = uow.session.get(Order, data.order_id)
    kind = domain.message_kind(event, name_before, order and order.snapshot["buyer"]["email"])
    return kind, recipient.snapshot["delegate"]["email"]


def to_buyer(uow: UnitOfWork, event: Event) -> tuple[str | None, str]:
    """The message an order or payment event calls for, and the buyer's address."""
    if event.type in domain.ORDER_EVENTS:
        order = keep_latest(uow, Order, event, order_id=event.data.order_id)
    elif (order := uow.session.get(Order, event.data.order_id)) is None:
        raise OrderNotKnownYet(f"{event.type} {event.id} before its order")
    return domain.message_kind(event), order.snapshot["buyer"]["email"]


def record(uow: UnitOfWork, event: Event, defer: timedelta = timedelta(0)) -> None:
    """Keep what is known of registrations and orders up to date, and store the message
    the event calls for: once, however often the event is delivered. A "payment due"
    message waits ``defer`` for the payment it asks for."""
    if not uow.first_delivery(event):
        return
    data = event.data
    if event.type in domain.REGISTRATION_EVENTS:
        kind, to_address = to_delegate(uow, event)
    else:
        kind, to_address = to_buyer(uow, event)
    if kind:
        uow.session.add(Message(
            event_id=str(event.id), kind=kind, order_id=data.order_id,
            registration_id=data.registration_id if kind in domain.DELEGATE_KINDS else None,
            event_data=data.model_dump(mode="json"), to_address=to_address,
            message_id=make_msgid(domain="ecsite-ticketing"),
            next_attempt_at=event.occurred_at + (
                defer if kind in domain.DEFERRED_KINDS else timedelta(0))))
    uow.commit()


@dataclass(frozen=True)
class Settings:
    from_address: str
    public_base_url: str
    secret_key: str
    retry_base_seconds: float


def full_name(person: dict) -> str:
    return " ".join(filter(None, [person["given_name"], person["family_name"]]))


def delegate_context(registration: dict, settings: Settings) -> dict:
    registration_id = registration["registration_id"]
    token = registration_token(settings.secret_key, registration_id)
    delegate = registration["delegate"]
    return {
        "conference": registration["conference"],
        "addressee": full_name(delegate),
        "reference": registration["reference"],
        "delegate": {**delegate, "name": full_name(delegate)},
        "registration": {**registration, "id": registration_id},
        # The token goes after '#': browsers never send it to a server, so no log keeps it.
        "manage_url": f"{settings.public_base_url}/manage/{registration_id}#token={token}",
    }


def buyer_context(order: dict, settings: Settings) -> dict:
    order_id = order["order_id"]
    token = order_token(settings.secret_key, order_id)
    return {
        "conference": order["conference"],
        "addressee": order["buyer"]["name"],
        "reference": order["reference"],
        "buyer": order["buyer"],
        "order": {**order, "id": order_id},
        "order_url": f"{settings.public_base_url}/orders/{order_id}#token={token}",
    }


def context(message: Message, order: dict | None, settings: Settings) -> dict:
    """What a template sees. A delegate's message shows its registration event; a buyer's
    shows its order event, or for a payment event the latest of the order, ``order``."""
    data = message.event_data
    if message.kind in domain.DELEGATE_KINDS:
        facts = delegate_context(data, settings)
    else:
        facts = buyer_context(data if "buyer" in data else order, settings)
    return {**facts, "event": data, "register_url": f"{settings.public_base_url}/",
            "ticket_qr_cid": TICKET_QR_CID}


def attachments(message: Message, receipt_pdf: ReceiptPdf, settings: Settings) -> tuple:
    if message.kind == "payment_confirmed":
        return (Attachment("receipt.pdf", receipt_pdf(message.order_id), "application", "pdf"),)
    if message.kind == "e_ticket":
        qr = io.BytesIO()
        segno.make(ticket_token(settings.secret_key, message.registration_id), error="m").save(
            qr, kind="png", scale=8, border=2)
        return (Attachment("ticket-qr.png", qr.getvalue(), "image", "png",
                           inline_cid=TICKET_QR_CID),)
    return ()


def send_due(uow: UnitOfWork, mailer: Mailer, receipt_pdf: ReceiptPdf, settings: Settings,
             now: datetime, batch: int = 50) -> int:
    """Send the messages that are due, one transaction each; returns how many were tried.

    A temporary failure is tried again later, with growing delays; a permanent one is
    recorded and not tried again; one that has lost its point is skipped. A sent message
    is marked in the same transaction that publishes ``email_sent``."""
    tried = 0
    while tried < batch and (message := next_due(uow.session, now)) is not None:
        tried += 1
        order = uow.session.get(Order, message.order_id)
        first_try_came_after_a_change = (message.attempts == 0 and order is not None
                                         and order.as_of <= message.next_attempt_at)
        if domain.outdated(message.kind, order and order.snapshot["status"],
                           first_try_came_after_a_change):
            message.status = "skipped"
            uow.commit()
            continue
        message.attempts += 1
        try:
            rendered = render(message.kind, context(
                message, order and order.snapshot, settings))
            mailer.send(compose(settings.from_address, message.to_address, message.message_id,
                                rendered.subject, rendered.text, rendered.html,
                                attachments(message, receipt_pdf, settings)))
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
                                       "order_id": message.order_id, "kind": message.kind,
                                       "message_id": message.message_id})
        uow.commit()
    return tried


def messages_to_delegate(uow: UnitOfWork, registration_id: str) -> list[Message]:
    return list(uow.session.scalars(select(Message).where(
        Message.registration_id == registration_id).order_by(Message.id)))


def messages_of_order(uow: UnitOfWork, order_id: str) -> list[Message]:
    """The buyer's messages and the order's delegates'."""
    return list(uow.session.scalars(select(Message).where(
        Message.order_id == order_id).order_by(Message.id)))

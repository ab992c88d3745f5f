"""What the notifications service does with the events it hears, and what it tells
organisers, each as a function of a unit of work. Sending is in ``sending``, resending in
``resending``."""

import logging
from datetime import UTC, timedelta
from email.utils import make_msgid

from sqlalchemy import delete, select

from services.notifications import domain
from services.notifications.models import Message, Order, Recipient
from shared.db import UnitOfWork
from shared.events import Event
from shared.privacy import ERASED_EMAIL

log = logging.getLogger(__name__)


class OrderNotKnownYet(Exception):
    """A payment event came before its order's own: retried after a delay."""


def new_message_id() -> str:
    return make_msgid(domain="ecsite-ticketing")


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


def note_payments_news(order: Order, event: Event) -> None:
    """Keep what payments says of the order: its latest invoice (how it is to be paid),
    and how much has come in by transfer."""
    data = event.data
    if event.type == "invoice_issued" and (
            order.invoice_as_of is None or event.occurred_at >= order.invoice_as_of):
        order.invoice, order.invoice_as_of = data.model_dump(mode="json"), event.occurred_at
    elif event.type == "transfer_recorded":
        order.received = max(order.received or 0, data.total_received)


def to_buyer(uow: UnitOfWork, event: Event) -> tuple[str | None, str]:
    """The message an order or payments event calls for, and the buyer's address."""
    if event.type in domain.ORDER_EVENTS:
        order = keep_latest(uow, Order, event, order_id=event.data.order_id)
    elif (order := uow.session.get(Order, event.data.order_id,
                                   with_for_update=True)) is None:
        raise OrderNotKnownYet(f"{event.type} {event.id} before its order")
    else:
        note_payments_news(order, event)
    kind = domain.message_kind(event, order_status=order.snapshot["status"])
    return kind, order.snapshot["buyer"]["email"]


def record(uow: UnitOfWork, event: Event, defer: timedelta = timedelta(0)) -> None:
    """Keep what is known of registrations and orders up to date, and store the messages
    the event calls for: once, however often the event is delivered. A "payment due"
    message waits ``defer`` for the payment it asks for; reminders to pay wait for their
    times."""
    if not uow.first_delivery(event):
        return
    data = event.data
    if event.type in domain.REGISTRATION_EVENTS:
        kind, to_address = to_delegate(uow, event)
    else:
        kind, to_address = to_buyer(uow, event)
    if to_address == ERASED_EMAIL:  # the recipient was erased: nothing more is stored or sent
        uow.commit()
        return
    event_data = data.model_dump(mode="json")

    def message(kind: str, due, occasion: str = "") -> Message:
        return Message(
            event_id=str(event.id), kind=kind, occasion=occasion, order_id=data.order_id,
            registration_id=data.registration_id if kind in domain.DELEGATE_KINDS else None,
            event_data=event_data, to_address=to_address, message_id=new_message_id(),
            next_attempt_at=due)

    if kind:
        uow.session.add(message(kind, event.occurred_at + (
            defer if kind in domain.DEFERRED_KINDS else timedelta(0))))
    for reminder, at in domain.reminders(event):
        uow.session.add(message(reminder, at, occasion=at.astimezone(UTC).isoformat()))
    if event.type in domain.ORDER_EVENTS and data.status != "pending_payment":
        drop_reminders(uow, data.order_id)
    uow.commit()


def drop_reminders(uow: UnitOfWork, order_id: str) -> None:
    """A card order paid (or over) within its hold needs no reminder to pay: the one
    waiting is dropped now (it was never due). An invoice's reminders, days apart and each
    one's fate shown to the finance office, are skipped when they fall due."""
    uow.session.execute(delete(Message).where(
        Message.order_id == order_id, Message.status == "queued",
        Message.kind == domain.REMINDERS["card"]))


def record_links(uow: UnitOfWork, event: Event) -> None:
    """Store the message that sends the links someone asked for, once; it goes to the
    address asked about, and names no other."""
    _record_to_address(uow, event, "links", event.data.email)


def record_waiting_list(uow: UnitOfWork, event: Event) -> None:
    """Store the message to someone on a waiting list (joined, or offered a place), once; it
    goes to their address, and names nobody else."""
    _record_to_address(uow, event, domain.message_kind(event), event.data.person.email)


def _record_to_address(uow: UnitOfWork, event: Event, kind: str, to_address: str) -> None:
    """A message tied to no booking here, only to an address."""
    if not uow.first_delivery(event):
        return
    uow.session.add(Message(
        event_id=str(event.id), kind=kind, occasion="", order_id=None, registration_id=None,
        event_data=event.data.model_dump(mode="json"), to_address=to_address,
        message_id=new_message_id(), next_attempt_at=event.occurred_at))
    uow.commit()


def messages_to_delegate(uow: UnitOfWork, registration_id: str) -> list[Message]:
    return list(uow.session.scalars(select(Message).where(
        Message.registration_id == registration_id).order_by(Message.id)))


def messages_of_order(uow: UnitOfWork, order_id: str) -> list[Message]:
    """The buyer's messages and the order's delegates'."""
    return list(uow.session.scalars(select(Message).where(
        Message.order_id == order_id).order_by(Message.id)))

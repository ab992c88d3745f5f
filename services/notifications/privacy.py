"""A delegate's data in notifications: exported on request, erased when registration
announces ``delegate_erased``.

Notifications holds the latest it has heard of each registration and order (names,
emails, the buyer's billing details) and every message: its kind, recipient, state and
times, and the event data its subject and body are rendered from when it is sent (no
rendered email is stored). An erasure anonymises the registration's and the order's
copies, empties the messages to the delegate (and to the buyer, when the order was only
theirs) down to their kind, state and times, and takes the delegate out of the buyer's
messages of a larger order. A message still waiting is never sent: it is marked erased.
"""

from sqlalchemy import or_, select

from services.notifications import domain
from services.notifications.models import Message, Order, Recipient
from shared.db import UnitOfWork
from shared.events import Event
from shared.privacy import (
    ERASED_EMAIL,
    anonymised_delegate,
    anonymised_order,
    export,
    forget_published_events,
    json_value,
    mentions,
    names_in_order,
    names_of_delegate,
    only_theirs,
    scrub,
)

SERVICE = "notifications"
ERASED = "erased"  # the state of a message that was waiting when its recipient was erased
KEPT = [
    "each message's kind, state, number of tries and times (created, sent), addressed to "
    f"{ERASED_EMAIL} and with none of its content: how many emails of each kind went out, "
    "and when",
    "the registration's and the order's latest state (reference, ticket, status, amounts), "
    f"the names in them replaced by \"Erased\" and the emails by {ERASED_EMAIL}",
]
MESSAGE_FIELDS = ("kind", "status", "attempts", "last_error", "created_at", "sent_at",
                  "message_id")


def message_view(message: Message, with_recipient: bool = True) -> dict:
    """A message as the export tells it: its subject and body are rendered from its stored
    event data when it is sent, so what is stored is said to exist or not."""
    view = {field: json_value(getattr(message, field)) for field in MESSAGE_FIELDS}
    if with_recipient:
        view["recipient"] = message.to_address
    return {**view, "content_stored": bool(message.event_data)}


def registration_copy(recipient: Recipient) -> dict:
    snapshot = recipient.snapshot
    return {"reference": snapshot["reference"], "status": snapshot["status"],
            "ticket_type_name": snapshot["ticket_type_name"],
            "delegate": snapshot["delegate"], "as_of": json_value(recipient.as_of)}


def order_copy(order: Order, registration_id: str, whole_order: bool) -> dict:
    snapshot = order.snapshot
    if whole_order:
        return {"reference": snapshot["reference"], "status": snapshot["status"],
                "buyer": snapshot["buyer"], "delegates": snapshot["delegates"],
                "lines": snapshot["lines"], "invoice_number": (order.invoice or {}).get("number"),
                "received": order.received, "as_of": json_value(order.as_of)}
    return {"reference": snapshot["reference"],
            "delegates": [d for d in snapshot["delegates"]
                          if d["registration_id"] == registration_id],
            "lines": [line for line in snapshot["lines"]
                      if line["registration_id"] == registration_id]}


def messages_about(uow: UnitOfWork, registration_id: str, order_id: str,
                   lock: bool = False) -> list[Message]:
    query = select(Message).where(or_(Message.registration_id == registration_id,
                                      Message.order_id == order_id)).order_by(Message.id)
    return list(uow.session.scalars(query.with_for_update() if lock else query))


def export_delegate(uow: UnitOfWork, registration_id: str, order_id: str) -> dict:
    """What notifications holds about a delegate: their registration, the messages to
    them; of an order only theirs, the order and every message to its buyer; of a larger
    order, their part of it and the buyer's messages that name them (without the buyer's
    address)."""
    try:
        recipient = uow.session.get(Recipient, registration_id)
        order = uow.session.get(Order, order_id)
        whole_order = order is None or only_theirs(order.snapshot, registration_id)
        needles = names_of_delegate(recipient.snapshot["delegate"]) if recipient else set()
        data = {}
        if recipient is not None:
            data["registration"] = registration_copy(recipient)
        if order is not None:
            data["order"] = order_copy(order, registration_id, whole_order)
            needles |= names_in_order(order.snapshot, registration_id, False)
        messages = messages_about(uow, registration_id, order_id)
        data["messages"] = [message_view(m) for m in messages
                            if m.registration_id == registration_id or whole_order]
        if not whole_order:
            data["messages_to_the_buyer_naming_them"] = [
                message_view(m, with_recipient=False) for m in messages
                if m.registration_id is None and mentions(m.event_data, needles)]
        return export(SERVICE, data, KEPT)
    finally:
        uow.rollback()


def erase_delegate(uow: UnitOfWork, event: Event) -> None:
    """Anonymise what notifications holds about the delegate (and the buyer, when the order
    was only theirs); once, however often the event comes."""
    if not uow.first_delivery(event):
        uow.rollback()
        return
    erased = event.data
    rid, whole_order = erased.registration_id, erased.whole_order
    recipient = uow.session.get(Recipient, rid, with_for_update=True)
    order = uow.session.get(Order, erased.order_id, with_for_update=True)
    needles = names_of_delegate(recipient.snapshot["delegate"]) if recipient else set()
    if order is not None:
        needles |= names_in_order(order.snapshot, rid, whole_order)
    forget_links_sent(uow, needles)
    # an older event, come late, must not bring the names back: the copies are dated after
    # the erasure (and no message is stored for an erased address, see operations.record)
    if recipient is not None:
        recipient.snapshot = anonymised_delegate(recipient.snapshot)
        recipient.as_of = max(recipient.as_of, erased.erased_at)
    if order is not None:
        order.snapshot = anonymised_order(order.snapshot, rid, whole_order)
        order.as_of = max(order.as_of, erased.erased_at)
    for message in messages_about(uow, rid, erased.order_id, lock=True):
        if message.registration_id == rid or whole_order:
            empty(message)
        elif message.registration_id is None:  # to the buyer of a larger order
            message.event_data = take_out(message.event_data, rid, needles)
            if mentions(message.last_error, needles):
                message.last_error = None
    forget_published_events(uow, [rid, erased.order_id] if whole_order else [rid])
    uow.commit()


def forget_links_sent(uow: UnitOfWork, needles: set[str]) -> None:
    """The "links" and waiting-list emails (tied to no booking here, only to an address):
    emptied when sent to an erased address, scrubbed of the erased names when sent to
    another."""
    addresses = {needle.casefold() for needle in needles if "@" in needle}
    kinds = ("links", *domain.WAITING_LIST_KINDS)
    for message in uow.session.scalars(select(Message).where(Message.kind.in_(kinds))
                                       .with_for_update()):
        if message.to_address.casefold() in addresses:
            empty(message)
        elif mentions(message.event_data, needles):
            message.event_data = scrub(message.event_data, needles)


def empty(message: Message) -> None:
    """A message down to its kind, state, tries and times."""
    message.event_data, message.to_address, message.last_error = {}, ERASED_EMAIL, None
    if message.status == "queued":
        message.status = ERASED


def take_out(event_data: dict, registration_id: str, needles: set[str]) -> dict:
    """A buyer's message's event data without the erased delegate in it."""
    if "delegates" in event_data:
        event_data = anonymised_order(event_data, registration_id, False)
    return scrub(event_data, needles)

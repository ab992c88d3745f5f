"""Sending the messages that are due: what each template sees, what each email carries,
and what happens when it cannot go now."""

import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from services.notifications import domain
from services.notifications.documents import (
    CARRY_THE_INVOICE,
    Documents,
    Enclosed,
    enclosures,
)
from services.notifications.mailer import (
    Attachment,
    Mailer,
    PermanentFailure,
    TemporaryFailure,
    compose,
)
from services.notifications.models import Message, Order, next_due
from services.notifications.rendering import format_day, render
from shared import metrics
from shared.auth import order_token, registration_token, ticket_token, waiting_list_token
from shared.db import UnitOfWork
from shared.text import full_name

log = logging.getLogger(__name__)

TICKET_QR_CID = "ticket-qr@ecsite"

# Buyer's messages shown with the latest of their order rather than the order as it was
# when they were stored: a reminder goes out days later, to whoever the buyer is by then.
LATEST_ORDER_KINDS = domain.REMINDER_KINDS


@dataclass(frozen=True)
class Settings:
    from_address: str
    public_base_url: str
    secret_key: str
    retry_base_seconds: float


def name_of(person: dict) -> str:
    return full_name(person["given_name"], person["family_name"],
                     person.get("name_order", "given_first"))


def delegate_context(registration: dict, settings: Settings) -> dict:
    registration_id = registration["registration_id"]
    token = registration_token(settings.secret_key, registration_id)
    delegate = registration["delegate"]
    return {
        "conference": registration["conference"],
        "addressee": name_of(delegate),
        "reference": registration["reference"],
        "delegate": {**delegate, "name": name_of(delegate)},
        "registration": {**registration, "id": registration_id},
        # The token goes after '#': browsers never send it to a server, so no log keeps it.
        "manage_url": f"{settings.public_base_url}/manage/{registration_id}#token={token}",
    }


def buyer_context(order: dict, settings: Settings) -> dict:
    order_id = order["order_id"]
    token = order_token(settings.secret_key, order_id)
    base = settings.public_base_url
    return {
        "conference": order["conference"],
        "addressee": order["buyer"]["name"],
        "reference": order["reference"],
        "buyer": order["buyer"],
        "order": {**order, "id": order_id},
        "order_url": f"{base}/orders/{order_id}#token={token}",
        # Booking again, the form filled in from the order: its id is all the server sees.
        "rebook_url": f"{base}/?rebook={order_id}#token={token}",
    }


def links_context(data: dict, settings: Settings) -> dict:
    """The private links of the bookings made with one address: each delegate's own page,
    and each order's page for its buyer."""
    base = settings.public_base_url
    return {
        "conference": data["conference"], "reference": None,
        # the address's own name, as its first booking gave it
        "addressee": (data["registrations"] or data["orders"])[0]["name"],
        "registrations": [{**r, "url": f"{base}/manage/{r['id']}#token="
                                       f"{registration_token(settings.secret_key, r['id'])}"}
                          for r in data["registrations"]],
        "orders": [{**o, "url": f"{base}/orders/{o['id']}#token="
                                f"{order_token(settings.secret_key, o['id'])}"}
                   for o in data["orders"]],
    }


def local_time(moment: str, timezone: str) -> str:
    """An ISO date-time as people at the conference read it: "12 March 2027, 14:30
    (Helsinki time)"."""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone))
    place = timezone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{format_day(local.date())}, {local:%H:%M} ({place} time)"


def waiting_list_context(data: dict, settings: Settings) -> dict:
    """What someone on a waiting list reads: what they wait for, their private link (to
    book the place offered, or to leave the list) and when an offer ends, in the
    conference's time zone."""
    entry_id, person = data["entry_id"], data["person"]
    token = waiting_list_token(settings.secret_key, entry_id)
    facts = {"conference": data["conference"], "reference": None, "item": data["item"],
             "addressee": full_name(person["given_name"], person["family_name"]),
             "link": f"{settings.public_base_url}/?offer={entry_id}#token={token}"}
    if "expires_at" in data:
        facts["expires"] = local_time(data["expires_at"], data["conference"]["timezone"])
    return facts


def payment_terms(order: dict, invoice: dict | None, received: int) -> dict:
    """How an invoice order is to be paid, as far as this service knows: the invoice's
    amount, due date and RF reference, what has come in by transfer, and what is left."""
    amount = invoice["amount"] if invoice else order["amount_due"]
    due_on = invoice and invoice.get("due_on")
    if not due_on and order.get("hold_expires_at"):
        zone = ZoneInfo(order["conference"]["timezone"])
        due_on = datetime.fromisoformat(order["hold_expires_at"]).astimezone(zone).date()
    return {"amount": amount, "due_on": str(due_on) if due_on else None,
            "payment_reference": invoice and invoice.get("payment_reference"),
            "received": received, "outstanding": max(amount - received, 0)}


def context(message: Message, order: dict | None, settings: Settings,
            invoice: dict | None = None, received: int = 0,
            documents: tuple[dict, ...] = (), carried: dict | None = None) -> dict:
    """What a template sees. A delegate's message shows its registration event; a buyer's
    shows its order event, or for another event (or a reminder) the latest of the order,
    ``order``, with its latest ``invoice`` and the money ``received`` by transfer;
    ``documents`` are those attached (kind, number, filename); ``carried`` the event data
    of the messages whose news it says too, by kind."""
    data = message.event_data
    if message.kind == "links":
        facts = links_context(data, settings)
    elif message.kind in domain.WAITING_LIST_KINDS:
        facts = waiting_list_context(data, settings)
    elif message.kind in domain.DELEGATE_KINDS:
        facts = delegate_context(data, settings)
    else:
        own = "buyer" in data and message.kind not in LATEST_ORDER_KINDS
        facts = buyer_context(data if own else order, settings)
        facts["payment"] = payment_terms(facts["order"], invoice, received)
    return {**facts, "event": data, "ticket_qr_cid": TICKET_QR_CID, "invoice": invoice,
            "documents": list(documents), "carried": carried or {}}


def ticket_qr(message: Message, settings: Settings) -> Attachment:
    """The e-ticket's QR code as a black and white PNG, 8 pixels a module, with its quiet
    zone. zxing-cpp encodes it (C++): segno, in Python, took a sixth of all the service's
    time while it sent a rush's e-tickets."""
    symbol = zxingcpp.create_barcode(ticket_token(settings.secret_key, message.registration_id),
                                     zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = symbol.to_image(scale=8, add_quiet_zones=True)  # a byte a pixel
    height, width = modules.shape
    png = io.BytesIO()
    Image.frombytes("L", (width, height), memoryview(modules).tobytes()).convert("1").save(
        png, format="PNG")
    return Attachment("ticket-qr.png", png.getvalue(), "image", "png", inline_cid=TICKET_QR_CID)


def compose_message(message: Message, order: Order | None, documents: Documents,
                    settings: Settings, carried: Sequence[Message] = ()):
    """The email of ``message``, saying the news of the ``carried`` messages too, its
    documents and theirs fetched; raises TemporaryFailure when one cannot be had now."""
    invoice = order and order.invoice
    if message.kind in CARRY_THE_INVOICE and invoice is None:
        raise TemporaryFailure("the order's invoice is not known here yet")
    enclosed: list[Enclosed] = enclosures(
        message.kind, message.order_id, message.event_data, documents,
        invoice and invoice["number"])
    for other in carried:
        enclosed += enclosures(other.kind, message.order_id, other.event_data, documents)
    attachments = [e.attachment() for e in enclosed]
    if message.kind in domain.TICKET_KINDS:
        attachments.append(ticket_qr(message, settings))
    rendered = render(message.kind, context(
        message, order and order.snapshot, settings, invoice, order.received if order else 0,
        tuple(e.view() for e in enclosed), {other.kind: other.event_data for other in carried}))
    return compose(settings.from_address, message.to_address, message.message_id,
                   rendered.subject, rendered.text, rendered.html, tuple(attachments))


FOLLOW_POLL = timedelta(seconds=1)


def waits_behind(uow: UnitOfWork, message: Message, order: Order | None,
                 now: datetime) -> bool:
    """Whether ``message`` must wait for the message of its order it follows."""
    follows = domain.PRECEDED_BY.get(message.kind)
    if follows is None or message.resend_of is not None:
        return False
    paid_for = bool((order.snapshot if order else message.event_data).get("amount_due"))
    preceding = uow.session.scalars(
        select(Message.status).where(Message.order_id == message.order_id,
                                     Message.kind == follows, Message.resend_of.is_(None))
        .order_by(Message.id.desc()).limit(1)).first()
    return domain.must_wait(message.kind, paid_for, preceding, now - message.created_at)


def to_carry(uow: UnitOfWork, message: Message) -> list[Message]:
    """The messages of its order whose news ``message`` says too: those it gathers that are
    still waiting to go (the oldest of each kind); for an organiser's copy, those its
    original said."""
    if message.resend_of is not None:
        return list(uow.session.scalars(select(Message).where(
            Message.carried_by == message.resend_of).order_by(Message.id)))
    found: dict[str, Message] = {}
    if domain.gathers(message.kind, message.event_data):
        for other in waiting_of_order(uow, message):
            if domain.carries(message.kind, message.event_data, other.kind, other.event_data):
                found.setdefault(other.kind, other)
    return list(found.values())


def waiting_of_order(uow: UnitOfWork, message: Message) -> list[Message]:
    """The other messages of its order still waiting to go (not organisers' copies)."""
    return list(uow.session.scalars(select(Message).where(
        Message.order_id == message.order_id, Message.id != message.id,
        Message.status == "queued", Message.resend_of.is_(None)).order_by(Message.id)))


def waits_to_gather(uow: UnitOfWork, message: Message, carried: Sequence[Message],
                    now: datetime) -> bool:
    """Whether ``message`` waits: for the message of its order that is to say its news, or
    for more of what it is to say (for a while)."""
    if message.resend_of is not None or message.order_id is None:
        return False
    if message.kind in domain.CARRIED_KINDS and any(
            domain.carries(other.kind, other.event_data, message.kind, message.event_data)
            for other in waiting_of_order(uow, message)):
        return True
    return domain.must_gather(domain.gathers(message.kind, message.event_data),
                              {other.kind for other in carried}, now - message.created_at)


def send_due(uow: UnitOfWork, mailer: Mailer, documents: Documents, settings: Settings,
             now: datetime, batch: int = 50) -> int:
    """Send the messages that are due, one transaction each; returns how many were tried.

    A temporary failure is tried again later, with growing delays; a permanent one is
    recorded and not tried again; one that has lost its point is skipped; one that must
    not overtake another (an e-ticket, its order's payment confirmation) waits for it; one
    that says the news of others (a cancellation, its refund and credit note) waits for
    them a while, and they are combined into it. A sent message is marked in the same
    transaction that publishes ``email_sent``."""
    tried = 0
    while tried < batch and (message := next_due(uow.session, now)) is not None:
        tried += 1
        order = uow.session.get(Order, message.order_id) if message.order_id else None
        first_try_came_after_a_change = (message.attempts == 0 and order is not None
                                         and order.as_of <= message.next_attempt_at)
        if domain.outdated(message.kind, order and order.snapshot["status"],
                           first_try_came_after_a_change, message.resend_of is not None):
            message.status = "skipped"
            metrics.EMAILS.labels(message.kind, "skipped").inc()
            uow.commit()
            continue
        carried = to_carry(uow, message)
        if waits_behind(uow, message, order, now) or waits_to_gather(uow, message, carried,
                                                                     now):
            message.next_attempt_at = now + FOLLOW_POLL
            uow.commit()
            continue
        message.attempts += 1
        try:
            mailer.send(compose_message(message, order, documents, settings, carried))
        except PermanentFailure as failure:
            message.status, message.last_error = "failed", str(failure)
            metrics.EMAILS.labels(message.kind, "failed").inc()
            log.warning("message %s (%s) refused for good", message.id, message.kind)
        except Exception as failure:  # TemporaryFailure, or a fault of ours: back off
            if not isinstance(failure, TemporaryFailure):
                log.exception("message %s (%s) could not be composed", message.id, message.kind)
            message.last_error = f"{type(failure).__name__}: {failure}"[:500]
            message.next_attempt_at = now + timedelta(
                seconds=domain.retry_delay(message.attempts, settings.retry_base_seconds))
            metrics.EMAILS.labels(message.kind, "later").inc()
            log.warning("message %s (%s) not sent yet: %s", message.id, message.kind,
                        type(failure).__name__)
        else:
            record_sent(uow, message.id, now,
                        () if message.resend_of else tuple(other.id for other in carried))
            continue
        uow.commit()
    return tried


SENT_RECORD_TRIES = 60  # a second apart: a database restarting is waited out


def record_sent(uow: UnitOfWork, message_id: int, now: datetime,
                carried: tuple[int, ...] = ()) -> None:
    """Mark a message the SMTP server took as sent, and announce it; the ``carried``
    messages, whose news it said, as combined into it. The email is gone: if the database
    is away just then, the record is tried again for a while, rather than the message left
    queued to be sent a second time."""
    for attempt in range(1, SENT_RECORD_TRIES + 1):
        try:
            message = uow.session.get(Message, message_id, with_for_update=True)
            combined = []
            if message.status != "sent":  # else an earlier try did commit
                message.status, message.sent_at, message.last_error = "sent", now, None
                uow.publish("email_sent", {"registration_id": message.registration_id,
                                           "order_id": message.order_id, "kind": message.kind,
                                           "message_id": message.message_id})
                for other_id in carried:
                    other = uow.session.get(Message, other_id, with_for_update=True,
                                            populate_existing=True)
                    if combine(other, message, now):
                        combined.append(other.kind)
            uow.commit()
            metrics.EMAILS.labels(message.kind, "sent").inc()
            for kind in combined:
                metrics.EMAILS.labels(kind, "combined").inc()
            return
        except DBAPIError as exc:
            if attempt == SENT_RECORD_TRIES:
                raise
            log.warning("message %s was sent, and the database cannot record it yet (%s)",
                        message_id, type(exc.orig).__name__)
            uow.discard()
            time.sleep(1)


def combine(other: Message, carrier: Message, now: datetime) -> bool:
    """Record that ``other``'s news went out in ``carrier``'s email, so it is not sent on
    its own; False if it no longer waits to go (erased meanwhile, say)."""
    if other.status != "queued":
        return False
    other.status, other.sent_at, other.carried_by = "combined", now, carrier.id
    return True

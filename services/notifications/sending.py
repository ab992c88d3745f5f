"""Sending the messages that are due: what each template sees, what each email carries,
and what happens when it cannot go now."""

import io
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import segno
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
    return {
        "conference": order["conference"],
        "addressee": order["buyer"]["name"],
        "reference": order["reference"],
        "buyer": order["buyer"],
        "order": {**order, "id": order_id},
        "order_url": f"{settings.public_base_url}/orders/{order_id}#token={token}",
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
            documents: tuple[dict, ...] = ()) -> dict:
    """What a template sees. A delegate's message shows its registration event; a buyer's
    shows its order event, or for another event (or a reminder) the latest of the order,
    ``order``, with its latest ``invoice`` and the money ``received`` by transfer;
    ``documents`` are those attached (kind, number, filename)."""
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
    return {**facts, "event": data, "register_url": f"{settings.public_base_url}/",
            "ticket_qr_cid": TICKET_QR_CID, "invoice": invoice, "documents": list(documents)}


def ticket_qr(message: Message, settings: Settings) -> Attachment:
    qr = io.BytesIO()
    segno.make(ticket_token(settings.secret_key, message.registration_id), error="m").save(
        qr, kind="png", scale=8, border=2)
    return Attachment("ticket-qr.png", qr.getvalue(), "image", "png", inline_cid=TICKET_QR_CID)


def compose_message(message: Message, order: Order | None, documents: Documents,
                    settings: Settings):
    """The email of ``message``, its documents fetched; raises TemporaryFailure when one
    cannot be had now."""
    invoice = order and order.invoice
    if message.kind in CARRY_THE_INVOICE and invoice is None:
        raise TemporaryFailure("the order's invoice is not known here yet")
    enclosed: list[Enclosed] = enclosures(
        message.kind, message.order_id, message.event_data, documents,
        invoice and invoice["number"])
    attachments = [e.attachment() for e in enclosed]
    if message.kind == "e_ticket":
        attachments.append(ticket_qr(message, settings))
    rendered = render(message.kind, context(
        message, order and order.snapshot, settings, invoice, order.received if order else 0,
        tuple(e.view() for e in enclosed)))
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


def send_due(uow: UnitOfWork, mailer: Mailer, documents: Documents, settings: Settings,
             now: datetime, batch: int = 50) -> int:
    """Send the messages that are due, one transaction each; returns how many were tried.

    A temporary failure is tried again later, with growing delays; a permanent one is
    recorded and not tried again; one that has lost its point is skipped; one that must
    not overtake another (an e-ticket, its order's payment confirmation) waits for it. A
    sent message is marked in the same transaction that publishes ``email_sent``."""
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
        if waits_behind(uow, message, order, now):
            message.next_attempt_at = now + FOLLOW_POLL
            uow.commit()
            continue
        message.attempts += 1
        try:
            mailer.send(compose_message(message, order, documents, settings))
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
            record_sent(uow, message.id, now)
            continue
        uow.commit()
    return tried


SENT_RECORD_TRIES = 60  # a second apart: a database restarting is waited out


def record_sent(uow: UnitOfWork, message_id: int, now: datetime) -> None:
    """Mark a message the SMTP server took as sent, and announce it. The email is gone:
    if the database is away just then, the record is tried again for a while, rather than
    the message left queued to be sent a second time."""
    for attempt in range(1, SENT_RECORD_TRIES + 1):
        try:
            message = uow.session.get(Message, message_id, with_for_update=True)
            if message.status != "sent":  # else an earlier try did commit
                message.status, message.sent_at, message.last_error = "sent", now, None
                uow.publish("email_sent", {"registration_id": message.registration_id,
                                           "order_id": message.order_id, "kind": message.kind,
                                           "message_id": message.message_id})
            uow.commit()
            metrics.EMAILS.labels(message.kind, "sent").inc()
            return
        except DBAPIError as exc:
            if attempt == SENT_RECORD_TRIES:
                raise
            log.warning("message %s was sent, and the database cannot record it yet (%s)",
                        message_id, type(exc.orig).__name__)
            uow.discard()
            time.sleep(1)

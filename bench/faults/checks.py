"""What the suite checks, in the services' databases, the broker's queues and the mail
sink: how far the services have got with what the load did, and the invariants."""

import email.parser
import email.policy
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import requests
from kombu import Connection
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bench.faults.load import CARD_KINDS, FREE, Booking
from services.badges.models import Badge
from services.cli import all_handler_queues
from services.notifications.models import Message
from services.payments.models import Document, DocumentSequence, Payment, ReceiptSequence
from services.payments.models import Order as PaidOrder
from services.registration.domain import HOLDS_SEATS
from services.registration.models import Limit, Order, Registration
from services.registration.orders import places_of


class Verdict(NamedTuple):
    invariant: str
    ok: bool
    detail: str


def _ids(engine: Engine, column, ids: set[str], *conditions) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(column).where(column.in_(ids), *conditions)))


class Progress:
    """How far the services have got with what the load did before a moment: every card
    order booked by then payable; every order paid (or free) by then confirmed, with
    each delegate's badge made and e-ticket sent, and the buyer's payment confirmation
    sent. What is done stays done, so each look asks only about what was not."""

    def __init__(self, engines: dict[str, Engine]):
        registration, badges, mail = (engines["registration"], engines["badges"],
                                      engines["notifications"])
        self.questions: dict[str, Callable[[set[str]], set[str]]] = {
            "payable": lambda ids: _ids(registration, Order.id, ids,
                                        Order.client_secret.is_not(None)),
            "confirmed": lambda ids: _ids(registration, Registration.id, ids,
                                          Registration.status == "confirmed"),
            "badge made": lambda ids: _ids(badges, Badge.registration_id, ids,
                                           Badge.version > 0, Badge.status == "active"),
            "e-ticket sent": lambda ids: _ids(mail, Message.registration_id, ids,
                                              Message.kind == "e_ticket",
                                              Message.status == "sent"),
            "payment email sent": lambda ids: _ids(mail, Message.order_id, ids,
                                                   Message.kind == "payment_confirmed",
                                                   Message.status == "sent"),
        }
        self.done: dict[str, set[str]] = {what: set() for what in self.questions}

    def outstanding(self, bookings: list[Booking], before: float) -> dict[str, int] | None:
        """What is still to do, by kind (empty when all is done); None while a database
        does not answer."""
        booked = [b for b in bookings if b.acked_at is not None and b.acked_at <= before]
        settled = [b for b in booked if b.settled_at is not None and b.settled_at <= before]
        delegates = {r for b in settled for r in b.registration_ids}
        wanted = {"payable": {b.order_id for b in booked if b.kind in CARD_KINDS},
                  "confirmed": delegates, "badge made": delegates, "e-ticket sent": delegates,
                  "payment email sent": {b.order_id for b in settled if b.kind != FREE}}
        left = {}
        try:
            for what, ids in wanted.items():
                if missing := ids - self.done[what]:
                    self.done[what] |= self.questions[what](missing)
                    if missing := len(ids - self.done[what]):
                        left[what] = missing
        except SQLAlchemyError:
            return None
        return left


def queue_depths(amqp_uri: str) -> dict[str, int]:
    """Messages waiting in every consumer queue, retry queue and dead-letter queue."""
    depths = {}
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for handler in all_handler_queues():
            for queue in handler:
                _, depths[queue.name], _ = queue.bind(channel).queue_declare(passive=True)
    return depths


def dead_letter_ids(amqp_uri: str, queue: str) -> list[str]:
    """The event ids in a dead-letter queue, left where they are."""
    ids = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            ids.append(json.loads(message.body).get("id"))
        channel.close()  # unacknowledged: back in the queue
    return ids


def deliveries(mailbox: Path) -> dict[str, list[float]]:
    """When the sink received each Message-ID (seconds since the epoch), every time."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    received: dict[str, list[float]] = {}
    for path in mailbox.glob("*.eml"):
        message_id = parser.parsebytes(path.read_bytes())["Message-ID"]
        received.setdefault(message_id, []).append(path.stat().st_mtime)
    return received


def delivery_lags(engines: dict[str, Engine], mailbox: Path,
                  outages: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """For every delegate of an order paid (or free): when the services knew it (payments
    recorded the card payment or the transfers that cover it; registration booked a free
    place), and how long after that the delegate was confirmed, their badge made, their
    e-ticket and the buyer's payment confirmation delivered; or, when an outage held that
    up (it ended after that moment and began before the last of these), how long after
    the end of the outage. Infinity for what never came. Times are the databases' and the
    sink's clocks."""
    with engines["payments"].connect() as connection:
        paid = dict(connection.execute(select(Payment.order_id, Payment.succeeded_at).where(
            Payment.succeeded_at.is_not(None))).all())
        paid.update(connection.execute(select(PaidOrder.order_id, PaidOrder.paid_at).where(
            PaidOrder.paid_at.is_not(None))).all())
    with engines["registration"].connect() as connection:
        delegates = connection.execute(
            select(Registration.id, Registration.order_id, Registration.status,
                   Registration.confirmed_at, Order.amount_due)
            .join(Order, Order.id == Registration.order_id)).all()
    with engines["badges"].connect() as connection:
        badges = dict(connection.execute(select(Badge.registration_id, Badge.updated_at).where(
            Badge.version > 0, Badge.status == "active")).all())
    with engines["notifications"].connect() as connection:
        messages = connection.execute(select(
            Message.kind, Message.registration_id, Message.order_id, Message.message_id).where(
                Message.kind.in_(("e_ticket", "payment_confirmed")),
                Message.resend_of.is_(None))).all()
    received = {m: min(times) for m, times in deliveries(mailbox).items()}
    never = float("inf")
    tickets = {r: received.get(m, never) for kind, r, _, m in messages if kind == "e_ticket"}
    receipts = {o: received.get(m, never) for kind, _, o, m in messages
                if kind == "payment_confirmed"}
    lags = []
    for registration_id, order_id, status, confirmed_at, amount_due in delegates:
        known = paid.get(order_id) if amount_due else confirmed_at
        if known is None:
            continue  # not paid (yet)
        at = known.timestamp()
        done = max(confirmed_at.timestamp() if status == "confirmed" else never,
                   badges[registration_id].timestamp() if registration_id in badges else never,
                   tickets.get(registration_id, never),
                   receipts.get(order_id, never) if amount_due else at)
        recovered = max([at] + [end for begin, end in outages if begin <= done and end >= at])
        lags.append((at, done - (recovered if done >= recovered else at)))
    return lags


def numbers_gap_free(numbers: list[str], last: int) -> str | None:
    """Why ``numbers`` (``…-000001`` on) are not exactly 1..last, or None."""
    sequence = sorted(int(re.search(r"(\d+)$", n).group(1)) for n in numbers)
    if sequence != list(range(1, last + 1)):
        missing = sorted(set(range(1, last + 1)) - set(sequence))[:5]
        doubled = [n for n, c in Counter(sequence).items() if c > 1][:5]
        return f"{len(sequence)} numbers, sequence at {last}; missing {missing}, twice {doubled}"
    return None


def invariants(engines: dict[str, Engine], bookings: list[Booking], amqp_uri: str,
               poison: tuple[str, list[str]], mailbox: Path, stripe_base: str,
               processes: list, deaths: list) -> list[Verdict]:
    """Every invariant of the suite, checked once everything has settled."""
    verdicts = []
    booked = {b.order_id: b for b in bookings if b.acked_at is not None}
    with Session(engines["registration"]) as session:
        orders = {o.id: o for o in session.scalars(select(Order))}
        missing = set(booked) - set(orders)

        def confirmed(order_id: str) -> bool:
            order = orders.get(order_id)
            return order is not None and order.status == "confirmed" and all(
                r.status == "confirmed" for r in order.registrations)

        unconfirmed = [b.n for b in booked.values()
                       if b.settled_at is not None and not confirmed(b.order_id)]
        abandoned = [f"{b.n} ({b.abandoned})" for b in bookings if b.abandoned]
        refused = Counter(b.refused for b in bookings if b.refused)
        verdicts.append(Verdict(
            "every acknowledged order stored, and confirmed once paid",
            not missing and not unconfirmed and not abandoned and set(refused) <= {"sold_out"},
            f"{len(booked)} acknowledged, {len(orders)} stored, "
            f"{sum(b.settled_at is not None for b in booked.values())} paid or free, refused "
            f"{dict(refused)}; missing {sorted(missing)[:5]}, paid but not confirmed "
            f"{unconfirmed[:5]}, given up by the buyer {abandoned[:5]}"))

        held = places_of(session.scalars(select(Registration).where(
            Registration.status.in_(HOLDS_SEATS))))
        wrong = [f"{limit.key}: {limit.held} held of {limit.capacity}, {held[limit.key]} "
                 f"counted" for limit in session.scalars(select(Limit))
                 if limit.held != held[limit.key] or limit.held > limit.capacity]
        verdicts.append(Verdict("no limit exceeded (each equals a recount)", not wrong,
                                "; ".join(wrong[:5]) or f"{len(held)} limits in use"))

    with Session(engines["payments"]) as session:
        succeeded = Counter(session.scalars(select(Payment.order_id).where(
            Payment.status == "succeeded")))
        by_transfer = Counter(session.scalars(select(PaidOrder.order_id).where(
            PaidOrder.paid_at.is_not(None))))
        paid_twice = [o for o, n in (succeeded + by_transfer).items() if n > 1]
        not_confirmed = [o for o in succeeded + by_transfer
                         if o not in orders or orders[o].status != "confirmed"]
        intents = _stripe_intents(stripe_base)
        charged = Counter(i["metadata"].get("order_id") for i in intents
                          if i["status"] == "succeeded")
        charged_twice = [o for o, n in charged.items() if n > 1] + [
            i["id"] for i in intents
            if sum(c["status"] == "succeeded" for c in i["charges"]["data"]) > 1]
        verdicts.append(Verdict(
            "no double charge; every payment confirms its order",
            not paid_twice and not charged_twice and not not_confirmed,
            f"{sum(succeeded.values())} card payments, {sum(by_transfer.values())} by "
            f"transfer; {len(charged)} orders charged at Stripe; twice: "
            f"{(paid_twice + charged_twice)[:5]}; not confirmed: {not_confirmed[:5]}"))

        receipts = [n for n in session.scalars(select(Payment.receipt_number))
                    if n is not None] + [n for n in session.scalars(
                        select(PaidOrder.receipt_number)) if n is not None]
        documents = session.execute(select(Document.kind, Document.number,
                                           Document.order_id)).all()
        invoices_per_order = Counter(o for kind, _, o in documents if kind == "invoice")
        problems = []
        if gap := numbers_gap_free(receipts, session.scalar(select(ReceiptSequence.last))):
            problems.append(f"receipts: {gap}")
        for kind, last in session.execute(select(DocumentSequence.kind,
                                                 DocumentSequence.last)):
            if gap := numbers_gap_free([n for k, n, _ in documents if k == kind], last):
                problems.append(f"{kind}: {gap}")
        twice = [o for o, n in invoices_per_order.items() if n > 1]
        if twice:
            problems.append(f"orders invoiced twice: {twice[:5]}")
        verdicts.append(Verdict(
            "receipt and invoice numbers gap-free, one of each per order", not problems,
            "; ".join(problems) or f"{len(receipts)} receipts, "
                                   f"{sum(invoices_per_order.values())} invoices"))

    with Session(engines["notifications"]) as session:
        messages = session.execute(select(
            Message.kind, func.coalesce(Message.registration_id, Message.order_id),
            Message.occasion, Message.message_id, Message.status).where(
                Message.resend_of.is_(None))).all()
    received = {m: len(times) for m, times in deliveries(mailbox).items()}
    twice = [f"{kind} to {whom}" for (kind, whom, _), n in Counter(
        (kind, whom, occasion) for kind, whom, occasion, _, _ in messages).items() if n > 1]
    delivered_twice = [m for m, n in received.items() if n > 1]
    lost = [m for *_, m, status in messages if status == "sent" and m not in received]
    verdicts.append(Verdict(
        "no double email (per order or delegate, kind and occasion); every one sent delivered",
        not twice and not delivered_twice and not lost,
        f"{len(messages)} messages, {sum(received.values())} delivered; twice: "
        f"{(twice + delivered_twice)[:5]}; sent but not delivered: {lost[:5]}"))

    dead_alive = [p.name for p in processes if not p.alive()]
    verdicts.append(Verdict(
        "every process alive at the end, none died by itself", not dead_alive and not deaths,
        f"not running: {dead_alive}; died: " + "; ".join(
            f"{name} (exit {code}):\n{words}" for _, name, code, words in deaths)
        if dead_alive or deaths else f"{len(processes)} processes"))

    poison_id, poisoned = poison
    depths = queue_depths(amqp_uri)
    dead = {q: n for q, n in depths.items() if q.endswith(".dead") and n}
    unexpected = {q: n for q, n in dead.items() if q not in poisoned}
    wrong = [q for q in poisoned if dead_letter_ids(amqp_uri, q) != [poison_id]]
    waiting = {q: n for q, n in depths.items() if not q.endswith(".dead") and n}
    verdicts.append(Verdict(
        "dead letters only for the poison message, nothing left waiting",
        not unexpected and not wrong and not waiting,
        f"the poison in {len(poisoned) - len(wrong)} of {len(poisoned)} dead-letter queues; "
        f"other dead letters: {unexpected}; still queued: {waiting}"))
    return verdicts


def _stripe_intents(stripe_base: str) -> list[dict]:
    """Every PaymentIntent localstripe holds."""
    intents, after = [], None
    while True:
        page = requests.get(f"{stripe_base}/v1/payment_intents", timeout=30, params={
            "limit": 100, **({"starting_after": after} if after else {})},
            auth=("sk_test_faults", "")).json()
        intents += page["data"]
        if not page.get("has_more"):
            return intents
        after = page["data"][-1]["id"]

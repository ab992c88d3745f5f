"""What the payments service does, each as a function of a unit of work and Stripe.

An order's payment is prepared when registration announces the order: the
PaymentIntent is asked of Stripe and announced as ``payment_ready``; while Stripe
is away, the payment waits as ``preparing`` and Stripe is asked again with short
delays. Nobody waits for it: the buyer's page asks registration,
which keeps what the event said.
"""

import hashlib
import json
import logging
from datetime import datetime, timedelta

import stripe as stripe_sdk
from sqlalchemy import and_, delete, func, or_, select, update

from services.payments import domain, invoicing, refunds
from services.payments.domain import OPEN, PaymentStatus
from services.payments.gateway import Intent, Stripe, intent_from
from services.payments.models import (
    Order,
    Payment,
    StripeEvent,
    latest_payment,
    next_receipt_sequence,
)
from services.payments.receipts import Receipt, ReceiptLine
from shared import retention
from shared.db import UnitOfWork
from shared.errors import BadRequest, Conflict, NotFound
from shared.events import Event
from shared.events.contracts import OrderData

log = logging.getLogger(__name__)

def take_order(uow: UnitOfWork, stripe: Stripe, event: Event, now: datetime) -> None:
    """Make the PaymentIntent of an order placed with something to pay and announce it, in
    one transaction with the record that the event was handled. The database is not held
    while Stripe answers. If Stripe does not answer, the payment is stored as
    ``preparing`` and asked for again shortly (``prepare``)."""
    data: OrderData = event.data
    nothing_to_do = (data.status != "pending_payment" or not data.amount_due
                     or uow.handled(event))
    uow.rollback()
    if nothing_to_do:
        return
    try:
        intent = stripe.order_intent(data.order_id, data.reference, 1, data.amount_due,
                                     data.currency)
    except stripe_sdk.StripeError as exc:
        log.warning("Stripe did not make the intent of order %s: %s", data.order_id,
                    type(exc).__name__)
        intent = None
    if not uow.first_delivery(event):  # handled meanwhile by another worker
        uow.rollback()
        _keep_only_its_intent(uow, stripe, data.order_id, intent)
        return
    invoicing.keep_order(uow, event)
    uow.session.add(Payment(
        order_id=data.order_id, attempt=1, amount=data.amount_due, currency=data.currency,
        order=data.model_dump(mode="json"),
        **({"status": PaymentStatus.PENDING, "payment_intent_id": intent.id,
            "client_secret": intent.client_secret} if intent else
           {"status": PaymentStatus.PREPARING, "prepare_tries": 1,
            "next_try_at": now + timedelta(seconds=domain.prepare_delay(1))})))
    if intent:
        announce_ready(uow, data.order_id, 1, data.amount_due, data.currency, intent)
    if not uow.commit_unless_duplicate():
        # The same event, delivered twice at once, was handled by another worker.
        _keep_only_its_intent(uow, stripe, data.order_id, intent)


def _keep_only_its_intent(uow: UnitOfWork, stripe: Stripe, order_id: str,
                          intent: Intent | None) -> None:
    """Cancel an intent made here for an order whose payment another worker recorded
    with its own intent (Stripe may or may not have answered both with the same one)."""
    kept = latest_payment(uow.session, order_id)
    if intent is not None and (kept is None or kept.payment_intent_id != intent.id):
        stripe.cancel_intent(intent.id)


def announce_ready(uow: UnitOfWork, order_id: str, attempt: int, amount: int, currency: str,
                   intent: Intent) -> None:
    uow.publish("payment_ready", {"order_id": order_id, "payment_intent_id": intent.id,
                                  "client_secret": intent.client_secret, "amount": amount,
                                  "currency": currency, "attempt": attempt})


def prepare(uow: UnitOfWork, stripe: Stripe, payment_id: int, now: datetime) -> bool:
    """Ask Stripe again for the PaymentIntent of a ``preparing`` payment and announce it.
    The database is not held while Stripe answers; if another worker (or a cancellation)
    got there first, the intent made here is cancelled. False if Stripe did not answer."""
    payment = uow.session.get(Payment, payment_id)
    if payment is None or payment.status != PaymentStatus.PREPARING:
        uow.rollback()
        return True
    order_id, attempt, amount, currency = (payment.order_id, payment.attempt, payment.amount,
                                           payment.currency)
    reference, tries = payment.order["reference"], payment.prepare_tries
    uow.rollback()
    try:
        intent = stripe.order_intent(order_id, reference, attempt, amount, currency)
    except stripe_sdk.StripeError as exc:
        log.warning("Stripe did not make the intent of order %s: %s", order_id,
                    type(exc).__name__)
        uow.session.execute(update(Payment).where(Payment.id == payment_id).values(
            prepare_tries=tries + 1,
            next_try_at=now + timedelta(seconds=domain.prepare_delay(tries + 1))))
        uow.commit()
        return False
    made = uow.session.execute(
        update(Payment).where(Payment.id == payment_id,
                              Payment.status == PaymentStatus.PREPARING)
        .values(status=PaymentStatus.PENDING, payment_intent_id=intent.id,
                client_secret=intent.client_secret, next_try_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if made:
        announce_ready(uow, order_id, attempt, amount, currency, intent)
    uow.commit()
    if not made and uow.session.get(Payment, payment_id).payment_intent_id != intent.id:
        stripe.cancel_intent(intent.id)
    return True


def payments_to_prepare(uow: UnitOfWork, now: datetime, batch: int = 50) -> list[int]:
    """Payments whose intent is due to be asked of Stripe (again)."""
    ids = list(uow.session.scalars(
        select(Payment.id).where(Payment.status == PaymentStatus.PREPARING,
                                 Payment.next_try_at <= now)
        .order_by(Payment.next_try_at).limit(batch)))
    uow.rollback()
    return ids


def close_for_order(uow: UnitOfWork, stripe: Stripe, event: Event, receipt_prefix: str,
                    now: datetime) -> None:
    """An order was cancelled or expired: its payment can no longer be paid, and what a
    cancellation owes goes back in one refund. An intent Stripe has taken the money on
    meanwhile is settled as paid (registration then decides its refund)."""
    if not uow.first_delivery(event):
        uow.commit()
        return
    order_id = event.data.order_id
    order = invoicing.keep_order(uow, event)
    if order.payment_method == "invoice" and order.paid_at is None:
        invoicing.credit_order(uow, order_id, "expired" if event.type == "order_expired"
                               else "cancelled", receipt_prefix, now)
    payment = latest_payment(uow.session, order_id, lock=True)
    if payment is not None and payment.status == PaymentStatus.PREPARING:
        payment.status = PaymentStatus.CANCELED
    elif payment is not None and payment.status in OPEN:
        try:
            stripe.cancel_intent(payment.payment_intent_id)
            payment.status = PaymentStatus.CANCELED
        except stripe_sdk.InvalidRequestError:
            intent = stripe.retrieve_intent(payment.payment_intent_id)
            settle(uow, intent, domain.observed_status(intent.status, intent.error is not None),
                   receipt_prefix, now)
    uow.commit()
    if event.type == "order_cancelled":
        refunds.refund_owed(uow, stripe, order_id, event.data.refund_due, event, receipt_prefix,
                            now)


def new_attempt(uow: UnitOfWork, stripe: Stripe, previous: Payment) -> Payment:
    """Cancel the previous intent if it is still open, make the next attempt's, and
    announce it."""
    if previous.status in OPEN:
        stripe.cancel_intent(previous.payment_intent_id)
        previous.status = PaymentStatus.CANCELED
    attempt = previous.attempt + 1
    intent = stripe.order_intent(previous.order_id, previous.order["reference"], attempt,
                                 previous.amount, previous.currency)
    uow.session.add(Payment(
        order_id=previous.order_id, attempt=attempt, payment_intent_id=intent.id,
        client_secret=intent.client_secret, amount=previous.amount,
        currency=previous.currency, status=PaymentStatus.PENDING, order=previous.order))
    announce_ready(uow, previous.order_id, attempt, previous.amount, previous.currency, intent)
    if not uow.commit_unless_duplicate():
        # Another request for the same order won the race: use its intent.
        stripe.cancel_intent(intent.id)
    return latest_payment(uow.session, previous.order_id)


def pay(uow: UnitOfWork, stripe: Stripe, order_id: str, payment_method: str,
        receipt_prefix: str, now: datetime) -> dict:
    """Charge the card (or debit the account) the buyer's page set up. A declined try
    leaves its intent failed; the next try gets a new intent (Stripe will not confirm a
    declined one again everywhere), so one order is never charged twice: two tries at
    once confirm the same intent, and Stripe charges it once."""
    payment = latest_payment(uow.session, order_id, lock=True)
    if payment is None or payment.status in (PaymentStatus.PREPARING, PaymentStatus.CANCELED):
        raise Conflict("This order's payment is not ready to be paid.", "order_id",
                       code="payment_not_ready")
    intent = stripe.retrieve_intent(payment.payment_intent_id)
    observed = domain.observed_status(intent.status, intent.error is not None)
    if observed in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        settle(uow, intent, observed, receipt_prefix, now)
    if payment.status == PaymentStatus.SUCCEEDED:
        uow.commit()
        return {"status": "succeeded", "client_secret": payment.client_secret}
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        payment = new_attempt(uow, stripe, payment)
    payment_id, intent_id, secret = payment.id, payment.payment_intent_id, payment.client_secret
    uow.commit()  # neither the row nor the connection is held while the bank answers
    method_type = stripe.method_type(payment_method)
    uow.session.execute(update(Payment).where(Payment.id == payment_id).values(
        method_type=method_type,
        next_check_at=now + timedelta(seconds=domain.next_check_in(None))))
    uow.commit()  # before the charge: its webhook may come before Stripe answers here
    status, message = stripe.confirm_with(intent_id, payment_method)
    return {"status": status, "client_secret": secret, "message": message}


INTENT_EVENTS = {"payment_intent.succeeded": PaymentStatus.SUCCEEDED,
                 "payment_intent.payment_failed": PaymentStatus.FAILED}


def handle_webhook(uow: UnitOfWork, stripe: Stripe, payload: bytes, signature: str | None,
                   receipt_prefix: str, now: datetime) -> str:
    """Act on one signed Stripe event, once; returns what was done. A signed event of an
    unexpected shape, or one whose amount is not what the payment asked (settled for what
    was received), is recorded and flagged for an organiser; Stripe need not send it again."""
    try:
        stripe.verify_webhook(payload, signature)
    except Exception:
        raise BadRequest("The Stripe signature does not match this payload.",
                         "Stripe-Signature", code="invalid_signature") from None
    event = None
    try:
        event = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event["type"])
        intent = intent_from(event["data"]["object"]) if event_type in INTENT_EVENTS else None
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as error:
        return flag_unexpected_shape(uow, payload, event, error)
    if uow.session.get(StripeEvent, event_id) is not None:
        return "replay"
    record = StripeEvent(id=event_id[:64], type=event_type[:64])
    uow.session.add(record)
    failed_order = None
    if intent is not None:
        record.problem = unexpected_amount(uow, intent)
        failed_order = settle(uow, intent, INTENT_EVENTS[event_type], receipt_prefix, now)
    if not uow.commit_unless_duplicate():
        return "replay"  # the same event, delivered twice at once, was handled by the other
    if failed_order:
        try_again(uow, stripe, failed_order)
    return "flagged" if record.problem else event_type


def flag_unexpected_shape(uow: UnitOfWork, payload: bytes, event, error: Exception) -> str:
    """Record a signed event payments cannot read (event: its JSON, if it is JSON), once,
    under its own id if it has one, else a digest of it, for an organiser to look at."""
    log.warning("a signed Stripe event does not have the shape of one; flagged")
    fields = event if isinstance(event, dict) else {}
    event_id, event_type = fields.get("id"), fields.get("type")
    if not isinstance(event_id, str) or not event_id:
        event_id = "sha256:" + hashlib.sha256(payload).hexdigest()[:57]
    if uow.session.get(StripeEvent, event_id[:64]) is not None:
        return "replay"
    uow.session.add(StripeEvent(
        id=event_id[:64], type=event_type[:64] if isinstance(event_type, str) else "unknown",
        problem=f"unexpected shape: {error!r}"[:500]))
    return "flagged" if uow.commit_unless_duplicate() else "replay"


def _by(method_type: str | None) -> str:
    words = domain.paid_by(method_type)
    return f" by {words}" if words else " online"


def flagged_events(uow: UnitOfWork, limit: int = 200) -> list[StripeEvent]:
    """Stripe's events with a problem an organiser should look at, newest first."""
    return list(uow.session.scalars(select(StripeEvent).where(StripeEvent.problem.is_not(None))
                                    .order_by(StripeEvent.received_at.desc()).limit(limit)))


def forget_stripe_events(uow: UnitOfWork, config: dict, now: datetime) -> dict[str, int]:
    """Payments' retention rule (run hourly, ``shared.retention``): Stripe's webhook events
    (ids, types, problems) are deleted ``RETENTION_STRIPE_EVENTS_DAYS`` (30) after they came;
    Stripe stops sending an event again within three days."""
    before = now - timedelta(days=retention.days(config, "RETENTION_STRIPE_EVENTS_DAYS", 30))
    return {"stripe_events": uow.session.execute(
        delete(StripeEvent).where(StripeEvent.received_at < before)).rowcount}


def unexpected_amount(uow: UnitOfWork, intent: Intent) -> str | None:
    """Why Stripe's word on an intent does not fit the payment we asked for, if it
    does not: another amount or currency."""
    payment = uow.session.scalars(select(Payment).where(
        Payment.payment_intent_id == intent.id)).first()
    if payment is None or (intent.amount == payment.amount
                           and intent.currency.upper() == payment.currency):
        return None
    log.warning("Stripe reports %s %s on an intent of %s %s; flagged", intent.amount,
                intent.currency, payment.amount, payment.currency)
    return (f"Stripe reports {intent.amount} {intent.currency.upper()} on an intent made for "
            f"{payment.amount} {payment.currency}")


def try_again(uow: UnitOfWork, stripe: Stripe, order_id: str) -> None:
    """After a declined card, the next attempt's intent, so the buyer's page can retry
    (a declined intent cannot be confirmed again everywhere)."""
    payment = latest_payment(uow.session, order_id, lock=True)
    if payment is None or payment.status != PaymentStatus.FAILED:
        uow.rollback()
        return
    try:
        new_attempt(uow, stripe, payment)
    except stripe_sdk.StripeError:
        uow.rollback()
        log.warning("no new intent for order %s after a decline; its next pay makes one",
                    order_id)


def settle(uow: UnitOfWork, intent: Intent, observed: PaymentStatus, receipt_prefix: str,
           now: datetime) -> str | None:
    """Record what Stripe says of an intent, and tell the others when it changes; the
    order's id when its payment has just failed."""
    payment = uow.session.scalars(select(Payment).where(
        Payment.payment_intent_id == intent.id).with_for_update()).first()
    if payment is None:
        log.warning("Stripe reports on PaymentIntent %s, which payments did not make", intent.id)
        return None
    new = domain.settle(PaymentStatus(payment.status), observed)
    if new is None:
        return None
    payment.status = new
    base = {"order_id": payment.order_id, "payment_intent_id": intent.id,
            "currency": payment.currency}
    if new == PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now
        payment.amount_received = intent.amount_received or intent.amount
        payment.receipt_number = domain.receipt_number(
            receipt_prefix, next_receipt_sequence(uow.session))
        order = uow.session.get(Order, payment.order_id)
        if order is not None:  # orders paid before invoices existed have no copy here
            invoicing.issue_invoice(
                uow, order, receipt_prefix, now, "card_payment",
                paid_note=f"Paid{_by(payment.method_type)} on {now.date().isoformat()} "
                          f"({intent.id})")
        uow.publish("payment_succeeded", {**base, "method": "card",
                                          "amount": payment.amount_received})
    elif new == PaymentStatus.FAILED:
        payment.failure_reason = intent.error or "declined"
        uow.publish("payment_failed", {**base, "amount": payment.amount,
                                       "reason": payment.failure_reason,
                                       "message": domain.failure_in_words(payment.failure_reason)})
        return payment.order_id
    return None


def reconcile(uow: UnitOfWork, stripe: Stripe, receipt_prefix: str, now: datetime,
              quiet_for: timedelta, batch: int = 20) -> int:
    """Ask Stripe about open payments it has said nothing of, and settle them as a webhook
    would have: no paid delegate stays unconfirmed. One the buyer has tried to pay is
    asked about within ``domain.FIRST_CHECK_SECONDS``, then less and less often; one
    nobody has tried to pay after ``quiet_for``. At most ``batch`` a run, oldest due
    first: Stripe is never asked more than that every few seconds."""
    recent = Payment.created_at >= now - timedelta(days=2)
    due = uow.session.scalars(
        select(Payment)
        .where(Payment.status.in_(OPEN), recent, or_(
            Payment.next_check_at <= now,
            and_(Payment.next_check_at.is_(None),
                 func.coalesce(Payment.checked_at, Payment.created_at) <= now - quiet_for)))
        .order_by(func.coalesce(Payment.next_check_at, Payment.created_at))
        .limit(batch).with_for_update(skip_locked=True)
    ).all()
    for payment in due:
        if payment.next_check_at is not None:
            since = (now - payment.checked_at).total_seconds() if payment.checked_at else None
            payment.next_check_at = now + timedelta(seconds=domain.next_check_in(since))
        payment.checked_at = now
        intent = stripe.retrieve_intent(payment.payment_intent_id)
        settle(uow, intent, domain.observed_status(intent.status, intent.error is not None),
               receipt_prefix, now)
    uow.commit()
    return len(due)


def receipt(uow: UnitOfWork, order_id: str) -> Receipt:
    """The receipt of an order paid by card, or by bank transfers."""
    payment = latest_payment(uow.session, order_id)
    if payment is not None and payment.receipt_number is not None:
        return _receipt(OrderData.model_validate(payment.order), payment.receipt_number,
                        payment.succeeded_at, payment.amount_received,
                        payment.payment_intent_id, domain.paid_by(payment.method_type))
    order = uow.session.get(Order, order_id)
    if order is None or order.receipt_number is None:
        raise NotFound("This order has no receipt yet.", "order_id")
    return _receipt(OrderData.model_validate(order.snapshot), order.receipt_number,
                    order.paid_at, order.amount_received, order.payment_reference,
                    "bank transfer")


def _receipt(order: OrderData, number: str, paid_at: datetime, total: int,
             payment_reference: str, paid_by: str) -> Receipt:
    organiser, buyer = order.conference.organiser, order.buyer
    return Receipt(
        number=number, issued_at=paid_at,
        conference_name=order.conference.name, organiser_name=organiser.name,
        organiser_address=organiser.address, organiser_vat_number=organiser.vat_number,
        buyer_name=buyer.name, organisation=buyer.organisation, email=buyer.email,
        order_reference=order.reference,
        lines=tuple(ReceiptLine(line.description, line.amount) for line in order.lines),
        currency=order.currency, vat_rate_percent=order.vat_rate_percent,
        vat_amount=order.vat_amount, total=total, payment_reference=payment_reference,
        billing_address=buyer.billing_address, vat_number=buyer.vat_number,
        purchase_order=buyer.purchase_order, paid_by=paid_by)

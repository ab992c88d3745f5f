"""What the payments service does, each as a function of a unit of work and Stripe."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.payments import domain
from services.payments.domain import OPEN, PaymentStatus, RefundRefused
from services.payments.gateway import Intent, Stripe, intent_from
from services.payments.models import (
    Payment,
    Refund,
    StripeEvent,
    latest_payment,
    next_receipt_sequence,
)
from services.payments.receipts import Receipt, ReceiptLine
from shared.db import UnitOfWork
from shared.events import PaymentDetails, PaymentRequest
from shared.http import Conflict, InvalidField, NotFound

log = logging.getLogger(__name__)


def details(payment: Payment, publishable_key: str) -> PaymentDetails:
    return PaymentDetails(payment_intent_id=payment.payment_intent_id,
                          client_secret=payment.client_secret,
                          publishable_key=publishable_key, status=payment.status)


def start_payment(uow: UnitOfWork, stripe: Stripe, request: PaymentRequest,
                  publishable_key: str) -> PaymentDetails:
    """The PaymentIntent the delegate pays with: the open one for this amount if there is
    one, else a new one. After a decline the failed intent is cancelled and a new one
    made, so that no old page can ever charge the delegate a second time."""
    payment = latest_payment(uow.session, request.registration_id)
    if payment is not None and payment.status == PaymentStatus.SUCCEEDED:
        raise Conflict("This registration is paid already.", code="already_paid")
    reusable = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)
    if payment is None or payment.status not in reusable or payment.amount != request.amount:
        payment = new_attempt(uow, stripe, payment, request)
    return details(payment, publishable_key)


def new_attempt(uow: UnitOfWork, stripe: Stripe, previous: Payment | None,
                request: PaymentRequest) -> Payment:
    """Cancel the previous intent if it is still open, and make the next attempt's."""
    if previous is not None and previous.status in OPEN:
        stripe.cancel_intent(previous.payment_intent_id)
        previous.status = PaymentStatus.CANCELED
    attempt = previous.attempt + 1 if previous else 1
    intent = stripe.create_intent(
        request.amount, request.currency,
        metadata={"registration_id": request.registration_id, "reference": request.reference},
        idempotency_key=f"registration-{request.registration_id}-attempt-{attempt}")
    uow.session.add(Payment(
        registration_id=request.registration_id, attempt=attempt,
        payment_intent_id=intent.id, client_secret=intent.client_secret,
        amount=request.amount, currency=request.currency, status=PaymentStatus.PENDING,
        request=request.model_dump(mode="json")))
    if not uow.commit_unless_duplicate():
        # Another request for the same registration won the race: use its intent.
        stripe.cancel_intent(intent.id)
    return latest_payment(uow.session, request.registration_id)


def pay(uow: UnitOfWork, stripe: Stripe, registration_id: str, payment_method: str,
        receipt_prefix: str, now: datetime) -> dict:
    """Charge the card the delegate's page set up. A declined try leaves its intent
    failed; the next try gets a new intent (Stripe will not confirm a declined one
    again everywhere), so one registration is never charged twice."""
    payment = latest_payment(uow.session, registration_id, lock=True)
    if payment is None:
        raise NotFound("This registration has nothing to pay.", "registration_id")
    intent = stripe.retrieve_intent(payment.payment_intent_id)
    observed = domain.observed_status(intent.status, intent.error is not None)
    if observed in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        settle(uow, intent, observed, receipt_prefix, now)
    if payment.status == PaymentStatus.SUCCEEDED:
        uow.commit()
        return {"status": "succeeded", "client_secret": payment.client_secret}
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        payment = new_attempt(uow, stripe, payment,
                              PaymentRequest.model_validate(payment.request))
    status, message = stripe.confirm_with(payment.payment_intent_id, payment_method)
    uow.commit()
    return {"status": status, "client_secret": payment.client_secret, "message": message}


def payments_of(uow: UnitOfWork, registration_id: str) -> list[Payment]:
    return list(uow.session.scalars(select(Payment).where(
        Payment.registration_id == registration_id).order_by(Payment.attempt)))


def handle_webhook(uow: UnitOfWork, stripe: Stripe, payload: bytes, signature: str | None,
                   receipt_prefix: str, now: datetime) -> str:
    """Act on one signed Stripe event, once; returns what was done."""
    try:
        event = stripe.webhook_event(payload, signature)
    except Exception:
        raise InvalidField("The Stripe signature does not match this payload.",
                           "Stripe-Signature", code="invalid_signature", status=400) from None
    if uow.session.get(StripeEvent, event.id) is not None:
        return "replay"
    uow.session.add(StripeEvent(id=event.id, type=event.type))
    if event.type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        intent = intent_from(event.data.object)
        observed = (PaymentStatus.SUCCEEDED if event.type == "payment_intent.succeeded"
                    else PaymentStatus.FAILED)
        settle(uow, intent, observed, receipt_prefix, now)
    if not uow.commit_unless_duplicate():
        return "replay"  # the same event, delivered twice at once, was handled by the other
    return event.type


def settle(uow: UnitOfWork, intent: Intent, observed: PaymentStatus, receipt_prefix: str,
           now: datetime) -> None:
    """Record what Stripe says of an intent, and tell the others when it changes."""
    payment = uow.session.scalars(select(Payment).where(
        Payment.payment_intent_id == intent.id).with_for_update()).first()
    if payment is None:
        log.warning("Stripe reports on PaymentIntent %s, which payments did not make", intent.id)
        return
    new = domain.settle(PaymentStatus(payment.status), observed)
    if new is None:
        return
    payment.status = new
    base = {"registration_id": payment.registration_id, "payment_intent_id": intent.id,
            "currency": payment.currency}
    if new == PaymentStatus.SUCCEEDED:
        payment.succeeded_at = now
        payment.amount_received = intent.amount_received or intent.amount
        payment.receipt_number = domain.receipt_number(
            receipt_prefix, next_receipt_sequence(uow.session))
        uow.publish("payment_succeeded", {**base, "amount": payment.amount_received})
    elif new == PaymentStatus.FAILED:
        payment.failure_reason = intent.error or "declined"
        uow.publish("payment_failed", {**base, "amount": payment.amount,
                                       "reason": payment.failure_reason})


def reconcile(uow: UnitOfWork, stripe: Stripe, receipt_prefix: str, now: datetime,
              quiet_for: timedelta, batch: int = 50) -> int:
    """Ask Stripe about payments that have been open for ``quiet_for`` with no word from
    it, and settle them as a webhook would have: no paid delegate stays unconfirmed."""
    due = uow.session.scalars(
        select(Payment)
        .where(Payment.status.in_(OPEN),
               func.coalesce(Payment.checked_at, Payment.created_at) <= now - quiet_for,
               Payment.created_at >= now - timedelta(days=2))
        .order_by(Payment.created_at).limit(batch).with_for_update(skip_locked=True)
    ).all()
    for payment in due:
        payment.checked_at = now
        intent = stripe.retrieve_intent(payment.payment_intent_id)
        settle(uow, intent, domain.observed_status(intent.status, intent.error is not None),
               receipt_prefix, now)
    uow.commit()
    return len(due)


def refund(uow: UnitOfWork, stripe: Stripe, registration_id: str, amount: int | None,
           reason: str, idempotency_key: str | None = None) -> Refund:
    """Refund part or all of a registration's payment, and say so on the bus.

    A request repeated with the same idempotency key is answered with the first refund.
    Without a key, one is made from the payment's state and the amount."""
    payment = latest_payment(uow.session, registration_id, lock=True)
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        raise NotFound("This registration has no payment to refund.", "registration_id")
    done = idempotency_key and uow.session.scalars(
        select(Refund).where(Refund.idempotency_key == idempotency_key)).first()
    if done:
        uow.rollback()
        return done
    try:
        amount = domain.refund_amount(amount, payment.amount_received, payment.amount_refunded)
    except RefundRefused as refused:
        raise InvalidField(str(refused), "amount", code="invalid_refund") from None
    idempotency_key = idempotency_key or (
        f"refund-{payment.payment_intent_id}-after-{payment.amount_refunded}-of-{amount}")
    refund_id, refunded = stripe.refund(payment.payment_intent_id, amount, idempotency_key)
    existing = uow.session.get(Refund, refund_id)
    if existing is not None:  # Stripe recognised the key and answered with the first refund
        uow.rollback()
        return existing
    record = Refund(refund_id=refund_id, idempotency_key=idempotency_key, payment_id=payment.id,
                    amount=refunded, reason=reason)
    uow.session.add(record)
    payment.amount_refunded += refunded
    uow.publish("payment_refunded", {
        "registration_id": registration_id, "payment_intent_id": payment.payment_intent_id,
        "amount": refunded, "currency": payment.currency, "refund_id": refund_id,
        "total_refunded": payment.amount_refunded,
        "fully_refunded": payment.amount_refunded >= payment.amount_received})
    uow.commit()
    return record


def refund_for_cancellation(uow: UnitOfWork, stripe: Stripe, event) -> None:
    """A cancelled registration with money to give back: refund it, once."""
    data = event.data
    if data.refund_due <= 0:
        return
    payment = latest_payment(uow.session, data.registration_id)
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        log.warning("registration %s is owed a refund but has no payment", data.registration_id)
        return
    left = payment.amount_received - payment.amount_refunded
    if left <= 0:
        return
    refund(uow, stripe, data.registration_id, min(data.refund_due, left),
           reason=f"registration cancelled ({data.reason})",
           idempotency_key=f"refund-for-event-{event.id}")


def receipt(uow: UnitOfWork, registration_id: str) -> Receipt:
    payment = latest_payment(uow.session, registration_id)
    if payment is None or payment.receipt_number is None:
        raise NotFound("This registration has no receipt yet.", "registration_id")
    request = PaymentRequest.model_validate(payment.request)
    return Receipt(
        number=payment.receipt_number, issued_at=payment.succeeded_at,
        conference_name=request.conference_name, organiser_name=request.organiser.name,
        organiser_address=request.organiser.address,
        organiser_vat_number=request.organiser.vat_number,
        delegate_name=request.delegate_name, organisation=request.organisation,
        email=request.email, registration_reference=request.reference,
        lines=tuple(ReceiptLine(line.description, line.amount) for line in request.lines),
        currency=request.currency, vat_rate_percent=request.vat_rate_percent,
        vat_amount=request.vat_amount, total=payment.amount_received,
        payment_reference=payment.payment_intent_id,
        billing_address=request.billing.address, vat_number=request.billing.vat_number,
        purchase_order=request.billing.purchase_order, amount_refunded=payment.amount_refunded)

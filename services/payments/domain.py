"""Rules of payments: what a Stripe report does to a payment, what may be refunded.
Pure: no I/O, no clock."""

from datetime import date
from enum import StrEnum


class PaymentStatus(StrEnum):
    PREPARING = "preparing"              # the PaymentIntent is not made yet (Stripe asked)
    PENDING = "pending"                  # waiting for the buyer's card
    REQUIRES_ACTION = "requires_action"  # 3-D Secure, waiting for the delegate's bank
    FAILED = "failed"                    # the last try was declined; the delegate may try again
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


# Where a PaymentIntent's own status puts our payment (a declined try leaves the intent
# in requires_payment_method with its last_payment_error set: see ``observed_status``).
INTENT_STATUSES = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELED,
}
OPEN = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION, PaymentStatus.FAILED)


def observed_status(intent_status: str, has_error: bool) -> PaymentStatus:
    status = INTENT_STATUSES.get(intent_status, PaymentStatus.PENDING)
    return PaymentStatus.FAILED if status == PaymentStatus.PENDING and has_error else status


DECLINED = "Your bank declined the payment. Please try another card, or ask your bank why."
# What a declined payment's Stripe code (a decline code first, else the error code) means,
# in words a buyer can act on. A card reported lost, stolen or fraudulent reads as a plain
# decline: that is for the bank to tell its holder.
FAILURES_IN_WORDS = {
    "insufficient_funds": "The card has insufficient funds. Please try another card.",
    "expired_card": "The card has expired. Please try another card.",
    "incorrect_cvc": "The card's security code (CVC) was wrong. Please check it and try again.",
    "invalid_cvc": "The card's security code (CVC) was wrong. Please check it and try again.",
    "incorrect_number": "The card number was wrong. Please check it and try again.",
    "invalid_number": "The card number was wrong. Please check it and try again.",
    "invalid_expiry_month": "The card's expiry date was wrong. Please check it.",
    "invalid_expiry_year": "The card's expiry date was wrong. Please check it.",
    "card_velocity_exceeded": "The card's limit was reached. Please try another card.",
    "withdrawal_count_limit_exceeded": "The card's limit was reached. Please try another "
                                       "card.",
    "processing_error": "The payment could not be processed just now. Please try again.",
    "authentication_required": "Your bank asked for a confirmation (3-D Secure) that was "
                               "not completed. Please try again and confirm it.",
    "payment_intent_authentication_failure": "Your bank's confirmation (3-D Secure) did not "
                                             "succeed. Please try again, or try another card.",
    "currency_not_supported": "The card cannot pay in euros. Please try another card.",
}


def failure_in_words(code: str | None) -> str:
    """Why a payment failed, for the buyer: never Stripe's code."""
    return FAILURES_IN_WORDS.get(code or "", DECLINED)


MAX_PREPARE_DELAY = 5.0


def prepare_delay(tries: int) -> float:
    """Seconds before asking Stripe again for an intent after ``tries`` failed asks:
    short, so that an order is payable within seconds of Stripe's return."""
    return min(0.5 * 2 ** (tries - 1), MAX_PREPARE_DELAY)


FIRST_CHECK_SECONDS = 10.0
LAST_CHECK_INTERVAL = 3600.0


def next_check_in(since_last: float | None) -> float:
    """Seconds until Stripe is asked again about a payment the buyer has tried to pay
    and no webhook has settled: soon at first, then twice as long each time (a SEPA
    debit may be processing for days), at most an hour."""
    if since_last is None:
        return FIRST_CHECK_SECONDS
    return min(max(2 * since_last, FIRST_CHECK_SECONDS), LAST_CHECK_INTERVAL)


def settle(current: PaymentStatus, observed: PaymentStatus) -> PaymentStatus | None:
    """The payment's new status when Stripe reports ``observed``, or None if nothing
    changes. A success is final: a failure reported after it (events arrive in any
    order) changes nothing."""
    if current in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED) or current == observed:
        return None
    return observed


class RefundRefused(ValueError):
    pass


def refund_amount(requested: int | None, paid: int, refunded: int) -> int:
    """How much to refund: what is asked (all that is left by default), never more."""
    left = paid - refunded
    amount = left if requested is None else requested
    if left <= 0:
        raise RefundRefused("Everything paid has been refunded already.")
    if not 0 < amount <= left:
        raise RefundRefused(f"The refund must be between 1 and {left} cents.")
    return amount


def receipt_number(prefix: str, sequence: int) -> str:
    return f"{prefix}-R-{sequence:06d}"


def document_number(prefix: str, letter: str, sequence: int) -> str:
    """``ECS27-I-000012`` (invoice) or ``ECS27-C-000003`` (credit note)."""
    return f"{prefix}-{letter}-{sequence:06d}"


def supply_dates(starts_on: date, ends_on: date) -> str:
    """The date(s) of supply as printed: the conference's days."""
    if starts_on == ends_on:
        return f"{starts_on.day} {starts_on:%B %Y}"
    if (starts_on.year, starts_on.month) == (ends_on.year, ends_on.month):
        return f"{starts_on.day}–{ends_on.day} {ends_on:%B %Y}"
    return f"{starts_on.day} {starts_on:%B %Y} – {ends_on.day} {ends_on:%B %Y}"


# What a credit note says of why it was issued.
CREDIT_REASONS = {
    "refund": "Refund",
    "cancelled": "Order cancelled",
    "expired": "Invoice not paid by its due date: the order has expired",
    "billing_corrected": "Billing details corrected: replaced by a new invoice",
}


def creditable(invoice_amount: int, credited: int, asked: int | None = None) -> int:
    """How much a credit note may credit of an invoice: what is asked (all that is left
    by default), never more than is left."""
    left = max(invoice_amount - credited, 0)
    return left if asked is None else min(asked, left)


def order_of_transfer(structured_reference: str | None, found: list[str],
                      orders_by_reference: dict[str, str]) -> str | None:
    """The order a transfer pays: its structured RF reference if we know it, else the
    one order whose reference its free text names; None when none or several do."""
    if structured_reference and structured_reference in orders_by_reference:
        return orders_by_reference[structured_reference]
    orders = {orders_by_reference[reference] for reference in found}
    return orders.pop() if len(orders) == 1 else None


# How a buyer paid, in words, by Stripe's payment method type.
PAID_BY = {"card": "card", "sepa_debit": "SEPA Direct Debit"}


def paid_by(method_type: str | None) -> str:
    """How a Stripe payment was made, in words; "" when payments was not told (the page
    paid with Stripe.js alone, e.g. after 3-D Secure)."""
    return PAID_BY.get(method_type or "", "")

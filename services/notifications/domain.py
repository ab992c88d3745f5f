"""Which email each event calls for, to whom, and how sending is retried. Pure: no I/O."""

from shared.events import Event

REGISTRATION_EVENTS = ("registration_created", "registration_confirmed", "registration_updated",
                       "registration_cancelled", "registration_expired")
ORDER_EVENTS = ("order_placed", "order_confirmed", "order_cancelled", "order_expired")

# What a delegate hears about their own place; every other kind goes to the order's buyer.
DELEGATE_KINDS = ("e_ticket", "badge_changed", "cancelled")

MAX_RETRY_DELAY = 600.0


def same_person(email: str, other: str) -> bool:
    return email.strip().casefold() == other.strip().casefold()


def message_kind(event: Event, name_before: tuple[str, str] | None = None,
                 buyer_email: str | None = None) -> str | None:
    """The message ``event`` calls for, or None. ``name_before`` is the badge name
    (given, family) this service knew before a ``registration_updated``; ``buyer_email``
    the email of the buyer of a registration's order, when known."""
    data = event.data
    match event.type:
        case "order_placed":
            return "order_received" if data.status == "pending_payment" else None
        case "order_expired":
            return "hold_expired"
        case "order_cancelled":
            # A full refund cancels the order: the refund message says both; money that
            # came after a cancellation only needs the refund message.
            if data.reason in ("refunded", "paid_after_cancellation"):
                return None
            return "order_cancelled"
        case "registration_confirmed":
            return "e_ticket"
        case "registration_updated":
            name = (data.delegate.given_name, data.delegate.family_name)
            return "badge_changed" if name_before is not None and name != name_before else None
        case "registration_cancelled":
            # A delegate who is the buyer hears of a whole order's end (or a full refund)
            # in the buyer's message; a delegate someone else paid for must still learn
            # that their place is gone.
            if (data.with_order or data.reason == "refunded") and buyer_email is not None \
                    and same_person(data.delegate.email, buyer_email):
                return None
            return "cancelled"
        case "payment_succeeded":
            return "payment_confirmed"
        case "payment_failed":
            return "payment_failed"
        case "payment_refunded":
            return "refunded"
    return None


# Sent only once the buyer has had time to pay: paid by then, it is not sent at all.
DEFERRED_KINDS = ("order_received",)


def outdated(kind: str, order_status: str | None, order_changed_before_due: bool) -> bool:
    """Whether a deferred message has lost its point by the time it is first due: the
    "payment due" of an order that was paid (or closed) before then. One already tried
    (and failed) is sent when it can be, like any other."""
    return (kind in DEFERRED_KINDS and order_status not in (None, "pending_payment")
            and order_changed_before_due)


def retry_delay(attempts: int, base: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: growing, capped."""
    return min(base * 3 ** (attempts - 1), MAX_RETRY_DELAY)


def is_permanent(smtp_code: int | None) -> bool:
    """A 5xx answer (no such mailbox, refused) will not change; anything else may."""
    return smtp_code is not None and 500 <= smtp_code < 600

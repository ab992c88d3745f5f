"""Which email each event calls for, and how sending is retried. Pure: no I/O."""

from shared.events import Event

REGISTRATION_EVENTS = ("registration_created", "registration_confirmed", "registration_updated",
                       "registration_cancelled", "registration_expired")

MAX_RETRY_DELAY = 600.0


def message_kind(event: Event, name_before: tuple[str, str] | None) -> str | None:
    """The message a delegate gets for ``event``, or None. ``name_before`` is the badge
    name (given, family) this service knew before a ``registration_updated``."""
    data = event.data
    match event.type:
        case "registration_created":
            return "registration_received" if data.status == "pending_payment" else None
        case "registration_confirmed":
            return "e_ticket"
        case "registration_updated":
            name = (data.delegate.given_name, data.delegate.family_name)
            return "badge_changed" if name_before is not None and name != name_before else None
        case "registration_expired":
            return "hold_expired"
        case "registration_cancelled":
            # A full refund cancels a registration: the refund message says both.
            return None if data.reason == "refunded" else "cancelled"
        case "payment_succeeded":
            return "payment_confirmed"
        case "payment_failed":
            return "payment_failed"
        case "payment_refunded":
            return "refunded"
    return None


def retry_delay(attempts: int, base: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: growing, capped."""
    return min(base * 3 ** (attempts - 1), MAX_RETRY_DELAY)


def is_permanent(smtp_code: int | None) -> bool:
    """A 5xx answer (no such mailbox, refused) will not change; anything else may."""
    return smtp_code is not None and 500 <= smtp_code < 600

"""Which email each event calls for, to whom, and how sending is retried. Pure: no I/O."""

from datetime import datetime, timedelta

from shared.events import Event

REGISTRATION_EVENTS = ("registration_created", "registration_confirmed", "registration_updated",
                       "registration_cancelled", "registration_expired", "booking_changed")
ORDER_EVENTS = ("order_placed", "order_confirmed", "order_updated", "order_cancelled",
                "order_expired")
DOCUMENT_EVENTS = ("invoice_issued", "credit_note_issued", "transfer_recorded")

# What a delegate hears about their own place; every other kind goes to the order's buyer.
DELEGATE_KINDS = ("e_ticket", "badge_changed", "cancelled", "booking_changed")
# What carries the delegate's e-ticket: its QR code and their private link.
TICKET_KINDS = ("e_ticket", "booking_changed")
# What someone on a waiting list hears: they may have no booking, only an address.
WAITING_LIST_KINDS = ("waiting_list_joined", "waiting_list_offer")

# Invoices a buyer is sent by email: one to pay by transfer, and one replacing an invoice
# after an organiser corrected the billing details. An invoice issued for a card payment
# goes with the payment confirmation instead; one issued for transfers, likewise.
EMAILED_INVOICES = ("invoice_order", "billing_corrected")

MAX_RETRY_DELAY = 600.0


def same_person(email: str, other: str) -> bool:
    return email.strip().casefold() == other.strip().casefold()


def message_kind(event: Event, name_before: tuple[str, str] | None = None,
                 buyer_email: str | None = None, order_status: str | None = None
                 ) -> str | None:
    """The message ``event`` calls for, or None. ``name_before`` is the badge name
    (given, family) this service knew before a ``registration_updated``; ``buyer_email``
    the email of the buyer of a registration's order, when known; ``order_status`` the
    latest status known of the order a payments event is about."""
    data = event.data
    match event.type:
        case "order_placed":
            # An invoice order's buyer gets the invoice instead (invoice_issued).
            return "order_received" if data.status == "pending_payment" \
                and data.payment_method == "card" else None
        case "order_expired":
            return "hold_expired"
        case "order_cancelled":
            # A full refund cancels the order: the refund message says both; money that
            # came after a cancellation only needs the refund message. A change left
            # unpaid, ended with its booking, is news the booking's cancellation tells.
            if data.reason in ("refunded", "paid_after_cancellation") or (
                    data.with_booking and data.refund_due == 0):
                return None
            return "order_cancelled"
        case "registration_confirmed":
            return "e_ticket"
        case "registration_updated":
            # Only the name is the badge's news: a change of items is booking_changed's.
            name = (data.delegate.given_name, data.delegate.family_name)
            return "badge_changed" if name_before is not None and name != name_before else None
        case "booking_changed":
            return "booking_changed"
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
        case "invoice_issued":
            return "invoice" if data.reason in EMAILED_INVOICES else None
        case "credit_note_issued":
            return "credit_note"
        case "waiting_list_joined":
            return "waiting_list_joined"
        case "waiting_list_offer_made":
            return "waiting_list_offer"
        case "transfer_recorded":
            # Paid in full, payment_succeeded follows and confirms; a part of what is due,
            # on an order still waiting for it, is acknowledged with what is left to pay.
            return "transfer_received" if data.total_received < data.amount_due \
                and order_status in (None, "pending_payment") else None
    return None


REMINDERS = {"invoice": "invoice_reminder", "card": "payment_reminder"}


def reminders(event: Event) -> list[tuple[str, datetime]]:
    """The reminders to pay an order just placed, (kind, time): one message at each time
    (an invoice's before it is due, a card order's before its hold ends), sent unless the
    order is paid (or over) by then."""
    data = event.data
    if event.type != "order_placed" or data.status != "pending_payment":
        return []
    return [(REMINDERS[data.payment_method], at) for at in sorted(set(data.payment_reminders_at))]


# Sent only once the buyer has had time to pay: paid by then, it is not sent at all.
DEFERRED_KINDS = ("order_received",)
# Asking the buyer to pay: never sent for an order that is paid, or over.
REMINDER_KINDS = tuple(REMINDERS.values())


def outdated(kind: str, order_status: str | None, order_changed_before_due: bool,
             resent: bool = False) -> bool:
    """Whether a message has lost its point by the time it is tried: the "payment due"
    of an order paid (or closed) before it was first due (one already tried, and failed,
    is sent when it can be, like any other); a reminder to pay an order that is no
    longer waiting for payment, whenever. A copy an organiser asked for is always sent."""
    if resent or order_status in (None, "pending_payment"):
        return False
    return kind in REMINDER_KINDS or (kind in DEFERRED_KINDS and order_changed_before_due)


# A message that must not overtake another of its order: for an order that was paid for,
# each delegate's e-ticket follows the buyer's payment confirmation. Waiting has a bound:
# a confirmation that is late, or never comes, does not keep anyone's ticket back.
PRECEDED_BY = {"e_ticket": "payment_confirmed"}
OVERTAKE_AFTER = timedelta(minutes=2)


def must_wait(kind: str, paid_for: bool, preceding: str | None, waited: timedelta) -> bool:
    """Whether a message of ``kind`` waits for the one it follows, whose status is
    ``preceding`` (None: there is none): while that one is still queued, on an order
    paid for, for at most ``OVERTAKE_AFTER``."""
    return kind in PRECEDED_BY and paid_for and preceding == "queued" \
        and waited < OVERTAKE_AFTER


# A message that says the news of others of its order too, so that the buyer gets one
# email: a cancellation with money to give back carries its refund and the refund's credit
# note; a refund of its own (a delegate cancelled from a group), its credit note. It waits
# for them, with a bound: whatever has not come by then is sent on its own, as it is when
# the carrier failed.
GATHER_WITHIN = timedelta(minutes=2)
CARRIED_KINDS = ("refunded", "credit_note")


def gathers(kind: str, data: dict) -> tuple[str, ...]:
    """The kinds of message a message of ``kind`` carries; ``data`` is its event's."""
    if kind == "order_cancelled" and data.get("refund_due", 0) > 0:
        return CARRIED_KINDS
    if kind == "refunded":
        return ("credit_note",)
    return ()


def carries(kind: str, data: dict, other_kind: str, other: dict) -> bool:
    """Whether a message of ``kind`` (its event's ``data``) carries one of ``other_kind``
    (``other``): a cancellation, a refund of at most what it gives back and the credit note
    of the refund (or of the cancelled invoice); a refund, the credit note of as much."""
    if other_kind not in gathers(kind, data):
        return False
    if other_kind == "refunded":
        return other["amount"] <= data["refund_due"]
    if kind == "order_cancelled":
        return other["reason"] in ("refund", "cancelled")
    return other["reason"] == "refund" and other["amount"] == data["amount"]


def must_gather(wanted: tuple[str, ...], found: set[str], waited: timedelta) -> bool:
    """Whether a message waits for more of what it carries: some kind it ``wanted`` has not
    been ``found``, and it has waited less than ``GATHER_WITHIN``."""
    return bool(set(wanted) - found) and waited < GATHER_WITHIN


def retry_delay(attempts: int, base: float) -> float:
    """Seconds before the next try after ``attempts`` failed ones: growing, capped."""
    return min(base * 3 ** (attempts - 1), MAX_RETRY_DELAY)


def is_permanent(smtp_code: int | None) -> bool:
    """A 5xx answer (no such mailbox, refused) will not change; anything else may."""
    return smtp_code is not None and 500 <= smtp_code < 600

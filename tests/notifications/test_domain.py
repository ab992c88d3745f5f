"""Which email each event calls for, and how sending is retried: pure rules, no broker."""

from datetime import timedelta

import pytest

from services.notifications.domain import (
    carries,
    gathers,
    is_permanent,
    message_kind,
    must_gather,
    must_wait,
    outdated,
    reminders,
    retry_delay,
)
from shared.events import new_event
from tests.notifications import samples

BUYER = "buyer@example.org"


def order_of_one(**changes) -> dict:
    """A single registration: an order whose only delegate is its buyer."""
    return samples.order(delegates=[samples.order_delegate(
        "Łukasz Żółć", "Lukasz@Example.org ", samples.REGISTRATION_ID, "ECS27-7KQ3M9")],
        **changes)


@pytest.mark.parametrize(("event_type", "data", "kind"), [
    ("order_placed", samples.order(), "order_received"),
    ("order_placed", samples.order(status="confirmed", hold_expires_at=None), None),
    ("order_confirmed", samples.order(status="confirmed"), None),
    ("order_expired", samples.order(status="expired"), "hold_expired"),
    ("payment_succeeded", samples.paid(), "payment_confirmed"),
    ("payment_failed", samples.failed(), "payment_failed"),
    ("payment_refunded", samples.refund(), "refunded"),
    ("payment_refunded", samples.refund(method="transfer", payment_intent_id=None),
     "refunded"),
    ("registration_created", samples.registration(status="pending_payment"), None),
    ("registration_confirmed", samples.registration(), "e_ticket"),
    ("registration_expired", samples.registration(status="expired"), None),
    ("booking_changed", samples.booking_changed(), "booking_changed"),
    ("booking_changed", samples.booking_changed(by="organiser", difference=-5000,
                                                refund_due=0), "booking_changed"),
    # Paying by invoice: the invoice email says what "payment due" says, and more.
    ("order_placed", samples.invoice_order(), None),
    ("order_updated", samples.invoice_order(), None),  # billing corrected: no email
    ("payment_succeeded", samples.paid(method="transfer", payment_intent_id=None),
     "payment_confirmed"),
    ("invoice_issued", samples.invoice(), "invoice"),
    ("invoice_issued", samples.invoice(reason="billing_corrected"), "invoice"),
    ("invoice_issued", samples.invoice(reason="billing_corrected", paid=True), "invoice"),
    # Issued with a card payment: it goes with the payment confirmation.
    ("invoice_issued", samples.invoice(reason="card_payment", paid=True), None),
    ("invoice_issued", samples.invoice(reason="transfer_payment", paid=True), None),
    ("credit_note_issued", samples.credit_note(reason="refund"), "credit_note"),
    ("credit_note_issued", samples.credit_note(reason="cancelled"), "credit_note"),
    ("credit_note_issued", samples.credit_note(reason="expired"), "credit_note"),
    ("credit_note_issued", samples.credit_note(reason="billing_corrected"), "credit_note"),
    ("transfer_recorded", samples.transfer(), "transfer_received"),
    # Paid in full (or more): payment_succeeded follows, and its email says it.
    ("transfer_recorded", samples.transfer(amount=118000, total_received=118000), None),
    ("transfer_recorded", samples.transfer(amount=120000, total_received=120000), None),
])
def test_the_message_each_event_calls_for(event_type, data, kind):
    assert message_kind(new_event(event_type, data)) == kind


@pytest.mark.parametrize(("status", "kind"), [
    ("pending_payment", "transfer_received"), (None, "transfer_received"),
    ("expired", None), ("cancelled", None)])
def test_a_part_payment_is_acknowledged_while_the_order_waits_for_the_rest(status, kind):
    assert message_kind(new_event("transfer_recorded", samples.transfer()),
                        order_status=status) == kind


@pytest.mark.parametrize(("event_type", "data", "times"), [
    ("order_placed", samples.invoice_order(payment_reminders_at=list(
        reversed(samples.REMINDERS))), samples.REMINDERS),  # earliest first
    ("order_placed", samples.invoice_order(payment_reminders_at=[]), []),
    ("order_placed", samples.invoice_order(status="confirmed"), []),  # nothing to pay
    ("order_updated", samples.invoice_order(), []),  # reminders come from order_placed only
    ("order_confirmed", samples.invoice_order(status="confirmed"), []),
])
def test_an_invoice_order_is_reminded_at_its_times(event_type, data, times):
    found = reminders(new_event(event_type, data))
    assert [t.isoformat() for _, t in found] == times
    assert {kind for kind, _ in found} <= {"invoice_reminder"}


def test_an_unpaid_card_order_is_reminded_once_before_its_hold_ends():
    [at] = samples.REMINDERS[:1]
    placed = new_event("order_placed", samples.order(payment_reminders_at=[at]))
    assert [(kind, t.isoformat()) for kind, t in reminders(placed)] == [("payment_reminder", at)]
    assert reminders(new_event("order_placed", samples.order(
        status="confirmed", payment_reminders_at=[at]))) == []


@pytest.mark.parametrize(("reason", "order", "kind"), [
    ("buyer", samples.order(buyer_email=BUYER), "order_cancelled"),
    ("organiser", samples.order(), "order_cancelled"),  # the buyer is one of two delegates
    ("refunded", samples.order(buyer_email=BUYER), None),  # the refund message says it
    ("paid_after_cancellation", samples.order(buyer_email=BUYER), None),  # likewise
    ("buyer", order_of_one(), "order_cancelled"),  # one message, with the refund
])
def test_a_cancelled_order_is_told_to_its_buyer_once(reason, order, kind):
    event = new_event("order_cancelled", order | {"status": "cancelled", "reason": reason,
                                                  "refund_due": 0})
    assert message_kind(event) == kind


@pytest.mark.parametrize(("with_booking", "refund_due", "kind"), [
    (False, 0, "order_cancelled"),  # a change given up: the booking stays as it was
    (True, 0, None),  # left unpaid, ended with its booking: the booking's message says it
    (True, 9500, "order_cancelled"),  # paid apart: its money goes back, and is told
])
def test_the_order_of_a_change_ended_with_its_booking(with_booking, refund_due, kind):
    change = samples.order(change_of=samples.REGISTRATION_ID, status="cancelled",
                           reason="buyer", refund_due=refund_due, with_booking=with_booking)
    assert message_kind(new_event("order_cancelled", change)) == kind


@pytest.mark.parametrize(("reason", "with_order", "buyer_email", "kind"), [
    ("delegate", False, "lukasz@example.org", "cancelled"),
    ("buyer", False, BUYER, "cancelled"),
    ("organiser", False, None, "cancelled"),
    ("refunded", False, " LUKASZ@example.org", None),  # they paid: the refund message says
    ("refunded", False, BUYER, "cancelled"),  # someone else paid, and hears of the refund
    ("refunded", False, None, "cancelled"),  # order not known: better told twice than never
    ("buyer", True, "lukasz@example.org", None),  # the buyer's order_cancelled says it
    ("buyer", True, BUYER, "cancelled"),  # a colleague's place went with the order
])
def test_a_cancelled_registration_is_told_to_its_delegate(reason, with_order, buyer_email,
                                                         kind):
    event = new_event("registration_cancelled", samples.registration(
        status="cancelled", reason=reason, refund_due=0, with_order=with_order))
    assert message_kind(event, buyer_email=buyer_email) == kind


@pytest.mark.parametrize(("name_before", "given_name", "kind"), [
    (("Łukasz", "Żółć"), "Łukasz Jan", "badge_changed"),
    (("Łukasz", "Żółć"), "Łukasz", None),  # pronouns or organisation changed, not the name
    (None, "Łukasz", None),  # nothing known before: nothing to compare
])
def test_a_badge_name_change_is_told_to_the_delegate(name_before, given_name, kind):
    event = new_event("registration_updated", samples.registration(given_name))
    assert message_kind(event, name_before) == kind


def test_a_booking_changed_s_registration_updated_is_no_badge_news():
    """A change of ticket and add-ons is published with registration_updated too: the
    booking_changed email tells it, not a "badge updated" one."""
    changed = samples.registration(ticket_type="day-friday", ticket_type_name=samples.DAY_TICKET,
                                   add_ons=[], add_on_names=[])
    assert message_kind(new_event("registration_updated", changed), ("Łukasz", "Żółć")) is None


def test_retries_grow_and_are_capped():
    assert [retry_delay(n, 5) for n in range(1, 7)] == [5, 15, 45, 135, 405, 600]


@pytest.mark.parametrize(("code", "permanent"), [
    (550, True), (554, True), (421, False), (451, False), (None, False)])
def test_only_a_5xx_answer_is_permanent(code, permanent):
    assert is_permanent(code) is permanent


@pytest.mark.parametrize(("kind", "status", "changed_before_due", "lost"), [
    ("order_received", "confirmed", True, True),    # paid before it was due: not sent
    ("order_received", "cancelled", True, True),
    ("order_received", "confirmed", False, False),  # due before the payment: it was sent
    ("order_received", "pending_payment", True, False),
    ("order_received", None, False, False),
    ("payment_confirmed", "confirmed", True, False),  # only "payment due" is deferred
])
def test_payment_due_loses_its_point_once_paid(kind, status, changed_before_due, lost):
    assert outdated(kind, status, changed_before_due) is lost


@pytest.mark.parametrize(("status", "changed_before_due", "lost"), [
    ("confirmed", True, True),  # paid before it was due
    ("expired", True, True),
    ("cancelled", True, True),
    ("confirmed", False, True),  # tried before, failed, and paid since: no longer sent
    ("pending_payment", True, False),
    ("pending_payment", False, False),
])
def test_a_reminder_is_only_for_an_order_still_waiting_for_payment(status, changed_before_due,
                                                                   lost):
    assert outdated("invoice_reminder", status, changed_before_due) is lost


@pytest.mark.parametrize("kind", ["invoice_reminder", "order_received"])
def test_a_copy_an_organiser_asked_for_is_sent_whatever_the_order_s_state(kind):
    assert outdated(kind, "confirmed", True, resent=True) is False


@pytest.mark.parametrize(("kind", "paid_for", "preceding", "seconds", "waits"), [
    ("e_ticket", True, None, 1, False),  # no payment confirmation (an organiser's doing)
    ("e_ticket", True, "queued", 1, True),
    ("e_ticket", True, "sent", 1, False),
    ("e_ticket", True, "failed", 1, False),  # refused for good: nothing to wait for
    ("e_ticket", False, "queued", 1, False),  # a free place: not a payment's to wait for
    ("e_ticket", True, "queued", 121, False),  # late: the ticket goes anyway
    ("badge_changed", True, None, 1, False)])
def test_an_e_ticket_never_overtakes_its_orders_payment_confirmation(
        kind, paid_for, preceding, seconds, waits):
    assert must_wait(kind, paid_for, preceding, timedelta(seconds=seconds)) is waits


CANCELLED = samples.order(status="cancelled") | {"reason": "buyer", "refund_due": 59000}
REFUND = samples.refund(amount=59000, total_refunded=59000)
NOTE = samples.credit_note(amount=59000)


@pytest.mark.parametrize(("kind", "data", "wanted"), [
    ("order_cancelled", CANCELLED, ("refunded", "credit_note")),
    ("order_cancelled", CANCELLED | {"refund_due": 0}, ()),  # nothing to refund: alone
    ("refunded", REFUND, ("credit_note",)),
    ("credit_note", NOTE, ()),
    ("cancelled", samples.registration(reason="delegate", refund_due=100), ()),
])
def test_a_cancellation_with_a_refund_gathers_the_refund_and_its_credit_note(kind, data,
                                                                              wanted):
    assert gathers(kind, data) == wanted


@pytest.mark.parametrize(("kind", "data", "other_kind", "other", "carried"), [
    ("order_cancelled", CANCELLED, "refunded", REFUND, True),
    ("order_cancelled", CANCELLED, "refunded", REFUND | {"amount": 30000}, True),  # left
    ("order_cancelled", CANCELLED, "refunded", REFUND | {"amount": 60000}, False),
    ("order_cancelled", CANCELLED, "credit_note", NOTE, True),
    ("order_cancelled", CANCELLED, "credit_note", NOTE | {"reason": "cancelled"}, True),
    ("order_cancelled", CANCELLED, "credit_note", NOTE | {"reason": "billing_corrected"},
     False),
    ("order_cancelled", CANCELLED | {"refund_due": 0}, "credit_note", NOTE, False),
    ("refunded", REFUND, "credit_note", NOTE, True),
    ("refunded", REFUND, "credit_note", NOTE | {"amount": 100}, False),  # another refund's
    ("refunded", REFUND, "credit_note", NOTE | {"reason": "expired"}, False),
    ("credit_note", NOTE, "refunded", REFUND, False),
])
def test_what_a_message_carries(kind, data, other_kind, other, carried):
    assert carries(kind, data, other_kind, other) is carried


@pytest.mark.parametrize(("found", "seconds", "waits"), [
    (set(), 1, True),
    ({"refunded"}, 1, True),
    ({"refunded", "credit_note"}, 1, False),
    (set(), 121, False),  # late: the cancellation goes alone, the rest follows on its own
    ({"refunded"}, 121, False),
])
def test_a_cancellation_waits_a_while_for_its_refund_and_credit_note(found, seconds, waits):
    assert must_gather(("refunded", "credit_note"), found, timedelta(seconds=seconds)) is waits
    assert must_gather((), set(), timedelta(seconds=1)) is False

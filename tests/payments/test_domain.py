"""Payment rules, without Stripe, a broker or a database."""

import pytest

from services.payments import domain
from services.payments.domain import (
    PaymentStatus,
    RefundRefused,
    next_check_in,
    observed_status,
    receipt_number,
    refund_amount,
    settle,
)

P = PaymentStatus


@pytest.mark.parametrize("intent_status, has_error, status", [
    ("requires_payment_method", False, P.PENDING),
    ("requires_payment_method", True, P.FAILED),
    ("requires_confirmation", False, P.PENDING),
    ("processing", False, P.PENDING),
    ("requires_action", False, P.REQUIRES_ACTION),
    ("succeeded", False, P.SUCCEEDED),
    ("canceled", False, P.CANCELED),
])
def test_what_an_intent_status_means(intent_status, has_error, status):
    assert observed_status(intent_status, has_error) == status


@pytest.mark.parametrize("current, observed, result", [
    (P.PENDING, P.SUCCEEDED, P.SUCCEEDED),
    (P.PENDING, P.FAILED, P.FAILED),
    (P.FAILED, P.SUCCEEDED, P.SUCCEEDED),
    (P.REQUIRES_ACTION, P.SUCCEEDED, P.SUCCEEDED),
    (P.SUCCEEDED, P.FAILED, None),       # a failure arriving late never undoes a success
    (P.SUCCEEDED, P.SUCCEEDED, None),    # nor does a success arriving twice count twice
    (P.CANCELED, P.FAILED, None),
    (P.PENDING, P.PENDING, None),
])
def test_settling(current, observed, result):
    assert settle(current, observed) == result


@pytest.mark.parametrize("requested, paid, refunded, amount", [
    (None, 10000, 0, 10000), (None, 10000, 2500, 7500), (2500, 10000, 0, 2500),
    (7500, 10000, 2500, 7500),
])
def test_refund_amounts(requested, paid, refunded, amount):
    assert refund_amount(requested, paid, refunded) == amount


@pytest.mark.parametrize("requested, paid, refunded", [
    (None, 10000, 10000), (10001, 10000, 0), (0, 10000, 0), (-1, 10000, 0), (5000, 10000, 6000),
])
def test_refunds_never_exceed_what_was_paid(requested, paid, refunded):
    with pytest.raises(RefundRefused):
        refund_amount(requested, paid, refunded)


def test_receipt_numbers_sort_as_they_count():
    assert receipt_number("ECS27", 42) == "ECS27-R-000042"
    assert sorted(receipt_number("ECS27", n) for n in (10, 9, 100)) == [
        receipt_number("ECS27", n) for n in (9, 10, 100)]


def test_stripe_is_asked_again_soon_and_never_less_often_than_every_5_seconds():
    from services.payments.domain import prepare_delay

    assert [prepare_delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 5.0]
    assert prepare_delay(50) == 5.0


def test_a_tried_payment_is_checked_soon_then_less_and_less_often():
    assert next_check_in(None) == 10
    assert [next_check_in(s) for s in (10, 20, 1000, 3000)] == [20, 40, 2000, 3600]
    assert next_check_in(1) == 10


@pytest.mark.parametrize(("code", "words"), [
    ("insufficient_funds", "The card has insufficient funds. Please try another card."),
    ("expired_card", "The card has expired. Please try another card."),
    ("stolen_card", domain.DECLINED),  # for the bank to tell its holder
    ("card_declined", domain.DECLINED), (None, domain.DECLINED)])
def test_a_failed_payment_is_told_in_words_never_a_code(code, words):
    assert domain.failure_in_words(code) == words

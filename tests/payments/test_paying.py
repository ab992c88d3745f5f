"""Paying by card, end to end: registration -> payments (RPC) -> localstripe ->
signed webhook -> payments -> RabbitMQ -> registration."""

from tests.registration.conftest import register


def test_a_card_payment_confirms_the_registration(stack, listen):
    events = listen("payments")
    created = register(stack.registration)
    payment = stack.payment(created)
    assert payment["payment_intent_id"].startswith("pi_")
    assert payment["client_secret"] and payment["publishable_key"] == "pk_test_suite"
    intent = stack.stripe.v1.payment_intents.retrieve(payment["payment_intent_id"])
    assert intent.amount == created["amount_due"] and intent.currency == "eur"
    assert intent.metadata["order_id"] == created["order_id"]

    assert stack.pay(payment) == "succeeded"
    confirmed = stack.wait_for_status(created, "confirmed")
    assert confirmed["amount_paid"] == created["amount_due"]
    [event] = events.wait_for("payment_succeeded", created["order_id"])
    assert event["data"]["amount"] == created["amount_due"]

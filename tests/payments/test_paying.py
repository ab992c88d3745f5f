"""Paying by card, end to end: registration -> payments (RPC) -> localstripe ->
signed webhook -> payments -> RabbitMQ -> registration."""

import io

import eventlet
import pypdf

from tests.conftest import wait_until
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


def test_an_order_is_paid_by_sepa_direct_debit_through_the_same_flow(stack, listen):
    """The page turns an IBAN into a PaymentMethod with the SetupIntent (Stripe.js
    confirmSepaDebitSetup) and pays with it as with a card."""
    events = listen("payments")
    created = register(stack.registration)
    assert "sepa_debit" in stack.registration.get("/api/page-config").json()["payment_methods"]
    token = {"X-Order-Token": created["order_token"]}
    stack.payment(created)
    setup = stack.registration.post(f"/api/orders/{created['order_id']}/card-setup",
                                    headers=token)
    assert setup.status_code == 200, setup.text
    method = stack.stripe.v1.payment_methods.create(params={
        "type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"},
        "billing_details": {"name": "Kari Nordmann", "email": "kari@example.org"}})
    paid = stack.registration.post(f"/api/orders/{created['order_id']}/pay",
                                   json={"payment_method": method.id}, headers=token)
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    stack.wait_for_status(created, "confirmed")
    assert len(events.wait_for("payment_succeeded", created["order_id"])) == 1
    receipt = stack.registration.get(f"/api/orders/{created['order_id']}/receipt.pdf",
                                     headers=token)
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(receipt.content)).pages)
    assert "Paid by SEPA Direct Debit" in " ".join(text.split())


def test_every_service_counts_for_prometheus(stack, mail, listen):
    """Requests by route (a template: no id in a label), events by type and outcome, the
    outbox backlog, emails, and calls to Stripe."""
    events = listen("registration")
    created = register(stack.registration)
    stack.pay(stack.payment(created))
    events.wait_for("order_confirmed", created["order_id"])
    wait_until(lambda: 'emails_total{kind="e_ticket",outcome="sent"}' in
               stack.notifications.get("/metrics").text, message="an email counted")
    registration = stack.registration.get("/metrics")
    assert registration.headers["Content-Type"].startswith("text/plain")
    text = registration.text
    # One registry per process: here it holds what every test before this one did too.
    assert 'http_requests_total{method="POST",route="/api/registrations",status="201"}' in text
    assert created["id"] not in text and created["order_id"] not in text
    assert 'events_total{outcome="handled",type="payment_ready"}' in text
    assert "outbox_backlog" in text
    payments = stack.payments.get("/metrics").text
    assert 'stripe_calls_total{call="create_intent",outcome="ok"}' in payments


def test_two_tries_at_once_charge_once(stack, listen):
    """A double submit of the card form: both answers say succeeded, one charge."""
    events = listen("payments")
    created = register(stack.registration)
    token = {"X-Order-Token": created["order_token"]}
    stack.payment(created)
    method = stack.stripe.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    answers = list(eventlet.GreenPool(2).imap(lambda _: stack.registration.post(
        f"/api/orders/{created['order_id']}/pay", json={"payment_method": method.id},
        headers=token), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert {a.json()["status"] for a in answers} == {"succeeded"}
    stack.wait_for_status(created, "confirmed")
    eventlet.sleep(1)
    assert len(events.of_type("payment_succeeded", created["order_id"])) == 1
    [payment] = stack.payments.get(f"/api/admin/orders/{created['order_id']}/payments",
                                   headers=stack.payments.as_admin()).json()["items"]
    assert payment["amount_received"] == created["amount_due"]
    intent = stack.stripe.v1.payment_intents.retrieve(payment["payment_intent_id"]).to_dict()
    assert [c["status"] for c in intent["charges"]["data"]] == ["succeeded"], "one charge"

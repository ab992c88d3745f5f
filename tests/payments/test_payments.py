"""Declines and retries, 3-D Secure, forged and replayed webhooks, lost webhooks,
payments after a hold expired, refunds and receipts, through localstripe."""

import base64
import hashlib
import hmac
import io
import json
import time
import uuid

import eventlet
import pytest
import requests
import stripe
from nameko.standalone.rpc import ServiceRpcProxy
from pypdf import PdfReader

from tests.conftest import wait_until
from tests.registration.conftest import register
from tests.stack import WEBHOOK_SECRET

SHORT_HOLDS = {"conference": {"capacity": 1, "hold_minutes": 0.02}}


def signed(payload: bytes, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict:
    """The Stripe-Signature header Stripe would send with ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}",
            "Content-Type": "application/json"}


def succeeded_event(stack, intent_id: str) -> bytes:
    intent = stack.stripe.v1.payment_intents.retrieve(intent_id).to_dict()
    return json.dumps({"id": f"evt_{uuid.uuid4().hex[:16]}", "object": "event",
                       "type": "payment_intent.succeeded", "api_version": "2020-08-27",
                       "created": int(time.time()), "data": {"object": intent}}).encode()


def payments_of(stack, created) -> list[dict]:
    return stack.payments.get(f"/api/admin/orders/{created['order_id']}/payments",
                              headers=stack.payments.as_admin()).json()["items"]


class TestCards:
    def test_a_declined_card_then_a_good_one_confirms_with_one_charge(self, stack, listen):
        events = listen("payments")
        created = register(stack.registration)
        payment = stack.payment(created)
        assert stack.pay(payment, "declined").startswith("declined")
        [failed] = events.wait_for("payment_failed", created["order_id"])
        assert failed["data"]["reason"]
        seen = wait_until(lambda: (s := stack.status(created))["last_payment_error"] and s)
        assert seen["status"] == "pending_payment"

        retry = wait_until(lambda: (p := stack.payment(created))["payment_intent_id"] !=
                           payment["payment_intent_id"] and p, message="a new intent")
        declined_intent = stack.stripe.v1.payment_intents.retrieve(payment["payment_intent_id"])
        assert declined_intent.status == "canceled"
        assert stack.pay(retry) == "succeeded"
        stack.wait_for_status(created, "confirmed")
        declined, paid = payments_of(stack, created)
        assert (declined["status"], paid["status"]) == ("canceled", "succeeded")
        assert paid["amount_received"] == created["amount_due"]
        assert len(events.of_type("payment_succeeded", created["order_id"])) == 1

        again = stack.registration.get(f"/api/registrations/{created['id']}/payment",
                                       headers={"X-Registration-Token": created["token"]})
        assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_due"

    def test_a_3d_secure_card_leaves_the_payment_awaiting_the_bank(self, stack):
        created = register(stack.registration)
        assert stack.pay(stack.payment(created), "3ds") == "requires_action"
        wait_until(lambda: payments_of(stack, created)[0]["status"] == "requires_action",
                   timeout=15, message="reconciliation to see requires_action")
        assert stack.status(created)["status"] == "pending_payment"


class TestWebhooks:
    @pytest.mark.lost_webhooks
    def test_a_forged_or_stale_signature_is_refused_and_changes_nothing(self, stack, listen):
        events = listen("payments")
        created = register(stack.registration)
        stack.pay(stack.payment(created))
        payload = succeeded_event(stack, stack.payment(created)["payment_intent_id"])
        tampered = payload.replace(b'"amount": ', b'"amount": 1')
        for body, headers in [
            (payload, signed(payload, secret="whsec_guessed")),          # forged
            (payload, signed(payload, timestamp=int(time.time()) - 3600)),  # stale, replayed
            (payload, {"Content-Type": "application/json"}),               # unsigned
            (tampered, signed(payload)),                                  # changed after signing
        ]:
            response = stack.payments.post("/stripe/webhook", data=body, headers=headers)
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == "invalid_signature"
        assert payments_of(stack, created)[0]["status"] == "pending"
        assert stack.status(created)["status"] == "pending_payment"
        assert [e["type"] for e in events.drain()] == ["payment_ready"]

    @pytest.mark.lost_webhooks
    def test_the_same_webhook_twice_confirms_once_with_one_receipt(self, stack, listen):
        events = listen("payments")
        created = register(stack.registration)
        stack.pay(stack.payment(created))
        payload = succeeded_event(stack, stack.payment(created)["payment_intent_id"])
        pool = eventlet.GreenPool()
        answers = list(pool.imap(lambda _: stack.payments.post(
            "/stripe/webhook", data=payload, headers=signed(payload)), range(3)))
        assert [a.status_code for a in answers] == [200, 200, 200]
        later = stack.payments.post("/stripe/webhook", data=payload, headers=signed(payload))
        assert later.json()["outcome"] == "replay"
        stack.wait_for_status(created, "confirmed")
        [payment] = payments_of(stack, created)
        assert payment["receipt_number"] == "ECS27-R-000001"
        assert len(events.of_type("payment_succeeded", created["order_id"])) == 1

    @pytest.mark.lost_webhooks
    def test_a_signed_event_of_another_shape_or_amount_is_never_a_silent_success(
            self, stack, listen):
        events = listen("payments")
        created = register(stack.registration)
        stack.pay(stack.payment(created))
        deep = b"[" * 100_000 + b"]" * 100_000
        assert stack.payments.post("/stripe/webhook", data=deep,
                                   headers=signed(b"[")).status_code == 400  # not signed
        odd = [json.dumps(body).encode() for body in (
            {"id": "evt_no_type"}, [1, 2],
            {"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x"}}},
            {"id": "evt_types", "type": "payment_intent.succeeded", "data": {"object": {
                "id": "pi_y", "status": "succeeded", "amount": "590", "amount_received": True,
                "currency": "eur", "metadata": {"order_id": created["order_id"]}}}},
        )] + [b"not json", deep]
        answers = [stack.payments.post("/stripe/webhook", data=payload, headers=signed(payload))
                   for payload in odd + odd[:1]]  # the first twice: recorded once
        assert [a.json()["outcome"] for a in answers] == ["flagged"] * len(odd) + ["replay"]
        huge = stack.payments.post("/stripe/webhook", data=b"x" * (2 * 1024 * 1024),
                                   headers=signed(b"x"))
        assert huge.status_code == 413
        shapes = stack.payments.get("/api/admin/stripe-events/flagged",
                                    headers=stack.payments.as_admin()).json()["items"]
        assert len(shapes) == len(odd), "each signed one once; the unsigned one not at all"
        assert {"evt_no_type", "evt_x", "evt_types"} <= {e["id"] for e in shapes}
        assert all(e["problem"].startswith("unexpected shape") for e in shapes)

        intent = json.loads(succeeded_event(stack, stack.payment(created)["payment_intent_id"]))
        intent["data"]["object"]["amount"] = intent["data"]["object"]["amount_received"] = 1
        payload = json.dumps(intent).encode()
        answer = stack.payments.post("/stripe/webhook", data=payload, headers=signed(payload))
        assert answer.status_code == 200 and answer.json()["outcome"] == "flagged"
        flagged = stack.payments.get("/api/admin/stripe-events/flagged",
                                     headers=stack.payments.as_admin()).json()["items"]
        assert flagged[0]["id"] == intent["id"] and "1 EUR" in flagged[0]["problem"]
        assert len(flagged) == len(odd) + 1
        [paid] = events.wait_for("payment_succeeded", created["order_id"])
        assert paid["data"]["amount"] == 1, "what was received, not what was due"
        eventlet.sleep(1)
        assert stack.status(created)["status"] == "pending_payment", "1 cent pays nothing"

    @pytest.mark.lost_webhooks
    def test_a_failure_arriving_after_the_success_undoes_nothing(self, stack, listen):
        events = listen("payments")
        created = register(stack.registration)
        stack.pay(stack.payment(created))
        success = succeeded_event(stack, stack.payment(created)["payment_intent_id"])
        failure = success.replace(b"payment_intent.succeeded", b"payment_intent.payment_failed")
        failure = failure.replace(json.loads(success)["id"].encode(), b"evt_late_failure")
        for payload in (success, failure):
            assert stack.payments.post("/stripe/webhook", data=payload,
                                       headers=signed(payload)).status_code == 200
        stack.wait_for_status(created, "confirmed")
        assert payments_of(stack, created)[0]["status"] == "succeeded"
        assert events.of_type("payment_failed") == []

    @pytest.mark.lost_webhooks
    def test_a_lost_webhook_is_settled_by_reconciliation(self, stack):
        created = register(stack.registration)
        assert stack.pay(stack.payment(created)) == "succeeded"
        stack.wait_for_status(created, "confirmed", timeout=20)


@pytest.fixture
def quiet_payments_wait_long(payments_config):
    """Payments nobody has tried to pay are asked about only after 10 minutes."""
    payments_config["RECONCILE_AFTER_SECONDS"] = 600


@pytest.mark.lost_webhooks
def test_a_payment_tried_without_a_webhook_is_settled_within_30_s(
        quiet_payments_wait_long, stack, listen):
    events = listen("payments")
    created = register(stack.registration)
    stack.payment(created)
    method = stack.stripe.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    paid = stack.registration.post(f"/api/orders/{created['order_id']}/pay",
                                   json={"payment_method": method.id},
                                   headers={"X-Order-Token": created["order_token"]})
    assert paid.json()["status"] == "succeeded"
    # Nothing else asks Stripe within 10 minutes: only the check 25 s after the try can.
    events.wait_for("payment_succeeded", created["order_id"], timeout=60)
    stack.wait_for_status(created, "confirmed")


class TestAfterTheHold:
    @pytest.mark.catalog(**SHORT_HOLDS)
    def test_an_expired_order_can_no_longer_be_paid(self, stack, listen):
        events = listen("registration")
        created = register(stack.registration)
        payment = stack.payment(created)
        events.wait_for("order_expired", created["order_id"], timeout=15)
        wait_until(lambda: payments_of(stack, created)[0]["status"] == "canceled",
                   message="the intent to be cancelled")
        intent = stack.stripe.v1.payment_intents.retrieve(payment["payment_intent_id"])
        assert intent.status == "canceled"
        with pytest.raises(stripe.InvalidRequestError):
            stack.pay(payment)
        assert stack.status(created)["status"] == "expired"


class TestRefunds:
    def paid(self, stack):
        created = register(stack.registration)
        stack.pay(stack.payment(created))
        stack.wait_for_status(created, "confirmed")
        return created

    def test_a_partial_then_a_full_refund(self, stack, listen):
        events = listen("payments")
        created = self.paid(stack)
        path = f"/api/admin/orders/{created['order_id']}/refund"
        partial = stack.payments.post(path, json={"amount": 1000, "reason": "no gala dinner"},
                                      headers={**stack.payments.as_admin(),
                                               "Idempotency-Key": "form-1"})
        assert partial.status_code == 201, partial.text
        again = stack.payments.post(path, json={"amount": 1000, "reason": "no gala dinner"},
                                    headers={**stack.payments.as_admin(),
                                             "Idempotency-Key": "form-1"})
        assert again.json()["refund_id"] == partial.json()["refund_id"]
        wait_until(lambda: stack.order(created)["amount_refunded"] == 1000)
        assert stack.order(created)["status"] == "confirmed"

        too_much = stack.payments.post(path, json={"amount": created["amount_due"]},
                                       headers=stack.payments.as_admin())
        assert too_much.status_code == 422 and too_much.json()["error"]["field"] == "amount"
        rest = stack.payments.post(path, json={}, headers=stack.payments.as_admin())
        assert rest.status_code == 201 and rest.json()["amount"] == created["amount_due"] - 1000
        stack.wait_for_status(created, "cancelled")
        refunded = events.wait_for("payment_refunded", created["order_id"], count=2)
        assert [e["data"]["fully_refunded"] for e in refunded] == [False, True]
        assert stack.payments.post(path, json={}, headers=stack.payments.as_admin()
                                   ).status_code == 422

    def test_an_idempotency_key_belongs_to_its_order_and_amount(self, stack):
        first, second = self.paid(stack), self.paid(stack)
        admin = {**stack.payments.as_admin(), "Idempotency-Key": "k" * 255}

        def refund(order, body):
            return stack.payments.post(f"/api/admin/orders/{order['order_id']}/refund",
                                       json=body, headers=admin)

        one = refund(first, {"amount": 500})
        other = refund(second, {"amount": 500})
        assert one.status_code == other.status_code == 201, (one.text, other.text)
        assert one.json()["refund_id"] != other.json()["refund_id"]
        reused = refund(first, {"amount": 700})
        assert reused.status_code == 409
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
        for strange in ({"amount": True}, {"amount": "500"}, {"amount": 5.5}):
            assert refund(first, strange).status_code == 422, strange
        wait_until(lambda: stack.order(first)["amount_refunded"] == 500)

    def test_an_idempotency_key_longer_than_allowed_is_refused_and_refunds_nothing(
            self, stack):
        created = self.paid(stack)
        path = f"/api/admin/orders/{created['order_id']}/refund"
        [payment] = payments_of(stack, created)

        def at_stripe() -> list:
            return stack.stripe.v1.refunds.list(
                params={"payment_intent": payment["payment_intent_id"]}).data

        def refund(key: str):
            return stack.payments.post(path, json={"amount": 500}, headers={
                **stack.payments.as_admin(), "Idempotency-Key": key})

        for _ in range(2):
            answer = refund("k" * 256)
            assert answer.status_code == 422, answer.text
            assert answer.json()["error"]["field"] == "Idempotency-Key"
        assert at_stripe() == [] and stack.order(created)["amount_refunded"] == 0
        longest = [refund("k" * 255) for _ in range(2)]
        assert [a.status_code for a in longest] == [201, 201]
        assert longest[0].json()["refund_id"] == longest[1].json()["refund_id"]
        assert [r.amount for r in at_stripe()] == [500]

    def test_refunds_are_for_the_admin_only(self, stack):
        created = self.paid(stack)
        path = f"/api/admin/orders/{created['order_id']}/refund"
        assert stack.payments.post(path, json={}).status_code == 401
        assert stack.payments.post(path, json={}, headers=stack.payments.as_desk()
                                   ).status_code == 403
        assert stack.payments.post(path, json={"amount": -5}, headers=stack.payments.as_admin()
                                   ).status_code == 422
        unpaid = register(stack.registration, email="unpaid@example.org")
        assert stack.payments.post(f"/api/admin/orders/{unpaid['order_id']}/refund", json={},
                                   headers=stack.payments.as_admin()).status_code == 404

    def test_a_delegate_cancelling_within_the_policy_is_refunded(self, stack, listen):
        events = listen("payments")
        created = self.paid(stack)
        stack.registration.post(f"/api/registrations/{created['id']}/cancel",
                                headers={"X-Registration-Token": created["token"]})
        [refunded] = events.wait_for("payment_refunded", created["order_id"])
        assert refunded["data"]["amount"] == created["amount_due"]  # full refund until April


class TestReceipts:
    def test_the_receipt_pdf(self, stack):
        created = register(stack.registration, billing_address="Rue de la Loi 1, Bruxelles",
                           billing_vat_number="BE0123456789", purchase_order="PO-77")
        pdf_path = f"/api/orders/{created['order_id']}/receipt.pdf"
        headers = {"X-Order-Token": created["order_token"]}
        assert stack.payments.get(pdf_path, headers=headers).status_code == 404
        stack.pay(stack.payment(created))
        stack.wait_for_status(created, "confirmed")
        response = stack.payments.get(pdf_path, headers=headers)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/pdf"
        text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        for expected in ["ECS27-R-000001", "Łukasz Żółć", "Copernicus Science Centre",
                         created["reference"], "BE0123456789", "PO-77", "25.5%",
                         f"EUR {created['amount_due'] / 100:,.2f}"]:
            assert expected in text, expected
        assert stack.payments.get(pdf_path, headers={"X-Order-Token": "forged"}
                                  ).status_code == 403
        with ServiceRpcProxy("payments", {"AMQP_URI": stack.amqp_uri}) as payments:
            attached = base64.b64decode(payments.receipt_pdf(created["order_id"]))
        assert PdfReader(io.BytesIO(attached)).pages[0].extract_text() == text


@pytest.mark.postgres
def test_receipt_numbers_have_no_gaps_under_concurrent_payments(
        start_service, amqp_uri, postgres_url, localstripe_url, stripe_client, webhook,
        payments_config, tmp_path, catalog_file):
    from services.payments.service import PaymentsService
    from services.registration.service import RegistrationService
    from tests.conftest import make_config
    from tests.stack import Stack

    payments_config["DATABASE_URL"] = postgres_url
    _, payments = start_service(PaymentsService, payments_config)
    _, registration = start_service(RegistrationService, make_config(
        "registration", amqp_uri, f"sqlite:///{tmp_path / 'registration.db'}",
        CATALOG_FILE=str(catalog_file())))
    webhook(payments_config["WEB_SERVER_ADDRESS"].rsplit(":", 1)[1])
    stack = Stack(registration, payments, stripe_client, amqp_uri)
    created = [register(registration, email=f"d{n}@example.org") for n in range(12)]
    pool = eventlet.GreenPool()
    assert set(pool.imap(lambda c: stack.pay(stack.payment(c)), created)) == {"succeeded"}
    for c in created:
        stack.wait_for_status(c, "confirmed", timeout=30)
    numbers = sorted(payments_of(stack, c)[0]["receipt_number"] for c in created)
    assert numbers == [f"ECS27-R-{n:06d}" for n in range(1, 13)]
    requests.delete(f"{localstripe_url}/_config/data", timeout=5)

"""Registration reacting to payments' events, and holds expiring, over RabbitMQ."""

import pytest
from nameko.testing.services import entrypoint_waiter

from services.registration.service import RegistrationService
from shared.events import new_event
from tests.conftest import make_config, wait_until
from tests.registration.conftest import delegate, register


def payment_succeeded(registration, amount=None, intent="pi_test_1"):
    return new_event("payment_succeeded", {
        "order_id": registration["order_id"], "method": "card", "payment_intent_id": intent,
        "amount": registration["amount_due"] if amount is None else amount, "currency": "EUR"})


def status_of(api, registration) -> dict:
    return api.get(f"/api/registrations/{registration['id']}",
                   headers={"X-Registration-Token": registration["token"]}).json()


def wait_for_status(api, registration, status, timeout=10):
    return wait_until(lambda: (seen := status_of(api, registration))["status"] == status and seen,
                      timeout, message=f"status {status}")


class TestPayments:
    def test_a_payment_confirms_the_registration(self, registration, listen, publish):
        events = listen("registration")
        created = register(registration)
        publish(payment_succeeded(created))
        seen = wait_for_status(registration, created, "confirmed")
        assert seen["amount_paid"] == created["amount_due"] and seen["hold_expires_at"] is None
        [event] = events.wait_for("registration_confirmed", created["id"])
        assert event["data"]["status"] == "confirmed"

    def test_a_redelivered_payment_event_confirms_once(self, start_service,
                                                       registration_config, listen, publish):
        container, api = start_service(RegistrationService, registration_config)
        events = listen("registration")
        created = register(api)
        event = payment_succeeded(created)
        handled = []

        def third_delivery_handled(worker_ctx, result, exc_info):
            handled.append(exc_info)
            return len(handled) == 3

        with entrypoint_waiter(container, "on_payment_succeeded",
                               callback=third_delivery_handled, timeout=10):
            for _ in range(3):
                publish(event)
        assert handled == [None, None, None]
        assert status_of(api, created)["amount_paid"] == created["amount_due"]
        events.wait_for("registration_confirmed", created["id"])
        assert len(events.of_type("registration_confirmed", created["id"])) == 1

    def test_a_failure_after_a_success_changes_nothing(self, start_service,
                                                      registration_config, publish):
        container, api = start_service(RegistrationService, registration_config)
        created = register(api)
        publish(payment_succeeded(created))
        wait_for_status(api, created, "confirmed")
        with entrypoint_waiter(container, "on_payment_failed", timeout=10):
            publish(new_event("payment_failed", {
                "order_id": created["order_id"], "payment_intent_id": "pi_late",
                "amount": 1, "currency": "EUR", "reason": "card_declined",
                "message": "Your bank declined the payment."}))
        seen = status_of(api, created)
        assert seen["status"] == "confirmed" and seen["last_payment_error"] is None

    def test_a_failed_payment_keeps_the_hold_and_says_why(self, registration, publish):
        created = register(registration)
        publish(new_event("payment_failed", {
            "order_id": created["order_id"], "payment_intent_id": "pi_1",
            "amount": created["amount_due"], "currency": "EUR", "reason": "card_declined",
                "message": "Your bank declined the payment."}))
        seen = wait_until(lambda: (s := status_of(registration, created))["last_payment_error"]
                          and s)
        assert seen["status"] == "pending_payment"
        assert seen["last_payment_error"] == "Your bank declined the payment."
        publish(payment_succeeded(created, intent="pi_2"))
        assert wait_for_status(registration, created, "confirmed")["last_payment_error"] is None

    def test_a_full_refund_cancels_and_a_partial_one_does_not(self, registration, listen,
                                                             publish):
        events = listen("registration")
        created = register(registration)
        publish(payment_succeeded(created))
        wait_for_status(registration, created, "confirmed")
        refund = {"order_id": created["order_id"], "method": "card",
                  "payment_intent_id": "pi_test_1", "currency": "EUR", "refund_id": "re_1",
                  "amount": 1000, "total_refunded": 1000, "fully_refunded": False}
        publish(new_event("payment_refunded", refund))
        wait_until(lambda: status_of(registration, created)["amount_refunded"] == 1000)
        assert status_of(registration, created)["status"] == "confirmed"
        publish(new_event("payment_refunded", {
            **refund, "refund_id": "re_2", "amount": created["amount_due"] - 1000,
            "total_refunded": created["amount_due"], "fully_refunded": True}))
        seen = wait_for_status(registration, created, "cancelled")
        assert seen["amount_refunded"] == created["amount_due"]
        [event] = events.wait_for("registration_cancelled", created["id"])
        assert event["data"]["reason"] == "refunded" and event["data"]["refund_due"] == 0

    def test_a_payment_for_a_cancelled_registration_is_handed_back(self, registration, listen,
                                                                  publish):
        events = listen("registration")
        created = register(registration)
        registration.post(f"/api/registrations/{created['id']}/cancel", json={},
                          headers={"X-Registration-Token": created["token"]})
        publish(payment_succeeded(created))
        events.wait_for("order_cancelled", created["order_id"], count=2)
        last = events.of_type("order_cancelled", created["order_id"])[-1]
        assert last["data"]["reason"] == "paid_after_cancellation"
        assert last["data"]["refund_due"] == created["amount_due"]
        assert status_of(registration, created)["status"] == "cancelled"


class TestHolds:
    @pytest.fixture
    def short_holds(self, start_service, amqp_uri, sqlite_url, catalog_file):
        """A sale of one seat, held for 1.2 seconds."""
        path = catalog_file(conference={"capacity": 1, "hold_minutes": 0.02})
        config = make_config("registration", amqp_uri, sqlite_url, CATALOG_FILE=str(path))
        return start_service(RegistrationService, config)[1]

    def test_an_unpaid_hold_expires_and_frees_the_seat(self, short_holds, listen):
        events = listen("registration")
        created = register(short_holds)
        full = short_holds.post("/api/registrations", json=delegate(email="b@example.org"))
        assert full.status_code == 409
        [event] = events.wait_for("registration_expired", created["id"], timeout=15)
        assert event["data"]["status"] == "expired"
        assert status_of(short_holds, created)["status"] == "expired"
        assert short_holds.get("/api/catalog").json()["remaining"] == 1
        register(short_holds, email="b@example.org")

    def test_a_payment_after_expiry_confirms_if_the_seat_is_still_free(self, short_holds,
                                                                       listen, publish):
        events = listen("registration")
        created = register(short_holds)
        events.wait_for("registration_expired", created["id"], timeout=15)
        publish(payment_succeeded(created))
        assert wait_for_status(short_holds, created, "confirmed")["amount_paid"] > 0
        assert short_holds.get("/api/catalog").json()["remaining"] == 0

    def test_a_payment_after_expiry_is_refunded_if_the_seat_is_gone(self, short_holds, listen,
                                                                     publish):
        events = listen("registration")
        late = register(short_holds)
        events.wait_for("registration_expired", late["id"], timeout=15)
        register(short_holds, email="quicker@example.org", ticket_type="speaker",
                 discount_code="SPEAKER27", add_ons=[])
        publish(payment_succeeded(late))
        [event] = events.wait_for("registration_cancelled", late["id"])
        assert event["data"]["reason"] == "no_capacity_after_payment"
        assert event["data"]["with_order"]
        [closed] = events.wait_for("order_cancelled", late["order_id"])
        assert closed["data"]["refund_due"] == late["amount_due"], "refunded at once"
        assert status_of(short_holds, late)["status"] == "cancelled"

"""RabbitMQ stops and starts again under a running service: nothing is lost.

This restarts the local RabbitMQ node (``rabbitmqctl stop_app`` / ``start_app``), so it
runs only where the tests may do that: on the development and CI machines, as root."""

import shutil
import uuid

import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from services.registration.service import RegistrationService
from shared.events import new_event
from tests.conftest import make_config, wait_until
from tests.registration.conftest import delegate

pytestmark = pytest.mark.skipif(shutil.which("rabbitmqctl") is None,
                                reason="needs rabbitmqctl to restart the local RabbitMQ")


def test_events_committed_while_the_broker_is_down_arrive_when_it_is_back(
        start_service, amqp_uri, sqlite_url, broker_down, publish):
    # A durable queue, unlike the usual test listener, outlives the restart.
    queue = Queue(f"test-restart-{uuid.uuid4().hex[:8]}", durable=True, auto_delete=False,
                  exchange=get_event_exchange("registration", {}), routing_key="#")
    with Connection(amqp_uri) as connection:
        queue.maybe_bind(connection)
        queue.declare()
    _, api = start_service(RegistrationService, make_config("registration", amqp_uri,
                                                            sqlite_url))

    broker_down.stop()
    response = api.post("/api/registrations", json=delegate(), timeout=60)
    assert response.status_code == 201, response.text
    created = response.json()
    broker_down.start()

    found = []

    def received() -> list[dict]:
        with Connection(amqp_uri) as connection:
            bound = queue.bind(connection.default_channel)
            while (message := bound.get(no_ack=True)) is not None:
                found.append(message.payload)
            return len(found) >= 2 and found

    events = wait_until(received, timeout=60, message="the events held in the outbox")
    assert [(e["type"], e["data"].get("registration_id", e["data"]["order_id"]))
            for e in events] == [("order_placed", created["order_id"]),
                                 ("registration_created", created["id"])]

    publish(new_event("payment_succeeded", {
        "order_id": created["order_id"], "method": "card", "payment_intent_id": "pi_after_restart",
        "amount": created["amount_due"], "currency": "EUR"}))
    wait_until(lambda: api.get(f"/api/registrations/{created['id']}", headers={
        "X-Registration-Token": created["token"]}).json()["status"] == "confirmed",
        timeout=60, message="the consumer to reconnect and confirm")

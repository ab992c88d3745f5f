"""Idempotent consumption, delayed retries and the dead-letter queue, on real RabbitMQ."""

from collections import Counter

import pytest
from kombu import Connection, Queue
from sqlalchemy import MetaData

from shared.consumer import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    dead_letters,
    event_handler,
    handler_queues,
)
from shared.db import Database
from shared.events import new_event
from tests.conftest import make_config, wait_until

ALWAYS = 10**6
failures_wanted: dict[str, int] = {}  # event id -> how many times the handler fails first
attempts: Counter = Counter()
effects: Counter = Counter()


class Listener:
    """A consumer whose effect is counted; told per event how often to fail first."""

    name = "listener"
    db = Database(MetaData())

    @event_handler("payments", "payment_failed")
    def on_payment_failed(self, event):
        key = str(event.id)
        attempts[key] += 1
        if attempts[key] <= failures_wanted.get(key, 0):
            raise RuntimeError("the handler broke")
        if not self.db.first_delivery(event):
            return
        effects[key] += 1
        self.db.commit()


HANDLER_QUEUES = handler_queues("payments", "payment_failed", "listener", "on_payment_failed")
QUEUE, RETRY_QUEUE, DEAD_QUEUE = HANDLER_QUEUES


@pytest.fixture
def listener(start_service, amqp_uri, sqlite_url):
    failures_wanted.clear()
    attempts.clear()
    effects.clear()
    start_service(Listener, make_config("listener", amqp_uri, sqlite_url))


@pytest.fixture
def queues(amqp_uri):
    """Read what lies in the handler's queues."""
    connection = Connection(amqp_uri)

    def messages(queue: Queue) -> list:
        bound = Queue(queue.name, no_declare=True).bind(connection.default_channel)
        found = []
        while (message := bound.get(no_ack=False)) is not None:
            found.append(message)
        for message in found:
            message.requeue()
        return found

    yield messages
    connection.release()


def failed_event():
    return new_event("payment_failed", {
        "order_id": "o-1", "payment_intent_id": "pi_1", "amount": 100,
        "currency": "EUR", "reason": "card_declined",
                "message": "Your bank declined the payment."})


def test_a_redelivered_event_has_one_effect(listener, publish):
    event = failed_event()
    for _ in range(3):
        publish(event)
    wait_until(lambda: attempts[str(event.id)] == 3, message="three deliveries")
    assert effects[str(event.id)] == 1


def test_a_failing_handler_is_retried_after_a_delay_and_then_succeeds(listener, publish,
                                                                      queues):
    event = failed_event()
    failures_wanted[str(event.id)] = 2
    publish(event)
    wait_until(lambda: effects[str(event.id)] == 1, message="the effect")
    assert attempts[str(event.id)] == 3
    assert queues(DEAD_QUEUE) == []


def test_a_handler_that_keeps_failing_ends_in_the_dead_letter_queue(listener, publish, queues):
    event = failed_event()
    failures_wanted[str(event.id)] = ALWAYS
    publish(event)
    [dead] = wait_until(lambda: queues(DEAD_QUEUE), message="a dead letter")
    assert dead.payload["id"] == str(event.id)
    assert dead.headers[ATTEMPTS_HEADER] == 3  # the first try and two retries (test config)
    assert "the handler broke" in dead.headers[ERROR_HEADER]
    assert attempts[str(event.id)] == 3 and effects[str(event.id)] == 0
    assert queues(QUEUE) == [] and queues(RETRY_QUEUE) == []


def test_dead_letters_are_counted_and_replayed(listener, publish, queues, amqp_uri):
    event = failed_event()
    failures_wanted[str(event.id)] = 3
    publish(event)
    wait_until(lambda: queues(DEAD_QUEUE), message="a dead letter")
    assert dead_letters(amqp_uri, [HANDLER_QUEUES]) == {DEAD_QUEUE.name: 1}
    dead_letters(amqp_uri, [HANDLER_QUEUES], replay=True)
    wait_until(lambda: effects[str(event.id)] == 1, message="the replayed event's effect")
    assert dead_letters(amqp_uri, [HANDLER_QUEUES]) == {DEAD_QUEUE.name: 0}


@pytest.mark.parametrize("envelope, reason", [
    ({"type": "payment_failed", "version": 3, "data": {}}, "malformed"),
    ({**failed_event().envelope(), "version": 2}, "version 2 is not understood"),
    ({**failed_event().envelope(), "data": {"order_id": "o-1"}}, "malformed"),
])
def test_a_message_that_breaks_its_contract_is_dead_lettered_unhandled(listener, publish, queues,
                                                                        envelope, reason):
    publish({**envelope, "source": "payments"})
    [dead] = wait_until(lambda: queues(DEAD_QUEUE), message="a dead letter")
    assert reason in dead.headers[ERROR_HEADER]
    assert sum(attempts.values()) == 0

"""Quorum queues for every consumer, and classic queues of an earlier version migrated
without losing a message, on real RabbitMQ (a throwaway vhost per test)."""

import json
from collections import Counter
from urllib.parse import quote

import eventlet
import pytest
import requests
from kombu import Connection, Queue
from nameko.rpc import get_rpc_exchange
from nameko.standalone.rpc import ServiceRpcProxy

from shared.consumer import event_handler, handler_queues
from shared.events import new_event
from shared.queues import QueueInUse, declare_queues, quorum_queue
from shared.rpc import rpc
from tests.conftest import make_config, wait_until

MANAGEMENT_API = "http://127.0.0.1:15672/api"
handled: Counter = Counter()  # event id -> deliveries to the handler


class Listener:
    name = "listener"

    @event_handler("payments", "payment_failed")
    def on_payment_failed(self, event):
        handled[str(event.id)] += 1

    @rpc
    def ping(self):
        return "pong"


HANDLER_QUEUES = handler_queues("payments", "payment_failed", "listener", "on_payment_failed")
QUEUE, RETRY_QUEUE, DEAD_QUEUE = HANDLER_QUEUES
RPC_QUEUE = "rpc-listener"
PREVIOUS_VERSION = [  # the classic queues the previous version declared
    Queue(QUEUE.name, exchange=QUEUE.exchange, routing_key=QUEUE.routing_key, durable=True),
    Queue(RETRY_QUEUE.name, durable=True, queue_arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": QUEUE.name}),
    Queue(DEAD_QUEUE.name, durable=True),
    Queue(RPC_QUEUE, exchange=get_rpc_exchange({}), routing_key="listener.*", durable=True),
]


@pytest.fixture
def start_listener(start_service, amqp_uri, sqlite_url):
    handled.clear()
    return lambda: start_service(Listener, make_config("listener", amqp_uri, sqlite_url))


@pytest.fixture
def broker(amqp_uri):
    with Connection(amqp_uri) as connection:
        yield connection


def queue_types(vhost) -> dict:
    """Each queue's ``x-queue-type`` argument, as the management API shows it."""
    answer = requests.get(f"{MANAGEMENT_API}/queues/{quote(vhost, safe='')}",
                          auth=("guest", "guest"), timeout=10)
    answer.raise_for_status()
    return {queue["name"]: queue["arguments"].get("x-queue-type") for queue in answer.json()}


def take_all(connection, name) -> list[str]:
    """The ids of the events in a queue, taking them out."""
    queue = Queue(name, no_declare=True).bind(connection.default_channel)
    ids = []
    while (message := queue.get(no_ack=True)) is not None:
        ids.append(json.loads(message.body)["id"])
    return ids


def failed_event():
    return new_event("payment_failed", {
        "order_id": "o-1", "payment_intent_id": "pi_1", "amount": 100,
        "currency": "EUR", "reason": "card_declined",
                "message": "Your bank declined the payment."})


def publish_events(publish, count) -> set[str]:
    return {publish(failed_event())["id"] for _ in range(count)}


def test_a_fresh_start_declares_quorum_queues(start_listener, rabbit_config, publish):
    start_listener()
    types = queue_types(rabbit_config["vhost"])
    assert {name: types[name] for name in (QUEUE.name, RETRY_QUEUE.name, DEAD_QUEUE.name,
                                           RPC_QUEUE)} == dict.fromkeys(
        (QUEUE.name, RETRY_QUEUE.name, DEAD_QUEUE.name, RPC_QUEUE), "quorum")
    [event_id] = publish_events(publish, 1)
    wait_until(lambda: handled[event_id] == 1, message="the event handled")


def test_classic_queues_holding_messages_become_quorum_queues_losing_none(
        start_listener, rabbit_config, amqp_uri, broker, publish):
    for queue in PREVIOUS_VERSION:
        queue.bind(broker.default_channel).declare()
    waiting = publish_events(publish, 50)
    producer = broker.Producer()
    retrying = failed_event().envelope()
    producer.publish(retrying, routing_key=RETRY_QUEUE.name, expiration=2)
    for _ in range(2):
        producer.publish(failed_event().envelope(), routing_key=DEAD_QUEUE.name)
    assert set(queue_types(rabbit_config["vhost"]).values()) == {None}  # all classic

    start_listener()

    types = queue_types(rabbit_config["vhost"])
    assert types == {queue.name: "quorum" for queue in PREVIOUS_VERSION}  # no leftovers
    everything = waiting | {retrying["id"]}
    wait_until(lambda: set(handled) == everything, message="every event handled")
    assert set(handled.values()) == {1}
    assert len(take_all(broker, DEAD_QUEUE.name)) == 2
    with ServiceRpcProxy("listener", {"AMQP_URI": amqp_uri}) as listener:
        assert listener.ping() == "pong"


def test_instances_migrating_at_once_lose_nothing_while_events_arrive(amqp_uri, broker,
                                                                     publish):
    for queue in PREVIOUS_VERSION[:3]:
        queue.bind(broker.default_channel).declare()
    waiting = publish_events(publish, 200)
    pool = eventlet.GreenPool()
    for _ in range(2):
        pool.spawn(declare_queues, amqp_uri, list(HANDLER_QUEUES))
    arriving = pool.spawn(publish_events, publish, 100)  # some published twice as the
    pool.waitall()                                        # binding moves: at least once
    published = arriving.wait()

    in_queue = Counter(take_all(broker, QUEUE.name))
    assert set(in_queue) == published | waiting
    assert {in_queue[event_id] for event_id in waiting} == {1}  # each moved once


def test_a_classic_queue_still_consumed_is_left_until_its_consumers_stop(amqp_uri, broker,
                                                                        publish):
    PREVIOUS_VERSION[0].bind(broker.default_channel).declare()
    published = publish_events(publish, 20)
    with Connection(amqp_uri) as previous_version:
        consumer = previous_version.Consumer(Queue(QUEUE.name, no_declare=True),
                                             prefetch_count=1)
        consumer.consume()  # holds one message, unacked
        with pytest.raises(QueueInUse):
            declare_queues(amqp_uri, [QUEUE])
    published |= publish_events(publish, 5)  # meanwhile, into the holding queue

    declare_queues(amqp_uri, [QUEUE])

    assert sorted(take_all(broker, QUEUE.name)) == sorted(published)


def test_a_migration_left_half_done_is_finished(amqp_uri, broker, publish, rabbit_config):
    """An instance died after declaring the quorum queue, before moving the held messages."""
    declare_queues(amqp_uri, [QUEUE])
    holding = quorum_queue(f"{QUEUE.name}.migrating", exchange=QUEUE.exchange,
                           routing_key=QUEUE.routing_key)
    holding.bind(broker.default_channel).declare()
    published = publish_events(publish, 10)  # into both

    declare_queues(amqp_uri, [QUEUE])

    assert sorted(take_all(broker, QUEUE.name)) == sorted([*published, *published])
    assert list(queue_types(rabbit_config["vhost"])) == [QUEUE.name]

"""Consuming events: contract parsing, delayed retries, and a dead-letter queue.

``event_handler(source, event_type)`` is nameko's event handler with three
changes:

- the handler receives an ``Event`` checked against its contract; a message
  that breaks the contract goes straight to the dead-letter queue;
- a handler that raises is retried after a delay (``EVENT_RETRY_DELAYS``
  seconds, growing), by way of a per-queue ``.retry`` queue whose messages
  expire back into the handler's queue; the attempt count travels in a header
  of our own;
- after the last retry the message goes to the handler's ``.dead`` queue with
  the error, where an operator can inspect and replay it. Nothing is dropped.

All three are quorum queues (``shared.queues``; a classic one left by an earlier
version is migrated at start). RabbitMQ 3.10 expires messages in quorum queues
too, per message (checked), so the retry queue needs no classic exception.

Handlers must still be idempotent (``UnitOfWork.first_delivery``): delivery is
at least once, and a retry may follow a partial success elsewhere.
"""

import logging
from contextlib import contextmanager
from typing import NamedTuple

from kombu import Exchange, Queue
from nameko.amqp.publish import Publisher, get_connection
from nameko.events import EventHandler as NamekoEventHandler
from nameko.messaging import QueueConsumer
from nameko.standalone.events import get_event_exchange

from shared import metrics
from shared.entrypoints import entrypoints_of
from shared.events import InvalidEvent, parse_event
from shared.queues import declare_queues, quorum_queue

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-conference-attempts"
ERROR_HEADER = "x-conference-error"
BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue",
                  "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue",
                  "x-last-death-reason", "x-delivery-count")
DEFAULT_EXCHANGE = Exchange("")


class HandlerQueues(NamedTuple):
    main: Queue
    retry: Queue
    dead: Queue


def handler_queues(source: str, event_type: str, service: str, method: str) -> HandlerQueues:
    """The handler's queue, its retry queue, and its dead-letter queue."""
    name = f"evt-{source}-{event_type}--{service}.{method}"
    main = quorum_queue(name, exchange=get_event_exchange(source, {}), routing_key=event_type)
    retry = quorum_queue(f"{name}.retry", queue_arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": name,
        # what expires is kept until the handler's queue has it, not dropped if that queue
        # is missing a moment (being migrated) or a node fails on the way
        "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
    dead = quorum_queue(f"{name}.dead")
    return HandlerQueues(main, retry, dead)


RECONNECT_EVERY = 1.0  # seconds between tries while the broker is away


class QuicklyReconnectingConsumer(QueueConsumer):
    """nameko's queue consumer, trying the broker again every second while it is away.
    kombu's default waits 2, 4, 6, 8… s between tries, so a broker back after a 12 s
    restart was heard up to 8 s late (seen in the fault suite)."""

    @contextmanager
    def establish_connection(self):
        with self.create_connection() as connection:
            connection.ensure_connection(
                self.on_connection_error, self.connect_max_retries,
                interval_start=RECONNECT_EVERY, interval_step=0, interval_max=RECONNECT_EVERY)
            yield connection


class EventHandler(NamekoEventHandler):
    queue_consumer = QuicklyReconnectingConsumer()

    def __init__(self, source_service: str, event_type: str, **kwargs):
        super().__init__(source_service, event_type, reliable_delivery=True, **kwargs)

    def setup(self):
        self.queue, self.retry_queue, self.dead_queue = handler_queues(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        amqp_uri = self.container.config["AMQP_URI"]
        declare_queues(amqp_uri, [self.queue, self.retry_queue, self.dead_queue])
        self.retry_delays = self.container.config["EVENT_RETRY_DELAYS"]
        # mandatory: parking in a queue missing a moment (being migrated) fails, and the
        # message is requeued rather than dropped
        self.publisher = Publisher(amqp_uri, use_confirms=True, mandatory=True)
        self.queue_consumer.register_provider(self)

    def handle_message(self, body, message):
        try:
            event = parse_event(body)
        except InvalidEvent as exc:
            log.error("%s: dead-lettering a message that breaks its contract", self.queue.name)
            metrics.EVENTS.labels(self.event_type, "malformed").inc()
            self._settle(message, self.dead_queue, attempts=0, error=str(exc))
            return
        super().handle_message(event, message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            metrics.EVENTS.labels(self.event_type, "handled").inc()
            self._settle(message)
            return result, exc_info
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
        error = f"{exc_info[0].__name__}: {exc_info[1]}"[:1000]
        if attempts <= len(self.retry_delays):
            delay = self.retry_delays[attempts - 1]
            log.warning("%s failed (attempt %d); retrying in %s s",
                        self.queue.name, attempts, delay)
            metrics.EVENTS.labels(self.event_type, "retried").inc()
            self._settle(message, self.retry_queue, attempts, error, expiration=delay)
        else:
            log.error("%s failed %d times; dead-lettered", self.queue.name, attempts)
            metrics.EVENTS.labels(self.event_type, "dead_lettered").inc()
            self._settle(message, self.dead_queue, attempts, error)
        return result, exc_info

    def _settle(self, message, park_in: Queue | None = None, attempts: int = 0,
                error: str = "", expiration=None) -> None:
        """Ack the message, parked first in ``park_in`` (retry or dead letters) if given.
        Nothing here may raise: an error in a worker's result handling kills nameko's
        container. A message that cannot be parked is requeued; one whose connection is
        gone is handed out again by the broker once the consumer reconnects."""
        try:
            if park_in is not None:
                try:
                    self._resend(message, park_in, attempts, error, expiration)
                except Exception:  # noqa: BLE001
                    log.warning("%s: could not park a message (%s); requeueing it",
                                self.queue.name, park_in.name)
                    self.queue_consumer.requeue_message(message)
                    return
            self.queue_consumer.ack_message(message)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: could not settle a message (%s); the broker will hand it out "
                        "again", self.queue.name, type(exc).__name__)

    def _resend(self, message, queue: Queue, attempts: int, error: str, expiration=None):
        headers = {k: v for k, v in (message.headers or {}).items() if k not in BROKER_HEADERS}
        headers.update({ATTEMPTS_HEADER: attempts, ERROR_HEADER: error})
        self.publisher.publish(
            message.body,
            exchange=DEFAULT_EXCHANGE,
            routing_key=queue.name,
            headers=headers,
            expiration=expiration,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            serializer=None,
        )


event_handler = EventHandler.decorator


def service_queues(service_cls) -> list[HandlerQueues]:
    """The queues of each of a service's event handlers."""
    return [
        handler_queues(handler.source_service, handler.event_type, service_cls.name, method_name)
        for method_name, handler in entrypoints_of(service_cls, EventHandler)
    ]


def dead_letters(amqp_uri: str, handlers: list[HandlerQueues], replay: bool = False) -> dict:
    """How many messages lie in each handler's dead-letter queue; with ``replay``, move
    them back to the handler's queue for a fresh round of tries."""
    counts = {}
    with get_connection(amqp_uri) as connection:
        channel = connection.channel()
        producer = connection.Producer(channel)
        for queues in handlers:
            dead = queues.dead.bind(channel)
            _, counts[dead.name], _ = dead.queue_declare(passive=True)
            while replay and (message := dead.get(no_ack=False)) is not None:
                producer.publish(
                    message.body, exchange="", routing_key=queues.main.name,
                    headers={**message.headers, ATTEMPTS_HEADER: 0}, delivery_mode=2,
                    content_type=message.content_type, content_encoding=message.content_encoding)
                message.ack()
        channel.close()
    return counts

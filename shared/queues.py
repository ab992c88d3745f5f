"""Quorum queues, and moving a queue that exists declared otherwise (an old classic one).

Every queue a service consumes is a quorum queue: durable and replicated over a cluster's
nodes, so its messages outlive the loss of one. RabbitMQ cannot change a queue's type in
place (declaring a classic queue again as quorum fails with PRECONDITION_FAILED), so
``declare_queues`` migrates such a queue under its own name, losing nothing:

1. the new declaration is made as ``<name>.migrating`` with the queue's binding, and the
   old queue unbound: from then on new messages land in the holding queue;
2. the old queue's messages are moved there, the old queue is deleted once empty and
   declared again, now as quorum;
3. the holding queue is unbound, its messages moved back, and it is deleted (nothing can
   reach it any more; quorum queues take no conditions on delete).

A queue that exists declared otherwise is taken for a classic one of the previous
version (RabbitMQ does not say which argument differs first); changing the arguments of a
quorum queue later takes a policy or a new name.

A message is published (confirmed) before it is acked, so a crash duplicates a message,
never loses one; an event published just as a binding moves over may arrive twice (the
new binding is made before the old one goes). One instance migrates a queue at a time
(the others wait on a lock, an exclusive queue the broker drops with its holder's
connection); every step can be run again, so whoever comes next finishes what a dead
instance left half done. A queue that instances of the previous version still consume is
not deleted: the start fails, saying so (they must stop first; their unacked messages
would be lost with the queue).
"""

import itertools
import logging
import time
from contextlib import contextmanager

from amqp.exceptions import ConnectionError as AMQPConnectionError
from amqp.exceptions import NotFound, PreconditionFailed, ResourceLocked
from kombu import Connection, Queue

log = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.5
RETRY_MAX_SECONDS = 5


class QueueInUse(RuntimeError):
    """An old queue to migrate still has consumers (the previous version is running)."""


def quorum_queue(name: str, queue_arguments: dict | None = None, **kwargs) -> Queue:
    """A durable queue replicated over the cluster's nodes."""
    return Queue(name, durable=True, auto_delete=False,
                 queue_arguments={"x-queue-type": "quorum", **(queue_arguments or {})}, **kwargs)


def declare_queues(amqp_uri: str, queues: list[Queue]) -> None:
    """Declare ``queues`` with their bindings, migrating any that exist declared otherwise.
    A broker that cannot be reached (down, or too busy to answer in time: a service
    starting beside a busy broker) is tried again and again, waiting longer each time
    up to ``RETRY_MAX_SECONDS``: every step can be run again."""
    for attempt in itertools.count(1):
        try:
            return _declare_queues(amqp_uri, queues)
        except (OSError, AMQPConnectionError) as exc:
            delay = min(attempt, RETRY_MAX_SECONDS)
            log.warning("declaring queues: the broker cannot be reached (%s: %s); again in "
                        "%d s", type(exc).__name__, exc, delay)
            time.sleep(delay)


def _declare_queues(amqp_uri: str, queues: list[Queue]) -> None:
    """A queue others dead-letter into comes last: while it is briefly missing (deleted and
    declared again), theirs, already migrated, keep what expires (at-least-once)."""
    targets = {queue.queue_arguments.get("x-dead-letter-routing-key")
               for queue in queues if queue.queue_arguments}
    with Connection(amqp_uri) as connection:  # not pooled: the lock lives as long as it does
        for queue in sorted(queues, key=lambda queue: queue.name in targets):
            if not _declared(connection, queue) or _exists(connection, _holding(queue).name):
                with _migration_lock(connection, queue.name):
                    _migrate(connection, queue)


def _migrate(connection, queue: Queue) -> None:
    holding = _holding(queue)
    if not _declared(connection, queue):
        log.warning("%s is a classic queue: migrating it to a quorum queue", queue.name)
        _declared(connection, holding)
        if queue.exchange.name:
            with _channel(connection) as channel:
                channel.queue_unbind(queue.name, queue.exchange.name, queue.routing_key)
        _move_and_delete(connection, queue.name, into=holding.name,
                         if_unused=True, if_empty=True)
        _declared(connection, queue)
    if _exists(connection, holding.name):
        if queue.exchange.name:
            with _channel(connection) as channel:
                channel.queue_unbind(holding.name, queue.exchange.name, queue.routing_key)
        moved = _move_and_delete(connection, holding.name, into=queue.name)
        log.warning("%s migrated, with %d message(s)", queue.name, moved)


def _move_and_delete(connection, old: str, into: str, **conditions) -> int:
    """Move every message of queue ``old`` into queue ``into``, then delete ``old`` (on the
    broker's ``conditions``, if any: no consumer, no message)."""
    moved = 0
    while True:
        try:
            with _channel(connection) as channel:
                while (message := channel.basic_get(old)) is not None:
                    channel.basic_publish_confirm(message, exchange="", routing_key=into,
                                                  mandatory=True)
                    channel.basic_ack(message.delivery_tag)
                    moved += 1
                _, _, consumers = channel.queue_declare(old, passive=True)
                if consumers:
                    raise QueueInUse(f"{old} cannot be migrated while {consumers} consumer(s) "
                                     "of the previous version read it: stop them first")
                channel.queue_delete(old, **conditions)
                return moved
        except PreconditionFailed:
            continue  # a message or a consumer came meanwhile: look again


def _holding(queue: Queue) -> Queue:
    """Where a queue's messages wait while it is declared anew: declared as it will be."""
    return Queue(f"{queue.name}.migrating", exchange=queue.exchange,
                 routing_key=queue.routing_key, durable=True, auto_delete=False,
                 queue_arguments=queue.queue_arguments)


def _declared(connection, queue: Queue) -> bool:
    """Declare the queue (and its binding); False if it exists declared otherwise."""
    try:
        with _channel(connection) as channel:
            queue.bind(channel).declare()
    except PreconditionFailed:
        return False
    return True


def _exists(connection, name: str) -> bool:
    try:
        with _channel(connection) as channel:
            channel.queue_declare(name, passive=True)
    except NotFound:
        return False
    return True


@contextmanager
def _migration_lock(connection, name: str):
    lock = f"{name}.migration-lock"
    while True:
        try:
            with _channel(connection) as channel:
                channel.queue_declare(lock, exclusive=True)
            break
        except ResourceLocked:
            time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        with _channel(connection) as channel:
            channel.queue_delete(lock)


@contextmanager
def _channel(connection):
    """A channel of its own: the broker closes one on any error it answers."""
    channel = connection.channel()
    try:
        yield channel
    finally:
        channel.close()

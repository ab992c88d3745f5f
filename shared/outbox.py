"""The outbox relay: publishes committed events from the outbox table to RabbitMQ.

A service never publishes directly. It writes events to the outbox in the
transaction that makes the change (``UnitOfWork.publish``); this relay then
publishes them with publisher confirms and marks them published. If the
process dies between the two, the events are published again on restart:
delivery is at least once, and consumers are idempotent.
"""

import logging
import threading
import time

from kombu import Connection, Producer
from nameko.constants import PERSISTENT
from nameko.standalone.events import get_event_exchange
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from shared.db import OutboxEvent, utcnow

log = logging.getLogger(__name__)

BACKLOG_PAUSE = 0.02  # seconds between full batches


class ConfirmingPublisher:
    """One long-lived connection publishing persistent, mandatory messages, each
    confirmed by the broker. ``publish`` answers whether any queue took the message:
    RabbitMQ returns an unroutable mandatory message before confirming it."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.connection = None
        self.producer = None
        self.returned: set[str] = set()

    def _on_return(self, exc, exchange, routing_key, message):
        self.returned.add(message.properties.get("message_id"))

    def _connect(self) -> Producer:
        if self.producer is None:
            self.connection = Connection(self.amqp_uri,
                                         transport_options={"confirm_publish": True})
            channel = self.connection.channel()
            channel.events["basic_return"].add(self._on_return)
            self.producer = Producer(channel)
        return self.producer

    def publish(self, body: dict, exchange, routing_key: str, message_id: str) -> bool:
        try:
            self._connect().publish(
                body, exchange=exchange, declare=[exchange], routing_key=routing_key,
                message_id=message_id, mandatory=True, delivery_mode=PERSISTENT,
                serializer="json")
        except Exception:
            self.close()
            raise
        if message_id in self.returned:
            self.returned.discard(message_id)
            return False
        return True

    def close(self) -> None:
        if self.connection is not None:
            self.connection.release()
        self.connection = self.producer = None


class OutboxRelay:
    def __init__(
        self,
        sessions: sessionmaker,
        amqp_uri: str,
        batch_size: int = 200,
        idle_interval: float = 1.0,
        max_backoff: float = 15.0,
    ):
        self.sessions = sessions
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.max_backoff = max_backoff
        self.publisher = ConfirmingPublisher(amqp_uri)
        self._wakeup = threading.Event()
        self._running = False

    def wake(self) -> None:
        """Publish now: a transaction with events has just committed."""
        self._wakeup.set()

    def stop(self) -> None:
        self._running = False
        self._wakeup.set()
        self.publisher.close()

    def run(self) -> None:
        self._running = True
        backoff = self.idle_interval
        while self._running:
            try:
                published = self.relay_batch()
                backoff = self.idle_interval
            except Exception:
                log.exception("outbox relay failed; retrying in %.1f s", backoff)
                published = 0
                self._wakeup.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
            if published < self.batch_size:
                self._wakeup.wait(self.idle_interval)
                self._wakeup.clear()
            else:
                # A backlog: let requests have the database (SQLite has one connection
                # per process) between batches.
                time.sleep(BACKLOG_PAUSE)

    def relay_batch(self) -> int:
        """Publish up to one batch of pending events, oldest first; returns how many."""
        with self.sessions() as session:
            pending = session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            try:
                for row in pending:
                    self._publish(row)
            finally:
                session.commit()
            return len(pending)

    def _publish(self, row: OutboxEvent) -> None:
        row.attempts += 1
        exchange = get_event_exchange(row.source, {})
        try:
            row.routed = self.publisher.publish(row.envelope, exchange, row.event_type,
                                                row.event_id)
        except Exception as exc:
            row.last_error = repr(exc)[:1000]
            raise
        if not row.routed:
            log.info("no queue is bound for %s; nobody listens to it", row.event_type)
        row.published_at = utcnow()

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
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from shared.db import OutboxEvent, utcnow

log = logging.getLogger(__name__)

# Seconds between full batches with SQLite, whose one connection a process's requests
# need too; PostgreSQL has a pool, and the relay goes on at once.
BACKLOG_PAUSE = {"sqlite": 0.02}


class ConfirmingPublisher:
    """One long-lived connection publishing persistent, mandatory messages with publisher
    confirms. A batch is sent at once and then confirmed as a whole: one round trip to the
    broker for many events, not one each. RabbitMQ returns an unroutable mandatory
    message before it confirms it, so once everything is confirmed the returned ones are
    known."""

    def __init__(self, amqp_uri: str, confirm_seconds: float = 30.0):
        self.amqp_uri = amqp_uri
        self.confirm_seconds = confirm_seconds
        self.connection = None
        self.producer = None
        self.returned: set[str] = set()
        self.unconfirmed: set[int] = set()
        self.refused = False
        self.sent = 0

    def _on_return(self, exc, exchange, routing_key, message):
        self.returned.add(message.properties.get("message_id"))

    def _on_confirm(self, delivery_tag: int, multiple: bool, refused: bool = False) -> None:
        done = {t for t in self.unconfirmed if t <= delivery_tag} if multiple else {delivery_tag}
        self.unconfirmed -= done
        self.refused = self.refused or refused

    def connect(self) -> Producer:
        if self.producer is None:
            self.connection = Connection(self.amqp_uri)
            channel = self.connection.channel()
            channel.confirm_select()
            channel.events["basic_return"].add(self._on_return)
            channel.events["basic_ack"].add(self._on_confirm)
            channel.events["basic_nack"].add(
                lambda tag, multiple, requeue=False: self._on_confirm(tag, multiple, True))
            self.producer = Producer(channel)
            self.sent = 0
        return self.producer

    def publish_all(self, messages: list[tuple[dict, object, str, str]]) -> dict[str, bool]:
        """Publish (body, exchange, routing key, message id) messages and wait until the
        broker has confirmed them all; for each message id, whether a queue took it."""
        try:
            producer = self.connect()
            self.returned.clear()
            self.refused = False
            for exchange in {exchange.name: exchange for _, exchange, *_ in messages}.values():
                producer.maybe_declare(exchange)  # once a batch, not once a message
            for body, exchange, routing_key, message_id in messages:
                producer.publish(
                    body, exchange=exchange, routing_key=routing_key,
                    message_id=message_id, mandatory=True, delivery_mode=PERSISTENT,
                    serializer="json")
                self.sent += 1
                self.unconfirmed.add(self.sent)
            deadline = time.monotonic() + self.confirm_seconds
            while self.unconfirmed:
                self.connection.drain_events(timeout=max(deadline - time.monotonic(), 0.01))
            if self.refused:
                raise ConnectionError("the broker refused to take a message (basic.nack)")
        except Exception:
            self.close()
            raise
        return {message_id: message_id not in self.returned for *_, message_id in messages}

    def close(self) -> None:
        if self.connection is not None:
            self.connection.release()
        self.connection = self.producer = None
        self.unconfirmed.clear()


class OutboxRelay:
    def __init__(
        self,
        sessions: sessionmaker,
        amqp_uri: str,
        batch_size: int = 500,
        idle_interval: float = 1.0,
        max_backoff: float = 2.0,
    ):
        self.sessions = sessions
        self.batch_size = batch_size
        self.idle_interval = idle_interval
        self.max_backoff = max_backoff
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.backlog_pause = BACKLOG_PAUSE.get(sessions.kw["bind"].dialect.name, 0)
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
                # A backlog: let requests have the database between batches.
                time.sleep(self.backlog_pause)

    def relay_batch(self) -> int:
        """Publish up to one batch of pending events, oldest first; returns how many.
        The broker is reached before the rows are locked, so that while it is away
        nobody waits for the database (SQLite has one connection per process)."""
        with self.sessions() as session:
            if session.scalar(select(OutboxEvent.seq).where(
                    OutboxEvent.published_at.is_(None)).limit(1)) is None:
                return 0
        try:
            self.publisher.connect()
        except Exception:
            self.publisher.close()
            raise
        with self.sessions() as session:
            pending = session.execute(
                select(OutboxEvent.seq, OutboxEvent.event_id, OutboxEvent.event_type,
                       OutboxEvent.source, OutboxEvent.envelope)
                .where(OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            try:
                self._publish(session, pending)
            finally:
                session.commit()
            return len(pending)

    def _publish(self, session, rows: list) -> None:
        """Publish the rows and mark them, a statement for all (not one per row): the
        marking was most of the relay's time."""
        if not rows:
            return

        def mark(rows, **values):
            if rows:
                session.execute(update(OutboxEvent)
                                .where(OutboxEvent.seq.in_([row.seq for row in rows]))
                                .values(attempts=OutboxEvent.attempts + 1, **values))

        try:
            exchanges = {source: get_event_exchange(source, {})
                         for source in {row.source for row in rows}}
            routed = self.publisher.publish_all([
                (row.envelope, exchanges[row.source], row.event_type, row.event_id)
                for row in rows])
        except Exception as exc:
            mark(rows, last_error=repr(exc)[:1000])
            raise
        now = utcnow()
        unrouted = [row for row in rows if not routed[row.event_id]]
        mark([row for row in rows if routed[row.event_id]], routed=True, published_at=now)
        mark(unrouted, routed=False, published_at=now)
        for row in unrouted:
            log.info("no queue is bound for %s; nobody listens to it", row.event_type)

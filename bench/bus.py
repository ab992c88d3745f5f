"""The bus at full speed: events per second from outbox rows to handled by a consumer,
beside raw kombu publishing and consuming on the same machine in the same run.

    .venv/bin/python bench/bus.py [--events 20000]

Runs on a throwaway RabbitMQ vhost and two throwaway PostgreSQL databases (a producer's
and a consumer's, as two services have). Measures:

- raw kombu: persistent messages published to a durable queue (no confirms), then
  consumed and acked, as fast as one connection goes;
- the outbox path, each half timed apart (one process, so that neither takes the
  other's CPU): rows committed to the producer's outbox (not timed) published by the
  producer service's relay (batches, publisher confirms) into the consumer's queue;
  then the consumer service's ``event_handler`` (an idempotent consumer:
  ``first_delivery`` and a commit per event) handling every one.

The target (brief and issue 13): the outbox path at least half of raw kombu's publish
rate.
"""

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from kombu import Connection, Exchange, Producer, Queue  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import MetaData, create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import service_config  # noqa: E402
from shared.consumer import event_handler  # noqa: E402
from shared.db import Database, OutboxEvent, ProcessedEvent, UnitOfWork, make_engine  # noqa: E402,E501

PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT_API = os.environ.get("BENCH_RABBIT_API", "http://guest:guest@127.0.0.1:15672/api")
HANDLED = {"count": 0, "last": 0.0}


class BusProducer:
    """A service whose only work is its outbox relay."""

    name = "bus_producer"
    db = Database(MetaData())


class BusConsumer:
    """A service that handles each event once, as every consumer here does."""

    name = "bus_consumer"
    db = Database(MetaData())

    @event_handler("badges", "badge_generated")
    def on_event(self, event):
        if self.db.first_delivery(event):
            self.db.commit()
        HANDLED["count"] += 1
        HANDLED["last"] = time.monotonic()


def _unpublished(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.published_at.is_(None)))


def raw_kombu(amqp_uri: str, count: int) -> tuple[float, float]:
    """Messages per second: persistent publishes (no confirms), then consumes with acks."""
    queue = Queue(f"bench-raw-{uuid.uuid4().hex[:8]}", Exchange(""), durable=True,
                  auto_delete=False)
    body = {"id": str(uuid.uuid4()), "type": "badge_generated", "version": 1,
            "data": {"registration_id": str(uuid.uuid4()), "badge_version": 1}}
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        queue(channel).declare()
        producer = Producer(channel)
        started = time.monotonic()
        for _ in range(count):
            producer.publish(body, routing_key=queue.name, delivery_mode=2, serializer="json")
        publish_rate = count / (time.monotonic() - started)
        received = 0

        def on_message(_body, message):
            nonlocal received
            received += 1
            message.ack()

        started = time.monotonic()
        with connection.Consumer(queue, callbacks=[on_message], prefetch_count=200):
            while received < count:
                connection.drain_events(timeout=10)
        consume_rate = count / (time.monotonic() - started)
        queue(channel).delete()
    return publish_rate, consume_rate


def outbox_path(amqp_uri: str, producer_url: str, consumer_url: str, count: int
                ) -> tuple[float, float]:
    """Events per second through each half of the path, measured apart so that neither
    takes the other's CPU: the producer's relay publishing committed outbox rows (with
    confirms) into the consumer's queue, then the consumer service handling them all."""
    def container(cls, database_url):
        config = service_config(cls.name, env={}, port=65000)  # no HTTP: never listened on
        config.update(AMQP_URI=amqp_uri, DATABASE_URL=database_url)
        config.pop("LOGGING", None)
        return ServiceContainer(cls, config)

    consumer = container(BusConsumer, consumer_url)
    consumer.start()  # its queue exists before anything is published
    consumer.stop()
    engine = make_engine(producer_url)
    producer = container(BusProducer, producer_url)
    producer.start()
    producer.stop()  # migrated; now fill its outbox with nobody relaying
    with Session(engine) as session:
        unit = UnitOfWork(session, "bench", lambda: None)
        for n in range(count):
            unit.publish("badge_generated", {"registration_id": str(uuid.uuid4()),
                                             "badge_version": 1})
            if n % 1000 == 999:
                unit.commit()
        unit.commit()
    producer = container(BusProducer, producer_url)
    started = time.monotonic()
    producer.start()
    while _unpublished(engine):
        eventlet.sleep(0.02)
    relay_rate = count / (time.monotonic() - started)
    producer.stop()
    consumer = container(BusConsumer, consumer_url)
    started = time.monotonic()
    consumer.start()
    while HANDLED["count"] < count:
        eventlet.sleep(0.02)
        if time.monotonic() - started > 600:
            raise SystemExit(f"only {HANDLED['count']} of {count} handled in 10 minutes")
    consume_rate = count / (HANDLED["last"] - started)
    consumer.stop()
    with Session(make_engine(consumer_url)) as session:
        handled_once = session.scalar(select(func.count()).select_from(ProcessedEvent))
    assert handled_once == count, f"{handled_once} events recorded for {count} published"
    engine.dispose()
    return relay_rate, consume_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    name = f"bench_bus_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    databases = [f"{name}_producer", f"{name}_consumer"]
    with admin.connect() as connection:
        for database in databases:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    requests.put(f"{RABBIT_API}/vhosts/{name}").raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    amqp_uri = f"pyamqp://guest:guest@127.0.0.1:5672/{name}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        publish, consume = raw_kombu(amqp_uri, args.events)
        relay, handled = outbox_path(amqp_uri, f"{base}/{databases[0]}",
                                     f"{base}/{databases[1]}", args.events)
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}")
        with admin.connect() as connection:
            for database in databases:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print(f"events: {args.events}")
    print(f"raw kombu publish (persistent, no confirms): {publish:8.0f} /s")
    print(f"raw kombu consume + ack:                     {consume:8.0f} /s")
    print(f"outbox -> RabbitMQ (relay, confirms):        {relay:8.0f} /s")
    print(f"RabbitMQ -> idempotent consumer (commit each):{handled:7.0f} /s")
    path = min(relay, handled)
    print(f"the path (its slower half): {path:.0f} /s; ratio to raw kombu publish: "
          f"{path / publish:.2f} (target at least 0.50)")

if __name__ == "__main__":
    main()

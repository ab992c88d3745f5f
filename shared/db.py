"""Database access for every service: engine, schema, and a unit of work per worker.

Each service owns its database (``DATABASE_URL``: SQLite locally, PostgreSQL in
production). Besides its own tables, every service database holds two tables
for messaging: ``outbox`` (events waiting to be published, written in the same
transaction as the change they describe) and ``processed_events`` (which events
each consumer has already handled).
"""

import logging
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

from shared.events import Contract, Event, new_event

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class MessagingBase(DeclarativeBase):
    """Tables every service database has."""


class OutboxEvent(MessagingBase):
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    routed: Mapped[bool | None] = mapped_column(
        Boolean, doc="False when no queue was bound for it (no service listens to it)"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedEvent(MessagingBase):
    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchemaMigration(MessagingBase):
    __tablename__ = "schema_migrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def make_engine(url: str, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite has one writer anyway, and a green
        # thread waiting on SQLite's file lock would block the whole eventlet hub.
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True,
        hide_parameters=True,  # SQL errors must not carry delegates' data into logs
    )


Migration = Callable[[Session], None]
Seed = Callable[[Session, dict], None]


def migrate(engine: Engine, metadata: MetaData, migrations: Sequence[Migration] = (),
            seed: Seed | None = None, config: dict | None = None) -> None:
    """Bring the schema up to date; safe when several instances start at once.

    A new database gets the current models and is stamped with every
    migration. An existing one runs the migrations it has not seen (each a
    function of a session, numbered by its position), then gains any new table.
    ``seed(session, config)`` then adds whatever data the service cannot start
    without, in the same transaction.
    """
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            lock_key = zlib.crc32(f"migrate:{engine.url.database}".encode())
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        bind = session.connection()
        fresh = not engine.dialect.has_table(bind, SchemaMigration.__tablename__)
        MessagingBase.metadata.create_all(bind)
        applied = set(session.scalars(select(SchemaMigration.version)))
        for version, step in enumerate(migrations, start=1):
            if version not in applied:
                if not fresh:
                    log.info("applying migration %d", version)
                    step(session)
                session.add(SchemaMigration(version=version))
        metadata.create_all(bind)
        if seed is not None:
            seed(session, config or {})


class UnitOfWork:
    """One worker's database session, with the outbox and the inbox at hand.

    ``publish`` writes an event to the outbox in the current transaction;
    ``first_delivery`` records that this consumer handles an event, so the same
    event delivered again has no second effect.
    """

    def __init__(self, session: Session, consumer: str, on_publish_committed: Callable):
        self.session = session
        self.consumer = consumer
        self._on_publish_committed = on_publish_committed
        self._published = False

    def publish(self, event_type: str, data: Contract | dict) -> Event:
        event = new_event(event_type, data)
        self.session.add(
            OutboxEvent(
                event_id=str(event.id),
                event_type=event.type,
                source=event.source,
                envelope=event.envelope(),
            )
        )
        self._published = True
        return event

    def first_delivery(self, event: Event) -> bool:
        """True the first time this consumer sees ``event``; records it in this transaction."""
        key = {"event_id": str(event.id), "consumer": self.consumer}
        if self.session.get(ProcessedEvent, key) is not None:
            return False
        self.session.add(ProcessedEvent(**key))
        return True

    def ping(self) -> None:
        self.session.execute(text("SELECT 1"))

    def commit(self) -> None:
        self.session.commit()
        if self._published:
            self._published = False
            self._on_publish_committed()

    def commit_unless_duplicate(self) -> bool:
        """Commit; or, when a unique constraint refuses it (another worker did the same
        thing first), roll back and answer False."""
        try:
            self.commit()
        except IntegrityError as exc:
            self.rollback()
            if not is_unique_violation(exc):
                raise
            return False
        return True

    def rollback(self) -> None:
        self._published = False
        self.session.rollback()

    def close(self) -> None:
        self.session.close()


class Database(DependencyProvider):
    """Session-per-worker dependency; migrates on start and runs the outbox relay."""

    def __init__(self, metadata: MetaData, migrations: Sequence[Migration] = (),
                 seed: Seed | None = None):
        self.metadata = metadata
        self.migrations = migrations
        self.seed = seed
        self.units: dict = {}

    def setup(self):
        from shared.outbox import OutboxRelay

        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"])
        migrate(self.engine, self.metadata, self.migrations, self.seed, config)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(self.sessions, config["AMQP_URI"])

    def start(self):
        self.container.spawn_managed_thread(self.relay.run)

    def stop(self):
        self.relay.stop()
        self.engine.dispose()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        consumer = f"{self.container.service_name}.{worker_ctx.entrypoint.method_name}"
        unit = UnitOfWork(self.sessions(), consumer, self.relay.wake)
        self.units[worker_ctx] = unit
        return unit

    def worker_teardown(self, worker_ctx):
        unit = self.units.pop(worker_ctx, None)
        if unit is not None:
            unit.close()


def is_unique_violation(exc: IntegrityError) -> bool:
    message = str(exc.orig).lower()
    return "unique" in message or "duplicate key" in message


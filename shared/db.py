"""Database access for every service: engine, schema, and a unit of work per worker.

Each service owns its database (``DATABASE_URL``: SQLite locally, PostgreSQL in
production). Besides its own tables, every service database holds two tables
for messaging: ``outbox`` (events waiting to be published, written in the same
transaction as the change they describe) and ``processed_events`` (which events
each consumer has already handled).

Each service's schema changes are an Alembic migration history in
``services/<service>/migrations/``, its database brought to the head on start
(``migrate``); ``new_revision`` writes the next revision from changed models.
"""

import logging
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from nameko.extensions import DependencyProvider
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

from shared.events import Event, new_event
from shared.events.contracts import Contract

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
        url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True,
        hide_parameters=True,  # SQL errors must not carry delegates' data into logs
    )


Seed = Callable[[Session, dict], None]
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"
BASELINE = "0001"  # every service's first revision: the schema the old runner left
OLD_VERSION_TABLE = "schema_migrations"  # the old runner's bookkeeping, left alone


def migrations(service: str) -> Path:
    """The folder of ``service``'s Alembic migration history."""
    return SERVICES_DIR / service / "migrations"


def alembic_config(script_location: Path, connection: Connection, **attributes) -> Config:
    """Alembic's configuration for one migration history, run on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes.update(connection=connection, **attributes)
    return config


def run_alembic_env() -> None:
    """What every service's ``migrations/env.py`` does: run Alembic's command on the
    connection in its configuration (and compare with ``metadata`` there, if any)."""
    from alembic import context

    context.configure(
        connection=context.config.attributes["connection"],
        target_metadata=context.config.attributes.get("metadata"),
        render_as_batch=True,  # SQLite alters a table by copying it
        render_item=_render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """What Alembic compares with the models: everything but the old runner's table."""
    return not (type_ == "table" and name == OLD_VERSION_TABLE)


def _render_item(type_: str, obj, autogen_context) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from shared.db import UTCDateTime")
        return "UTCDateTime()"
    return False


def migrate(engine: Engine, script_location: Path, seed: Seed | None = None,
            config: dict | None = None) -> None:
    """Bring the database to the head of its migration history, in one transaction; safe
    when several instances start at once.

    A database the old runner made (``schema_migrations``, no ``alembic_version``) holds
    the baseline: it is stamped with it first. ``seed(session, config)`` then adds whatever
    data the service cannot start without, in the same transaction.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # batch operations copy and drop tables: no cascades, no refusals
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                _one_migrator_at_a_time(connection)
                alembic = alembic_config(script_location, connection)
                tables = inspect(connection).get_table_names()
                if OLD_VERSION_TABLE in tables and "alembic_version" not in tables:
                    command.stamp(alembic, BASELINE)
                command.upgrade(alembic, "head")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migrations left rows breaking a foreign key")
                if seed is not None:
                    with Session(connection) as session:
                        seed(session, config or {})
                        session.flush()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _one_migrator_at_a_time(connection: Connection) -> None:
    """Lock the schema until the transaction ends: instances starting together migrate one
    after another, and the later ones find nothing left to do."""
    if connection.dialect.name == "postgresql":
        key = zlib.crc32(f"migrate:{connection.engine.url.database}".encode())
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite would begin at a write


def new_revision(service: str, metadata: MetaData, message: str) -> None:
    """Write the next revision of ``service``'s history: what its models (``metadata``)
    declare beyond its head, autogenerated on a scratch SQLite database. A draft: tidy it
    (ruff format, ruff check --fix) and add what autogenerate cannot know (data, renames)::

        .venv/bin/python -c "from services.payments.models import Base
        from shared.db import new_revision; new_revision('payments', Base.metadata, 'why')"
    """
    with create_engine("sqlite://").begin() as connection:
        config = alembic_config(migrations(service), connection,
                                metadata=[MessagingBase.metadata, metadata])
        command.upgrade(config, "head")
        head = ScriptDirectory.from_config(config).get_current_head()
        command.revision(config, message, autogenerate=True, rev_id=f"{int(head) + 1:04d}")


# An event recorded as handled unless it is already: the same statement on SQLite and
# PostgreSQL. Text, because SQLAlchemy compiles its dialects' INSERT ... ON CONFLICT
# afresh on every execution (they are not cacheable): a tenth of a consumer's time.
RECORD_DELIVERY = text(
    "INSERT INTO processed_events (event_id, consumer, processed_at) "
    "VALUES (:event_id, :consumer, :processed_at) ON CONFLICT DO NOTHING"
).bindparams(bindparam("processed_at", type_=UTCDateTime()))


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
        """True the first time this consumer sees ``event``; records it in this transaction.
        One statement: while another worker holds the same event uncommitted, PostgreSQL
        waits for it, then answers False if it committed."""
        return self.session.connection().execute(RECORD_DELIVERY, {
            "event_id": str(event.id), "consumer": self.consumer, "processed_at": utcnow()
        }).rowcount == 1

    def handled(self, event: Event) -> bool:
        """Whether this consumer has handled ``event`` already (recording nothing)."""
        key = {"event_id": str(event.id), "consumer": self.consumer}
        return self.session.get(ProcessedEvent, key) is not None

    def outbox_backlog(self) -> int:
        """How many committed events the relay has not published yet."""
        try:
            return self.session.scalar(select(func.count()).select_from(OutboxEvent).where(
                OutboxEvent.published_at.is_(None)))
        finally:
            self.session.rollback()

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
        """End the session. Its connection may be dead (the database restarted under an
        open transaction): closing then fails, and the connection is thrown away instead,
        so that a worker's teardown never kills the service."""
        try:
            self.session.close()
        except DBAPIError as exc:
            log.warning("a session's connection was lost (%s); discarding it",
                        type(exc.orig).__name__)
            self.session.invalidate()

    def discard(self) -> None:
        """Roll back what is pending, over a connection that may be dead (then thrown
        away): the session is ready for a new transaction either way."""
        self._published = False
        try:
            self.session.rollback()
        except DBAPIError:
            self.session.invalidate()


class Database(DependencyProvider):
    """Session-per-worker dependency; migrates on start and runs the outbox relay."""

    def __init__(self, metadata: MetaData, seed: Seed | None = None):
        self.metadata = metadata
        self.seed = seed
        self.units: dict = {}

    def setup(self):
        from shared.outbox import OutboxRelay

        config = self.container.config
        # A connection for each worker nameko runs at once, the relay's and a spare, kept:
        # a smaller pool opened and closed connections all the time under a backlog
        # (a tenth of a consumer's time).
        self.engine = make_engine(config["DATABASE_URL"],
                                  pool_size=int(config.get("max_workers", 10)) + 2)
        history = migrations(self.container.service_name)
        if history.is_dir():
            migrate(self.engine, history, self.seed, config)
        else:  # a service with no migration history (a test's): its tables as declared
            MessagingBase.metadata.create_all(self.engine)
            self.metadata.create_all(self.engine)
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


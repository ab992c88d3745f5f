"""Helpers for the tests of export and erasure: a service's whole database read as text,
its export over RPC, and a ``delegate_erased`` as registration publishes it."""

import json
from datetime import UTC, datetime

from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import MetaData, create_engine, select, text

from shared.events import new_event
from tests.conftest import wait_until


def as_text(value) -> str:
    """A column's value as text, JSON read back so that escaped letters (\\u0142) count."""
    if isinstance(value, bytes):
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)


def dump(database_url: str) -> dict[str, list[tuple]]:
    """Every row of every table, as text."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            return {name: sorted(tuple(as_text(v) for v in row)
                                 for row in connection.execute(select(table)))
                    for name, table in metadata.tables.items()}
    finally:
        engine.dispose()


def rows_naming(database_url: str, needles, but_not=()) -> list[tuple[str, str]]:
    """(table, needle) for every row that holds one of ``needles`` (case folded), in every
    table but ``but_not``."""
    return [(table, needle) for table, rows in dump(database_url).items()
            if table not in but_not for row in rows for needle in needles
            if needle.casefold() in " ".join(row).casefold()]


def outbox_drained(database_url: str) -> None:
    """Wait until the service's relay has published every event of its outbox."""
    engine = create_engine(database_url)

    def drained():
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar() == 0
    try:
        wait_until(drained, message="the outbox published")
    finally:
        engine.dispose()


def export_of(amqp_uri: str, service: str, registration_id: str, order_id: str) -> dict:
    with ServiceRpcProxy(service, {"AMQP_URI": amqp_uri}) as proxy:
        return proxy.export_delegate(registration_id, order_id)


def erased_event(registration_id: str, order_id: str, whole_order: bool):
    return new_event("delegate_erased", {
        "registration_id": registration_id, "order_id": order_id, "whole_order": whole_order,
        "erased_at": datetime.now(UTC)})


def deliver(container, publish, event, handler: str = "on_delegate_erased") -> None:
    """Publish ``event`` and wait until the service's handler has taken it."""
    with entrypoint_waiter(container, handler, timeout=15):
        publish(event)


def mentions(export: dict, needles) -> list[str]:
    text = json.dumps(export, ensure_ascii=False).casefold()
    return [needle for needle in needles if needle.casefold() in text]

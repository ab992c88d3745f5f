"""Schema migrations: a new database is built and stamped, an old one migrated once,
and instances starting together on PostgreSQL do not trip over each other."""

import eventlet
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text
from sqlalchemy.orm import Session

from shared.db import SchemaMigration, make_engine, migrate


def things() -> MetaData:
    metadata = MetaData()
    Table("things", metadata, Column("id", Integer, primary_key=True))
    return metadata


def add_name_column(session):
    session.execute(text("ALTER TABLE things ADD COLUMN name VARCHAR(20)"))


def test_a_new_database_gets_the_models_and_is_stamped_with_every_migration(sqlite_url):
    engine = make_engine(sqlite_url)
    ran = []
    migrate(engine, things(), [lambda session: ran.append(1)])
    assert ran == []
    assert {"things", "outbox", "processed_events"} <= set(inspect(engine).get_table_names())
    with Session(engine) as session:
        assert session.scalars(select(SchemaMigration.version)).all() == [1]
    engine.dispose()


def test_an_existing_database_runs_each_new_migration_once(sqlite_url):
    engine = make_engine(sqlite_url)
    migrate(engine, things())
    migrate(engine, things(), [add_name_column])
    migrate(engine, things(), [add_name_column])
    columns = {c["name"] for c in inspect(engine).get_columns("things")}
    assert columns == {"id", "name"}
    engine.dispose()


@pytest.mark.postgres
def test_instances_starting_together_migrate_once(postgres_url):
    engines = [make_engine(postgres_url) for _ in range(4)]
    migrate(engines[0], things())
    pool = eventlet.GreenPool()
    for engine in engines:
        pool.spawn(migrate, engine, things(), [add_name_column])
    pool.waitall()
    with Session(engines[0]) as session:
        assert session.scalars(select(SchemaMigration.version)).all() == [1]
    assert {c["name"] for c in inspect(engines[0]).get_columns("things")} == {"id", "name"}
    for engine in engines:
        engine.dispose()

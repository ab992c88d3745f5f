"""Schema migrations: a new database is built to the head, one the old runner made is
stamped with the baseline and upgraded, and instances starting together migrate once."""

import subprocess
import sys

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import sessionmaker

from shared.db import (
    BASELINE,
    UnitOfWork,
    alembic_config,
    make_engine,
    migrate,
    migrations,
)
from tests.conftest import ROOT

REGISTRATION = migrations("registration")
HEAD = ScriptDirectory(str(REGISTRATION)).get_current_head()
NOW = "2027-03-01 09:30:00.000000"  # as SQLAlchemy writes it on SQLite


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def version(engine) -> list[str]:
    with engine.connect() as connection:
        return connection.scalars(text("SELECT version_num FROM alembic_version")).all()


def test_a_new_database_is_built_to_the_head_and_seeded(database_url):
    engine = make_engine(database_url)
    seeded = []

    def seed(session, config):
        session.execute(text("INSERT INTO limits (key, capacity, held) VALUES ('conference', "
                             ":capacity, 0)"), {"capacity": config["capacity"]})
        seeded.append(True)

    migrate(engine, REGISTRATION, seed, {"capacity": 800})
    migrate(engine, REGISTRATION)
    assert version(engine) == [HEAD]
    assert {"orders", "registrations", "outbox", "processed_events"} <= set(
        inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT key, capacity FROM limits")).all() == [
            ("conference", 800)]
    assert seeded == [True]
    engine.dispose()


def make_old_database(engine) -> None:
    """What the old runner left: the baseline's tables, ``schema_migrations`` and no
    ``alembic_version``; one registration with an add-on and billing details."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(REGISTRATION, connection), BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                                "applied_at TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO registrations (id, reference, status, ticket_type, member_price,"
            " price_lines, amount_due, vat_amount, vat_rate_percent, currency, amount_paid,"
            " amount_refunded, given_name, family_name, organisation, country, email,"
            " billing_address, billing_vat_number, purchase_order, search_text, created_at,"
            " updated_at, hold_expires_at) VALUES ('r-1', 'ECS27-ABC123', 'pending_payment',"
            " 'full', true, '[]', 99000, 20120, '25.5', 'EUR', 0, 0, 'Łukasz', 'Żółć',"
            " 'Copernicus Science Centre', 'PL', 'lukasz@example.org', 'Wybrzeże Kościuszkowskie"
            " 20, Warszawa', 'PL5251234567', 'PO-42', 'lukasz zolc', :now, :now, :now)"),
            {"now": NOW})
        connection.execute(text("INSERT INTO registration_add_ons (registration_id, add_on,"
                                " position) VALUES ('r-1', 'gala-dinner', 0)"))


def test_a_database_the_old_runner_made_is_stamped_and_upgraded(database_url):
    engine = make_engine(database_url)
    make_old_database(engine)
    migrate(engine, REGISTRATION)
    assert version(engine) == [HEAD]
    assert "schema_migrations" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        order_id, position = connection.execute(text(
            "SELECT order_id, position FROM registrations WHERE id = 'r-1'")).one()
        order = connection.execute(text("SELECT * FROM orders WHERE id = :id"),
                                   {"id": order_id}).mappings().one()
        add_ons = connection.scalars(text("SELECT add_on FROM registration_add_ons")).all()
    assert order_id != "r-1" and position == 0
    assert {key: order[key] for key in (
        "reference", "status", "buyer_name", "buyer_email", "billing_vat_number",
        "purchase_order", "amount_due", "payment_method")} == {
        "reference": "ECS27-ABC123", "status": "pending_payment", "buyer_name": "Łukasz Żółć",
        "buyer_email": "lukasz@example.org", "billing_vat_number": "PL5251234567",
        "purchase_order": "PO-42", "amount_due": 99000, "payment_method": "card"}
    assert add_ons == ["gala-dinner"], "copying the table for SQLite must not cascade"
    engine.dispose()


def test_old_payments_keep_their_registration_id_as_order_id(sqlite_url):
    engine = make_engine(sqlite_url)
    payments = migrations("payments")
    with engine.begin() as connection:
        command.upgrade(alembic_config(payments, connection), BASELINE)
        connection.execute(text(
            "INSERT INTO payments (registration_id, attempt, payment_intent_id, client_secret,"
            " amount, currency, status, request, created_at, amount_received, amount_refunded)"
            " VALUES ('r-1', 1, 'pi_1', 'pi_1_secret', 99000, 'EUR', 'succeeded', '{}', :now,"
            " 99000, 0)"), {"now": NOW})
    migrate(engine, payments)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT order_id, payment_intent_id, prepare_tries FROM payments")).all() == [
            ("r-1", "pi_1", 0)]
    engine.dispose()


MIGRATE = """
import sys
from shared.db import make_engine, migrate, migrations
engine = make_engine({url!r})
engine.connect().close()
print("ready", flush=True)
sys.stdin.read()
migrate(engine, migrations("registration"))
"""


def test_instances_starting_together_migrate_once(database_url):
    """Four processes migrate an empty database at the same moment: without the lock
    (PostgreSQL's advisory lock, SQLite's immediate transaction) each would create the
    same tables."""
    processes = [subprocess.Popen([sys.executable, "-c", MIGRATE.format(url=database_url)],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    for process in processes:
        assert process.stdout.readline() == "ready\n"
    for process in processes:
        process.stdin.close()  # go
    for process in processes:
        assert process.wait(60) == 0, process.stderr.read()
    engine = make_engine(database_url)
    assert version(engine) == [HEAD]
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_the_database_ended_mid_transaction_closes_without_raising(postgres_url):
    """A PostgreSQL restart ends a worker's connection under its open transaction; ending
    the worker's session must not raise (a worker's teardown that raises kills nameko's
    container, found by the fault suite)."""
    engine = make_engine(postgres_url)
    unit = UnitOfWork(sessionmaker(engine)(), "test.consumer", lambda: None)
    backend = unit.session.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    admin.dispose()

    unit.close()
    assert unit.session.execute(text("SELECT 1")).scalar() == 1  # a new connection
    unit.close()
    engine.dispose()

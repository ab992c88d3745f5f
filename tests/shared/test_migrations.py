"""Each service's migration history, run on an empty database, builds exactly the schema
its models declare, on SQLite and on PostgreSQL."""

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from shared.db import MessagingBase, include_name, make_engine, migrate, migrations

SERVICES = ["registration", "payments", "badges", "notifications"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


def declared(service: str) -> MetaData:
    """Every table the service's models declare, the messaging tables included."""
    metadata = MetaData()
    models = importlib.import_module(f"services.{service}.models")
    for table in [*MessagingBase.metadata.tables.values(), *models.Base.metadata.tables.values()]:
        table.to_metadata(metadata)
    return metadata


@pytest.mark.parametrize("service", SERVICES)
def test_the_head_is_what_the_models_declare(service, database_url):
    engine = make_engine(database_url)
    migrate(engine, migrations(service))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        assert compare_metadata(context, declared(service)) == []
    engine.dispose()

"""Alembic runs this for every command on this history: see shared.db.migrate."""

from shared.db import run_alembic_env

run_alembic_env()

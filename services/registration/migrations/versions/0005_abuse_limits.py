"""Abuse limits: who placed each order (a keyed hash of their address), and the bookings
placed recently, counted per address and per email.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=32), nullable=True))
        batch.create_index("ix_orders_client_key", ["client_key"])
    op.create_table(
        "booking_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_key", sa.String(length=32), nullable=False),
        sa.Column("email_key", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    for column in ("client_key", "email_key", "at"):
        op.create_index(f"ix_booking_attempts_{column}", "booking_attempts", [column])


def downgrade() -> None:
    op.drop_table("booking_attempts")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_client_key")
        batch.drop_column("client_key")

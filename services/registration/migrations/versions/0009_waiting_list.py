"""The waiting list of a sold-out ticket type or add-on: who waits, and the offers made.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN_ENTRY = sa.text("status IN ('waiting', 'offered')")


def upgrade() -> None:
    op.create_table(
        "waiting_list_entries",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("given_name", sa.String(length=60), nullable=False),
        sa.Column("family_name", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("offered_at", UTCDateTime(), nullable=True),
        sa.Column("offer_expires_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_waiting_list_entries_item_status", "waiting_list_entries",
                    ["item", "status"])
    op.create_index("ix_waiting_list_entries_offer_expires_at", "waiting_list_entries",
                    ["offer_expires_at"])
    op.create_index("uq_waiting_list_entries_open", "waiting_list_entries",
                    ["item", "email_key"], unique=True, postgresql_where=OPEN_ENTRY,
                    sqlite_where=OPEN_ENTRY)


def downgrade() -> None:
    op.drop_table("waiting_list_entries")

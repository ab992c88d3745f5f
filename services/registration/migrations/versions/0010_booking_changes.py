"""Changes to confirmed bookings: the items before and after, and the order that pays
the difference.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_changes",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("registration_id", sa.String(length=36), sa.ForeignKey("registrations.id"),
                  nullable=False),
        sa.Column("order_id", sa.String(length=36), sa.ForeignKey("orders.id"), nullable=True,
                  unique=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("by", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True, unique=True),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("difference", sa.Integer(), nullable=False),
        sa.Column("refund_due", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_booking_changes_registration_id", "booking_changes",
                    ["registration_id"])
    op.create_index("ix_booking_changes_status", "booking_changes", ["status"])


def downgrade() -> None:
    op.drop_table("booking_changes")

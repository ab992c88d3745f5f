"""Orders: what is known of each order (its buyer, to whom payment emails go), and
messages about an order, to its buyer, with no registration id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:12:04.702113
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=36), nullable=True))
        batch_op.alter_column("registration_id", existing_type=sa.String(length=36),
                              nullable=True)
        batch_op.create_index("ix_messages_order_id", ["order_id"])
    # Messages still waiting were stored from events of before orders, which the new
    # templates cannot read (no conference, no order): say so rather than retry forever.
    op.execute("UPDATE messages SET status = 'failed', last_error = 'stored before orders: "
               "not sent by this version' WHERE status = 'queued'")


def downgrade() -> None:
    """Refused by the database while a message to a buyer is kept."""
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_order_id")
        batch_op.alter_column("registration_id", existing_type=sa.String(length=36),
                              nullable=False)
        batch_op.drop_column("order_id")
    op.drop_table("orders")

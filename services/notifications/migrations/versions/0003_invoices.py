"""Invoices, reminders and resends: an order's latest invoice and the money received by
transfer; several messages of one kind from one event (an invoice order's reminders, told
apart by their occasion); and copies of messages an organiser resends.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:52:08.434109
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The baseline's unique (event_id, kind) has no name of ours: PostgreSQL named it, and on
# SQLite batch mode names it by this convention when it reflects the table.
OLD_UNIQUE = {"postgresql": "messages_event_id_kind_key"}
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def old_unique_name() -> str:
    return OLD_UNIQUE.get(op.get_bind().dialect.name, "uq_messages_event_id_kind")


def upgrade() -> None:
    with op.batch_alter_table("messages", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint(old_unique_name(), type_="unique")
        batch_op.add_column(sa.Column("occasion", sa.String(length=64), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("resend_of", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("resent_by", sa.String(length=20), nullable=True))
    with op.batch_alter_table("messages") as batch_op:
        batch_op.alter_column("occasion", existing_type=sa.String(length=64),
                              server_default=None)
        batch_op.create_index("ix_messages_resend_of", ["resend_of"])
        batch_op.create_unique_constraint("uq_messages_occasion",
                                          ["event_id", "kind", "occasion"])
        batch_op.create_unique_constraint("uq_messages_resend_key",
                                          ["resend_of", "idempotency_key"])
        batch_op.create_foreign_key("fk_messages_resend_of", "messages", ["resend_of"], ["id"])
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("invoice", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("invoice_as_of", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("received", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("orders") as batch_op:
        batch_op.alter_column("received", existing_type=sa.Integer(), server_default=None)


def downgrade() -> None:
    """Refused by the database while two messages share an event and a kind (reminders,
    copies): delete those first."""
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("received")
        batch_op.drop_column("invoice_as_of")
        batch_op.drop_column("invoice")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint("fk_messages_resend_of", type_="foreignkey")
        batch_op.drop_constraint("uq_messages_resend_key", type_="unique")
        batch_op.drop_constraint("uq_messages_occasion", type_="unique")
        batch_op.drop_index("ix_messages_resend_of")
        batch_op.drop_column("resent_by")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("resend_of")
        batch_op.drop_column("occasion")
        batch_op.create_unique_constraint(old_unique_name(), ["event_id", "kind"])

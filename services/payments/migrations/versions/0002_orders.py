"""Payments per order: keyed by the order, keeping the order as placed for the receipt,
and made before Stripe is asked for the intent (tried again until it answers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:01:55.435002
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A payment made before orders keeps its registration's id as its order id, and its
    # PaymentRequest as its order: the registration service gave that registration an
    # order with a new id, so such a row (old local data only) no longer finds its order.
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_registration_id")
        batch_op.alter_column("registration_id", new_column_name="order_id",
                              existing_type=sa.String(length=36), existing_nullable=False)
        batch_op.alter_column("request", new_column_name="order", existing_type=sa.JSON(),
                              existing_nullable=False)
        batch_op.alter_column("payment_intent_id", existing_type=sa.String(length=64),
                              nullable=True)
        batch_op.alter_column("client_secret", existing_type=sa.String(length=200),
                              nullable=True)
        batch_op.add_column(sa.Column("prepare_tries", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("next_try_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("payments") as batch_op:
        batch_op.alter_column("prepare_tries", existing_type=sa.Integer(), server_default=None)
        batch_op.create_index("ix_payments_order_id", ["order_id"])
        batch_op.create_index("ix_payments_next_try_at", ["next_try_at"])
    if op.get_bind().dialect.name == "postgresql":  # the name it gave the unique constraint
        op.execute("ALTER TABLE payments RENAME CONSTRAINT payments_registration_id_attempt_key"
                   " TO payments_order_id_attempt_key")


def downgrade() -> None:
    """Refused by the database while a payment has no intent yet."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE payments RENAME CONSTRAINT payments_order_id_attempt_key"
                   " TO payments_registration_id_attempt_key")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_next_try_at")
        batch_op.drop_index("ix_payments_order_id")
        batch_op.drop_column("next_try_at")
        batch_op.drop_column("prepare_tries")
        batch_op.alter_column("client_secret", existing_type=sa.String(length=200),
                              nullable=False)
        batch_op.alter_column("payment_intent_id", existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.alter_column("order", new_column_name="request", existing_type=sa.JSON(),
                              existing_nullable=False)
        batch_op.alter_column("order_id", new_column_name="registration_id",
                              existing_type=sa.String(length=36), existing_nullable=False)
    op.create_index("ix_payments_registration_id", "payments", ["registration_id"])

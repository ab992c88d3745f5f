"""Paying by invoice: an order keeps the number of its current invoice and the RF
reference its bank transfer quotes, as payments issued them.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("invoice_number", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("payment_reference", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("payment_reference")
        batch.drop_column("invoice_number")

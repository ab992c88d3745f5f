"""A Stripe event an organiser should look at says why (an amount not asked for); a
payment keeps how it was paid (card, SEPA Direct Debit) and, once the buyer has tried to
pay, when to ask Stripe about it if no webhook comes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stripe_events") as batch:
        batch.add_column(sa.Column("problem", sa.Text(), nullable=True))
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("method_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("next_check_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_payments_next_check_at", ["next_check_at"])


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_next_check_at")
        batch.drop_column("next_check_at")
        batch.drop_column("method_type")
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_column("problem")

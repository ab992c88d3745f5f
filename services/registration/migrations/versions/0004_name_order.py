"""A delegate's name order on the badge: given name first (the default) or family name
first.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("name_order", sa.String(length=12), nullable=False,
                                   server_default="given_first"))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("name_order")

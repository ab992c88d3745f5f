"""Badges keep the conference's timezone, to tell the desk check-in times in it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:12:04.118530
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A badge made before takes the conference's timezone as the catalog had it; the next
    # event about its registration brings the timezone in force.
    with op.batch_alter_table("badges") as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=False,
                                      server_default="Europe/Helsinki"))
    with op.batch_alter_table("badges") as batch_op:
        batch_op.alter_column("timezone", existing_type=sa.String(length=64),
                              server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("badges") as batch_op:
        batch_op.drop_column("timezone")

"""Named organiser tokens (hashed) and the audit log of what organisers do.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from shared.organisers import downgrade_tables, upgrade_tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_tables(op, sa)


def downgrade() -> None:
    downgrade_tables(op)

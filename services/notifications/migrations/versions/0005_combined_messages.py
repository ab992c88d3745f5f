"""Messages combined into one email: a cancellation's refund and credit note are said by
the cancellation's email, which each of them names.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("carried_by", sa.Integer(), nullable=True))
        batch_op.create_index("ix_messages_carried_by", ["carried_by"])
        batch_op.create_foreign_key("fk_messages_carried_by", "messages", ["carried_by"],
                                    ["id"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint("fk_messages_carried_by", type_="foreignkey")
        batch_op.drop_index("ix_messages_carried_by")
        batch_op.drop_column("carried_by")

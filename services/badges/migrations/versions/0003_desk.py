"""The desk: add-on names, the days a day pass admits, an organiser's attention note, the
order of the names; the search text rebuilt with every name also in Latin letters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:10:00.000000
"""

import sqlalchemy as sa
from alembic import op
from anyascii import anyascii

from shared.text import search_key

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

badges = sa.table("badges", sa.column("registration_id", sa.String),
                  sa.column("given_name", sa.String), sa.column("family_name", sa.String),
                  sa.column("organisation", sa.String), sa.column("email", sa.String),
                  sa.column("reference", sa.String), sa.column("search_text", sa.Text))


def search_text(*parts: str | None) -> str:
    """services.badges.models.search_text as this revision made it."""
    text = search_key(" ".join(filter(None, parts)))
    latin = search_key(anyascii(text))
    return text if latin == text else f"{text} {latin}"


def upgrade() -> None:
    # Badges made before know no add-on names or day limits: the next event about their
    # registration brings them.
    with op.batch_alter_table("badges") as batch_op:
        batch_op.add_column(sa.Column("add_on_names", sa.JSON(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("valid_on", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("attention", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("name_order", sa.String(length=12), nullable=False,
                                      server_default="given_first"))
    with op.batch_alter_table("badges") as batch_op:
        batch_op.alter_column("add_on_names", existing_type=sa.JSON(), server_default=None)
        batch_op.alter_column("name_order", existing_type=sa.String(length=12),
                              server_default=None)
    connection = op.get_bind()
    for row in connection.execute(sa.select(badges)).all():
        connection.execute(badges.update().where(
            badges.c.registration_id == row.registration_id).values(search_text=search_text(
                row.given_name, row.family_name, row.organisation, row.email, row.reference)))


def downgrade() -> None:
    with op.batch_alter_table("badges") as batch_op:
        batch_op.drop_column("name_order")
        batch_op.drop_column("attention")
        batch_op.drop_column("valid_on")
        batch_op.drop_column("add_on_names")

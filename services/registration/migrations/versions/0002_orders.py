"""Orders: a booking of one or more delegates holds the buyer, billing, amounts and
payment; each registration is one delegate of an order. A registration made before
becomes an order of its own, its delegate the buyer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:01:54.860418
"""

import uuid

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# What a registration had that is now its order's.
MOVED = ("billing_address", "billing_vat_number", "purchase_order", "payment_intent_id",
         "last_payment_error", "hold_expires_at")
# What an order made from a registration copies of it.
COPIED = ("reference", "status", "amount_due", "vat_amount", "vat_rate_percent", "currency",
          "amount_paid", "amount_refunded", "search_text", "created_at", "updated_at",
          "confirmed_at", "cancelled_at", "expired_at", *MOVED)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("request_digest", sa.String(length=64), nullable=True),
        sa.Column("buyer_name", sa.String(length=121), nullable=False),
        sa.Column("buyer_email", sa.String(length=254), nullable=False),
        sa.Column("buyer_organisation", sa.String(length=120), nullable=False),
        sa.Column("buyer_country", sa.String(length=2), nullable=False),
        sa.Column("billing_address", sa.String(length=300), nullable=True),
        sa.Column("billing_vat_number", sa.String(length=30), nullable=True),
        sa.Column("purchase_order", sa.String(length=60), nullable=True),
        sa.Column("amount_due", sa.Integer(), nullable=False),
        sa.Column("vat_amount", sa.Integer(), nullable=False),
        sa.Column("vat_rate_percent", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_paid", sa.Integer(), nullable=False),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("payment_attempt", sa.Integer(), nullable=False),
        sa.Column("client_secret", sa.String(length=200), nullable=True),
        sa.Column("last_payment_error", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("hold_expires_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("expired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index("ix_orders_hold_expires_at", "orders", ["hold_expires_at"])
    op.create_index("ix_orders_status", "orders", ["status"])

    with op.batch_alter_table("registrations") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
    one_order_per_registration()
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column("position", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_registrations_order_id", ["order_id"])
        batch_op.create_foreign_key("registrations_order_id_fkey", "orders", ["order_id"], ["id"])
        batch_op.drop_index("ix_registrations_hold_expires_at")
        for column in MOVED:
            batch_op.drop_column(column)


def one_order_per_registration() -> None:
    registrations = sa.table("registrations", *map(sa.column, (
        "id", "order_id", "position", "given_name", "family_name", "email", "organisation",
        "country", *COPIED)))
    orders = sa.table("orders", *map(sa.column, (
        "id", "payment_method", "payment_attempt", "buyer_name", "buyer_email",
        "buyer_organisation", "buyer_country", *COPIED)))
    connection = op.get_bind()
    for row in connection.execute(sa.select(registrations)).mappings().all():
        order_id = str(uuid.uuid4())
        connection.execute(orders.insert().values(
            id=order_id, payment_method="card", payment_attempt=0,
            buyer_name=f"{row['given_name']} {row['family_name']}", buyer_email=row["email"],
            buyer_organisation=row["organisation"], buyer_country=row["country"],
            **{column: row[column] for column in COPIED}))
        connection.execute(registrations.update().where(registrations.c.id == row["id"])
                           .values(order_id=order_id, position=0))


def downgrade() -> None:
    """Back to one registration per booking: each takes its order's billing and payment
    (an order of several delegates gives them to each)."""
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.add_column(sa.Column("payment_intent_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_payment_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("billing_address", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("billing_vat_number", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("purchase_order", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("hold_expires_at", UTCDateTime(), nullable=True))
    registrations = sa.table("registrations", *map(sa.column, ("order_id", *MOVED)))
    orders = sa.table("orders", *map(sa.column, ("id", *MOVED)))
    op.execute(registrations.update().values({
        column: sa.select(orders.c[column]).where(orders.c.id == registrations.c.order_id)
        .scalar_subquery() for column in MOVED}))
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.create_index("ix_registrations_hold_expires_at", ["hold_expires_at"])
        batch_op.drop_constraint("registrations_order_id_fkey", type_="foreignkey")
        batch_op.drop_index("ix_registrations_order_id")
        batch_op.drop_column("position")
        batch_op.drop_column("order_id")
    op.drop_table("orders")

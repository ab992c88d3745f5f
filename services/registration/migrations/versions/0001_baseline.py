"""Baseline: the schema as the old runner (create_all) left it, messaging tables
included; a database it made is stamped with this revision

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:01:35.192300
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "limits",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("routed", sa.Boolean(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer"),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ticket_type", sa.String(length=48), nullable=False),
        sa.Column("member_price", sa.Boolean(), nullable=False),
        sa.Column("discount_code", sa.String(length=40), nullable=True),
        sa.Column("price_lines", sa.JSON(), nullable=False),
        sa.Column("amount_due", sa.Integer(), nullable=False),
        sa.Column("vat_amount", sa.Integer(), nullable=False),
        sa.Column("vat_rate_percent", sa.String(length=8), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_paid", sa.Integer(), nullable=False),
        sa.Column("amount_refunded", sa.Integer(), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=64), nullable=True),
        sa.Column("last_payment_error", sa.Text(), nullable=True),
        sa.Column("given_name", sa.String(length=60), nullable=False),
        sa.Column("family_name", sa.String(length=60), nullable=False),
        sa.Column("pronouns", sa.String(length=30), nullable=True),
        sa.Column("organisation", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("dietary_needs", sa.Text(), nullable=True),
        sa.Column("accessibility_needs", sa.Text(), nullable=True),
        sa.Column("billing_address", sa.String(length=300), nullable=True),
        sa.Column("billing_vat_number", sa.String(length=30), nullable=True),
        sa.Column("purchase_order", sa.String(length=60), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("hold_expires_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("expired_at", UTCDateTime(), nullable=True),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_registrations_discount_code", "registrations", ["discount_code"])
    op.create_index("ix_registrations_hold_expires_at", "registrations", ["hold_expires_at"])
    op.create_index("ix_registrations_status", "registrations", ["status"])
    op.create_index("ix_registrations_ticket_type", "registrations", ["ticket_type"])
    op.create_table(
        "registration_add_ons",
        sa.Column("registration_id", sa.String(length=36), nullable=False),
        sa.Column("add_on", sa.String(length=48), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("registration_id", "add_on"),
    )
    op.create_index("ix_registration_add_ons_add_on", "registration_add_ons", ["add_on"])


def downgrade() -> None:
    op.drop_table("registration_add_ons")
    op.drop_table("registrations")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("limits")
    op.drop_table("catalog_versions")

"""Invoices and credit notes (each from its own gap-free sequence, never changed once
issued), payments' copy of every order, and bank transfers (recorded or imported from
statements). Orders paid before this keep their receipts and get no invoice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:46:44.283393
"""

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_sequences",
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.create_table(
        "documents",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("credits", sa.String(length=32), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_credits"), ["credits"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_order_id"), ["order_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_due", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("payment_reference", sa.String(length=40), nullable=True),
        sa.Column("amount_received", sa.Integer(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("receipt_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
        sa.UniqueConstraint("payment_reference"),
        sa.UniqueConstraint("receipt_number"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("payer", sa.String(length=140), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("bank_entry", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_entry"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transfers_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transfers_status"), ["status"], unique=False)
    op.bulk_insert(
        sa.table("document_sequences", sa.column("kind"), sa.column("last")),
        [{"kind": "invoice", "last": 0}, {"kind": "credit_note", "last": 0}],
    )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transfers_status"))
        batch_op.drop_index(batch_op.f("ix_transfers_order_id"))

    op.drop_table("transfers")
    op.drop_table("orders")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_order_id"))
        batch_op.drop_index(batch_op.f("ix_documents_credits"))

    op.drop_table("documents")
    op.drop_table("document_sequences")

"""WhatsApp as a second channel (issue 16): whatsapp_inbound (the webhook's deduplicating
inbox), whatsapp_outbound (statuses of notifications and announcements) and whatsapp_menus
(options of a paginated list).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_inbound",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("ordering_key", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_whatsapp_inbound")),
        sa.UniqueConstraint("message_id", name=op.f("uq_whatsapp_inbound_message_id")),
    )
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.create_index(
            "ix_whatsapp_inbound_key", ["ordering_key", "started_at", "seq"], unique=False
        )
    op.create_table(
        "whatsapp_outbound",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("fallback", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_whatsapp_outbound_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_whatsapp_outbound")),
    )
    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.create_index("ix_whatsapp_outbound_user", ["user_id"], unique=False)
    op.create_table(
        "whatsapp_menus",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("menu", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_whatsapp_menus_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_whatsapp_menus")),
    )


def downgrade() -> None:
    op.drop_table("whatsapp_menus")
    with op.batch_alter_table("whatsapp_outbound", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_outbound_user")
    op.drop_table("whatsapp_outbound")
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.drop_index("ix_whatsapp_inbound_key")
    op.drop_table("whatsapp_inbound")

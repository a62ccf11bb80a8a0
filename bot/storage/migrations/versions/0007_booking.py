"""Office queue numbers (issue 18): booking_sessions (the row locked while a slot is taken),
bookings, booking_reminders (the reminders' outbox) and booking_quota_versions (quotas
applied from the console).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booking_sessions",
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=11), nullable=False),
        sa.PrimaryKeyConstraint(
            "office", "service", "day", "session", name=op.f("pk_booking_sessions")
        ),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active_user", sa.Integer(), nullable=True),
        sa.Column("office", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("bring", sa.Text(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session", sa.String(length=11), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bookings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("code", name=op.f("uq_bookings_code")),
        sa.UniqueConstraint(
            "active_user", "service", name=op.f("uq_bookings_active_user_service")
        ),
        sa.UniqueConstraint(
            "office",
            "service",
            "day",
            "session",
            "slot",
            name=op.f("uq_bookings_office_service_day_session_slot"),
        ),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_user", ["user_id"], unique=False)
        batch_op.create_index("ix_bookings_day", ["office", "day", "session"], unique=False)
    op.create_table(
        "booking_reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_reminders_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_reminders")),
        sa.UniqueConstraint(
            "booking_id", "kind", name=op.f("uq_booking_reminders_booking_id_kind")
        ),
    )
    with op.batch_alter_table("booking_reminders", schema=None) as batch_op:
        batch_op.create_index("ix_booking_reminders_due", ["state", "due_at"], unique=False)
    op.create_table(
        "booking_quota_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_booking_quota_versions_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_quota_versions")),
    )


def downgrade() -> None:
    op.drop_table("booking_quota_versions")
    with op.batch_alter_table("booking_reminders", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_reminders_due")
    op.drop_table("booking_reminders")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_day")
        batch_op.drop_index("ix_bookings_user")
    op.drop_table("bookings")
    op.drop_table("booking_sessions")

"""Officer requests say how the citizen wants to be answered (issue 12 item 11):
citizen_requests.contact (chat, phone, whatsapp) and citizen_requests.phone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizen_requests", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("contact")

"""Count unconfirmed claims of each reminder; remember recently handled update ids.

Revision ID: 0003_dispatch_attempts
Revises: 0002_safety_context
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_dispatch_attempts"
down_revision: str | None = "0002_safety_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # A plain ADD/DROP COLUMN on both back ends (SQLite 3.35+): batch mode would copy the table and could
    # lose the partial indexes' predicates.
    op.add_column(
        "reminders", sa.Column("unconfirmed_claims", sa.Integer(), server_default="0", nullable=False)
    )
    # Telegram redelivers an update it thinks was not answered; replicas record the ids they took.
    op.create_table(
        "handled_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index(op.f("ix_handled_updates_handled_at"), "handled_updates", ["handled_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("handled_updates")
    op.execute("ALTER TABLE reminders DROP COLUMN unconfirmed_claims")

"""Remember the user's country for the safety numbers, and a recent alarm for the safety follow-up.

Revision ID: 0002_safety_context
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision: str = "0002_safety_context"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("country", sa.String(2), nullable=True))
        batch.add_column(sa.Column("alarm_kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("alarm_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("alarm_at")
        batch.drop_column("alarm_kind")
        batch.drop_column("country")

"""Remember whether the patient chose a date order, so numeric dates can follow their time zone until then.

Revision ID: 0004_date_order_chosen
Revises: 0003_dispatch_attempts
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_date_order_chosen"
down_revision: str | None = "0003_dispatch_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "users", sa.Column("date_order_chosen", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("date_order_chosen")

"""Create the initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
CLAIMED = sa.text("status = 'claimed'")
UPCOMING = sa.text("status = 'upcoming'")


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=True),
        sa.Column("profile", sa.String(length=16), server_default="other", nullable=False),
        sa.Column("medicine", sa.String(length=64), nullable=True),
        sa.Column("depth_pref", sa.String(length=1), server_default="A", nullable=False),
        sa.Column("date_order", sa.String(length=3), server_default="DMY", nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("reminders_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updates_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("blocked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("lead_days", sa.String(length=32), server_default="7,1", nullable=False),
        sa.Column("two_hours_before", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_intent", sa.String(length=64), nullable=True),
        sa.Column("last_level", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "profile IN ('woman_ai', 'man_trt', 'caregiver', 'other')", name=op.f("ck_users_profile")
        ),
        sa.CheckConstraint("depth_pref IN ('F', 'I', 'A')", name=op.f("ck_users_depth_pref")),
        sa.CheckConstraint("date_order IN ('DMY', 'MDY')", name=op.f("ck_users_date_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("prompt_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _user_fk("journal_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    op.create_index(
        op.f("ix_journal_entries_user_id_created_at"), "journal_entries", ["user_id", "created_at"]
    )

    op.create_table(
        "saved_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _user_fk("saved_questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_questions")),
    )
    op.create_index(op.f("ix_saved_questions_user_id"), "saved_questions", ["user_id"])

    op.create_table(
        "dialog_states",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), server_default="{}", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _user_fk("dialog_states"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_dialog_states")),
    )

    # No user column on purpose: unanswered questions are counted, never traced back to anyone.
    op.create_table(
        "unanswered_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("normalized_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    op.create_index(op.f("ix_unanswered_questions_created_at"), "unanswered_questions", ["created_at"])

    op.create_table(
        "scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("scan_date", sa.Date(), nullable=False),
        sa.Column("scan_time", sa.Time(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="upcoming", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('upcoming', 'done', 'cancelled')", name=op.f("ck_scans_status")),
        _user_fk("scans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scans")),
    )
    op.create_index(op.f("ix_scans_user_id"), "scans", ["user_id"])
    op.create_index(
        "uq_scans_user_id_upcoming",
        "scans",
        ["user_id"],
        unique=True,
        sqlite_where=UPCOMING,
        postgresql_where=UPCOMING,
    )

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('lead', 'two_hours', 'followup', 'snooze')", name=op.f("ck_reminders_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'missed', 'cancelled', 'failed')",
            name=op.f("ck_reminders_status"),
        ),
        sa.CheckConstraint("kind <> 'lead' OR lead_days IS NOT NULL", name=op.f("ck_reminders_lead_days")),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["scans.id"], name=op.f("fk_reminders_scan_id_scans"), ondelete="CASCADE"
        ),
        _user_fk("reminders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_scan_id"), "reminders", ["scan_id"])
    op.create_index(op.f("ix_reminders_user_id_due_at"), "reminders", ["user_id", "due_at"])
    # The dispatcher's claim reads only these two partial indexes.
    op.create_index(
        "ix_reminders_pending_due_at",
        "reminders",
        ["due_at", "id"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index(
        "ix_reminders_claimed_lease_until",
        "reminders",
        ["lease_until", "id"],
        sqlite_where=CLAIMED,
        postgresql_where=CLAIMED,
    )


def downgrade() -> None:
    """Revert this revision (dropping a table drops its indexes)."""
    for table in (
        "reminders",
        "scans",
        "unanswered_questions",
        "dialog_states",
        "saved_questions",
        "journal_entries",
        "users",
    ):
        op.drop_table(table)

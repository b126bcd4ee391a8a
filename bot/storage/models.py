"""The tables, as SQLAlchemy 2 typed declarative models; repositories turn rows into records."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.storage.types import UTCDateTime

# Stable constraint names let later migrations drop or alter them on both back ends (and in SQLite batch mode).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PROFILE_VALUES: tuple[str, ...] = ("woman_ai", "man_trt", "caregiver", "other")
DEPTH_VALUES: tuple[str, ...] = ("F", "I", "A")
DATE_ORDER_VALUES: tuple[str, ...] = ("DMY", "MDY")
SCAN_STATUSES: tuple[str, ...] = ("upcoming", "done", "cancelled")
REMINDER_KINDS: tuple[str, ...] = ("lead", "two_hours", "followup", "snooze")
REMINDER_STATUSES: tuple[str, ...] = ("pending", "claimed", "sent", "missed", "cancelled", "failed")

# Partial-index predicates; queries that should use these indexes must spell the status as a literal,
# because a bound parameter cannot prove the predicate to the planner (PostgreSQL generic plans, SQLite).
PENDING_PREDICATE = "status = 'pending'"
CLAIMED_PREDICATE = "status = 'claimed'"
UPCOMING_PREDICATE = "status = 'upcoming'"


def _in_list(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A Telegram user and their settings."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    profile: Mapped[str] = mapped_column(String(16), default="other", server_default="other")
    medicine: Mapped[str | None] = mapped_column(String(64), nullable=True)
    depth_pref: Mapped[str] = mapped_column(String(1), default="A", server_default="A")
    date_order: Mapped[str] = mapped_column(String(3), default="DMY", server_default="DMY")
    # False until the patient picks an order: numeric dates then follow the time zone's custom.
    date_order_chosen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reminders_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updates_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lead_days: Mapped[str] = mapped_column(String(32), default="7,1", server_default="7,1")
    two_hours_before: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_level: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # ISO 3166 code the user chose for the safety numbers (stored only with consent).
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    # The last crisis or urgent reply, so that "she says she's fine" right after it is not lost.
    alarm_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    alarm_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint(_in_list("profile", PROFILE_VALUES), name="profile"),
        CheckConstraint(_in_list("depth_pref", DEPTH_VALUES), name="depth_pref"),
        CheckConstraint(_in_list("date_order", DATE_ORDER_VALUES), name="date_order"),
    )


class JournalEntry(Base):
    """A reply to a reflection prompt, private to its author."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    prompt_key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index(None, "user_id", "created_at"),)


class SavedQuestion(Base):
    """A question the user keeps for their care team."""

    __tablename__ = "saved_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index(None, "user_id"),)


class DialogStateRow(Base):
    """Where a user is in a guided flow, so a restart or another process can continue it."""

    __tablename__ = "dialog_states"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UnansweredQuestion(Base):
    """A scrubbed question the bot could not match; deliberately not linked to anyone."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    normalized_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Scan(Base):
    """A DEXA scan appointment on the user's local calendar."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    scan_date: Mapped[date] = mapped_column(Date)
    scan_time: Mapped[time | None] = mapped_column(Time, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="upcoming", server_default="upcoming")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in_list("status", SCAN_STATUSES), name="status"),
        Index(None, "user_id"),
        # One upcoming scan per user, enforced by the database even if two requests race.
        Index(
            "uq_scans_user_id_upcoming",
            "user_id",
            unique=True,
            sqlite_where=text(UPCOMING_PREDICATE),
            postgresql_where=text(UPCOMING_PREDICATE),
        ),
    )


class Reminder(Base):
    """One message to send about a scan, with its dispatch state."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(Integer, ForeignKey("scans.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    lead_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims so far
    # Claims that ended with delivery unknown (a timeout or 5xx after sending, a lease that ran out).
    unconfirmed_claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        CheckConstraint(_in_list("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint(_in_list("status", REMINDER_STATUSES), name="status"),
        CheckConstraint("kind <> 'lead' OR lead_days IS NOT NULL", name="lead_days"),
        Index(None, "scan_id"),
        Index(None, "user_id", "due_at"),
        # The dispatcher's two range scans touch only live rows and read them already in the ORDER BY
        # (due_at, id) or (lease_until, id), so LIMIT stops the scan early: a tick costs the same however
        # many sent reminders have piled up or however large the backlog of due ones is.
        Index(
            "ix_reminders_pending_due_at",
            "due_at",
            "id",
            sqlite_where=text(PENDING_PREDICATE),
            postgresql_where=text(PENDING_PREDICATE),
        ),
        Index(
            "ix_reminders_claimed_lease_until",
            "lease_until",
            "id",
            sqlite_where=text(CLAIMED_PREDICATE),
            postgresql_where=text(CLAIMED_PREDICATE),
        ),
    )


class HandledUpdate(Base):
    """An update id some replica has taken, kept for a day so a redelivery is processed once."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

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
    UniqueConstraint,
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
    # A keyed hash of (question, asker) whose key is not in the database: it tells apart different
    # askers of one question for the "asked by at least 3 people" rule, and cannot be traced to a user.
    asker_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)


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


# -- care teams ---------------------------------------------------------------------------------

STAFF_ROLES: tuple[str, ...] = ("owner", "staff")
AUDIENCES: tuple[str, ...] = ("all", "scan30", "woman_ai", "man_trt", "caregiver")
BROADCAST_STATUSES: tuple[str, ...] = ("draft", "populating", "sending", "done", "cancelled")
DELIVERY_STATUSES: tuple[str, ...] = (
    "pending",
    "claimed",
    "sent",
    "blocked",
    "failed",
    "skipped",
    "cancelled",
)


class Team(Base):
    """A care team: its name and the contact route its patients are shown."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contact_phone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(128), nullable=True)
    contact_hours: Mapped[str | None] = mapped_column(String(128), nullable=True)


class TeamJoinCode(Base):
    """A patient join code (the start parameter of the team's link); one per team is live at a time."""

    __tablename__ = "team_join_codes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index(None, "team_id"),)


class StaffMember(Base):
    """A Telegram user who works for a team."""

    __tablename__ = "staff_members"

    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    role: Mapped[str] = mapped_column(String(16), default="staff", server_default="staff")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(_in_list("role", STAFF_ROLES), name="role"),
        Index(None, "user_id"),
    )


class StaffInvite(Base):
    """A single-use, expiring code that makes whoever opens it a member of the team's staff."""

    __tablename__ = "staff_invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, ForeignKey("teams.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index(None, "team_id"),)


class TeamPatient(Base):
    """A patient's membership of a care team."""

    __tablename__ = "team_patients"

    team_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "user_id"),)


class JoinAttempt(Base):
    """A failed join-code attempt, kept an hour, so guessing codes can be rate limited per user."""

    __tablename__ = "join_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "user_id", "created_at"),)


class AnswerTally(Base):
    """How many answers each topic got in a month, across everyone (no link to any user)."""

    __tablename__ = "answer_tallies"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    intent: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Broadcast(Base):
    """A care team's message to its patients: a job with one delivery row per recipient."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, ForeignKey("teams.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="draft", server_default="draft")
    audience: Mapped[str | None] = mapped_column(String(16), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    formatted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    link_preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Recipients are copied into deliveries in user-id order, a chunk per transaction; this is the last
    # user id copied, so any process can carry on after a crash.
    population_cursor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    scan_before: Mapped[date | None] = mapped_column(Date, nullable=True)
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint(_in_list("status", BROADCAST_STATUSES), name="status"),
        CheckConstraint(f"audience IS NULL OR {_in_list('audience', AUDIENCES)}", name="audience"),
        Index(None, "team_id", "created_at"),
        Index(None, "status"),
    )


class BroadcastDelivery(Base):
    """One recipient of a broadcast, with its dispatch state (leased claims, as for reminders)."""

    __tablename__ = "broadcast_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(Integer, ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        CheckConstraint(_in_list("status", DELIVERY_STATUSES), name="status"),
        UniqueConstraint("broadcast_id", "user_id"),
        Index(None, "user_id"),
        Index(None, "broadcast_id", "status"),
        Index(
            "ix_broadcast_deliveries_pending_due_at",
            "due_at",
            "id",
            sqlite_where=text(PENDING_PREDICATE),
            postgresql_where=text(PENDING_PREDICATE),
        ),
        Index(
            "ix_broadcast_deliveries_claimed_lease_until",
            "lease_until",
            "id",
            sqlite_where=text(CLAIMED_PREDICATE),
            postgresql_where=text(CLAIMED_PREDICATE),
        ),
    )

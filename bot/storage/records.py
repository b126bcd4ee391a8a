"""Plain frozen records the repositories return instead of ORM objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and their settings."""

    id: int
    chat_id: int
    created_at: datetime
    last_seen_at: datetime
    consent: bool | None
    profile: str
    medicine: str | None
    depth_pref: str
    date_order: str
    timezone: str | None
    reminders_enabled: bool
    updates_enabled: bool
    paused: bool
    blocked: bool
    lead_days: str
    two_hours_before: bool
    last_intent: str | None
    last_level: str | None
    country: str | None = None
    alarm_kind: str | None = None
    alarm_at: datetime | None = None
    date_order_chosen: bool = False

    @property
    def lead_days_list(self) -> tuple[int, ...]:
        """Return the lead times as numbers of days, largest first."""
        return tuple(sorted((int(part) for part in self.lead_days.split(",") if part), reverse=True))


@dataclass(frozen=True, slots=True)
class JournalEntryRecord:
    """A saved reply to a reflection prompt."""

    id: int
    user_id: int
    created_at: datetime
    prompt_key: str
    text: str


@dataclass(frozen=True, slots=True)
class SavedQuestionRecord:
    """A question kept for the care team."""

    id: int
    user_id: int
    created_at: datetime
    text: str


class SaveOutcome(enum.StrEnum):
    """What happened to a question the user asked to save."""

    ADDED = "added"
    DUPLICATE = "duplicate"
    LIMIT_REACHED = "limit_reached"


@dataclass(frozen=True, slots=True)
class SaveQuestionResult:
    """The outcome of saving a question; ``question`` is the new or the already saved one."""

    outcome: SaveOutcome
    question: SavedQuestionRecord | None


@dataclass(frozen=True, slots=True)
class DialogState:
    """Where a user is in a guided flow; ``data`` is the flow's own JSON object."""

    user_id: int
    flow: str
    step: str
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """A DEXA scan on the user's local calendar."""

    id: int
    user_id: int
    scan_date: date
    scan_time: time | None
    timezone: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReminderRecord:
    """A scheduled reminder and its dispatch state."""

    id: int
    scan_id: int
    user_id: int
    kind: str
    lead_days: int | None
    due_at: datetime
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None
    unconfirmed_claims: int = 0


class NewReminder(NamedTuple):
    """A reminder to schedule: a plain ``(kind, lead_days, due_at)`` tuple works too."""

    kind: str
    lead_days: int | None
    due_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """A reminder leased to one dispatcher, with everything needed to send it."""

    reminder_id: int
    claim_token: str
    kind: str
    lead_days: int | None
    due_at: datetime
    lease_until: datetime
    attempts: int
    user_id: int
    chat_id: int
    scan_id: int
    scan_date: date
    scan_time: time | None
    timezone: str
    scan_status: str
    paused: bool
    reminders_enabled: bool
    blocked: bool
    unconfirmed_claims: int = 0  # earlier claims of this row whose delivery is unknown

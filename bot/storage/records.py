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


# -- care teams ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamRecord:
    """A care team and its contact route."""

    id: int
    name: str
    created_at: datetime
    contact_phone: str | None
    contact_email: str | None
    contact_hours: str | None

    @property
    def has_contact(self) -> bool:
        """Tell whether the team has set any contact detail."""
        return bool(self.contact_phone or self.contact_email or self.contact_hours)


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A staff member of a team."""

    team_id: int
    user_id: int
    role: str
    joined_at: datetime


class CodeStatus(enum.StrEnum):
    """What a start code turned out to be."""

    JOIN = "join"  # a live patient join code
    INVITE = "invite"  # a live staff invite
    ROTATED = "rotated"  # a join code the team replaced or revoked
    EXPIRED = "expired"  # a staff invite past its expiry
    USED = "used"  # a staff invite someone already used
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CodeLookup:
    """The outcome of looking up a start code, with its team when the code is one of a team's."""

    status: CodeStatus
    team: TeamRecord | None = None


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    """A broadcast job."""

    id: int
    team_id: int
    created_by: int | None
    created_at: datetime
    status: str
    audience: str | None
    text: str
    formatted: bool
    link_preview: bool
    population_cursor: int
    scan_before: date | None
    total: int
    progress_chat_id: int | None
    progress_message_id: int | None
    progress_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """How a broadcast's deliveries stand."""

    pending: int = 0
    claimed: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return (
            self.pending
            + self.claimed
            + self.sent
            + self.blocked
            + self.failed
            + self.skipped
            + self.cancelled
        )

    @property
    def open(self) -> int:
        """Return how many deliveries are still to be settled."""
        return self.pending + self.claimed


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A broadcast delivery leased to one sender, with everything needed to send it."""

    delivery_id: int
    claim_token: str
    attempts: int
    broadcast_id: int
    broadcast_status: str
    team_id: int
    team_name: str
    text: str
    formatted: bool
    link_preview: bool
    user_id: int
    chat_id: int
    paused: bool
    updates_enabled: bool
    blocked: bool

"""Repositories: functions that take an AsyncSession and return plain records, never ORM objects."""

from bot.storage.repositories.dialog import clear_dialog, get_dialog, purge_dialogs_before, set_dialog
from bot.storage.repositories.dispatch import (
    claim_due_reminders,
    mark_reminder,
    mark_reminder_sent,
    release_reminder,
)
from bot.storage.repositories.journal import add_journal_entry, list_journal_entries
from bot.storage.repositories.privacy import delete_user_data, export_user_data
from bot.storage.repositories.questions import (
    MAX_SAVED_QUESTIONS,
    add_saved_question,
    clear_saved_questions,
    delete_saved_question,
    list_saved_questions,
)
from bot.storage.repositories.scans import (
    add_reminder,
    cancel_reminder,
    cancel_scan,
    create_scan,
    get_scan,
    get_upcoming_scan,
    list_reminders,
    mark_scan_done,
    replace_pending_reminders,
    set_scan_timezone,
)
from bot.storage.repositories.unanswered import (
    purge_unanswered_before,
    record_unanswered,
    repeated_unanswered,
    top_unanswered,
)
from bot.storage.repositories.updates import purge_handled_updates_before, take_update
from bot.storage.repositories.users import (
    USER_FIELDS,
    get_or_create_user,
    get_user,
    record_visit,
    set_blocked,
    update_user,
)

__all__ = [
    "MAX_SAVED_QUESTIONS",
    "USER_FIELDS",
    "add_journal_entry",
    "add_reminder",
    "add_saved_question",
    "cancel_reminder",
    "cancel_scan",
    "claim_due_reminders",
    "clear_dialog",
    "clear_saved_questions",
    "create_scan",
    "delete_saved_question",
    "delete_user_data",
    "export_user_data",
    "get_dialog",
    "get_or_create_user",
    "get_scan",
    "get_upcoming_scan",
    "get_user",
    "list_journal_entries",
    "list_reminders",
    "list_saved_questions",
    "mark_reminder",
    "mark_reminder_sent",
    "mark_scan_done",
    "purge_dialogs_before",
    "purge_handled_updates_before",
    "purge_unanswered_before",
    "record_unanswered",
    "record_visit",
    "release_reminder",
    "repeated_unanswered",
    "replace_pending_reminders",
    "set_blocked",
    "set_dialog",
    "set_scan_timezone",
    "take_update",
    "top_unanswered",
    "update_user",
]

"""What a reminder says, and its buttons: Telegram-free, from ``answers/ui``."""

from __future__ import annotations

from bot.content import Renderer
from bot.conversation import Action, Button, Reply
from bot.scheduling import format_date, format_time
from bot.storage.records import ClaimedReminder


def _scan_text(reminder: ClaimedReminder) -> str:
    text = format_date(reminder.scan_date)
    return f"{text} at {format_time(reminder.scan_time)}" if reminder.scan_time else text


def reminder_reply(renderer: Renderer, reminder: ClaimedReminder) -> Reply:
    """Return the message for a due reminder."""
    rid = str(reminder.reminder_id)
    scan = _scan_text(reminder)

    def button(key: str, verb: str, *args: str) -> Button:
        return Button(renderer.label(key), Action(verb, args))

    buttons: tuple[tuple[Button, ...], ...]
    if reminder.kind == "followup":
        sid = str(reminder.scan_id)
        buttons = (
            (button("next_1y", "next", sid, "1y"), button("next_2y", "next", sid, "2y")),
            (button("next_pick", "next", sid, "pick"),),
        )
        return Reply(renderer.ui("reminder_followup", scan=scan), buttons, kind="reminder")
    buttons = (
        (button("rem_ack", "rem", "ack", rid),),
        (button("rem_snooze_3h", "rem", "snz3h", rid), button("rem_snooze_tomorrow", "rem", "snztm", rid)),
        (button("rem_change", "rem", "change", rid), button("rem_cancel", "rem", "cancel", rid)),
    )
    if reminder.kind == "lead":
        html = renderer.ui("reminder_lead", days=reminder.lead_days or 1, scan=scan)
    elif reminder.kind == "two_hours":
        html = renderer.ui("reminder_two_hours", scan=scan)
    else:
        html = renderer.ui("reminder_snooze", scan=scan)
    return Reply(html, buttons, kind="reminder")

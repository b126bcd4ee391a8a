"""Dispatchers: work the bot does unprompted, driven by the database."""

from bot.dispatch._broadcasts import (
    BroadcastDispatcher,
    BroadcastSendFn,
    BroadcastTick,
    NotifyFn,
    OutgoingBroadcast,
    PerChatLimiter,
    broadcast_html,
    run_dispatch_loop,
)
from bot.dispatch._messages import reminder_reply
from bot.dispatch._outcomes import (
    MAX_ATTEMPTS,
    MAX_CLAIMS,
    MAX_UNCONFIRMED_RETRIES,
    Decision,
    SendFn,
    SendOutcome,
    SendResult,
    Verdict,
    decide,
    exhausted,
    send_guarded,
)
from bot.dispatch._reminders import (
    BATCH_SIZE,
    LEASE_SECONDS,
    ReminderDispatcher,
    TickReport,
)

__all__ = [
    "BATCH_SIZE",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "MAX_CLAIMS",
    "MAX_UNCONFIRMED_RETRIES",
    "BroadcastDispatcher",
    "BroadcastSendFn",
    "BroadcastTick",
    "Decision",
    "NotifyFn",
    "OutgoingBroadcast",
    "PerChatLimiter",
    "ReminderDispatcher",
    "SendFn",
    "SendOutcome",
    "SendResult",
    "TickReport",
    "Verdict",
    "broadcast_html",
    "decide",
    "exhausted",
    "reminder_reply",
    "run_dispatch_loop",
    "send_guarded",
]

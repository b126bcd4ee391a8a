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
from bot.dispatch._reminders import (
    BATCH_SIZE,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    ReminderDispatcher,
    SendFn,
    SendOutcome,
    SendResult,
    TickReport,
)

__all__ = [
    "BATCH_SIZE",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "BroadcastDispatcher",
    "BroadcastSendFn",
    "BroadcastTick",
    "NotifyFn",
    "OutgoingBroadcast",
    "PerChatLimiter",
    "ReminderDispatcher",
    "SendFn",
    "SendOutcome",
    "SendResult",
    "TickReport",
    "broadcast_html",
    "reminder_reply",
    "run_dispatch_loop",
]

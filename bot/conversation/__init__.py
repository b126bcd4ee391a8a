"""The Telegram-free conversation core shared by the Telegram bot and the terminal chat."""

from bot.conversation._actions import MAX_ACTION_BYTES, Action, decode
from bot.conversation._core import (
    Button,
    Conversation,
    Keyboard,
    Outcome,
    Reply,
    UserContext,
    scrub,
)

__all__ = [
    "MAX_ACTION_BYTES",
    "Action",
    "Button",
    "Conversation",
    "Keyboard",
    "Outcome",
    "Reply",
    "UserContext",
    "decode",
    "scrub",
]

"""The patient service: what the bot does, for any chat front end (Telegram, the terminal)."""

from bot.service._base import Clock, utcnow
from bot.service._patient import PatientService
from bot.service._staff import StaffService, TeamResponse
from bot.service._types import Document, Response, Sender

__all__ = [
    "Clock",
    "Document",
    "PatientService",
    "Response",
    "Sender",
    "StaffService",
    "TeamResponse",
    "utcnow",
]

from bot.service._commands import COMMAND_MENU, PATIENT_COMMANDS, run_command

__all__ += ["COMMAND_MENU", "PATIENT_COMMANDS", "run_command"]

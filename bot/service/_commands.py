"""The patient commands, by name: one table for every front end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.service._patient import PatientService, clean_text
from bot.service._types import Response, Sender

CommandHandler = Callable[[PatientService, Sender, str | None], Awaitable[Response]]

# Name -> what it does with its optional argument ("/scan 15 March" passes "15 March").
PATIENT_COMMANDS: dict[str, CommandHandler] = {
    "start": lambda s, who, arg: s.start(who, arg),
    "help": lambda s, who, arg: s.help(who),
    "topics": lambda s, who, arg: s.topics(who),
    "scan": lambda s, who, arg: s.scan(who, arg),
    "reminders": lambda s, who, arg: s.reminders(who),
    "timezone": lambda s, who, arg: s.timezone(who, arg),
    "reflect": lambda s, who, arg: s.reflect(who, arg),
    "questions": lambda s, who, arg: s.questions(who, arg),
    "settings": lambda s, who, arg: s.settings_menu(who),
    "mydata": lambda s, who, arg: s.mydata(who),
    "forget": lambda s, who, arg: s.forget(who),
    "stop": lambda s, who, arg: s.stop(who),
    "sources": lambda s, who, arg: s.sources(who),
}

# The command menu Telegram shows (set_my_commands): name -> description.
COMMAND_MENU: tuple[tuple[str, str], ...] = (
    ("topics", "Browse the topics"),
    ("scan", "Set or change your next DEXA scan date"),
    ("reminders", "See or change your scan reminders"),
    ("questions", "Your questions for the care team"),
    ("reflect", "A reflection prompt for your private journal"),
    ("settings", "Profile, answer depth, reminders, date format"),
    ("timezone", "Set your time zone"),
    ("mydata", "Everything stored about you"),
    ("forget", "Delete everything stored about you"),
    ("stop", "Pause reminders and updates"),
    ("teams", "Your care teams"),
    ("sources", "Where my information comes from"),
    ("help", "What I can do"),
    ("start", "Welcome and privacy note"),
)


async def run_command(service: PatientService, sender: Sender, name: str, argument: str | None) -> Response:
    """Run a patient command, or say it is unknown."""
    handler = PATIENT_COMMANDS.get(name.lower())
    if handler is None:
        return await service.unknown_command(sender, f"/{name}")
    argument = clean_text(argument).strip() if argument else None
    return await handler(service, sender, argument or None)

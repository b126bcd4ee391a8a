"""The safety desk of the patient service: crisis and emergency replies first, with the right numbers.

A composed part of the service, not a mixin: it decides whether a message is answered here (an alarm,
a message playing down an alarm just answered, a language BoneBot cannot read yet) or goes on to the
guided flows and the knowledge base.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot._yaml import load_yaml
from bot.contacts import EmergencyDirectory, country_code
from bot.content import EmergencyContacts
from bot.conversation import Conversation, Reply, UserContext
from bot.metrics import SAFETY_REPLIES
from bot.safety import ENGLISH, SafetyDetector, SafetyVerdict
from bot.safety._lexicon import fold
from bot.service._types import Sender
from bot.settings import Settings
from bot.storage import repositories as repo
from bot.storage.records import UserRecord

logger = logging.getLogger(__name__)

ALARM_WINDOW = dt.timedelta(hours=6)  # how long an alarm colours the messages after it
FOLLOWUPS_PATH = Path(__file__).resolve().parent.parent / "data" / "safety_followups.yaml"
MAX_SAFETY_TEXT = 4000  # the safety layer reads this much of a message, more than questions get


def _load_followups(path: Path = FOLLOWUPS_PATH) -> re.Pattern[str]:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    patterns = [str(p) for language in data.values() for p in language]
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@dataclass(frozen=True)
class Screening:
    """The safety desk's reading of a message: a reply of its own, or the verdict for the answer."""

    verdict: SafetyVerdict
    reply: Reply | None = None
    followup: Reply | None = None  # "please don't wait" about the alarm before, sent first

    @property
    def replies(self) -> tuple[Reply, ...]:
        return tuple(r for r in (self.followup, self.reply) if r is not None)


class SafetyDesk:
    """Answer crisis and emergency messages first, and keep an alarm in mind for the next message."""

    def __init__(
        self,
        detector: SafetyDetector,
        conversation: Conversation,
        directory: EmergencyDirectory,
        settings: Settings,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.detector = detector
        self.conversation = conversation
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self._downplays = _load_followups()

    def contacts(self, user: UserRecord, sender: Sender) -> EmergencyContacts:
        """Return the numbers for the user's country, or the international ones."""
        return self.directory.for_user(
            country=user.country,
            timezone=user.timezone,
            language_code=sender.language_code,
            default_timezone=self.settings.default_timezone,
        )

    async def screen(
        self, session: AsyncSession, user: UserRecord, text: str, context: UserContext, verdict: SafetyVerdict
    ) -> Screening:
        """Return the safety reply ``text`` needs before anything else, if any, given its ``verdict``."""
        now = self.clock()
        recent = (
            user.alarm_kind is not None and user.alarm_at is not None and now - user.alarm_at < ALARM_WINDOW
        )
        downplays = recent and bool(self._downplays.search(fold(text[:MAX_SAFETY_TEXT])))
        if verdict.kind is not None:
            SAFETY_REPLIES.labels(kind=verdict.kind, layer=verdict.layer or "-").inc()
            logger.info(
                "safety reply kind=%s reason=%s layer=%s language=%s",
                verdict.kind,
                verdict.reason,
                verdict.layer,
                verdict.language,
            )
            followup = None
            if downplays and verdict.layer == "semantic":
                # Right after an alarm, "she says she's fine, can we wait till monday" is about that alarm;
                # the model, reading it without what came before, may take it for a new one. Neither is
                # dropped: "please don't wait" about the first alarm comes first.
                assert user.alarm_kind is not None
                followup = self.conversation.safety_followup(user.alarm_kind, context)
            await repo.update_user(session, user.id, alarm_kind=verdict.kind, alarm_at=now)
            return Screening(verdict, self.conversation.safety_reply(verdict, context), followup)
        if downplays:
            assert user.alarm_kind is not None
            SAFETY_REPLIES.labels(kind=user.alarm_kind, layer="followup").inc()
            logger.info("safety follow-up kind=%s", user.alarm_kind)
            return Screening(verdict, self.conversation.safety_followup(user.alarm_kind, context))
        if user.alarm_kind is not None and not recent:
            # The alarm is over: keep nothing about it longer than it is useful.
            await repo.update_user(session, user.id, alarm_kind=None, alarm_at=None)
        return Screening(verdict)

    async def assess(self, text: str) -> SafetyVerdict:
        """Read ``text`` for an alarm without holding up other patients.

        It needs no database, so callers do it before their transaction opens.
        """
        return await self.detector.assess_in_background(text[:MAX_SAFETY_TEXT])

    def english_only(self, verdict: SafetyVerdict, context: UserContext) -> Reply | None:
        """Return "I can only read English for now" for a message in another language, else None."""
        if verdict.language == ENGLISH:
            return None
        return self.conversation.english_only(verdict.language, context, dose=verdict.dose_question)

    async def country_in(self, session: AsyncSession, user: UserRecord, text: str) -> Reply:
        """Show the numbers for the country the user typed; save it only with consent."""
        code = country_code(text)
        contacts = self.directory.for_code(code)
        if contacts is None:
            return Reply(self.conversation.renderer.ui("country_unknown"), kind="notice")
        await repo.clear_dialog(session, user.id)
        saved = bool(user.consent)
        if saved:
            await repo.update_user(session, user.id, country=code)
        html = self.conversation.renderer.ui("country_numbers", contacts=contacts, saved=saved)
        return Reply(html, kind="notice")

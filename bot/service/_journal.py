"""Reflection prompts with a private journal, and the user's questions for the care team."""

from __future__ import annotations

import logging
from pathlib import Path

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot._yaml import load_yaml
from bot.conversation import Action, Button, Keyboard
from bot.service._base import ServiceBase
from bot.service._types import Response, Sender
from bot.storage import repositories as repo
from bot.storage.records import SaveOutcome, UserRecord

logger = logging.getLogger(__name__)

MAX_ENTRY_CHARS = 4000
MAX_QUESTION_CHARS = 500


def load_reflection_prompts(answers_dir: Path) -> dict[str, str]:
    """Read ``answers/reflection_prompts.yaml``: prompt key -> prompt text (Telegram HTML)."""
    data = load_yaml((answers_dir / "reflection_prompts.yaml").read_text(encoding="utf-8")) or {}
    return {str(key): str(value).strip() for key, value in data.items()}


class JournalFlows(ServiceBase):
    """/reflect and /questions."""

    _prompts: dict[str, str] | None = None

    @property
    def prompts(self) -> dict[str, str]:
        if self._prompts is None:
            from bot.content import content_root

            self._prompts = load_reflection_prompts(content_root() / "answers")
        return self._prompts

    # -- reflection ------------------------------------------------------------------------------

    async def reflect_in(self, session: AsyncSession, user: UserRecord, text: str | None) -> Response:
        """Save ``text`` to the journal, or offer a prompt and wait for the reply."""
        if text and text.strip():
            return await self.save_reflection(session, user, text, "free")
        entries = await repo.list_journal_entries(session, user.id)
        keys = sorted(self.prompts)
        key = keys[len(entries) % len(keys)]
        return await self._offer_prompt(session, user, key)

    async def _offer_prompt(self, session: AsyncSession, user: UserRecord, key: str) -> Response:
        await repo.set_dialog(session, user.id, "reflect", "await_entry", {"prompt": key}, now=self.clock())
        keys = sorted(self.prompts)
        following = keys[(keys.index(key) + 1) % len(keys)]
        buttons: Keyboard = (
            (self.button("another_prompt", "reflect", following),),
            (self.button("cancel", "flowcancel"),),
        )
        # The prompts are our own content, written in Telegram HTML: render them as markup, not as text.
        return self.say("reflect_prompt", buttons, prompt=Markup(self.prompts[key]))

    async def save_reflection(self, session: AsyncSession, user: UserRecord, text: str, key: str) -> Response:
        entry = text.strip()
        if not entry:
            return self.say("empty_message")
        truncated = len(entry) > MAX_ENTRY_CHARS
        await repo.add_journal_entry(
            session, user.id, key or "free", entry[:MAX_ENTRY_CHARS], now=self.clock()
        )
        await repo.clear_dialog(session, user.id)
        count = len(await repo.list_journal_entries(session, user.id))
        logger.info("saved a journal entry")
        return self.say("journal_saved", count=count, truncated=truncated, limit=MAX_ENTRY_CHARS)

    # -- questions for the care team -------------------------------------------------------------

    async def questions_in(self, session: AsyncSession, user: UserRecord, text: str | None) -> Response:
        """Add ``text`` to the list, or show the list with buttons to remove items."""
        if text and text.strip():
            return await self.save_question(session, user, text)
        return await self._question_list(session, user)

    async def _question_list(self, session: AsyncSession, user: UserRecord, edit: bool = False) -> Response:
        saved = await repo.list_saved_questions(session, user.id)
        add_row = (self.button("add_own_question", "qask"),)
        ideas = (Button(self.label("question_ideas"), Action("topic", ("questions_for_care_team",))),)
        if not saved:
            return Response.of(self.ui("questions_empty", (add_row, ideas)), edit=edit)
        rows: list[tuple[Button, ...]] = []
        for number, question in enumerate(saved, start=1):
            rows.append((self.button("remove_question", "qdel", str(question.id), number=number),))
        rows.append(add_row)
        rows.append((self.button("clear_questions", "qclear"),))
        return Response.of(
            self.ui("questions_list", tuple(rows), questions=[q.text for q in saved]), edit=edit
        )

    async def save_question(self, session: AsyncSession, user: UserRecord, text: str) -> Response:
        question = " ".join(text.split())
        if not question:
            return self.say("empty_message")
        if len(question) > MAX_QUESTION_CHARS:
            return self.say("question_too_long", limit=MAX_QUESTION_CHARS)
        result = await repo.add_saved_question(session, user.id, question, now=self.clock())
        await repo.clear_dialog(session, user.id)
        if result.outcome == SaveOutcome.DUPLICATE:
            return self.say("question_duplicate")
        if result.outcome == SaveOutcome.LIMIT_REACHED:
            return self.say("question_limit", limit=repo.MAX_SAVED_QUESTIONS)
        count = len(await repo.list_saved_questions(session, user.id))
        return self.say("question_added", ((self.button("show_questions", "qclear", "show"),),), count=count)

    async def journal_action(
        self, session: AsyncSession, sender: Sender, user: UserRecord, verb: str, args: tuple[str, ...]
    ) -> Response | None:
        """Handle the journal and question-list buttons."""
        if verb == "reflect":
            asked = await self.needs_consent(session, user, "journal", "reflect")
            if asked:
                return asked
            key = args[0] if args else None
            if key is None:
                return await self.reflect_in(session, user, None)
            return await self._offer_prompt(session, user, key) if key in self.prompts else None
        if verb == "qadd":
            suggestions = self.domain.knowledge.intents["questions_for_care_team"].suggested_questions
            if not args[0].isdigit() or int(args[0]) >= len(suggestions):
                return None
            asked = await self.needs_consent(session, user, "questions", f"qadd:{args[0]}")
            return asked or await self.save_question(session, user, suggestions[int(args[0])])
        if verb == "qask":
            asked = await self.needs_consent(session, user, "questions", "questions")
            if asked:
                return asked
            await repo.set_dialog(session, user.id, "question", "await_text", {}, now=self.clock())
            return self.say("question_ask", ((self.button("cancel", "flowcancel"),),))
        if verb == "qdel":
            if not args[0].isdigit():
                return None
            removed = await repo.delete_saved_question(session, user.id, int(args[0]))
            if not removed:
                return None
            listing = await self._question_list(session, user, edit=True)
            return Response(listing.replies, toast=self.domain.renderer.ui("question_removed"), edit=True)
        if verb == "qclear":
            if not args:
                buttons: Keyboard = (
                    (self.button("clear_questions_yes", "qclear", "yes"),),
                    (self.button("keep_questions", "qclear", "show"),),
                )
                return Response.of(self.ui("questions_clear_confirm", buttons), edit=True)
            if args[0] == "yes":
                await repo.clear_saved_questions(session, user.id)
                return Response.of(self.ui("questions_cleared"), edit=True)
            if args[0] == "show":
                return await self._question_list(session, user)
            return None
        return None

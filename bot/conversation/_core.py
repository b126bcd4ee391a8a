"""The conversation core: from a message and the user's context to replies, with no Telegram import."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from bot.content import LEVEL_NAMES, LEVELS, AnswerContext, EmergencyContacts, KnowledgeBase, Renderer
from bot.conversation._actions import Action
from bot.matching import Candidate, Matcher, MatchResult
from bot.safety import SafetyVerdict

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000  # a question longer than this is read up to here
MAX_RELATED = 3


@dataclass(frozen=True)
class Button:
    """A reply button: an action, or a link when ``url`` is set."""

    label: str
    action: Action | None = None
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """One message to show the user."""

    html: str
    buttons: Keyboard = ()
    kind: str = "answer"  # answer, safety, out_of_scope, menu, notice, flow
    intent: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class UserContext:
    """What replies may depend on: the user's profile and preferences."""

    profile: str = "other"
    medicine: str | None = None  # generic name from the user's settings
    depth_pref: str = "A"  # the deepest level "Tell me more" offers
    scan_date: str | None = None  # the next saved scan, already formatted
    contacts: EmergencyContacts | None = None
    private_chat: bool = True


@dataclass(frozen=True)
class Outcome:
    """The replies to a message and what the caller should do next."""

    replies: tuple[Reply, ...]
    match: MatchResult | None = None
    start_flow: str | None = None  # e.g. "scan": the caller starts that guided flow
    unanswered: str | None = None  # scrubbed text for the care team's content report
    truncated: bool = False
    extra: dict[str, str] = field(default_factory=dict)


_EMAIL = re.compile(r"\S+@\S+\.\S+")
_HANDLE = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_HAS_DIGIT = re.compile(r"\S*\d\S*")


def scrub(text: str) -> str:
    """Strip what could identify someone from an unanswered question before it is kept."""
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _HAS_DIGIT.sub(" ", text)  # numbers, phone numbers, record numbers, dates
    return " ".join(text.lower().split())[:200]


class Conversation:
    """Answer questions from the knowledge base."""

    def __init__(self, knowledge: KnowledgeBase, renderer: Renderer, matcher: Matcher) -> None:
        self.knowledge = knowledge
        self.renderer = renderer
        self.matcher = matcher

    # -- answering ---------------------------------------------------------------------------------

    def respond(self, text: str, context: UserContext, verdict: SafetyVerdict | None = None) -> Outcome:
        """Return the replies to a free-text message (``verdict``: the safety layer's, when already read)."""
        truncated = len(text) > MAX_QUESTION_CHARS
        question = text[:MAX_QUESTION_CHARS]
        if not question.strip():
            return Outcome((self.notice("empty_message"),))
        result = (
            self.matcher.match(question, verdict) if verdict is not None else self.matcher.match(question)
        )
        medicine = next(iter(result.medicines), None)
        replies: list[Reply] = []
        if truncated:
            replies.append(self.notice("too_long", limit=MAX_QUESTION_CHARS))
        if result.safety and result.intent and result.verdict is not None:
            replies.append(self.safety_reply(result.verdict, context))
            logger.info("answered intent=%s level=short version=%s", result.intent, self.knowledge.version)
            return Outcome(tuple(replies), result, truncated=truncated)
        if result.intent is None:
            replies.append(self.out_of_scope(result))
            return Outcome(tuple(replies), result, unanswered=scrub(question), truncated=truncated)
        intent = self.knowledge.intent(result.intent)
        reply = self.answer(intent.id, "short", context, medicine=medicine, near_ties=result.near_ties)
        replies.append(reply)
        logger.info("answered intent=%s level=short version=%s", intent.id, self.knowledge.version)
        start_flow = "scan" if intent.kind == "flow" else None
        return Outcome(tuple(replies), result, start_flow=start_flow, truncated=truncated)

    def answer(
        self,
        intent_id: str,
        level: str,
        context: UserContext,
        *,
        medicine: str | None = None,
        near_ties: tuple[Candidate, ...] = (),
        reason: str | None = None,
    ) -> Reply:
        """Return the answer to ``intent_id`` at ``level`` with its buttons."""
        intent = self.knowledge.intent(intent_id)
        answer_context = AnswerContext(
            profile=context.profile,
            medicine=self.knowledge.medicine(medicine or context.medicine),
            scan_date=context.scan_date,
            contacts=context.contacts,
            content_version=self.knowledge.version,
            reason=reason,
        )
        html = self.renderer.answer(intent_id, level, answer_context)
        if intent.kind == "safety":
            return Reply(html, self._country_row(context), kind="safety", intent=intent_id, level=level)
        rows: list[tuple[Button, ...]] = []
        next_level = self._next_level(intent_id, level, context)
        if next_level is not None:
            label = self.renderer.label("tell_me_more_level", level=LEVEL_NAMES[next_level])
            rows.append((Button(label, Action("more", (intent_id, next_level))),))
        if intent.suggested_questions and context.private_chat:
            for index, question in enumerate(intent.suggested_questions):
                rows.append(
                    (
                        Button(
                            self.renderer.label("add_question", text=_shorten(question, 40)),
                            Action("qadd", (str(index),)),
                        ),
                    )
                )
        offers_scan = intent.id in {"dexa_scan", "dexa_schedule"} and context.private_chat
        if offers_scan:
            rows.append((Button(self.renderer.label("set_scan"), Action("scan")),))
        for candidate in near_ties:
            other = self.knowledge.intent(candidate.intent)
            rows.append(
                (
                    Button(
                        self.renderer.label("did_you_mean", title=other.title), Action("topic", (other.id,))
                    ),
                )
            )
        if not near_ties and level == "short":
            related = [
                self.knowledge.intent(r)
                for r in intent.related
                if self.knowledge.intent(r).kind != "flow" or (context.private_chat and not offers_scan)
            ][:MAX_RELATED]
            if related:
                rows.append(tuple(Button(r.title, Action("topic", (r.id,))) for r in related[:2]))
                if len(related) > 2:
                    rows.append((Button(related[2].title, Action("topic", (related[2].id,))),))
        return Reply(html, tuple(rows), kind="answer", intent=intent_id, level=level)

    def more(self, intent_id: str, level: str, context: UserContext) -> Reply | None:
        """Return the answer at ``level`` if that level exists and the user's depth allows it."""
        intent = self.knowledge.intents.get(intent_id)
        if intent is None or level not in intent.levels or level == "short":
            return None
        if not self._allowed(level, context):
            return self.notice("more_at_cap", level_name=LEVEL_NAMES[context.depth_pref])
        logger.info("answered intent=%s level=%s version=%s", intent_id, level, self.knowledge.version)
        return self.answer(intent_id, level, context)

    def _allowed(self, level: str, context: UserContext) -> bool:
        cap = context.depth_pref if context.depth_pref in LEVELS else "A"
        return LEVELS.index(level) <= LEVELS.index(cap)

    def _next_level(self, intent_id: str, level: str, context: UserContext) -> str | None:
        next_level = self.knowledge.intent(intent_id).next_level(level)
        if next_level is None or not self._allowed(next_level, context):
            return None
        return next_level

    # -- safety ------------------------------------------------------------------------------------

    def safety_reply(self, verdict: SafetyVerdict, context: UserContext) -> Reply:
        """Return the crisis or urgent reply, in the message's language where BoneBot has its lines."""
        intent_id = verdict.intent or "urgent_symptoms"
        english = self.answer(intent_id, "short", context, reason=verdict.reason)
        lines = self.renderer.safety_lines(verdict.language, context.contacts)
        if lines is None:
            return english
        html = self.renderer.ui(
            "safety_other_language",
            kind=verdict.kind,
            reason=verdict.reason,
            lines=lines,
            english=english.html,
        )
        return Reply(html, english.buttons, kind="safety", intent=intent_id, level="short")

    def english_only(self, language: str, context: UserContext) -> Reply:
        """Return "I can only read English for now", with the emergency and crisis numbers."""
        lines = self.renderer.safety_lines(language, context.contacts)
        html = self.renderer.ui("english_only", lines=lines, contacts=context.contacts)
        return Reply(html, self._country_row(context), kind="out_of_scope")

    def safety_line(self, context: UserContext) -> Reply:
        """Return the one line on what to do in an emergency, added under an answer to an unclear message."""
        return Reply(self.renderer.ui("safety_line", contacts=context.contacts), kind="notice")

    def safety_followup(self, kind: str, context: UserContext) -> Reply:
        """Return "please don't wait", for a message that plays down an alarm just answered."""
        html = self.renderer.ui("safety_followup", kind=kind, contacts=context.contacts)
        return Reply(html, self._country_row(context), kind="safety")

    def _country_row(self, context: UserContext) -> Keyboard:
        # With no country known, the numbers are international: offer the patient's own in one tap.
        if context.contacts is None or not context.contacts.international or not context.private_chat:
            return ()
        return ((Button(self.renderer.label("show_country_numbers"), Action("country")),),)

    # -- menus and notices -------------------------------------------------------------------------

    def out_of_scope(self, result: MatchResult | None = None) -> Reply:
        """Return the honest "outside what I cover" reply, with near topics or the topic groups."""
        rows: list[tuple[Button, ...]] = []
        if result is not None:
            for candidate in result.alternatives[:2]:
                if candidate.score >= self.matcher.threshold * 0.75:
                    other = self.knowledge.intent(candidate.intent)
                    rows.append(
                        (
                            Button(
                                self.renderer.label("did_you_mean", title=other.title),
                                Action("topic", (other.id,)),
                            ),
                        )
                    )
        rows.extend(self._group_rows())
        return Reply(self.renderer.ui("out_of_scope"), tuple(rows), kind="out_of_scope")

    def topics(self) -> Reply:
        """Return the topic groups as buttons."""
        return Reply(self.renderer.ui("topics"), tuple(self._group_rows()), kind="menu")

    def group(self, group: str) -> Reply | None:
        """Return one group's intents as buttons, or None for an unknown group."""
        intents = [i for i in self.knowledge.by_group(group) if i.kind == "article"]
        if not intents:
            return None
        rows = [(Button(i.title, Action("topic", (i.id,))),) for i in intents]
        rows.append((Button(self.renderer.label("back"), Action("groups")),))
        return Reply(
            self.renderer.ui("topic_group", group=self.renderer.label(f"group_{group}")),
            tuple(rows),
            kind="menu",
        )

    def _group_rows(self) -> list[tuple[Button, ...]]:
        groups = [
            g
            for g in ("biology", "monitoring", "protecting", "feelings")
            if any(i.kind == "article" for i in self.knowledge.by_group(g))
        ]
        return [(Button(self.renderer.label(f"group_{g}"), Action("group", (g,))),) for g in groups]

    def notice(self, name: str, buttons: Keyboard = (), **variables: object) -> Reply:
        """Return an interface message from ``answers/ui``."""
        return Reply(self.renderer.ui(name, **variables), buttons, kind="notice")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

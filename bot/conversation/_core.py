"""The conversation core: from a message and the user's context to replies, with no Telegram import."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

from markupsafe import Markup

from bot.content import LEVEL_NAMES, LEVELS, AnswerContext, EmergencyContacts, KnowledgeBase, Renderer
from bot.conversation._actions import Action
from bot.conversation._dialogue import Dialogue, FollowUp
from bot.matching import Candidate, Matcher, MatchResult
from bot.safety import SafetyVerdict

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000  # a question longer than this is read up to here
MAX_RELATED = 3
SURE_SUBJECT = 50.0  # a "what about X" subject scoring this alone is a new topic; below, it may be an aspect


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
    last_intent: str | None = None  # the last answer's intent and level: what follow-ups refer to
    last_level: str | None = None
    consent: bool | None = None  # whether the user agreed to storage (an introduction is kept only then)


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

    def __init__(
        self, knowledge: KnowledgeBase, renderer: Renderer, matcher: Matcher, dialogue: Dialogue | None = None
    ) -> None:
        self.knowledge = knowledge
        self.renderer = renderer
        self.matcher = matcher
        self.dialogue = dialogue  # None: every message is matched alone

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
        if self.dialogue is not None:
            turn = self._turn(question, result, context, self.dialogue)
            if turn is not None:
                turn_replies, extra = turn
                # A near-scope question is still unanswered: it goes to the care team's content report.
                unanswered = scrub(question) if extra.get("turn", "").startswith("not_covered") else None
                return Outcome(
                    (*replies, *turn_replies), result, unanswered=unanswered, truncated=truncated, extra=extra
                )
        if result.intent is None:
            replies.append(self.out_of_scope(result))
            return Outcome(tuple(replies), result, unanswered=scrub(question), truncated=truncated)
        intent = self.knowledge.intent(result.intent)
        if self.dialogue is not None:
            # An explicit subject beats the saved profile: "do men lose bone" is answered for men.
            named = self.dialogue.mentioned_profile(self.matcher.normalizer.spelling(question))
            if named is not None and context.profile not in {named, "caregiver"}:
                context = replace(context, profile=named)
        reply = self.answer(intent.id, "short", context, medicine=medicine, near_ties=result.near_ties)
        replies.append(reply)
        logger.info("answered intent=%s level=short version=%s", intent.id, self.knowledge.version)
        start_flow = "scan" if intent.kind == "flow" else None
        return Outcome(tuple(replies), result, start_flow=start_flow, truncated=truncated)

    # -- the conversation layer --------------------------------------------------------------------

    def _turn(
        self, question: str, result: MatchResult, context: UserContext, dialogue: Dialogue
    ) -> tuple[tuple[Reply, ...], dict[str, str]] | None:
        """Answer the message as a turn of the conversation, or return None to answer it alone."""
        smalltalk = dialogue.smalltalk(question)
        if smalltalk is not None:
            return (self._smalltalk(smalltalk, context),), {"turn": f"smalltalk:{smalltalk}"}
        last = self.knowledge.intents.get(context.last_intent or "")
        if last is not None and last.kind == "article":
            followup = self._followup(
                question, last.id, context.last_level or "short", context, dialogue, result.verdict
            )
            if followup is not None:
                return self._follow(followup, context), {"turn": f"followup:{followup.form}"}
        elif dialogue.followup_form(self.matcher.normalizer.spelling(question)) not in {None, "more"}:
            # "is that a lot?" with no answer before it refers to nothing: ask for the whole question.
            rows = ((Button(self.renderer.label("topics"), Action("groups")),),)
            return (Reply(self.renderer.ui("followup_no_context"), rows, kind="notice"),), {
                "turn": "followup:none"
            }
        introduction = dialogue.introduction(question)
        if introduction is not None and (
            (introduction.profile or context.profile) != context.profile
            or (introduction.medicine or context.medicine) != context.medicine
        ):
            profile = introduction.profile or context.profile
            medicine = introduction.medicine or context.medicine
            introduced = replace(context, profile=profile, medicine=medicine)
            welcome = self._welcome(introduced, answers_too=False)
            extra = {"turn": "introduction", "profile": profile, "medicine": medicine or ""}
            if introduction.remainder:
                inner = self.matcher.match(introduction.remainder, result.verdict)
                answered = self._question(introduction.remainder, inner, introduced, dialogue)
                if answered is None and inner.intent is not None and not inner.safety:
                    intent = self.knowledge.intent(inner.intent)
                    if intent.kind in {"article", "refusal"}:
                        answered = ((self.answer(intent.id, "short", introduced),), {})
                if answered is not None:
                    welcome = self._welcome(introduced, answers_too=True)
                    return (welcome, *answered[0]), {**answered[1], **extra}
            return (welcome,), extra
        return self._question(question, result, context, dialogue)

    def _question(
        self, question: str, result: MatchResult, context: UserContext, dialogue: Dialogue
    ) -> tuple[tuple[Reply, ...], dict[str, str]] | None:
        """Answer topics the article leaves out, feelings and the kind of question; None for the rest."""
        if result.not_covered is not None:
            reply = self.not_covered(result.not_covered, context)
            return (reply,), {"turn": f"not_covered:{result.not_covered}"}
        analysis = self.matcher.normalizer.analyse(question)
        medicine = next(iter(result.medicines), None)
        route = dialogue.kind_route(analysis.spelled, result.intent, result.medicines)
        if route is not None and (route.to != result.intent or route.level != "short"):
            level = route.level if self._allowed(route.level, context) else "short"
            reply = self.answer(route.to, level, context, medicine=medicine)
            return (reply,), {"turn": "kind"}
        if dialogue.feels(analysis.spelled) and (
            result.intent is None
            or self.knowledge.intent(result.intent).kind != "article"
            or not dialogue.asks(question)
        ):
            if dialogue.about_someone_else(analysis.spelled) and context.profile != "caregiver":
                context = replace(context, profile="caregiver")  # "she cries a lot": a caregiver's distress
            reply = self.answer("feelings_and_symptoms", "short", context, medicine=medicine)
            return (reply,), {"turn": "feelings"}
        return None

    def _followup(
        self,
        question: str,
        last: str,
        level: str,
        context: UserContext,
        dialogue: Dialogue,
        verdict: SafetyVerdict | None = None,
    ) -> FollowUp | None:
        """Read ``question`` as a follow-up to the answer on ``last``, or return None."""
        # Parts of the message are matched with the whole message's safety ``verdict``: reading a fragment
        # again would cost a second pass of the model on the event loop, and a fragment read alone is a
        # worse-informed reading than the whole.
        spelled = self.matcher.normalizer.spelling(question)
        form = dialogue.followup_form(spelled)
        if form is not None:
            target = dialogue.route(last, form)
            if target is not None:
                return FollowUp(form, target)
            return FollowUp(form, last, self._deeper(last, level, context))
        subject = dialogue.subject(spelled)
        if subject is None:
            return None
        profile = dialogue.subject_profile(subject)
        if profile is not None:
            tailored = replace(context, profile=profile)
            if self._tailored(last, level, context, tailored):
                return FollowUp("profile", last, level, profile=profile)
            target = dialogue.profile_route(profile)
            return FollowUp("profile", target or last, "short" if target else level, profile=profile)
        generics = self.matcher.normalizer.medicines(subject)
        if generics and dialogue.names_only_medicines(subject):
            medicine = self.knowledge.medicine(generics[0])
            if medicine is not None:
                if medicine.kind == "ai":
                    return FollowUp("medicine", last, level, medicine=medicine.generic)
                if last in {"treatment_evidence", "choosing_treatment"}:
                    return FollowUp("medicine", last, level, medicine=medicine.generic)
                inner = self.matcher.match(subject, verdict)
                if inner.intent is not None and not inner.safety:
                    return FollowUp("medicine", inner.intent, medicine=medicine.generic)
        if dialogue.is_site(subject):
            return FollowUp("site", last, self._deeper(last, level, context))
        # An explicit topic beats the last answer: "what about exercise" is a question about exercise.
        inner = self.matcher.match(subject, verdict)
        if inner.safety:
            return None
        if inner.not_covered is not None:
            return FollowUp("topic", None, not_covered=inner.not_covered)
        alone = (
            inner.intent if inner.intent and self.knowledge.intent(inner.intent).kind == "article" else None
        )
        if alone is not None and inner.score >= SURE_SUBJECT:
            return FollowUp("topic", alone)
        # A vague subject ("the results") that is an aspect of the last topic stays with it, one level deeper.
        aspect = self.matcher.match(f"{subject} {self.knowledge.intent(last).title}", verdict)
        if aspect.intent == last and not aspect.safety:
            return FollowUp("topic", last, self._deeper(last, level, context))
        return FollowUp("topic", alone) if alone is not None else None

    def _follow(self, followup: FollowUp, context: UserContext) -> tuple[Reply, ...]:
        if followup.intent is None:
            return (self.not_covered(followup.not_covered or "", context),)
        tailored = replace(context, profile=followup.profile or context.profile)
        logger.info(
            "answered intent=%s level=%s version=%s", followup.intent, followup.level, self.knowledge.version
        )
        return (self.answer(followup.intent, followup.level, tailored, medicine=followup.medicine),)

    def _deeper(self, intent_id: str, level: str, context: UserContext) -> str:
        """Return the level one step deeper than ``level`` when there is one the user allows, else ``level``."""
        deeper = self._next_level(intent_id, level, context)
        return deeper or (level if level in self.knowledge.intent(intent_id).levels else "short")

    def _tailored(self, intent_id: str, level: str, context: UserContext, other: UserContext) -> bool:
        """Return whether the answer reads differently for the two contexts' profiles."""
        if level not in self.knowledge.intent(intent_id).levels:
            level = "short"
        return self.answer(intent_id, level, context).html != self.answer(intent_id, level, other).html

    def _smalltalk(self, name: str, context: UserContext) -> Reply:
        rows: list[tuple[Button, ...]] = []
        if name == "human" and context.private_chat:
            rows.append((Button(self.renderer.label("add_own_question"), Action("qask")),))
        if name in {"about_bot", "acknowledge"}:
            rows.append((Button(self.renderer.label("topics"), Action("groups")),))
        return Reply(
            self.renderer.ui(f"smalltalk_{name}", profile=context.profile), tuple(rows), kind="smalltalk"
        )

    def _welcome(self, context: UserContext, *, answers_too: bool) -> Reply:
        medicine = self.knowledge.medicine(context.medicine)
        html = self.renderer.ui(
            "introduction",
            profile=context.profile,
            medicine=medicine,
            stored=bool(context.consent) and context.private_chat,
            answers_too=answers_too,
        )
        rows: list[tuple[Button, ...]] = [(Button(self.renderer.label("topics"), Action("groups")),)]
        if context.private_chat:
            rows.append((Button(self.renderer.label("set_scan"), Action("scan")),))
        return Reply(html, tuple(rows), kind="introduction")

    def not_covered(self, topic: str, context: UserContext | None = None) -> Reply:
        """Return "my article doesn't cover that; save it for your care team", with the question list a tap away."""
        near = self.knowledge.near_scope.get(topic)
        html = self.renderer.ui(
            "not_covered",
            topic=near.label if near else None,
            decides=near.decides if near else "care_team",
        )
        rows: list[tuple[Button, ...]] = []
        if context is None or context.private_chat:
            rows.append((Button(self.renderer.label("add_own_question"), Action("qask")),))
        rows.append((Button(self.renderer.label("topics"), Action("groups")),))
        return Reply(html, tuple(rows), kind="not_covered")

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
            english=Markup(english.html),  # our own rendered reply, already escaped
        )
        return Reply(html, english.buttons, kind="safety", intent=intent_id, level="short")

    def english_only(self, language: str, context: UserContext, *, dose: bool = False) -> Reply:
        """Return "I can only read English for now", with the numbers, and the dose guard if ``dose``."""
        lines = self.renderer.safety_lines(language, context.contacts)
        html = self.renderer.ui("english_only", lines=lines, contacts=context.contacts, dose=dose)
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

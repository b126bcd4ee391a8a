"""The conversation core: answers and their buttons, depth, near ties, out of scope, safety and topics."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.content import LEVEL_NAMES, PROFILES, EmergencyContacts
from bot.conversation import MAX_ACTION_BYTES, Action, Button, Conversation, Reply, UserContext, decode
from bot.domain import Domain, load_domain
from bot.matching import Candidate, MatchResult, read_labelled

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTACTS = EmergencyContacts("the United Kingdom", "999", "Samaritans on 116 123")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return load_domain()


@pytest.fixture(scope="module")
def conversation(domain: Domain) -> Conversation:
    return domain.conversation


def _buttons(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def _actions(reply: Reply, verb: str) -> list[Action]:
    return [b.action for b in _buttons(reply) if b.action is not None and b.action.verb == verb]


def _more(reply: Reply) -> Action | None:
    actions = _actions(reply, "more")
    assert len(actions) <= 1
    return actions[0] if actions else None


def _answer(conversation: Conversation, text: str, intent: str, context: UserContext | None = None) -> Reply:
    outcome = conversation.respond(text, context or UserContext())
    assert outcome.match is not None and outcome.match.intent == intent, outcome.match
    reply = outcome.replies[-1]
    assert reply.intent == intent
    return reply


# -- "Tell me more" --------------------------------------------------------------------------------------


def test_answer_offers_tell_me_more_to_the_next_level(conversation: Conversation) -> None:
    reply = _answer(conversation, "what is a dexa scan?", "dexa_scan")
    assert reply.kind == "answer" and reply.level == "short"
    more = _more(reply)
    assert more == Action("more", ("dexa_scan", "I"))
    button = next(b for b in _buttons(reply) if b.action == more)
    assert "Tell me more" in button.label
    assert LEVEL_NAMES["I"] in button.label
    deeper = conversation.more("dexa_scan", "I", UserContext())
    assert deeper is not None
    assert deeper.intent == "dexa_scan" and deeper.level == "I"
    assert deeper.html != reply.html


def test_tell_me_more_walks_every_level_of_every_intent_and_stops_at_the_deepest(
    conversation: Conversation, domain: Domain
) -> None:
    context = UserContext(profile="woman_ai", depth_pref="A")
    for intent in domain.knowledge.intents.values():
        if intent.kind == "safety":
            continue
        reply = conversation.answer(intent.id, "short", context)
        seen = [reply.level]
        while (more := _more(reply)) is not None:
            assert more.args[0] == intent.id
            next_reply = conversation.more(intent.id, more.args[1], context)
            assert next_reply is not None, (intent.id, more)
            reply = next_reply
            seen.append(reply.level)
        assert tuple(seen) == intent.levels, intent.id


def test_the_deepest_level_has_no_tell_me_more(conversation: Conversation) -> None:
    reply = conversation.more("ai_bone_loss_mechanism", "A", UserContext())
    assert reply is not None and reply.level == "A"
    assert _more(reply) is None
    assert conversation.more("ai_bone_loss_mechanism", "short", UserContext()) is None
    assert conversation.more("what_is_ai", "A", UserContext()) is None  # a level it does not have
    assert conversation.more("no_such_intent", "F", UserContext()) is None


def test_depth_preference_stops_tell_me_more_at_fundamentals(conversation: Conversation) -> None:
    context = UserContext(depth_pref="F")
    short = _answer(conversation, "how does anastrozole weaken bones", "ai_bone_loss_mechanism", context)
    assert _more(short) == Action("more", ("ai_bone_loss_mechanism", "F"))
    fundamentals = conversation.more("ai_bone_loss_mechanism", "F", context)
    assert fundamentals is not None and fundamentals.level == "F"
    assert _more(fundamentals) is None
    capped = conversation.more("ai_bone_loss_mechanism", "I", context)
    assert capped is not None
    assert capped.kind == "notice" and capped.level is None
    assert capped.html == conversation.renderer.ui("more_at_cap", level_name=LEVEL_NAMES["F"])


def test_short_only_preference_offers_no_tell_me_more(conversation: Conversation) -> None:
    reply = _answer(conversation, "what is a dexa scan?", "dexa_scan", UserContext(depth_pref="short"))
    assert _more(reply) is None


# -- near ties and out of scope --------------------------------------------------------------------------


class _FixedMatcher:
    """Stand in for the matcher with one fixed result, so the test does not depend on tuning."""

    threshold = 42.0

    def __init__(self, result: MatchResult) -> None:
        self.result = result

    def match(self, text: str, verdict: object = None) -> MatchResult:
        return self.result


def test_near_ties_give_did_you_mean_buttons(domain: Domain) -> None:
    result = MatchResult("estrogen_role", 50.0, (Candidate("what_is_ai", 47.0), Candidate("dexa_scan", 30.0)))
    assert [c.intent for c in result.near_ties] == ["what_is_ai"]
    conversation = Conversation(domain.knowledge, domain.renderer, _FixedMatcher(result))  # type: ignore[arg-type]
    reply = conversation.respond("anything", UserContext()).replies[-1]
    assert reply.intent == "estrogen_role"
    topics = _actions(reply, "topic")
    assert topics == [Action("topic", ("what_is_ai",))]
    label = next(b.label for b in _buttons(reply) if b.action == topics[0])
    assert domain.knowledge.intent("what_is_ai").title in label


def test_without_near_ties_related_topics_are_offered(domain: Domain) -> None:
    result = MatchResult("estrogen_role", 50.0, (Candidate("what_is_ai", 30.0),))
    conversation = Conversation(domain.knowledge, domain.renderer, _FixedMatcher(result))  # type: ignore[arg-type]
    reply = conversation.respond("anything", UserContext()).replies[-1]
    related = domain.knowledge.intent("estrogen_role").related
    assert [a.args[0] for a in _actions(reply, "topic")] == list(related[:3])


def test_real_near_ties_become_did_you_mean_buttons(conversation: Conversation) -> None:
    checked = 0
    for row in read_labelled(REPO_ROOT / "tests" / "data" / "dev.tsv"):
        outcome = conversation.respond(row.question, UserContext())
        match = outcome.match
        if match is None or not match.near_ties or "turn" in outcome.extra:
            continue  # a conversation turn (an introduction, a question kind) answers without "did you mean"
        checked += 1
        offered = [a.args[0] for a in _actions(outcome.replies[-1], "topic")]
        assert offered == [c.intent for c in match.near_ties], row.question
    assert checked > 0


def test_out_of_scope_reply_offers_topic_groups_and_keeps_scrubbed_text(conversation: Conversation) -> None:
    text = "Whats the weather in Paris tomorrow? Mail me at jo.smith@example.org or call 07700 900123"
    outcome = conversation.respond(text, UserContext())
    assert outcome.match is not None and outcome.match.intent is None
    reply = outcome.replies[-1]
    assert reply.kind == "out_of_scope"
    assert reply.html == conversation.renderer.ui("out_of_scope")
    groups = {a.args[0] for a in _actions(reply, "group")}
    assert groups == {"biology", "monitoring", "protecting", "feelings"}
    assert outcome.unanswered
    assert "weather" in outcome.unanswered
    assert not re.search(r"\d", outcome.unanswered)
    assert "@" not in outcome.unanswered and "example" not in outcome.unanswered


def test_answered_questions_are_not_kept_as_unanswered(conversation: Conversation) -> None:
    assert conversation.respond("what is a dexa scan?", UserContext()).unanswered is None


def test_empty_message_gets_the_empty_notice(conversation: Conversation) -> None:
    outcome = conversation.respond("   ", UserContext())
    assert [r.html for r in outcome.replies] == [conversation.renderer.ui("empty_message")]
    assert outcome.unanswered is None


# -- safety ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I fell on the ice and cant get up, im on letrozole", "urgent_symptoms"),
        ("i want to die, is a dexa scan painful", "crisis"),
    ],
)
def test_safety_replies_have_no_buttons(conversation: Conversation, text: str, intent: str) -> None:
    outcome = conversation.respond(text, UserContext(contacts=CONTACTS))
    assert [r.intent for r in outcome.replies] == [intent]
    reply = outcome.replies[0]
    assert reply.kind == "safety"
    assert reply.buttons == ()
    assert "999" in reply.html
    assert outcome.start_flow is None


# -- long messages, flows, tailoring ---------------------------------------------------------------------


def test_message_over_1000_characters_gets_the_notice_and_the_answer(conversation: Conversation) -> None:
    # The question repeated: the test is about the notice, not about how the matcher reads rambles.
    text = "what is a dexa scan? " * 60
    assert len(text) > 1000
    outcome = conversation.respond(text, UserContext())
    assert outcome.truncated
    assert len(outcome.replies) == 2
    assert outcome.replies[0].html == conversation.renderer.ui("too_long", limit=1000)
    assert outcome.replies[1].intent == "dexa_scan"


def test_message_of_1000_characters_is_not_truncated(conversation: Conversation) -> None:
    text = ("what is a dexa scan? " + "x" * 1000)[:1000]
    outcome = conversation.respond(text, UserContext())
    assert not outcome.truncated
    assert all(r.html != conversation.renderer.ui("too_long", limit=1000) for r in outcome.replies)


def test_set_reminder_starts_the_scan_flow(conversation: Conversation) -> None:
    outcome = conversation.respond("can you set me a reminder for my dexa on 3 march", UserContext())
    assert outcome.match is not None and outcome.match.intent == "set_reminder"
    assert outcome.start_flow == "scan"
    assert conversation.respond("what is a dexa scan?", UserContext()).start_flow is None


def test_the_medicine_named_in_the_question_is_used_in_the_answer(conversation: Conversation) -> None:
    named = _answer(conversation, "how does letrozole work", "what_is_ai")
    unnamed = _answer(conversation, "what is an aromatase inhibitor", "what_is_ai")
    assert named.html.count("letrozole") > unnamed.html.count("letrozole")


def test_the_profile_medicine_is_used_when_the_question_names_none(conversation: Conversation) -> None:
    reply = _answer(
        conversation,
        "how much should I be taking each day",
        "medication_dose",
        UserContext(medicine="exemestane"),
    )
    assert "exemestane" in reply.html
    plain = _answer(conversation, "how much should I be taking each day", "medication_dose")
    assert "exemestane" not in plain.html


def test_personal_buttons_are_only_offered_in_private_chats(conversation: Conversation) -> None:
    private = conversation.answer("questions_for_care_team", "short", UserContext(private_chat=True))
    group = conversation.answer("questions_for_care_team", "short", UserContext(private_chat=False))
    assert _actions(private, "qadd")
    assert not _actions(group, "qadd")
    assert _actions(conversation.answer("dexa_scan", "short", UserContext()), "scan")
    assert not _actions(conversation.answer("dexa_scan", "short", UserContext(private_chat=False)), "scan")


# -- buttons and topics ----------------------------------------------------------------------------------


def _every_reply(conversation: Conversation, domain: Domain) -> list[Reply]:
    replies = [conversation.topics(), conversation.out_of_scope()]
    replies += [
        r for g in ("biology", "monitoring", "protecting", "feelings") if (r := conversation.group(g))
    ]
    for intent in domain.knowledge.intents.values():
        for level in intent.levels:
            for profile in PROFILES:
                for private in (True, False):
                    replies.append(
                        conversation.answer(intent.id, level, UserContext(profile, private_chat=private))
                    )
    return replies


def test_every_button_action_fits_callback_data_and_decodes_back(
    conversation: Conversation, domain: Domain
) -> None:
    checked = 0
    for reply in _every_reply(conversation, domain):
        for button in _buttons(reply):
            assert button.label.strip()
            if button.action is None:
                assert button.url
                continue
            data = button.action.encode()
            assert len(data.encode()) <= MAX_ACTION_BYTES, data
            assert decode(data) == button.action, data
            checked += 1
    assert checked > 100


def test_topics_and_groups_list_every_article_intent_exactly_once(
    conversation: Conversation, domain: Domain
) -> None:
    groups = [a.args[0] for a in _actions(conversation.topics(), "group")]
    assert groups
    listed: Counter[str] = Counter()
    for group in groups:
        reply = conversation.group(group)
        assert reply is not None, group
        assert _actions(reply, "groups") == [Action("groups")]  # the way back
        listed.update(a.args[0] for a in _actions(reply, "topic"))
    articles = {i.id for i in domain.knowledge.intents.values() if i.kind == "article"}
    assert set(listed) == articles
    assert all(count == 1 for count in listed.values()), listed


def test_unknown_group_gives_nothing(conversation: Conversation) -> None:
    assert conversation.group("nonsense") is None
    assert conversation.group("conversation") is None  # holds no article intents

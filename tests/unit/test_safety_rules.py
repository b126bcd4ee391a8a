"""The safety rules: every safety example is caught, and no other example raises a false alarm."""

from __future__ import annotations

import pytest

from bot.content import SAFETY_INTENTS, content_root, load_knowledge_base
from bot.matching import Matcher

KNOWLEDGE = load_knowledge_base(content_root())
MATCHER = Matcher(KNOWLEDGE)
SAFETY_EXAMPLES = [
    (i.id, e) for i in KNOWLEDGE.intents.values() if i.id in SAFETY_INTENTS for e in i.examples
]
OTHER_EXAMPLES = [
    (i.id, e) for i in KNOWLEDGE.intents.values() if i.id not in SAFETY_INTENTS for e in i.examples
] + [("-", e) for e in KNOWLEDGE.out_of_scope]


@pytest.mark.parametrize(("intent", "text"), SAFETY_EXAMPLES)
def test_every_safety_example_gets_its_safety_reply(intent: str, text: str) -> None:
    assert MATCHER.safety(text) == intent
    result = MATCHER.match(text)
    assert (result.intent, result.score, result.safety) == (intent, 100.0, True)


def test_no_other_example_raises_a_safety_alarm() -> None:
    alarms = [(intent, text) for intent, text in OTHER_EXAMPLES if MATCHER.safety(text) is not None]
    assert alarms == []


@pytest.mark.parametrize(
    "text",
    [
        "i wanna die",
        "KILL MYSELF",
        "ive been self-harming again",
        "took an overdose",
        "I fell down the stairs, help",
        "my hip is broken i think",
        "severe pain in my lower back all of a sudden",
    ],
)
def test_plain_safety_messages_pass_the_prefilter(text: str) -> None:
    assert MATCHER.safety(text) is not None

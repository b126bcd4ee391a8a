"""Issue 3's scripted patient journey, consent and safety, through the whole running bot."""

from __future__ import annotations

import contextlib
import json

import pytest

from bot.storage import repositories as repo
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage
from tests.fakes.spec import UploadedFile


def labels(message: SentMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0]


async def consent(harness: Harness) -> None:
    """Give consent through /start, as a patient would."""
    welcome = only(await harness.say("/start"))
    await harness.press(welcome, harness.label("consent_yes"))


async def test_scripted_patient_journey(harness: Harness) -> None:
    uid = harness.user["id"]

    # /start: what the bot is and is not, and the consent question.
    welcome = only(await harness.say("/start"))
    assert welcome.text is not None
    assert "not medical advice" in welcome.text
    assert "No person reads this chat" in welcome.text
    assert labels(welcome) == [harness.label("consent_yes"), harness.label("consent_no")]

    # Consent: the thank-you follows; the welcome and its privacy note stay in the chat, without buttons.
    (thanks,) = await harness.press(welcome, harness.label("consent_yes"))
    assert thanks.text == harness.ui("consent_given")
    kept = harness.fake.messages_to(uid)[0]
    assert kept.message_id == welcome.message_id and kept.text == welcome.text
    assert kept.buttons == []
    async with harness.session() as session:
        user = await repo.get_user(session, uid)
    assert user is not None and user.consent is True

    # A misspelt brand name still reaches the mechanism answer, in the generic's name.
    first = only(await harness.say("how does arimadex cause bone loss"))
    assert first.text is not None
    assert first.text.startswith("Estrogen normally acts as a brake")
    assert "Anastrozole" in first.text
    assert "Source:" in first.text
    more = next(label for label in labels(first) if label.startswith("Tell me more"))

    # "Tell me more" goes one level deeper and offers the next level.
    deeper = only(await harness.press(first, more))
    assert deeper.text is not None and deeper.text != first.text
    assert "osteoclasts" in deeper.text
    assert any(label.startswith("Tell me more") and label != more for label in labels(deeper))
    async with harness.session() as session:
        user = await repo.get_user(session, uid)
    assert user is not None and (user.last_intent, user.last_level) == ("ai_bone_loss_mechanism", "F")

    # /topics: a group opens in place, and a topic answers.
    topics = only(await harness.say("/topics"))
    assert harness.label("group_biology") in labels(topics)
    assert await harness.press(topics, harness.label("group_biology")) == []
    group = harness.last()
    assert group.message_id == topics.message_id and group.edits == 1
    assert "Why estrogen matters" in labels(group)
    topic = only(await harness.press(group, "Why estrogen matters"))
    assert topic.text is not None and "estrogen" in topic.text.lower() and "Source:" in topic.text

    # /settings: the profile becomes "man on TRT".
    overview = only(await harness.say("/settings"))
    assert overview.text is not None and "About you: not set" in overview.text
    await harness.press(overview, harness.label("settings_profile"))
    profiles = harness.last()
    assert profiles.message_id == overview.message_id
    assert harness.label("profile_man_trt") in labels(profiles)
    mark = len(harness.fake.callback_answers)
    assert await harness.press(profiles, harness.label("profile_man_trt")) == []
    toast = list(harness.fake.callback_answers.values())[mark]
    assert toast.get("text") == harness.ui("settings_saved")
    assert "About you: a man on TRT with anastrozole" in (harness.last().text or "")
    async with harness.session() as session:
        user = await repo.get_user(session, uid)
    assert user is not None and user.profile == "man_trt"

    # The same question now gets the answer written for men on TRT.
    again = only(await harness.say("how does arimadex cause bone loss"))
    assert again.text is not None and again.text != first.text
    assert "estradiol" in again.text and "estradiol" not in first.text

    # /reflect: a prompt, a reply, a journal entry.
    prompt = only(await harness.say("/reflect"))
    assert prompt.text is not None and prompt.text.startswith("A moment to reflect")
    assert labels(prompt) == [harness.label("another_prompt"), harness.label("cancel")]
    async with harness.session() as session:
        dialog = await repo.get_dialog(session, uid)
    assert dialog is not None and dialog.flow == "reflect"
    prompt_key = dialog.data["prompt"]
    entry = "Writing this down helps me feel calmer about the scans."
    saved = only(await harness.say(entry))
    assert saved.text is not None and saved.text.startswith("Saved to your private journal")
    async with harness.session() as session:
        journal = await repo.list_journal_entries(session, uid)
        dialog = await repo.get_dialog(session, uid)
    assert [(e.text, e.prompt_key) for e in journal] == [(entry, prompt_key)]
    assert dialog is None

    # /questions: add one inline, list it, remove it.
    added = only(await harness.say("/questions Do I need a baseline scan?"))
    assert added.text == harness.ui("question_added", count=1)
    listing = only(await harness.say("/questions"))
    assert listing.text is not None and "1. Do I need a baseline scan?" in listing.text
    remove = harness.label("remove_question", number=1)
    assert remove in labels(listing)
    assert await harness.press(listing, remove) == []
    assert harness.last().message_id == listing.message_id
    assert "Your list is empty" in (harness.last().text or "")
    async with harness.session() as session:
        assert await repo.list_saved_questions(session, uid) == []

    # Suggested questions, and "Add: …" saves one.
    ideas = only(await harness.say("what should I ask my doctor"))
    add_labels = [label for label in labels(ideas) if label.startswith("Add: ")]
    assert "Add: Did I have a baseline DEXA scan?" in add_labels and len(add_labels) >= 3
    confirmation = only(await harness.press(ideas, "Add: Did I have a baseline DEXA scan?"))
    assert confirmation.text == harness.ui("question_added", count=1)
    async with harness.session() as session:
        questions = await repo.list_saved_questions(session, uid)
    assert [q.text for q in questions] == ["Did I have a baseline DEXA scan?"]

    # /mydata: a JSON document with everything stored.
    document_message = only(await harness.say("/mydata"))
    document = document_message.document
    assert isinstance(document, UploadedFile) and document.filename.endswith(".json")
    exported = json.loads(document.data)
    assert exported["user"]["id"] == uid and exported["user"]["profile"] == "man_trt"
    assert [q["text"] for q in exported["saved_questions"]] == ["Did I have a baseline DEXA scan?"]
    assert [e["text"] for e in exported["journal"]] == [entry]

    # /forget, confirmed: every row about the patient is gone.
    confirm = only(await harness.say("/forget"))
    assert labels(confirm) == [harness.label("forget_yes"), harness.label("forget_no")]
    assert await harness.press(confirm, harness.label("forget_yes")) == []
    assert harness.last().text == harness.ui("forget_done")
    async with harness.session() as session:
        assert await repo.get_user(session, uid) is None
        remaining = await repo.export_user_data(session, uid)
    assert remaining["user"] is None and remaining["dialog"] is None
    assert remaining["journal"] == remaining["saved_questions"] == remaining["scans"] == []
    assert remaining["reminders"] == []

    # The bot still answers questions.
    answer = only(await harness.say("what is a dexa scan?"))
    assert answer.text is not None and "DEXA" in answer.text and "Source:" in answer.text
    assert harness.errors == []


SPEC_PATIENT_COMMANDS = [
    "start", "help", "topics", "scan", "reminders", "timezone",
    "reflect", "questions", "settings", "mydata", "forget", "stop",
]  # fmt: skip


async def test_menu_and_help_offer_every_patient_command_and_each_one_works(harness: Harness) -> None:
    await consent(harness)
    menu = [c["command"] for commands in harness.fake.commands.values() for c in commands]
    assert set(SPEC_PATIENT_COMMANDS) <= set(menu)
    help_text = only(await harness.say("/help")).text
    assert help_text is not None
    assert [c for c in SPEC_PATIENT_COMMANDS if f"/{c}" not in help_text] == []
    unknown = harness.ui("unknown_command", command="/x").split("/x")[0]
    for command in menu:
        replies = await harness.say(f"/{command}")
        assert replies, command
        assert not (replies[0].text or "").startswith(unknown), command
    assert harness.errors == []


# -- consent ---------------------------------------------------------------------------------------


async def test_declining_consent_still_allows_questions(harness: Harness) -> None:
    welcome = only(await harness.say("/start"))
    (declined,) = await harness.press(welcome, harness.label("consent_no"))
    assert declined.text == harness.ui("consent_declined")
    assert harness.fake.messages_to(harness.user["id"])[0].buttons == []
    async with harness.session() as session:
        user = await repo.get_user(session, harness.user["id"])
    assert user is not None and user.consent is False

    answer = only(await harness.say("how often should I have a DEXA scan"))
    assert answer.text is not None and "Source:" in answer.text


async def test_reflect_after_declining_asks_again_and_resumes_with_its_prompt(harness: Harness) -> None:
    uid = harness.user["id"]
    welcome = only(await harness.say("/start"))
    await harness.press(welcome, harness.label("consent_no"))

    asked = only(await harness.say("/reflect"))
    assert asked.text == harness.ui("consent_needed", feature=harness.label("feature_journal"))
    assert labels(asked) == [harness.label("consent_yes"), harness.label("consent_no")]
    async with harness.session() as session:
        assert await repo.list_journal_entries(session, uid) == []

    resumed = await harness.press(asked, harness.label("consent_yes"))
    assert resumed[0].text == harness.ui("consent_given")
    assert len(resumed) == 2
    assert resumed[1].text is not None and resumed[1].text.startswith("A moment to reflect")
    async with harness.session() as session:
        user = await repo.get_user(session, uid)
        dialog = await repo.get_dialog(session, uid)
    assert user is not None and user.consent is True
    assert dialog is not None and dialog.flow == "reflect"

    only(await harness.say("I am more hopeful than last month."))
    async with harness.session() as session:
        journal = await repo.list_journal_entries(session, uid)
    assert [entry.text for entry in journal] == ["I am more hopeful than last month."]


async def test_questions_argument_before_consent_is_saved_after_consent(harness: Harness) -> None:
    uid = harness.user["id"]
    asked = only(await harness.say("/questions Should I take calcium with my letrozole?"))
    assert asked.text == harness.ui("consent_needed", feature=harness.label("feature_questions"))
    async with harness.session() as session:
        assert await repo.list_saved_questions(session, uid) == []

    replies = await harness.press(asked, harness.label("consent_yes"))
    assert [reply.text for reply in replies] == [
        harness.ui("consent_given"),
        harness.ui("question_added", count=1),
    ]
    async with harness.session() as session:
        saved = await repo.list_saved_questions(session, uid)
    assert [q.text for q in saved] == ["Should I take calcium with my letrozole?"]


async def test_suggested_question_tapped_before_consent_is_saved_after_consent(harness: Harness) -> None:
    ideas = only(await harness.say("what should I ask my doctor"))
    asked = only(await harness.press(ideas, "Add: When is my next DEXA scan due?"))
    assert asked.text == harness.ui("consent_needed", feature=harness.label("feature_questions"))
    replies = await harness.press(asked, harness.label("consent_yes"))
    assert [reply.text for reply in replies] == [
        harness.ui("consent_given"),
        harness.ui("question_added", count=1),
    ]
    async with harness.session() as session:
        saved = await repo.list_saved_questions(session, harness.user["id"])
    assert [q.text for q in saved] == ["When is my next DEXA scan due?"]


async def test_forget_declined_keeps_everything(harness: Harness) -> None:
    await consent(harness)
    only(await harness.say("/questions Will my bones recover?"))
    confirm = only(await harness.say("/forget"))
    assert await harness.press(confirm, harness.label("forget_no")) == []
    assert harness.last().text == harness.ui("forget_cancelled")
    async with harness.session() as session:
        saved = await repo.list_saved_questions(session, harness.user["id"])
        user = await repo.get_user(session, harness.user["id"])
    assert [q.text for q in saved] == ["Will my bones recover?"]
    assert user is not None and user.consent is True


async def test_typed_tell_me_more_goes_deeper_on_the_last_answer(harness: Harness) -> None:
    first = only(await harness.say("what is a dexa scan?"))
    deeper = only(await harness.say("tell me more"))
    assert deeper.text is not None and deeper.text != first.text
    assert "dual-energy X-ray absorptiometry" in deeper.text


async def test_typed_tell_me_more_after_a_content_update_still_gets_a_reply(harness: Harness) -> None:
    # The last answer's intent was retired by a content release since the patient read it.
    only(await harness.say("what is a dexa scan?"))
    async with harness.session() as session:
        await repo.update_user(session, harness.user["id"], last_intent="retired_intent", last_level="short")
    before = len(harness.fake.messages_to(harness.user["id"]))
    await harness.fake.send_text(harness.user, "tell me more", expect_reply=False)
    with contextlib.suppress(TimeoutError):  # a missing reply should fail the test in a second, not five
        await harness.fake.wait_until(
            lambda: len(harness.fake.messages_to(harness.user["id"])) > before, timeout=1.0
        )
    await harness.fake.settle()
    replies = harness.fake.messages_to(harness.user["id"])[before:]
    assert len(replies) == 1 and replies[0].text
    assert harness.errors == []


async def test_a_reflection_left_for_days_is_not_resumed(harness: Harness) -> None:
    await consent(harness)
    only(await harness.say("/reflect"))
    harness.clock.advance(days=3)
    answer = only(await harness.say("what is a dexa scan?"))
    assert answer.text is not None and "DEXA" in answer.text and "Source:" in answer.text
    async with harness.session() as session:
        assert await repo.list_journal_entries(session, harness.user["id"]) == []
        assert await repo.get_dialog(session, harness.user["id"]) is None


async def test_scan_request_in_words_asks_for_consent_first(harness: Harness) -> None:
    uid = harness.user["id"]
    welcome = only(await harness.say("/start"))
    await harness.press(welcome, harness.label("consent_no"))

    replies = await harness.say("remind me about my dexa scan")
    assert harness.ui("consent_needed", feature=harness.label("feature_scan")) in [r.text for r in replies]
    if replies[-1].buttons and "tz:Europe/London" in [b.get("callback_data") for b in replies[-1].buttons]:
        await harness.press(replies[-1], "tz:Europe/London")
        await harness.say("15 March")
    async with harness.session() as session:
        stored = await repo.export_user_data(session, uid)
    assert stored["scans"] == [] and stored["reminders"] == []
    assert stored["user"]["timezone"] is None


# -- safety ----------------------------------------------------------------------------------------


async def test_urgent_symptoms_come_first_with_only_the_country_choice(harness: Harness) -> None:
    replies = await harness.say("I fell and can't get up")
    assert replies, "no reply to an urgent message"
    urgent = replies[0]
    assert urgent.text is not None and urgent.text.startswith("Please get medical help now.")
    # No country is known: the international numbers, and one tap to get the patient's own.
    assert "112" in urgent.text
    assert [b["text"] for b in urgent.buttons] == ["Show my country's numbers"]
    assert all(reply.buttons == [] for reply in replies[1:])


async def test_urgent_reply_comes_alone_for_a_patient_returning_after_blocking_the_bot(
    harness: Harness,
) -> None:
    await consent(harness)
    async with harness.session() as session:
        assert await repo.set_blocked(session, harness.user["id"], True)
    urgent = only(await harness.say("I fell and can't get up"))
    assert urgent.text is not None and urgent.text.startswith("Please get medical help now.")


async def test_crisis_mid_reflection_is_answered_and_the_reflection_still_waits(harness: Harness) -> None:
    uid = harness.user["id"]
    await consent(harness)
    only(await harness.say("/reflect"))

    crisis = only(await harness.say("I want to end my life"))
    assert crisis.text is not None and crisis.text.startswith("Please reach out for help right now.")
    assert [b["callback_data"] for b in crisis.buttons] == ["country"]
    async with harness.session() as session:
        dialog = await repo.get_dialog(session, uid)
        assert await repo.list_journal_entries(session, uid) == []
    assert dialog is not None and (dialog.flow, dialog.step) == ("reflect", "await_entry")

    saved = only(await harness.say("Today was hard but I talked to my sister."))
    assert saved.text is not None and saved.text.startswith("Saved to your private journal")
    async with harness.session() as session:
        journal = await repo.list_journal_entries(session, uid)
    assert [entry.text for entry in journal] == ["Today was hard but I talked to my sister."]


@pytest.mark.parametrize(
    ("zone", "expected", "absent"),
    [
        ("Europe/London", "Call 999", "911"),
        ("America/New_York", "Call 911", "999"),
        ("UTC", "Call 112 (works from mobile phones in most countries)", "999"),
    ],
)
async def test_urgent_reply_names_the_emergency_number_of_the_patients_time_zone(
    harness: Harness, zone: str, expected: str, absent: str
) -> None:
    await consent(harness)
    assert only(await harness.say(f"/timezone {zone}")).text == harness.ui(
        "timezone_set", zone=zone, skipped=False, moved=0
    )

    urgent = only(await harness.say("I fell and can't get up"))
    assert urgent.text is not None
    assert expected in urgent.text
    assert absent not in urgent.text


# -- interface text --------------------------------------------------------------------------------


async def test_reflection_prompt_shows_its_formatting_not_tags(harness: Harness) -> None:
    await consent(harness)
    prompt = only(await harness.say("/reflect"))
    assert prompt.text is not None and "<i>" not in prompt.text and "&lt;" not in (prompt.source or "")


async def test_settings_overview_puts_each_setting_on_its_own_line(harness: Harness) -> None:
    await consent(harness)
    overview = only(await harness.say("/settings"))
    assert overview.text is not None
    lines = overview.text.splitlines()
    for name in ("About you:", "Medicine:", "Answer depth:", "Time zone:", "Scan reminders:"):
        assert any(line.startswith(f"• {name}") for line in lines), (name, lines)
    assert sum(line.count("•") for line in lines) == len([line for line in lines if "•" in line])

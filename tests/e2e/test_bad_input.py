"""Input a patient (or anyone) can send that the bot must survive: odd commands, markup, forged buttons."""

from __future__ import annotations

from typing import Any

from bot.storage import repositories as repo
from tests import factories
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage

MARKUP = "<b>bold</b> <script> &amp;"


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0]


async def stored(harness: Harness, user: dict[str, Any] | None = None) -> dict[str, Any]:
    async with harness.session() as session:
        return await repo.export_user_data(session, (user or harness.user)["id"])


async def test_unknown_command_gets_a_polite_reply_pointing_to_help(harness: Harness) -> None:
    reply = only(await harness.say("/frobnicate"))
    assert reply.text == harness.ui("unknown_command", command="/frobnicate")
    assert reply.text is not None and "/frobnicate" in reply.text and "/help" in reply.text


async def test_unknown_command_with_markup_is_echoed_as_text(harness: Harness) -> None:
    reply = only(await harness.say("/x<b>y</b>&amp;"))
    assert reply.text is not None and "/x<b>y</b>&amp;" in reply.text
    assert reply.source is not None and "<b>y" not in reply.source


async def test_blank_message_gets_the_empty_message_reply(harness: Harness) -> None:
    assert only(await harness.say("     ")).text == harness.ui("empty_message")
    async with harness.session() as session:
        assert await repo.top_unanswered(session, harness.clock.now.replace(year=2000)) == []


async def test_a_5000_character_message_is_read_in_part_and_answered(harness: Harness) -> None:
    question = ("what is a dexa scan " * 250)[:5000]
    replies = await harness.say(question)
    assert len(replies) == 2
    assert replies[0].text == harness.ui("too_long", limit=1000)
    assert replies[1].text is not None and "DEXA" in replies[1].text and "Source:" in replies[1].text
    assert harness.fake.violations == [] and harness.errors == []


async def test_a_5000_character_question_for_the_list_is_refused_kindly(harness: Harness) -> None:
    await harness.consent()
    reply = only(await harness.say("/questions " + "why " * 1250))
    assert reply.text == harness.ui("question_too_long", limit=500)
    assert (await stored(harness))["saved_questions"] == []


async def test_markup_in_text_never_breaks_html_and_is_echoed_escaped(harness: Harness) -> None:
    await harness.consent()
    # As a question: whatever the bot says, every request it makes must be valid HTML.
    assert await harness.say(MARKUP)
    # Saved to the list and shown back exactly as typed.
    assert only(await harness.say(f"/questions {MARKUP}")).text == harness.ui("question_added", count=1)
    listing = only(await harness.say("/questions"))
    assert listing.text is not None and f"1. {MARKUP}" in listing.text
    assert [q["text"] for q in (await stored(harness))["saved_questions"]] == [MARKUP]
    # As a journal entry, stored unchanged.
    only(await harness.say("/reflect"))
    only(await harness.say(MARKUP))
    assert [e["text"] for e in (await stored(harness))["journal"]] == [MARKUP]
    # A first name with markup is greeted as written.
    stranger = factories.make_user(777001, "<Sam & Co>")
    welcome = only(await harness.say("/start", stranger))
    assert welcome.text is not None and welcome.text.startswith("Hello <Sam & Co>, and welcome")
    assert harness.fake.violations == [] and harness.errors == []


async def test_forged_button_data_gets_the_expired_notice_and_changes_nothing(harness: Harness) -> None:
    other = harness.new_user("Robin")
    await harness.consent(other)
    only(await harness.say("/questions Is my bone density getting worse?", other))
    await harness.consent()
    only(await harness.say("/questions Do I need a baseline scan?"))
    async with harness.session() as session:
        (others_question,) = await repo.list_saved_questions(session, other["id"])

    answer = only(await harness.say("what is a dexa scan?"))
    text_before, edits_before = answer.text, answer.edits
    mine_before, theirs_before = await stored(harness), await stored(harness, other)
    expired = harness.ui("expired_button")
    forged = [
        "more:nonexistent:X",
        "qdel:999999",
        "rem:ack:1",
        "garbage",
        "ÿ" * 32,  # 64 bytes of junk
        "~!@#$%^&*()_+{}|\"<>?`-=[]\\;',./" * 2,
        f"qdel:{others_question.id}",
        "topic:crisis",
        "group:nowhere",
        "set:profile:admin",
        "tz:Mars/Olympus_Mons",
        "ics:424242",
        "next:1:1y",
        "scandate:2027-02-30",
        "bc:send:1",
        "qadd:99",
        "reflect:p9_none",
    ]
    # Pressed all at once: the bot handles updates concurrently, as it would a burst of presses.
    before = len(harness.fake.messages_to(harness.user["id"]))
    updates = [factories.make_callback_update(data, answer.payload, harness.user) for data in forged]
    for update in updates:
        harness.fake.push_update(update)
    # settle() alone could return while handlers still wait for the database, before they answer.
    ids = {str(u["callback_query"]["id"]) for u in updates}
    await harness.fake.wait_until(lambda: ids <= set(harness.fake.callback_answers), timeout=10)
    await harness.fake.settle()
    answers = [harness.fake.callback_answers.get(str(u["callback_query"]["id"])) for u in updates]
    assert [(a or {}).get("text") for a in answers] == [expired] * len(forged), list(
        zip(forged, answers, strict=True)
    )
    assert harness.fake.messages_to(harness.user["id"])[before:] == []
    assert (answer.text, answer.edits) == (text_before, edits_before)
    assert await stored(harness) == mine_before
    assert await stored(harness, other) == theirs_before
    assert harness.errors == [] and harness.fake.unanswered_callback_queries() == []


async def test_forged_tell_me_more_for_an_unknown_topic_answers_with_the_expired_toast(
    harness: Harness,
) -> None:
    answer = only(await harness.say("what is a dexa scan?"))
    query_answer, replies = await harness.press_data(answer, "more:nonexistent:I")
    assert query_answer is not None and query_answer.get("text") == harness.ui("expired_button")
    assert replies == []


async def test_buttons_pressed_after_forget_are_expired_and_restore_nothing(harness: Harness) -> None:
    await harness.consent()
    only(await harness.say("/questions Do I need a baseline scan?"))
    listing = only(await harness.say("/questions"))
    confirm = only(await harness.say("/forget"))
    await harness.press(confirm, harness.label("forget_yes"))
    assert (await stored(harness))["user"] is None

    query_answer, replies = await harness.press_data(
        listing, str(listing.button("Remove question 1")["callback_data"])
    )
    assert query_answer is not None and query_answer.get("text") == harness.ui("expired_button")
    assert replies == []
    after = await stored(harness)
    assert after["saved_questions"] == [] and after["journal"] == []
    assert after["user"] is None or after["user"]["consent"] is None
    assert harness.errors == []


async def test_a_burst_of_messages_from_a_new_patient_is_all_answered(harness: Harness) -> None:
    patient = harness.new_user()
    texts = [
        "hello",
        "what is a dexa scan?",
        "/start",
        "/questions hi",
        "I fell and can't get up",
        "/reflect",
    ]
    first = harness.next_message_id(patient["id"])
    # Pushed together: the bot handles them concurrently, and the patient's row is created only once.
    for offset, text in enumerate(texts):
        harness.fake.push_update(
            {"message": factories.make_message(text, user=patient, message_id=first + offset)}
        )
    # settle() alone could return while a handler still waits for the database, before it sends anything.
    await harness.fake.wait_until(
        lambda: len(harness.fake.messages_to(patient["id"])) >= len(texts), timeout=10
    )
    await harness.fake.settle(timeout=10)
    replies = [m.text or "" for m in harness.fake.messages_to(patient["id"])]
    assert len(replies) == len(texts), replies
    assert sum(reply.startswith("Please get medical help now.") for reply in replies) == 1
    assert harness.errors == [] and harness.fake.violations == []
    async with harness.session() as session:
        assert await repo.get_user(session, patient["id"]) is not None


async def test_edited_messages_are_ignored(harness: Harness) -> None:
    asked = await harness.fake.send_text(harness.user, "what is a dexa scan?")
    assert asked
    question_id = max(m.message_id for m in harness.fake.history(harness.user["id"]) if not m.from_bot)
    edit = factories.make_edited_message_update(
        "I fell and can't get up", harness.user, message_id=question_id
    )
    assert await harness.send(edit, harness.user["id"], expect_reply=False) == []
    # A message sent after the edit is the only one answered.
    assert only(await harness.say("/help")).text == harness.ui("help")
    assert harness.errors == []


async def test_channel_posts_are_ignored(harness: Harness) -> None:
    channel = factories.make_channel_chat()
    post = factories.make_channel_post_update("what is a dexa scan?", channel)
    mark = harness.fake.mark()
    assert await harness.send(post, channel["id"], expect_reply=False) == []
    only(await harness.say("/help"))
    assert all(r.chat_id != channel["id"] for r in harness.fake.requests[mark:])
    assert harness.errors == []


async def test_nul_characters_in_saved_text_are_handled(harness: Harness) -> None:
    # PostgreSQL cannot store a NUL in text: the bot must not lose the rest of what was typed.
    await harness.consent()
    assert only(await harness.say("/questions Is\x00 this ok?")).text == harness.ui("question_added", count=1)
    only(await harness.say("/reflect"))
    saved = only(await harness.say("A note\x00 with a NUL"))
    assert saved.text is not None and saved.text.startswith("Saved to your private journal")
    assert only(await harness.say("qwzx\x00 vbnm")).text == harness.ui("out_of_scope")
    data = await stored(harness)
    assert [q["text"].replace("\x00", "") for q in data["saved_questions"]] == ["Is this ok?"]
    assert [e["text"].replace("\x00", "") for e in data["journal"]] == ["A note with a NUL"]
    assert harness.errors == []

"""Issue 8's examples through the whole running bot: follow-ups, introductions, feelings, scope, question kinds."""

from __future__ import annotations

import datetime as dt

from bot.storage import repositories as repo
from tests.e2e.conftest import Harness
from tests.fakes.bot_api import SentMessage


def labels(message: SentMessage) -> list[str]:
    return [str(button.get("text")) for button in message.buttons]


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [reply.text for reply in replies]
    return replies[0]


def said(replies: list[SentMessage]) -> str:
    return "\n\n".join(reply.text or "" for reply in replies)


async def last_answer(harness: Harness) -> tuple[str | None, str | None]:
    user = await harness.db_user()
    assert user is not None
    return user.last_intent, user.last_level


async def test_followups_are_read_against_the_last_answer(harness: Harness) -> None:
    out_of_scope = harness.ui("out_of_scope").splitlines()[0]
    rate = only(await harness.say("how much bone will I lose each year on letrozole"))
    assert "2–4%" in (rate.text or "")

    a_lot = only(await harness.say("is that a lot?"))
    assert "You're very welcome" not in (a_lot.text or "")
    assert "~1–2%" in (a_lot.text or "") and "Source:" in (a_lot.text or "")
    assert await last_answer(harness) == ("bone_loss_rate", "I")

    why = only(await harness.say("why?"))
    assert await last_answer(harness) == ("ai_bone_loss_mechanism", "short")
    assert out_of_scope not in (why.text or "")

    men = only(await harness.say("what about men?"))
    assert "TRT" in (men.text or "") or "estradiol" in (men.text or "")

    assert only(await harness.say("what is a dexa scan"))
    often = only(await harness.say("and how often?"))
    assert await last_answer(harness) == ("dexa_schedule", "short")
    assert "Source:" in (often.text or "")

    await harness.say("will I break a bone")
    spine = only(await harness.say("what about my spine?"))
    assert (await last_answer(harness))[0] == "fracture_risk" and "spine" in (spine.text or "").lower()

    await harness.say("what are bisphosphonates")
    only(await harness.say("the other one"))
    assert (await last_answer(harness))[0] == "denosumab"


async def test_introductions_without_consent_are_kept_for_the_conversation_only(harness: Harness) -> None:
    replies = await harness.say(
        "hi im 62 and my oncologist just put me on letrozole and im scared about my bones"
    )
    assert len(replies) == 2
    welcome, feelings = replies
    assert "letrozole (Femara)" in (welcome.text or "") and "won't save it" in (welcome.text or "")
    assert harness.label("topics") in labels(welcome)
    assert "What you're feeling is real" in (feelings.text or "")
    user = await harness.db_user()
    assert user is not None and user.profile == "other" and user.medicine is None  # nothing stored

    # ...but the conversation remembers: the next answer is written for her and names her medicine.
    answer = only(await harness.say("how do I feel about all this, I'm so worried"))
    assert "letrozole (Femara)" in (answer.text or "")

    # /forget drops what the conversation kept.
    confirm = only(await harness.say("/forget"))
    await harness.press(confirm, harness.label("forget_yes"))
    answer = only(await harness.say("im so worried"))
    assert "letrozole" not in (answer.text or "")


async def test_a_caregiver_introduction_with_consent_sets_the_profile(harness: Harness) -> None:
    await harness.consent()
    welcome = only(await harness.say("im asking for my mom, shes 71 and on arimidex"))
    assert "the person you care for" in (welcome.text or "")
    assert "saved this to your settings" in (welcome.text or "")
    user = await harness.db_user()
    assert user is not None and (user.profile, user.medicine) == ("caregiver", "anastrozole")
    answer = only(await harness.say("how fast do bones thin on it"))
    assert "their" in (answer.text or "") or "the person you care for" in (answer.text or "")


async def test_a_yes_typed_at_the_consent_question_gives_consent(harness: Harness) -> None:
    asked = only(await harness.say("/questions"))
    assert labels(asked) == [harness.label("consent_yes"), harness.label("consent_no")]
    replies = await harness.say("yes")
    assert replies[0].text == harness.ui("consent_given")
    user = await harness.db_user()
    assert user is not None and user.consent is True


async def test_feelings_and_small_talk_are_not_turned_away(harness: Harness) -> None:
    out_of_scope = harness.ui("out_of_scope").splitlines()[0]
    for message in ("i am scared", "she cries a lot"):
        reply = only(await harness.say(message))
        assert "feeling" in (reply.text or "") and out_of_scope not in (reply.text or ""), message
    for message in ("ok", "👍", "who are you"):
        reply = only(await harness.say(message))
        assert out_of_scope not in (reply.text or ""), message
        assert len(reply.text or "") < 400, message
    human = only(await harness.say("can i talk to a human"))
    assert "no person reads this chat" in (human.text or "") and "care team" in (human.text or "")
    asked = only(await harness.press(human, harness.label("add_own_question")))
    assert labels(asked) == [harness.label("consent_yes"), harness.label("consent_no")]


async def test_neighbouring_topics_are_not_covered_and_go_to_the_question_list(harness: Harness) -> None:
    await harness.consent()
    hrt = only(await harness.say("can i take hrt or estrogen to protect my bones"))
    assert "doesn't cover" in (hrt.text or "") and "oncologist" in (hrt.text or "")
    assert "Source:" not in (hrt.text or "")
    assert (await last_answer(harness))[0] is None  # no intent answered it
    ask = only(await harness.press(hrt, harness.label("add_own_question")))
    assert ask.text == harness.ui("question_ask")
    saved = only(await harness.say("Can I take HRT or estrogen for my bones?"))
    assert saved.text == harness.ui("question_added", count=1)
    async with harness.session() as session:
        kept = await repo.top_unanswered(session, harness.clock() - dt.timedelta(days=1))
    assert [text for text, _ in kept] == ["can i take hrt or estrogen to protect my bones"]  # for the report
    for question in (
        "will chemo affect my bones",
        "my jaw hurts after zoledronic acid",
        "is letrozole worse than anastrozole for bones",
        "what should my estradiol level be",
    ):
        reply = only(await harness.say(question))
        assert "doesn't cover" in (reply.text or ""), question
        assert harness.label("add_own_question") in labels(reply), question


async def test_the_kind_of_question_reaches_the_content_that_answers_it(harness: Harness) -> None:
    for question, intent in (
        ("does prolia work", "treatment_evidence"),
        ("how much will my fracture risk go down with prolia", "treatment_evidence"),
        (
            "my oncologist said my baseline scan showed osteopenia. does that mean i need a bone drug?",
            "choosing_treatment",
        ),
        ("what medicine can fix it if my bones are already thin", "choosing_treatment"),
    ):
        reply = only(await harness.say(question))
        assert (await last_answer(harness))[0] == intent, question
        assert "Source:" in (reply.text or ""), question


# -- dates and places by locale -------------------------------------------------------------------------


async def chicago_patient(harness: Harness) -> None:
    await harness.consent()
    replies = await harness.say("/timezone Chicago")
    assert "America/Chicago" in (replies[-1].text or "")


async def test_a_month_first_date_from_chicago_is_read_month_first(harness: Harness) -> None:
    await chicago_patient(harness)
    saved = await harness.say("/scan 3/24/2027")
    assert "Wednesday 24 March 2027" in said(saved)
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_date.isoformat() == "2027-03-24"


async def test_an_ambiguous_date_gets_a_one_tap_question_month_first_in_chicago(harness: Harness) -> None:
    await chicago_patient(harness)
    asked = only(await harness.say("/scan 3/4/2027"))
    assert labels(asked)[:2] == ["Thursday 4 March 2027", "Saturday 3 April 2027"]
    assert await harness.db_scan() is None
    saved = await harness.press(asked, "Thursday 4 March 2027")
    assert "Thursday 4 March 2027" in said(saved)
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_date.isoformat() == "2027-03-04"
    # That tap chose the order: the next numeric date is read month first without asking.
    user = await harness.db_user()
    assert user is not None and (user.date_order, user.date_order_chosen) == ("MDY", True)
    changed = await harness.say("/scan 5/6/2027")
    assert "Thursday 6 May 2027" in said(changed)


async def test_a_chosen_date_order_is_followed_without_asking(harness: Harness) -> None:
    await chicago_patient(harness)
    async with harness.session() as session:
        await repo.update_user(session, harness.user["id"], date_order="DMY", date_order_chosen=True)
    saved = await harness.say("/scan 3/4/2027")
    assert "Saturday 3 April 2027" in said(saved)


async def test_a_state_a_date_and_a_question_at_the_time_zone_step(harness: Harness) -> None:
    await harness.consent()
    asked = await harness.say("/scan")
    assert "time zone" in said(asked)

    # A question typed here is answered, and the step stays open.
    answer = only(await harness.say("what is a dexa scan?"))
    assert "Source:" in (answer.text or "")
    dialog = await harness.db_dialog()
    assert dialog is not None and (dialog.flow, dialog.step) == ("scan", "await_timezone")

    # A date typed here is kept, not dropped.
    kept = only(await harness.say("3/24/2027"))
    assert kept.text == harness.ui("timezone_date_first")
    assert harness.label("timezone_skip", zone="UTC").split(" (")[0] in " ".join(labels(kept))

    # A US state is a place: the zone is set and the kept date is saved, read month first there.
    done = await harness.say("ohio")
    assert "America/New_York" in said(done)
    scan = await harness.db_scan()
    assert scan is not None and scan.scan_date.isoformat() == "2027-03-24"
    assert scan.timezone == "America/New_York"


async def test_an_introduction_is_saved_once_the_patient_agrees(harness: Harness) -> None:
    welcome = (await harness.say("45M on TRT with anastrozole"))[0]
    assert "won't save it" in (welcome.text or "")
    user = await harness.db_user()
    assert user is not None and user.profile == "other"
    await harness.consent()
    user = await harness.db_user()
    assert user is not None and (user.profile, user.medicine) == ("man_trt", "anastrozole")


async def test_follow_ups_are_kept_per_chat(harness: Harness) -> None:
    from tests import factories

    group = factories.make_group_chat()
    await harness.say("what are bisphosphonates")
    answer = await harness.say_in(group, "what is a dexa scan")
    assert answer and "Source:" in (answer[0].text or "")
    # The group's answer is not what "the other one" refers to in the private chat.
    only(await harness.say("the other one"))
    assert (await last_answer(harness))[0] == "denosumab"
    # And in the group, the private answer is not a context to resolve against.
    reply = only(await harness.say_in(group, "the other one"))
    assert "whole question" in (reply.text or "")

"""Care teams through the whole application: creating a team, joining, invites, authorization, contacts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.storage import Database
from bot.storage.repositories import teams
from tests.e2e.conftest import Harness, running_bot
from tests.fakes.bot_api import FakeBotApi, SentMessage

ADMIN_ID = 900001
_LINK = re.compile(r"https://t\.me/BoneBotTestBot\?start=([A-Za-z0-9_-]{1,64})")


@pytest.fixture
async def bot(
    database_url: str,
    database: Database,
    fake_bot_api: FakeBotApi,
) -> AsyncIterator[Harness]:
    """Yield the bot with one operator allowed to create teams."""
    async with running_bot(database_url, database, fake_bot_api, admin_ids=frozenset({ADMIN_ID})) as running:
        yield running


def person(harness: Harness, user_id: int, name: str) -> dict[str, Any]:
    from tests.factories import make_user

    return make_user(user_id, name)


def link_code(message: SentMessage) -> str:
    match = _LINK.search(message.text or "")
    assert match, message.text
    return match.group(1)


async def create_team(harness: Harness, name: str = "Bone Clinic") -> tuple[dict[str, Any], str]:
    """Create a team as the operator and return the operator and the patient join code."""
    admin = person(harness, ADMIN_ID, "Nurse")
    replies = await harness.say(f"/newteam {name}", admin)
    assert name in (replies[0].text or "")
    card = await harness.say("/team", admin)
    text_message = next(m for m in card if m.text and "Join link" in m.text)
    return admin, link_code(text_message)


async def team_id_of(harness: Harness, code: str) -> int:
    async with harness.session() as session:
        lookup = await teams.lookup_code(session, code, harness.clock())
    assert lookup.team is not None
    return lookup.team.id


async def test_only_operators_create_teams_and_the_team_card_has_a_link_and_qr_code(bot: Harness) -> None:
    refused = await bot.say("/newteam Sneaky Team")
    assert refused[0].text == bot.ui("team_admin_only")
    async with bot.session() as session:
        assert await teams.list_staff_teams(session, bot.user["id"]) == []
    admin = person(bot, ADMIN_ID, "Nurse")
    assert (await bot.say("/newteam", admin))[0].text == bot.ui("team_name_needed", limit=64)
    await bot.say("/newteam Bone Clinic", admin)
    mark = bot.fake.mark()
    card = await bot.say("/team", admin)
    text = card[0].text or ""
    assert "Bone Clinic" in text and "Patients: 0" in text and "Staff: 1" in text
    code = link_code(card[0])
    assert len(code) <= 64
    (photo,) = bot.fake.calls("sendPhoto", since=mark)
    assert photo.ok and photo.params["photo"].data.startswith(b"\x89PNG")
    labels = [b["text"] for b in card[0].buttons]
    assert labels == [
        bot.label("team_invite"),
        bot.label("team_rotate"),
        bot.label("team_contact"),
        bot.label("team_leave"),
    ]


async def test_a_new_patient_consents_joins_sees_what_the_team_sees_and_leaves(bot: Harness) -> None:
    _, code = await create_team(bot)
    patient = bot.new_user("Ann")
    (question,) = await bot.say(f"/start {code}", patient)
    assert "Bone Clinic" in (question.text or "") and "never see" in (question.text or "")
    assert (await bot.db_user(patient)).consent is None  # type: ignore[union-attr]
    (joined,) = await bot.press(question, bot.label("join_yes"), patient)
    text = joined.text or ""
    assert "You joined Bone Clinic" in text
    assert "your messages, your questions, your journal, your profile or your scan dates" in text
    user = await bot.db_user(patient)
    assert user is not None and user.consent is True
    team_id = await team_id_of(bot, code)
    async with bot.session() as session:
        assert await teams.is_patient(session, team_id, patient["id"])
    # Opening the link again says so and changes nothing.
    (again,) = await bot.say(f"/start {code}", patient)
    assert again.text == bot.ui("join_already", team="Bone Clinic")
    (listing,) = await bot.say("/teams", patient)
    assert "Bone Clinic" in (listing.text or "")
    (confirm,) = await bot.press(listing, bot.label("leave_team", team="Bone Clinic"), patient)
    await bot.press(confirm, bot.label("leave_team_yes"), patient)
    async with bot.session() as session:
        assert not await teams.is_patient(session, team_id, patient["id"])
    assert (await bot.say("/teams", patient))[0].text == bot.ui("teams_none")


async def test_declining_to_join_stores_nothing(bot: Harness) -> None:
    _, code = await create_team(bot)
    patient = bot.new_user("Bea")
    (question,) = await bot.say(f"/start {code}", patient)
    (declined,) = await bot.press(question, bot.label("join_no"), patient)
    assert declined.text == bot.ui("join_declined", team="Bone Clinic")
    async with bot.session() as session:
        assert await teams.list_patient_teams(session, patient["id"]) == []


async def test_a_consenting_user_joins_at_once_and_a_paused_one_is_resumed(bot: Harness) -> None:
    _, code = await create_team(bot)
    await bot.consent()
    await bot.say("/stop")
    replies = await bot.say(f"/start {code}")
    assert next(m.text for m in replies) == bot.ui("resumed")
    assert "You joined Bone Clinic" in (replies[1].text or "")
    assert (await bot.db_user()).paused is False  # type: ignore[union-attr]


async def test_wrong_rotated_codes_get_clear_messages_and_guessing_is_limited(bot: Harness) -> None:
    _admin, code = await create_team(bot)
    team_id = await team_id_of(bot, code)
    async with bot.session() as session:
        new_code = await teams.rotate_join_code(session, team_id, bot.clock())
    patient = bot.new_user("Cal")
    assert (await bot.say(f"/start {code}", patient))[0].text == bot.ui(
        "join_code_rotated", team="Bone Clinic"
    )
    assert (await bot.say("/start NotARealCode123", patient))[0].text == bot.ui("join_code_unknown")
    for guess in range(3):
        await bot.say(f"/start guess{guess}", patient)
    # Five failures within the hour: even the right code is not checked now.
    assert (await bot.say(f"/start {new_code}", patient))[0].text == bot.ui("join_rate_limited")
    async with bot.session() as session:
        assert await teams.list_patient_teams(session, patient["id"]) == []
    bot.clock.advance(hours=1, seconds=1)
    (question,) = await bot.say(f"/start {new_code}", patient)
    assert bot.label("join_yes") in [b["text"] for b in question.buttons]


async def test_a_staff_invite_works_once_and_expires(bot: Harness) -> None:
    admin, code = await create_team(bot)
    card = (await bot.say("/team", admin))[0]
    (invite,) = await bot.press(card, bot.label("team_invite"), admin)
    invite_code = link_code(invite)
    colleague = bot.new_user("Dee")
    (welcome,) = await bot.say(f"/start {invite_code}", colleague)
    assert welcome.text == bot.ui("staff_joined", team="Bone Clinic")
    intruder = bot.new_user("Eve")
    assert (await bot.say(f"/start {invite_code}", intruder))[0].text == bot.ui("join_code_expired")
    assert (await bot.say("/broadcast hello", intruder))[0].text == bot.ui("team_not_staff", team=None)
    (late,) = await bot.press(card, bot.label("team_invite"), admin)
    bot.clock.advance(hours=24, seconds=1)
    assert (await bot.say(f"/start {link_code(late)}", intruder))[0].text == bot.ui("join_code_expired")
    team_id = await team_id_of(bot, code)
    async with bot.session() as session:
        staff = {s.user_id for s in await teams.list_staff(session, team_id)}
    assert staff == {ADMIN_ID, colleague["id"]}


async def test_outsiders_and_patients_are_refused_and_forged_buttons_change_nothing(bot: Harness) -> None:
    admin, code = await create_team(bot)
    team_id = await team_id_of(bot, code)
    patient = bot.new_user("Fay")
    (question,) = await bot.say(f"/start {code}", patient)
    await bot.press(question, bot.label("join_yes"), patient)
    refusal = bot.ui("team_not_staff", team=None)
    for who in (patient, bot.user):
        for command in ("/broadcast Clinic closed", "/team", "/stats"):
            assert (await bot.say(command, who))[0].text == refusal, (who, command)
    # Buttons from the staff's card, replayed or forged by a patient: a polite toast, nothing changes.
    card = (await bot.say("/team", admin))[0]
    for data in (
        f"tm:rotok:{team_id}",
        f"tm:invite:{team_id}",
        f"tm:leaveok:{team_id}",
        f"tm:contact:{team_id}:clear",
    ):
        answer, replies = await bot.press_data(card, data, patient)
        assert answer is not None and answer.get("text") == refusal
        assert replies == []
    async with bot.session() as session:
        assert await teams.current_join_code(session, team_id) == code
        assert [s.user_id for s in await teams.list_staff(session, team_id)] == [ADMIN_ID]
    # A staff member who left cannot use the buttons they still have.
    colleague = bot.new_user("Gus")
    (invite,) = await bot.press(card, bot.label("team_invite"), admin)
    await bot.say(f"/start {link_code(invite)}", colleague)
    old_card = (await bot.say("/team", colleague))[0]
    (confirm,) = await bot.press(old_card, bot.label("team_leave"), colleague)
    await bot.press(confirm, bot.label("team_leave_yes"), colleague)
    answer, replies = await bot.press_data(old_card, f"tm:rotok:{team_id}", colleague)
    assert answer is not None and answer.get("text") == refusal and replies == []
    async with bot.session() as session:
        assert await teams.current_join_code(session, team_id) == code
    assert bot.errors == []


async def test_the_last_staff_member_cannot_leave(bot: Harness) -> None:
    admin, _ = await create_team(bot)
    card = (await bot.say("/team", admin))[0]
    (reply,) = await bot.press(card, bot.label("team_leave"), admin)
    assert reply.text == bot.ui("team_last_staff", team="Bone Clinic")


async def test_rotating_the_join_code_gives_a_new_link_and_retires_the_old(bot: Harness) -> None:
    admin, code = await create_team(bot)
    card = (await bot.say("/team", admin))[0]
    (confirm,) = await bot.press(card, bot.label("team_rotate"), admin)
    replies = await bot.press(confirm, bot.label("team_rotate_yes"), admin)
    new_code = link_code(bot.fake.messages_to(admin["id"])[-2])
    assert new_code != code and replies
    patient = bot.new_user("Hal")
    assert (await bot.say(f"/start {code}", patient))[0].text == bot.ui(
        "join_code_rotated", team="Bone Clinic"
    )


async def test_staff_set_the_contact_route_and_patients_see_it(bot: Harness) -> None:
    admin, code = await create_team(bot)
    card = (await bot.say("/team", admin))[0]
    (menu,) = await bot.press(card, bot.label("team_contact"), admin)
    (ask,) = await bot.press(menu, bot.label("contact_phone"), admin)
    assert "phone number" in (ask.text or "")
    (saved,) = await bot.say("020 7946 0000", admin)
    assert "Phone: 020 7946 0000" in (saved.text or "")
    (ask,) = await bot.press(menu, bot.label("contact_hours"), admin)
    await bot.say("Mon-Fri 9:00-17:00", admin)
    patient = bot.new_user("Ivy")
    (question,) = await bot.say(f"/start {code}", patient)
    (joined,) = await bot.press(question, bot.label("join_yes"), patient)
    assert "Phone: 020 7946 0000" in (joined.text or "") and "Hours: Mon-Fri 9:00-17:00" in (
        joined.text or ""
    )
    (listing,) = await bot.say("/teams", patient)
    assert "Phone: 020 7946 0000" in (listing.text or "")


async def test_answers_that_send_a_patient_to_their_care_team_show_its_contact_route(bot: Harness) -> None:
    _, code = await create_team(bot)
    team_id = await team_id_of(bot, code)
    async with bot.session() as session:
        await teams.set_team_contact(session, team_id, contact_phone="020 7946 0000")
    question = "should i stop taking my anastrozole"
    outsider = bot.new_user("Kim")
    replies = await bot.say(question, outsider)
    assert replies and all("020 7946 0000" not in (m.text or "") for m in replies)
    patient = bot.new_user("Lou")
    (consent,) = await bot.say(f"/start {code}", patient)
    await bot.press(consent, bot.label("join_yes"), patient)
    replies = await bot.say(question, patient)
    assert "care team" in (replies[0].text or "").lower()
    assert "How to reach your care team" in (replies[-1].text or "")
    assert "Bone Clinic" in (replies[-1].text or "") and "Phone: 020 7946 0000" in (replies[-1].text or "")
    # An answer that does not mention the care team gets no contact block.
    replies = await bot.say("what is a dexa scan", patient)
    assert all("How to reach" not in (m.text or "") for m in replies)

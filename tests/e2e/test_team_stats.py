"""/stats for staff: counts, answers by topic, and only the unanswered questions several people asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage import Database
from bot.storage.repositories import teams
from tests.e2e.conftest import Harness, running_bot
from tests.e2e.test_broadcasts import ADMIN, ADMIN_ID, add_patients, new_team
from tests.fakes.bot_api import FakeBotApi

PARROT = "can i take my pet parrot on holiday"
CAR_PARK = "what colour is the hospital car park"


@pytest.fixture
async def bot(database_url: str, database: Database, fake_bot_api: FakeBotApi) -> AsyncIterator[Harness]:
    async with running_bot(database_url, database, fake_bot_api, admin_ids=frozenset({ADMIN_ID})) as running:
        yield running


async def test_stats_show_counts_and_only_questions_asked_by_three_people(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [710001, 710002, 710003, 710004])
    askers = [bot.new_user(f"P{n}") for n in range(3)]
    for asker in askers[:2]:
        await bot.say(PARROT, asker)
    for _ in range(3):  # one person asking three times is one asker
        await bot.say(CAR_PARK, askers[0])
    await bot.say("what is a dexa scan", askers[1])
    mark = bot.fake.mark()
    (text, chart) = await bot.say("/stats", ADMIN)
    body = text.text or ""
    assert "Patients: 4" in body and "active: 4" in body
    assert "parrot" not in body and "car park" not in body  # two askers, and one asker: not shown
    assert "DEXA" in body or "dexa" in body.lower()
    (photo,) = bot.fake.calls("sendPhoto", since=mark)
    assert photo.params["photo"].data.startswith(b"\x89PNG") and chart.caption
    await bot.say(PARROT, askers[2])
    (text, _) = await bot.say("/stats", ADMIN)
    assert f'"{PARROT}" — 3×' in (text.text or "")
    assert "car park" not in (text.text or "")
    # Who asked is nowhere: the report names no one, and the stored rows carry only a keyed hash.
    for asker in askers:
        assert str(asker["id"]) not in (text.text or "") and asker["first_name"] not in (text.text or "")


async def test_stats_are_for_staff_only_and_count_the_right_team(bot: Harness) -> None:
    first = await new_team(bot, "Alpha Clinic")
    await new_team(bot, "Beta Clinic")
    await add_patients(bot, first, [720001, 720002])
    (pick,) = await bot.say("/stats", ADMIN)
    (text, _) = await bot.press(pick, "Beta Clinic", ADMIN)
    assert "Beta Clinic" in (text.text or "") and "Patients: 0" in (text.text or "")
    patient = bot.new_user("Pat")
    assert (await bot.say("/stats", patient))[0].text == bot.ui("team_not_staff", team=None)
    _, replies = await bot.press_data(pick, f"tm:pick:{first}:stats", patient)
    assert [m.text for m in replies] == [bot.ui("team_not_staff", team=None)]
    async with bot.session() as session:
        assert await teams.count_patients(session, first) == 2

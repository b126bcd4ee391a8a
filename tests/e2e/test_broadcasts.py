"""Broadcasts through the whole application: compose, audience, preview, confirm, deliver, report, cancel."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from bot.dispatch import BroadcastDispatcher, PerChatLimiter
from bot.service import utcnow
from bot.storage import Database, create_scan, get_or_create_user, update_user
from bot.storage.records import BroadcastRecord
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams
from bot.telegram._broadcast_sender import broadcast_send, telegram_notify
from bot.telegram._context import runtime_of
from tests.e2e.conftest import Harness, running_bot
from tests.factories import make_user
from tests.fakes.bot_api import FakeBotApi, SentMessage
from tests.fakes.limited_bot_api import RateLimitedBotApi
from tests.fakes.plugin import fail_on_violations

ADMIN_ID = 900001


@pytest.fixture
async def bot(database_url: str, database: Database, fake_bot_api: FakeBotApi) -> AsyncIterator[Harness]:
    """Yield the bot with one operator allowed to create teams."""
    async with running_bot(database_url, database, fake_bot_api, admin_ids=frozenset({ADMIN_ID})) as running:
        yield running


ADMIN = make_user(ADMIN_ID, "Nurse")


async def new_team(h: Harness, name: str = "Bone Clinic") -> int:
    await h.say(f"/newteam {name}", ADMIN)
    async with h.session() as session:
        mine = await teams.list_staff_teams(session, ADMIN_ID)
    return next(t.id for t in mine if t.name == name)


async def add_patients(h: Harness, team_id: int, ids: Iterable[int], **settings: Any) -> None:
    """Make these users patients of the team, straight in the database."""
    async with h.session() as session:
        for user_id in ids:
            await get_or_create_user(session, user_id, user_id, h.clock())
            await update_user(session, user_id, consent=True, **settings)
            await teams.add_patient(session, team_id, user_id, h.clock())


def dispatcher(h: Harness, clock: Any = None, **options: Any) -> BroadcastDispatcher:
    bot = h.app.bot
    return BroadcastDispatcher(
        h.database,
        runtime_of(h.app).domain.renderer,
        broadcast_send(bot),
        telegram_notify(bot),
        clock or h.clock,
        per_chat=PerChatLimiter(),
        **options,
    )


async def latest_broadcast(h: Harness) -> BroadcastRecord:
    async with h.session() as session:
        for broadcast_id in range(1000, 0, -1):
            found = await bc.get_broadcast(session, broadcast_id)
            if found is not None:
                return found
    raise AssertionError("no broadcast")


async def run_until_reported(
    h: Harness, engine: BroadcastDispatcher, broadcast_id: int, ticks: int = 500
) -> None:
    for _ in range(ticks):
        await engine.tick()
        await h.fake.settle(timeout=30)
        async with h.session() as session:
            job = await bc.get_broadcast(session, broadcast_id)
        if job is not None and job.reported_at is not None:
            return
    raise AssertionError("the broadcast never finished")


async def compose(h: Harness, text: str, audience_label: str) -> SentMessage:
    """Compose a broadcast as the operator and return the preview message (with the Send button)."""
    (ask,) = await h.say("/broadcast", ADMIN)
    assert "What should the update" in (ask.text or "")
    (question,) = await h.say(text, ADMIN)
    replies = await h.press(question, audience_label, ADMIN)
    return replies[-1]


def received(h: Harness, user_id: int, team: str = "Bone Clinic") -> list[SentMessage]:
    return [m for m in h.fake.messages_to(user_id) if (m.text or "").startswith(f"📣 {team}")]


async def test_a_broadcast_reaches_each_patient_once_with_a_preview_and_a_report(bot: Harness) -> None:
    team_id = await new_team(bot)
    patients = list(range(700001, 700006))
    await add_patients(bot, team_id, patients)
    text = "DEXA slots open next week. <Call> us & book."
    preview = await compose(bot, text, bot.label("audience_all"))
    header = bot.fake.messages_to(ADMIN_ID)[-2]
    assert "5 patients" in (header.text or "")
    # The preview is exactly what patients get: the text escaped, not read as formatting.
    assert "<Call> us & book." in (preview.text or "")
    assert preview.button(bot.label("broadcast_send", count=5))
    await bot.press(preview, bot.label("broadcast_send", count=5), ADMIN)
    progress = bot.fake.messages_to(ADMIN_ID)[-1]
    assert "Sending to 5 patients" in (progress.text or "")
    job = await latest_broadcast(bot)
    assert job.status == "populating" and job.progress_message_id == progress.message_id
    await run_until_reported(bot, dispatcher(bot), job.id)
    for patient in patients:
        (message,) = received(bot, patient)
        assert message.text == preview.text
    report = bot.fake.messages_to(ADMIN_ID)[-1]
    assert "Update sent" in (report.text or "") and "Delivered: 5" in (report.text or "")
    assert "Blocked the bot: 0" in (report.text or "")
    assert bot.errors == []


async def test_the_audience_buttons_choose_who_gets_it(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700101, 700102], profile="man_trt")
    await add_patients(bot, team_id, [700103], profile="woman_ai")
    await add_patients(bot, team_id, [700104], profile="caregiver")
    async with bot.session() as session:
        await create_scan(session, 700103, bot.clock().date() + dt.timedelta(days=20), None, "UTC", [])
        await create_scan(session, 700104, bot.clock().date() + dt.timedelta(days=45), None, "UTC", [])
    expectations = {
        "audience_man_trt": {700101, 700102},
        "audience_scan30": {700103},
        "audience_caregiver": {700104},
    }
    for label, expected in expectations.items():
        preview = await compose(bot, f"For {label}", bot.label(label))
        await bot.press(preview, bot.label("broadcast_send", count=len(expected)), ADMIN)
        await run_until_reported(bot, dispatcher(bot), (await latest_broadcast(bot)).id)
        got = {
            p
            for p in (700101, 700102, 700103, 700104)
            if any(f"For {label}" in (m.text or "") for m in received(bot, p))
        }
        assert got == expected, label


async def test_paused_blocked_and_unreachable_patients_are_reported(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700201, 700202, 700203, 700204])
    paused = make_user(700202, "Pat")
    await bot.say("/stop", paused)  # /stop: nothing unprompted until /start
    bot.fake.block(700203)  # has blocked the bot: 403
    async with bot.session() as session:
        await update_user(session, 700204, updates_enabled=False)
    preview = await compose(bot, "Clinic closed Friday", bot.label("audience_all"))
    await bot.press(preview, bot.label("broadcast_send", count=4), ADMIN)
    await run_until_reported(bot, dispatcher(bot), (await latest_broadcast(bot)).id)
    assert len(received(bot, 700201)) == 1
    assert received(bot, 700202) == [] and received(bot, 700204) == []
    report = bot.fake.messages_to(ADMIN_ID)[-1].text or ""
    assert "Delivered: 1" in report and "Blocked the bot: 1" in report and "Skipped" in report
    assert "updates off): 2" in report
    user = await bot.db_user(make_user(700203))
    assert user is not None and user.blocked
    # Back with /start: the next update arrives.
    await bot.say("/start", paused)
    preview = await compose(bot, "Second update", bot.label("audience_all"))
    await bot.press(preview, bot.label("broadcast_send", count=4), ADMIN)
    await run_until_reported(bot, dispatcher(bot), (await latest_broadcast(bot)).id)
    assert [m.text for m in received(bot, 700202)][-1].endswith("pause updates.")  # type: ignore[union-attr]
    assert len(received(bot, 700202)) == 1


async def test_a_patient_in_two_teams_gets_each_teams_update_once(bot: Harness) -> None:
    first = await new_team(bot, "Alpha Clinic")
    second = await new_team(bot, "Beta Clinic")
    await add_patients(bot, first, [700301, 700302])
    await add_patients(bot, second, [700302, 700303])
    for team_name in ("Alpha Clinic", "Beta Clinic"):
        (pick,) = await bot.say("/broadcast", ADMIN)
        await bot.press(pick, team_name, ADMIN)
        (question,) = await bot.say(f"News from {team_name}", ADMIN)
        replies = await bot.press(question, bot.label("audience_all"), ADMIN)
        await bot.press(replies[-1], bot.label("broadcast_send", count=2), ADMIN)
    engine = dispatcher(bot)
    async with bot.session() as session:
        running = await bc.running_broadcasts(session, [first, second])
    for job in running:
        await run_until_reported(bot, engine, job.id)
    assert [len(received(bot, 700302, team)) for team in ("Alpha Clinic", "Beta Clinic")] == [1, 1]
    assert len(received(bot, 700301, "Alpha Clinic")) == 1 and received(bot, 700301, "Beta Clinic") == []
    assert len(received(bot, 700303, "Beta Clinic")) == 1 and received(bot, 700303, "Alpha Clinic") == []


async def test_cancelling_stops_the_rest_and_reports_what_was_sent(bot: Harness) -> None:
    team_id = await new_team(bot)
    patients = list(range(700401, 700431))
    await add_patients(bot, team_id, patients)
    preview = await compose(bot, "Long update", bot.label("audience_all"))
    await bot.press(preview, bot.label("broadcast_send", count=30), ADMIN)
    progress = bot.fake.messages_to(ADMIN_ID)[-1]
    job = await latest_broadcast(bot)
    engine = dispatcher(bot, batch_size=10)
    await engine.tick()  # copies everyone and sends the first ten
    await bot.fake.settle()
    answer, _ = await bot.press_data(progress, f"bc:stop:{job.id}", ADMIN)
    assert answer is not None and answer.get("text") == bot.ui("broadcast_cancelling")
    await run_until_reported(bot, engine, job.id)
    delivered = [p for p in patients if received(bot, p)]
    assert len(delivered) == 10
    report = bot.fake.messages_to(ADMIN_ID)[-1].text or ""
    assert "Update cancelled" in report and "Delivered: 10" in report and "cancelled: 20" in report


async def test_cancel_command_offers_the_running_broadcast(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700501, 700502])
    preview = await compose(bot, "Update", bot.label("audience_all"))
    await bot.press(preview, bot.label("broadcast_send", count=2), ADMIN)
    (offer,) = await bot.say("/cancel", ADMIN)
    job = await latest_broadcast(bot)
    await bot.press(offer, offer.buttons[0]["text"], ADMIN)
    await run_until_reported(bot, dispatcher(bot), job.id)
    assert received(bot, 700501) == [] and received(bot, 700502) == []
    assert (await bot.say("/cancel", ADMIN))[0].text == bot.ui("nothing_to_cancel")


async def test_formatting_and_link_previews_only_when_chosen(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700601])
    preview = await compose(bot, "<b>Bold</b> news https://example.org", bot.label("audience_all"))
    (_, formatted) = await bot.press(preview, bot.label("broadcast_format_off"), ADMIN)
    assert "<b>" not in (formatted.text or "") and "Bold news" in (formatted.text or "")
    (_, previewed) = await bot.press(formatted, bot.label("broadcast_preview_off"), ADMIN)
    mark = bot.fake.mark()
    await bot.press(previewed, bot.label("broadcast_send", count=1), ADMIN)
    await run_until_reported(bot, dispatcher(bot), (await latest_broadcast(bot)).id)
    (sent,) = [r for r in bot.fake.calls("sendMessage", since=mark) if r.chat_id == 700601]
    assert "<b>Bold</b>" in sent.params["text"]
    assert sent.params["link_preview_options"] == {"is_disabled": False}


async def test_broken_formatting_stays_plain_text(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700701])
    preview = await compose(bot, "<b>Unclosed news", bot.label("audience_all"))
    (problem,) = await bot.press(preview, bot.label("broadcast_format_off"), ADMIN)
    assert "not valid Telegram formatting" in (problem.text or "")
    job = await latest_broadcast(bot)
    assert not job.formatted


async def test_forged_and_replayed_broadcast_buttons_change_nothing(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700801])
    preview = await compose(bot, "Update", bot.label("audience_all"))
    job = await latest_broadcast(bot)
    outsider = make_user(700899, "Eve")
    patient = make_user(700801, "Pat")
    refusal = bot.ui("team_not_staff", team=None)
    for who in (outsider, patient):
        for data in (
            f"bc:send:{job.id}",
            f"bc:aud:{job.id}:man_trt",
            f"bc:stop:{job.id}",
            f"bc:discard:{job.id}",
        ):
            answer, replies = await bot.press_data(preview, data, who)
            assert answer is not None and answer.get("text") == refusal, (who["id"], data)
            assert replies == []
    assert (await latest_broadcast(bot)).status == "draft"
    await bot.press(preview, bot.label("broadcast_send", count=1), ADMIN)
    # Replayed confirm: the job started once; the second press says so and starts nothing.
    _, replies = await bot.press_data(preview, f"bc:send:{job.id}", ADMIN)
    assert [m.text for m in replies] == [bot.ui("broadcast_not_draft")]
    async with bot.session() as session:
        assert len(await bc.running_broadcasts(session, [team_id])) == 1


async def test_a_thousand_recipients_within_telegrams_limits(database_url: str, database: Database) -> None:
    # The fake refuses anything over 30 messages/s overall or 1/s per chat with 429 and retry_after.
    async with (
        RateLimitedBotApi(quiet_period=1.2) as fake,
        running_bot(database_url, database, fake, admin_ids=frozenset({ADMIN_ID})) as h,
    ):
        team_id = await new_team(h)
        patients = list(range(800001, 801001))
        await add_patients(h, team_id, patients)
        preview = await compose(h, "Clinic update for everyone", h.label("audience_all"))
        await h.press(preview, h.label("broadcast_send", count=1000), ADMIN)
        fake.quiet_period = 0.1
        job = await latest_broadcast(h)
        # The real clock: retry_after and backoffs must pass for real against the fake's limits.
        engine = dispatcher(h, utcnow)
        for _ in range(2000):
            tick = await engine.tick()
            async with h.session() as session:
                current = await bc.get_broadcast(session, job.id)
            if current is not None and current.reported_at is not None:
                break
            if not tick.busy and tick.claimed == 0:
                # Nothing due yet (429s handed deliveries back for later): wait as the loop would.
                await asyncio.sleep(min(await engine.seconds_until_next_due(), 1.0))
        await fake.settle(timeout=30)
        per_chat = Counter(
            int(r.chat_id) for r in fake.calls("sendMessage") if r.ok and int(r.chat_id) in set(patients)
        )
        assert sorted(per_chat) == patients  # none missed
        assert max(per_chat.values()) == 1  # none doubled
        # Every 429 was honoured: each refused chat got its message later, and the job reports all 1,000.
        refused_chats = {int(r.chat_id) for r in fake.refusals}
        assert refused_chats <= set(per_chat) | {ADMIN_ID}
        async with h.session() as session:
            counts = await bc.delivery_counts(session, job.id)
        assert (counts.sent, counts.open, counts.failed) == (1000, 0, 0)
        assert "Delivered: 1000" in (fake.messages_to(ADMIN_ID)[-1].text or "")
        assert h.errors == []
    fail_on_violations(fake)


async def test_paid_broadcasts_ask_telegram_for_allow_paid_broadcast(bot: Harness) -> None:
    team_id = await new_team(bot)
    await add_patients(bot, team_id, [700901])
    preview = await compose(bot, "Big clinic news", bot.label("audience_all"))
    mark = bot.fake.mark()
    await bot.press(preview, bot.label("broadcast_send", count=1), ADMIN)
    await run_until_reported(bot, dispatcher(bot, paid=True), (await latest_broadcast(bot)).id)
    (sent,) = [r for r in bot.fake.calls("sendMessage", since=mark) if r.chat_id == 700901]
    assert sent.params["allow_paid_broadcast"] is True
    # Replies to the staff member are ordinary messages, never paid.
    assert all(
        "allow_paid_broadcast" not in r.params
        for r in bot.fake.calls("sendMessage", since=mark)
        if r.chat_id == ADMIN_ID
    )

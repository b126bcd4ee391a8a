"""Users and their settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import USER_FIELDS, get_or_create_user, get_user, set_blocked, update_user
from bot.storage.repositories import record_visit

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


async def test_get_or_create_user_creates_with_defaults(db_session: AsyncSession) -> None:
    user = await get_or_create_user(db_session, 7_000_000_001, 7_000_000_002, NOW)
    assert (user.id, user.chat_id, user.created_at, user.last_seen_at) == (
        7_000_000_001,
        7_000_000_002,
        NOW,
        NOW,
    )
    assert user.consent is None
    assert (user.profile, user.medicine, user.depth_pref, user.date_order, user.timezone) == (
        "other",
        None,
        "A",
        "DMY",
        None,
    )
    assert (user.reminders_enabled, user.updates_enabled, user.paused, user.blocked) == (
        True,
        True,
        False,
        False,
    )
    assert (user.lead_days, user.lead_days_list, user.two_hours_before) == ("7,1", (7, 1), False)
    assert (user.last_intent, user.last_level) == (None, None)
    assert await get_user(db_session, 7_000_000_001) == user


async def test_a_returning_user_keeps_created_at_and_is_active_again(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    await update_user(db_session, 1, profile="woman_ai")
    assert await set_blocked(db_session, 1, True)
    assert (await get_user(db_session, 1)).blocked is True  # type: ignore[union-attr]
    later = NOW + timedelta(days=3)
    user = await get_or_create_user(db_session, 1, 11, later)
    assert (user.created_at, user.last_seen_at, user.chat_id) == (NOW, later, 11)
    assert user.blocked is False
    assert user.profile == "woman_ai"


async def test_record_visit_tells_once_that_the_user_had_blocked_the_bot(db_session: AsyncSession) -> None:
    user, was_blocked = await record_visit(db_session, 1, 10, NOW)
    assert (user.id, user.blocked, was_blocked) == (1, False, False)
    assert await set_blocked(db_session, 1, True)
    later = NOW + timedelta(days=3)
    user, was_blocked = await record_visit(db_session, 1, 11, later)
    assert (user.blocked, was_blocked, user.chat_id, user.last_seen_at) == (False, True, 11, later)
    assert await get_user(db_session, 1) == user
    user, was_blocked = await record_visit(db_session, 1, 11, later + timedelta(minutes=1))
    assert (user.blocked, was_blocked) == (False, False)


async def test_get_user_returns_none_for_strangers(db_session: AsyncSession) -> None:
    assert await get_user(db_session, 404) is None


async def test_update_user_changes_only_the_named_settings(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    await get_or_create_user(db_session, 2, 20, NOW)
    user = await update_user(
        db_session,
        1,
        consent=True,
        profile="man_trt",
        medicine="anastrozole",
        depth_pref="I",
        date_order="MDY",
        timezone="Europe/Amsterdam",
        reminders_enabled=False,
        updates_enabled=False,
        paused=True,
        lead_days=[1, 14, 7],
        two_hours_before=True,
        last_intent="dexa_scan",
        last_level="F",
    )
    assert user is not None
    assert (user.consent, user.profile, user.medicine, user.depth_pref, user.date_order) == (
        True,
        "man_trt",
        "anastrozole",
        "I",
        "MDY",
    )
    assert (user.timezone, user.reminders_enabled, user.updates_enabled, user.paused) == (
        "Europe/Amsterdam",
        False,
        False,
        True,
    )
    assert (user.lead_days, user.lead_days_list, user.two_hours_before) == ("14,7,1", (14, 7, 1), True)
    assert (user.last_intent, user.last_level) == ("dexa_scan", "F")
    assert await get_user(db_session, 1) == user
    other = await get_user(db_session, 2)
    assert other is not None and (other.profile, other.paused) == ("other", False)


async def test_update_user_accepts_canonical_text_and_clears_nullable_fields(
    db_session: AsyncSession,
) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    await update_user(db_session, 1, timezone="Asia/Tokyo", consent=False, lead_days="1,30")
    user = await update_user(db_session, 1, timezone=None, consent=None, lead_days="")
    assert user is not None
    assert (user.timezone, user.consent, user.lead_days, user.lead_days_list) == (None, None, "", ())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("profile", "astronaut"),
        ("depth_pref", "short"),
        ("date_order", "YMD"),
        ("timezone", "Mars/Olympus_Mons"),
        ("paused", "yes"),
        ("lead_days", "7;1"),
        ("lead_days", [400]),
        ("last_level", "Z"),
        ("medicine", "Arimidex 1mg"),
    ],
)
async def test_update_user_refuses_bad_values(db_session: AsyncSession, field: str, value: object) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    with pytest.raises(ValueError, match=field):
        await update_user(db_session, 1, **{field: value})


@pytest.mark.parametrize("field", ["blocked", "id", "chat_id", "created_at", "nickname"])
async def test_update_user_refuses_fields_outside_the_whitelist(db_session: AsyncSession, field: str) -> None:
    assert field not in USER_FIELDS
    await get_or_create_user(db_session, 1, 10, NOW)
    with pytest.raises(TypeError):
        await update_user(db_session, 1, **{field: 1})


async def test_update_user_and_set_blocked_report_unknown_users(db_session: AsyncSession) -> None:
    assert await update_user(db_session, 404, paused=True) is None
    assert await set_blocked(db_session, 404, True) is False


async def test_set_blocked_round_trips(db_session: AsyncSession) -> None:
    await get_or_create_user(db_session, 1, 10, NOW)
    assert await set_blocked(db_session, 1, True)
    assert (await get_user(db_session, 1)).blocked is True  # type: ignore[union-attr]
    assert await set_blocked(db_session, 1, False)
    assert (await get_user(db_session, 1)).blocked is False  # type: ignore[union-attr]

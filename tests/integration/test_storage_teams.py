"""Care-team storage on SQLite and PostgreSQL: teams, staff, codes, memberships, broadcasts, claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import Database, create_scan, get_or_create_user, record_unanswered, update_user
from bot.storage import repositories as repo
from bot.storage.records import CodeStatus
from bot.storage.repositories import broadcasts as bc
from bot.storage.repositories import teams

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


async def _users(session: AsyncSession, *ids: int) -> None:
    for user_id in ids:
        await get_or_create_user(session, user_id, user_id, NOW - timedelta(days=1))


async def test_a_new_team_has_its_creator_as_owner_and_a_live_join_code(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2)
    team = await teams.create_team(db_session, "  Bone   Clinic ", 1, NOW)
    assert team.name == "Bone Clinic"
    assert [(s.user_id, s.role) for s in await teams.list_staff(db_session, team.id)] == [(1, "owner")]
    assert await teams.get_staff(db_session, team.id, 2) is None
    code = await teams.current_join_code(db_session, team.id)
    assert code is not None and teams.CODE_PATTERN.match(code) and len(code) <= 64
    lookup = await teams.lookup_code(db_session, code, NOW)
    assert lookup.status is CodeStatus.JOIN and lookup.team == team
    assert [t.id for t in await teams.list_staff_teams(db_session, 1)] == [team.id]
    assert await teams.list_staff_teams(db_session, 2) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
async def test_team_names_must_fit(db_session: AsyncSession, name: str) -> None:
    await _users(db_session, 1)
    with pytest.raises(ValueError):
        await teams.create_team(db_session, name, 1, NOW)


async def test_rotating_the_join_code_retires_the_old_one(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    team = await teams.create_team(db_session, "Clinic", 1, NOW)
    old = await teams.current_join_code(db_session, team.id)
    assert old is not None
    new = await teams.rotate_join_code(db_session, team.id, NOW)
    assert new != old and await teams.current_join_code(db_session, team.id) == new
    assert (await teams.lookup_code(db_session, old, NOW)).status is CodeStatus.ROTATED
    assert (await teams.lookup_code(db_session, new, NOW)).status is CodeStatus.JOIN
    assert await teams.revoke_join_codes(db_session, team.id, NOW) == 1
    assert await teams.current_join_code(db_session, team.id) is None
    assert (await teams.lookup_code(db_session, "no-such-code", NOW)).status is CodeStatus.UNKNOWN
    assert (await teams.lookup_code(db_session, "bad code!", NOW)).status is CodeStatus.UNKNOWN
    assert (await teams.lookup_code(db_session, "a" * 65, NOW)).status is CodeStatus.UNKNOWN


async def test_a_staff_invite_is_single_use_and_expires(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 2, 3, 4)
    team = await teams.create_team(db_session, "Clinic", 1, NOW)
    code = await teams.create_staff_invite(db_session, team.id, 1, NOW, timedelta(hours=24))
    assert (await teams.lookup_code(db_session, code, NOW)).status is CodeStatus.INVITE
    assert await teams.use_staff_invite(db_session, code, 2, NOW) == team
    assert (await teams.get_staff(db_session, team.id, 2)) is not None
    assert await teams.use_staff_invite(db_session, code, 3, NOW) is None  # used
    assert await teams.get_staff(db_session, team.id, 3) is None
    assert (await teams.lookup_code(db_session, code, NOW)).status is CodeStatus.USED
    late = await teams.create_staff_invite(db_session, team.id, 1, NOW, timedelta(hours=24))
    later = NOW + timedelta(hours=24, seconds=1)
    assert (await teams.lookup_code(db_session, late, later)).status is CodeStatus.EXPIRED
    assert await teams.use_staff_invite(db_session, late, 4, later) is None
    assert await teams.get_staff(db_session, team.id, 4) is None


async def test_two_people_opening_one_invite_at_once_make_one_staff_member(database: Database) -> None:
    async with database.session() as session:
        await _users(session, 1, 2, 3)
        team = await teams.create_team(session, "Clinic", 1, NOW)
        code = await teams.create_staff_invite(session, team.id, 1, NOW, timedelta(hours=1))

    async def use(user_id: int) -> bool:
        async with database.session() as session:
            return await teams.use_staff_invite(session, code, user_id, NOW) is not None

    results = await asyncio.gather(use(2), use(3))
    assert sorted(results) == [False, True]
    async with database.session() as session:
        assert len(await teams.list_staff(session, team.id)) == 2


async def test_patients_join_several_teams_and_leave_one(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 10)
    a = await teams.create_team(db_session, "Alpha", 1, NOW)
    b = await teams.create_team(db_session, "Beta", 1, NOW)
    assert await teams.add_patient(db_session, a.id, 10, NOW)
    assert not await teams.add_patient(db_session, a.id, 10, NOW)  # already in
    assert await teams.add_patient(db_session, b.id, 10, NOW)
    assert [t.name for t in await teams.list_patient_teams(db_session, 10)] == ["Alpha", "Beta"]
    assert await teams.count_patients(db_session, a.id) == 1
    assert await teams.remove_patient(db_session, a.id, 10)
    assert not await teams.remove_patient(db_session, a.id, 10)
    assert [t.name for t in await teams.list_patient_teams(db_session, 10)] == ["Beta"]
    assert not await teams.is_patient(db_session, a.id, 10)


async def test_the_contact_route_is_set_trimmed_and_bounded(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    team = await teams.create_team(db_session, "Clinic", 1, NOW)
    assert not team.has_contact
    changed = await teams.set_team_contact(
        db_session, team.id, contact_phone=" 020 7946 0000 ", contact_hours="Mon-Fri  9-17"
    )
    assert changed is not None and changed.has_contact
    assert (changed.contact_phone, changed.contact_email, changed.contact_hours) == (
        "020 7946 0000",
        None,
        "Mon-Fri 9-17",
    )
    with pytest.raises(ValueError):
        await teams.set_team_contact(db_session, team.id, contact_email="x" * 129)
    with pytest.raises(TypeError):
        await teams.set_team_contact(db_session, team.id, name="Other")
    cleared = await teams.set_team_contact(db_session, team.id, contact_phone="")
    assert cleared is not None and cleared.contact_phone is None


async def test_failed_codes_are_counted_per_user_within_a_window(db_session: AsyncSession) -> None:
    for minutes in (0, 10, 70):
        await teams.record_join_failure(db_session, 5, NOW - timedelta(minutes=minutes))
    await teams.record_join_failure(db_session, 6, NOW)
    assert await teams.count_join_failures(db_session, 5, NOW - timedelta(hours=1)) == 2
    assert await teams.count_join_failures(db_session, 6, NOW - timedelta(hours=1)) == 1
    assert await teams.purge_join_attempts_before(db_session, NOW - timedelta(hours=1)) == 1


async def test_team_counts_cover_states_and_scan_windows(db_session: AsyncSession) -> None:
    await _users(db_session, 1, 10, 11, 12, 13, 99)
    team = await teams.create_team(db_session, "Clinic", 1, NOW)
    for user_id in (10, 11, 12, 13):
        await teams.add_patient(db_session, team.id, user_id, NOW)
    await update_user(db_session, 11, paused=True)
    await repo.set_blocked(db_session, 12, True)
    await create_scan(db_session, 10, TODAY + timedelta(days=10), None, "UTC", [])
    await create_scan(db_session, 11, TODAY + timedelta(days=60), None, "UTC", [])
    await create_scan(db_session, 99, TODAY + timedelta(days=5), None, "UTC", [])  # not a patient
    counts = await teams.team_counts(db_session, team.id, TODAY)
    assert counts == teams.TeamCounts(patients=4, active=2, blocked=1, paused=1, scans_30=1, scans_90=2)


async def test_answer_tallies_count_by_month_and_topic(db_session: AsyncSession) -> None:
    for intent in ("dexa_scan", "dexa_scan", "denosumab"):
        await teams.tally_answer(db_session, "2027-03", intent)
    await teams.tally_answer(db_session, "2027-02", "denosumab")
    assert await teams.answers_by_topic(db_session, "2027-03") == [("dexa_scan", 2), ("denosumab", 1)]


async def test_only_questions_asked_by_three_different_people_are_repeated(db_session: AsyncSession) -> None:
    for asker in ("a" * 16, "b" * 16, "c" * 16):
        await record_unanswered(db_session, "can i swim", NOW, asker)
    for _ in range(5):  # one person asking five times is still one asker
        await record_unanswered(db_session, "can i ski", NOW, "d" * 16)
    for _ in range(3):  # recorded before asker hashes existed
        await record_unanswered(db_session, "old question", NOW)
    await record_unanswered(db_session, "can i fly", NOW, "a" * 16)
    await record_unanswered(db_session, "can i fly", NOW, "b" * 16)
    assert await repo.repeated_unanswered(db_session, NOW - timedelta(days=30)) == [("can i swim", 3)]
    assert await repo.repeated_unanswered(db_session, NOW + timedelta(seconds=1)) == []


# -- broadcasts -------------------------------------------------------------------------------------


async def _team_with_patients(session: AsyncSession, count: int, start: int = 100) -> int:
    await _users(session, 1)
    team = await teams.create_team(session, "Clinic", 1, NOW)
    for user_id in range(start, start + count):
        await get_or_create_user(session, user_id, user_id, NOW)
        await teams.add_patient(session, team.id, user_id, NOW)
    return team.id


async def _populate(session: AsyncSession, broadcast_id: int, chunk: int = 3) -> int:
    copied = 0
    while (step := await bc.populate_step(session, broadcast_id, NOW, chunk)) > 0:
        copied += step
    return copied


async def test_audiences_select_by_profile_and_upcoming_scan(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 5)
    await update_user(db_session, 100, profile="woman_ai")
    await update_user(db_session, 101, profile="man_trt")
    await update_user(db_session, 102, profile="caregiver")
    await create_scan(db_session, 103, TODAY + timedelta(days=29), None, "UTC", [])
    await create_scan(db_session, 104, TODAY + timedelta(days=31), None, "UTC", [])
    expected = {"all": 5, "woman_ai": 1, "man_trt": 1, "caregiver": 1, "scan30": 1}
    for audience, count in expected.items():
        assert await bc.count_audience(db_session, team_id, audience, TODAY) == count, audience
        draft = await bc.create_draft(db_session, team_id, 1, "Hello", NOW)
        await bc.update_draft(db_session, draft.id, audience=audience)
        assert await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
        assert await _populate(db_session, draft.id) == count
        stored = await bc.get_broadcast(db_session, draft.id)
        assert stored is not None and (stored.status, stored.total) == ("sending", count)


async def test_a_draft_needs_an_audience_and_starts_once(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 2)
    draft = await bc.create_draft(db_session, team_id, 1, "Clinic closed Friday", NOW)
    assert not await bc.start_broadcast(db_session, draft.id, NOW, TODAY)  # no audience yet
    assert await bc.update_draft(db_session, draft.id, audience="all", formatted=True) is not None
    assert await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
    assert not await bc.start_broadcast(db_session, draft.id, NOW, TODAY)  # replayed confirm
    assert await bc.update_draft(db_session, draft.id, audience="scan30") is None  # no longer a draft
    with pytest.raises(ValueError):
        await bc.update_draft(db_session, draft.id, audience="everyone")
    with pytest.raises(ValueError):
        await bc.create_draft(db_session, team_id, 1, "  ", NOW)


async def test_claims_deliver_each_recipient_once_and_the_job_finishes(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 7)
    draft = await bc.create_draft(db_session, team_id, 1, "Hello", NOW)
    await bc.update_draft(db_session, draft.id, audience="all")
    await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
    assert await _populate(db_session, draft.id) == 7
    first = await bc.claim_deliveries(db_session, NOW, 60, 4)
    second = await bc.claim_deliveries(db_session, NOW, 60, 10)
    assert len(first) == 4 and len(second) == 3
    assert {c.user_id for c in first} | {c.user_id for c in second} == set(range(100, 107))
    assert first[0].team_name == "Clinic" and first[0].text == "Hello" and first[0].attempts == 1
    assert await bc.claim_deliveries(db_session, NOW, 60, 10) == []
    assert not await bc.finish_if_done(db_session, draft.id, NOW)
    outcomes = ["sent", "sent", "blocked", "failed", "skipped"]
    for claim, status in zip(first + second, outcomes, strict=False):
        assert await bc.close_delivery(db_session, claim.delivery_id, claim.claim_token, status, NOW)
    retry = second[-2]
    assert await bc.release_delivery(
        db_session, retry.delivery_id, retry.claim_token, NOW + timedelta(seconds=5), "retry_after"
    )
    assert not await bc.close_delivery(db_session, retry.delivery_id, retry.claim_token, "sent", NOW)  # gone
    assert await bc.claim_deliveries(db_session, NOW, 60, 10) == []  # not due yet
    again = await bc.claim_deliveries(db_session, NOW + timedelta(seconds=5), 60, 10)
    assert [c.delivery_id for c in again] == [retry.delivery_id] and again[0].attempts == 2
    last = second[-1]
    await bc.close_delivery(db_session, again[0].delivery_id, again[0].claim_token, "sent", NOW)
    await bc.close_delivery(db_session, last.delivery_id, last.claim_token, "sent", NOW)
    counts = await bc.delivery_counts(db_session, draft.id)
    assert (counts.sent, counts.blocked, counts.failed, counts.skipped, counts.open) == (4, 1, 1, 1, 0)
    assert await bc.finish_if_done(db_session, draft.id, NOW)
    assert not await bc.finish_if_done(db_session, draft.id, NOW)  # only one caller reports


async def test_an_expired_lease_is_claimed_again(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 1)
    draft = await bc.create_draft(db_session, team_id, 1, "Hello", NOW)
    await bc.update_draft(db_session, draft.id, audience="all")
    await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
    await _populate(db_session, draft.id)
    (lost,) = await bc.claim_deliveries(db_session, NOW, 30, 10)
    assert await bc.claim_deliveries(db_session, NOW + timedelta(seconds=29), 30, 10) == []
    (taken,) = await bc.claim_deliveries(db_session, NOW + timedelta(seconds=30), 30, 10)
    assert taken.delivery_id == lost.delivery_id and taken.claim_token != lost.claim_token
    assert not await bc.close_delivery(db_session, lost.delivery_id, lost.claim_token, "sent", NOW)


async def test_cancel_stops_what_is_not_yet_claimed(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 5)
    draft = await bc.create_draft(db_session, team_id, 1, "Hello", NOW)
    await bc.update_draft(db_session, draft.id, audience="all")
    await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
    await _populate(db_session, draft.id)
    claimed = await bc.claim_deliveries(db_session, NOW, 60, 2)
    assert [b.id for b in await bc.running_broadcasts(db_session, [team_id])] == [draft.id]
    assert await bc.cancel_broadcast(db_session, draft.id, NOW)
    assert not await bc.cancel_broadcast(db_session, draft.id, NOW)
    assert await bc.running_broadcasts(db_session, [team_id]) == []
    counts = await bc.delivery_counts(db_session, draft.id)
    assert (counts.cancelled, counts.claimed) == (3, 2)
    assert await bc.claim_deliveries(db_session, NOW, 60, 10) == []
    for claim in claimed:
        await bc.close_delivery(
            db_session, claim.delivery_id, claim.claim_token, "cancelled", NOW, "cancelled"
        )
    assert (await bc.delivery_counts(db_session, draft.id)).cancelled == 5


async def test_concurrent_populators_and_claimers_never_double(database: Database) -> None:
    async with database.session() as session:
        team_id = await _team_with_patients(session, 300)
        draft = await bc.create_draft(session, team_id, 1, "Hello", NOW)
        await bc.update_draft(session, draft.id, audience="all")
        await bc.start_broadcast(session, draft.id, NOW, TODAY)

    async def populate() -> None:
        while True:
            try:
                async with database.session() as session:
                    step = await bc.populate_step(session, draft.id, NOW, 40)
            except Exception:  # a lost race on SQLite's lock or the unique key: try again
                await asyncio.sleep(0.01)
                continue
            if step == 0:
                return
            await asyncio.sleep(0)

    await asyncio.gather(populate(), populate(), populate())

    async def claim() -> list[int]:
        taken: list[int] = []
        while True:
            async with database.session() as session:
                batch = await bc.claim_deliveries(session, NOW, 60, 25)
            if not batch:
                return taken
            taken.extend(c.user_id for c in batch)

    results = await asyncio.gather(claim(), claim(), claim())
    everyone = [user for result in results for user in result]
    assert sorted(everyone) == list(range(100, 400))
    async with database.session() as session:
        stored = await bc.get_broadcast(session, draft.id)
        assert stored is not None and stored.total == 300 and stored.status == "sending"


async def test_reminders_waiting_sees_only_due_unclaimed_reminders(db_session: AsyncSession) -> None:
    await _users(db_session, 1)
    assert not await bc.reminders_waiting(db_session, NOW)
    await create_scan(
        db_session, 1, date(2027, 3, 20), None, "UTC", [("lead", 7, NOW + timedelta(minutes=1))]
    )
    assert not await bc.reminders_waiting(db_session, NOW)
    assert await bc.reminders_waiting(db_session, NOW + timedelta(minutes=1))


async def test_forgetting_a_patient_removes_memberships_and_deliveries(db_session: AsyncSession) -> None:
    team_id = await _team_with_patients(db_session, 2)
    draft = await bc.create_draft(db_session, team_id, 1, "Hello", NOW)
    await bc.update_draft(db_session, draft.id, audience="all")
    await bc.start_broadcast(db_session, draft.id, NOW, TODAY)
    await _populate(db_session, draft.id)
    await teams.record_join_failure(db_session, 100, NOW)
    export = await repo.export_user_data(db_session, 100)
    assert export["care_teams"] == [{"team": "Clinic", "joined_at": NOW.isoformat()}]
    await repo.delete_user_data(db_session, 100)
    assert await teams.count_patients(db_session, team_id) == 1
    assert (await bc.delivery_counts(db_session, draft.id)).total == 1
    assert await teams.count_join_failures(db_session, 100, NOW - timedelta(hours=1)) == 0

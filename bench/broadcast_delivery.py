"""Measure care-team broadcasts: the sustained send rate, the sender's memory, and the job's creation time.

Three parts, each on a temporary SQLite file by default or on a database created (and dropped) on the
``--postgres`` server:

* ``rate``: a broadcast to ``--recipients`` patients (default 600) through the whole sending path —
  ``BroadcastDispatcher`` claiming deliveries, ``broadcast_send`` posting with the application's bot and
  its rate limiter — against the fake Bot API enforcing Telegram's limits (30 messages/s overall, one
  per second per chat; 429 with ``retry_after`` beyond them). Target: a steady rate of at least 95 % of
  the 30/s limit, with no recipient lost or sent twice.
* ``create``: the time to create the job for ``--big`` recipients (default 100,000): copying them
  from the team's patients into delivery rows with ``populate_step``.
* ``memory``: the sender's peak Python memory (tracemalloc) while it delivers those ``--big`` deliveries
  with an instant sender, sampled every tenth of the way: flat means it never holds the audience. Its
  database commits without waiting for the disk (SQLite ``synchronous=OFF``, PostgreSQL
  ``synchronous_commit=off``): one commit per delivery would otherwise make this part take an hour.

Run from the repository root::

    .venv/bin/python bench/broadcast_delivery.py
    .venv/bin/python bench/broadcast_delivery.py --parts rate --recipients 1200
    .venv/bin/python bench/broadcast_delivery.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

It prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.conversation import Reply  # noqa: E402
from bot.dispatch import (  # noqa: E402
    BroadcastDispatcher,
    OutgoingBroadcast,
    PerChatLimiter,
    SendOutcome,
    SendResult,
)
from bot.domain import load_domain  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import Database, get_or_create_user, upgrade  # noqa: E402
from bot.storage.repositories import broadcasts as bc  # noqa: E402
from bot.storage.repositories import teams  # noqa: E402
from bot.telegram._broadcast_sender import broadcast_send, telegram_notify  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402
from tests.fakes.bot_api import TEST_TOKEN  # noqa: E402
from tests.fakes.limited_bot_api import RateLimitedBotApi  # noqa: E402

TELEGRAM_LIMIT = 30.0
TARGET_SHARE = 0.95
STAFF = 1
FIRST_PATIENT = 10


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def make_team(database: Database, count: int) -> int:
    """Create a team and ``count`` patients in bulk SQL; return the team id."""
    now = utcnow()
    async with database.session() as session:
        await get_or_create_user(session, STAFF, STAFF, now)
        team = await teams.create_team(session, "Bench Clinic", STAFF, now)
        stamp = now.replace(tzinfo=None).isoformat(sep=" ")
        last = FIRST_PATIENT + count - 1
        if database.dialect == "postgresql":
            series = f"SELECT g AS x FROM generate_series({FIRST_PATIENT}, {last}) AS g"
            prefix = ""
            source = "seq"
            prefix = f"WITH seq AS ({series}) "
        else:
            prefix = (
                f"WITH RECURSIVE seq(x) AS (SELECT {FIRST_PATIENT} UNION ALL SELECT x + 1 FROM seq "
                f"WHERE x < {last}) "
            )
            source = "seq"
        await session.execute(
            text(
                f"{prefix}INSERT INTO users (id, chat_id, created_at, last_seen_at, consent) "
                f"SELECT x, x, :stamp, :stamp, true FROM {source}"
            ),
            {"stamp": dt.datetime.fromisoformat(stamp)},
        )
        await session.execute(
            text(
                f"{prefix}INSERT INTO team_patients (team_id, user_id, joined_at) "
                f"SELECT :team, x, :stamp FROM {source}"
            ),
            {"team": team.id, "stamp": dt.datetime.fromisoformat(stamp)},
        )
    return team.id


async def confirmed_broadcast(database: Database, team_id: int, progress_chat: int | None = None) -> int:
    now = utcnow()
    async with database.session() as session:
        draft = await bc.create_draft(session, team_id, STAFF, "DEXA slots open next week.", now)
        await bc.update_draft(session, draft.id, audience="all")
        await bc.start_broadcast(session, draft.id, now, now.date(), progress_chat, None)
    return draft.id


async def populate_all(database: Database) -> float:
    """Copy every recipient into delivery rows; return the seconds it took."""
    started = time.perf_counter()
    while True:
        async with database.session() as session:
            jobs = await bc.broadcasts_to_populate(session)
        if not jobs:
            return time.perf_counter() - started
        for broadcast_id in jobs:
            async with database.session() as session:
                await bc.populate_step(session, broadcast_id, utcnow())


async def part_create(database: Database, big: int) -> dict[str, Any]:
    team_id = await make_team(database, big)
    await confirmed_broadcast(database, team_id)
    seconds = await populate_all(database)
    return {"recipients": big, "seconds": round(seconds, 2), "rows_per_second": round(big / seconds)}


async def part_memory(database: Database, big: int) -> dict[str, Any]:
    """Deliver ``big`` deliveries with an instant sender; sample tracemalloc's current and peak memory."""

    async def instant(chat_id: int, message: OutgoingBroadcast) -> SendResult:
        return SendResult(SendOutcome.SENT)

    async def nowhere(chat_id: int, message_id: int | None, reply: Reply) -> None:
        return None

    dispatcher = BroadcastDispatcher(
        database, load_domain().renderer, instant, nowhere, utcnow, per_chat=PerChatLimiter(interval=0.0)
    )
    samples: list[dict[str, float]] = []
    done = 0
    step = max(big // 10, 1)
    next_sample = step
    tracemalloc.start()
    started = time.perf_counter()
    while True:
        tick = await dispatcher.tick()
        done += tick.claimed
        if done >= next_sample:
            current, peak = tracemalloc.get_traced_memory()
            samples.append(
                {"sent": done, "current_mib": round(current / 2**20, 2), "peak_mib": round(peak / 2**20, 2)}
            )
            next_sample += step
        if tick.claimed == 0 and tick.populated == 0:
            break
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    first, last = samples[0]["peak_mib"], samples[-1]["peak_mib"]
    return {
        "recipients": big,
        "seconds": round(seconds, 1),
        "peak_mib": round(peak / 2**20, 2),
        "peak_at_10_percent_mib": first,
        "growth_10_to_100_percent_mib": round(last - first, 2),
        "samples": samples,
    }


async def part_rate(database: Database, url: str, recipients: int) -> dict[str, Any]:
    team_id = await make_team(database, recipients)
    async with RateLimitedBotApi(validate=False) as fake:
        settings = Settings(telegram_token=TEST_TOKEN, telegram_api_base_url=fake.base_url, database_url=url)
        application = build_application(settings, dispatch=False)  # the bot, with the application's limiter
        async with application.bot as bot:
            dispatcher = BroadcastDispatcher(
                database, load_domain().renderer, broadcast_send(bot), telegram_notify(bot), utcnow
            )
            broadcast_id = await confirmed_broadcast(database, team_id)
            started = time.perf_counter()
            while True:
                tick = await dispatcher.tick()
                async with database.session() as session:
                    counts = await bc.delivery_counts(session, broadcast_id)
                    job = await bc.get_broadcast(session, broadcast_id)
                if job is not None and job.status == "done" and counts.open == 0:
                    break
                if tick.claimed == 0 and tick.populated == 0:
                    await asyncio.sleep(min(await dispatcher.seconds_until_next_due(), 1.0))
            seconds = time.perf_counter() - started
            await fake.settle(timeout=30)
        accepted = [r for r in fake.calls("sendMessage") if r.ok]
        per_chat = Counter(int(r.chat_id) for r in accepted)
        times = sorted(fake.accepted_at)
        half = len(times) // 2
        steady = (len(times) - 1 - half) / (times[-1] - times[half]) if len(times) > 3 else 0.0
        overall = len(times) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    expected = set(range(FIRST_PATIENT, FIRST_PATIENT + recipients))
    return {
        "recipients": recipients,
        "seconds": round(seconds, 2),
        "sent": counts.sent,
        "lost": len(expected - set(per_chat)),
        "doubled": sum(1 for n in per_chat.values() if n > 1),
        "refused_429": len(fake.refusals),
        "per_second": round(overall, 2),
        "steady_per_second": round(steady, 2),
        "share_of_limit": round(steady / TELEGRAM_LIMIT, 3),
    }


async def _pg_admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def on_fresh_database(args: argparse.Namespace, part: str) -> dict[str, Any]:
    """Run one part on a database of its own."""
    if args.postgres:
        name = f"bonebot_bench_{os.getpid()}_{secrets.token_hex(3)}"
        await _pg_admin(args.postgres, f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            return await run_part(args, part, url)
        finally:
            await _pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with tempfile.TemporaryDirectory(prefix="bonebot-bench-") as folder:
        return await run_part(args, part, f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")


def fast_commits(url: str) -> Database:
    """Connect with commits that do not wait for the disk: the memory part measures memory, not fsync."""
    if make_url(url).get_backend_name() == "postgresql":
        return Database.connect(url, connect_args={"server_settings": {"synchronous_commit": "off"}})
    database = Database.connect(url)

    def no_sync(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    event.listen(database.engine.sync_engine, "connect", no_sync)
    return database


async def run_part(args: argparse.Namespace, part: str, url: str) -> dict[str, Any]:
    await upgrade(url)
    database = fast_commits(url) if part == "memory" else Database.connect(url)
    try:
        if part == "rate":
            return await part_rate(database, url, args.recipients)
        if part == "create":
            return await part_create(database, args.big)
        team_id = await make_team(database, args.big)
        await confirmed_broadcast(database, team_id)
        await populate_all(database)
        return await part_memory(database, args.big)
    finally:
        await database.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results = {part: await on_fresh_database(args, part) for part in args.parts}
    rate = results.get("rate")
    met = None
    if rate is not None:
        met = rate["share_of_limit"] >= TARGET_SHARE and rate["lost"] == 0 and rate["doubled"] == 0
    return {
        "bench": "broadcast_delivery",
        "database": "postgresql" if args.postgres else "sqlite",
        "telegram_limit_per_second": TELEGRAM_LIMIT,
        "target": f"steady rate >= {TARGET_SHARE:.0%} of the limit, none lost or doubled",
        "target_met": met,
        **results,
    }


def print_table(report: dict[str, Any]) -> None:
    if "rate" in report:
        r = report["rate"]
        print(
            f"rate:   {r['recipients']} recipients in {r['seconds']} s; steady {r['steady_per_second']}/s "
            f"({r['share_of_limit']:.1%} of {TELEGRAM_LIMIT:.0f}/s); lost {r['lost']}, doubled {r['doubled']}, "
            f"429s {r['refused_429']}"
        )
    if "create" in report:
        c = report["create"]
        print(
            f"create: job for {c['recipients']} recipients in {c['seconds']} s ({c['rows_per_second']} rows/s)"
        )
    if "memory" in report:
        m = report["memory"]
        print(
            f"memory: {m['recipients']} deliveries in {m['seconds']} s; peak {m['peak_mib']} MiB; "
            f"growth from 10% to 100% of the job {m['growth_10_to_100_percent_mib']} MiB"
        )
    print(f"target ({report['target']}): {'met' if report['target_met'] else 'not met'}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--parts", nargs="+", choices=("rate", "create", "memory"), default=["rate", "create", "memory"]
    )
    parser.add_argument("--recipients", type=int, default=600, help="recipients for the rate part")
    parser.add_argument("--big", type=int, default=100_000, help="recipients for the create and memory parts")
    parser.add_argument("--postgres", metavar="SERVER_URL", help="run on a database created on this server")
    args = parser.parse_args(argv)
    if args.recipients < 2 or args.big < 10:
        parser.error("--recipients must be at least 2 and --big at least 10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    try:
        print_table(report)
        print(json.dumps(report))
    except BrokenPipeError:
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

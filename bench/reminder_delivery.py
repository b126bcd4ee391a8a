"""Measure how many reminders per second the dispatcher delivers through PTB to a Bot API server.

The whole sending path runs for real: ``ReminderDispatcher`` claims due reminders from the database,
renders them, and ``telegram_send`` posts each with PTB's ``ExtBot`` over HTTP to the fake Bot API server
(``tests/fakes``, on loopback, in this process). Two variants:

* ``limited``: the bot the application builds (``build_application``), with PTB's ``AIORateLimiter``,
  which keeps to Telegram's limit of about 30 messages per second overall;
* ``unlimited``: the same bot without a rate limiter, to show what the rest of the path can do.

Run from the repository root::

    .venv/bin/python bench/reminder_delivery.py                      # SQLite, 600 reminders
    .venv/bin/python bench/reminder_delivery.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/reminder_delivery.py --reminders 120 --validate --variants unlimited

Every reminder goes to a different user (Telegram's per-chat limit does not apply). The database is a
temporary SQLite file, a database created (and dropped) on the ``--postgres`` server, or an empty one
named by ``--database-url``. It prints a table, then
one JSON line with every figure. ``per_second`` is the whole run; ``steady_per_second`` the second half,
after the limiter's initial burst. Target: the limited variant's steady rate is 25 messages/s or more
(close to the 30/s Telegram allows) and not above 30/s (+5 %).
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
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
from telegram.constants import ParseMode  # noqa: E402
from telegram.ext import Defaults, ExtBot  # noqa: E402

from bot.conversation import Reply  # noqa: E402
from bot.dispatch import ReminderDispatcher, SendResult  # noqa: E402
from bot.domain import load_domain  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import Database, upgrade  # noqa: E402
from bot.storage import repositories as repo  # noqa: E402
from bot.telegram._sender import telegram_send  # noqa: E402
from bot.telegram.app import build_application  # noqa: E402
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi  # noqa: E402

TELEGRAM_LIMIT = 30.0
TARGET_LIMITED = 25.0


@dataclass(frozen=True)
class Figures:
    """One variant's run."""

    variant: str
    reminders: int
    ticks: int
    seconds: float
    per_second: float
    steady_per_second: float  # over the second half, once the limiter's initial burst is spent
    accepted: int  # sendMessage calls the fake answered with ok
    refused: int


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def create_due(database: Database, count: int) -> None:
    """Create ``count`` users, each with a scan and one reminder due a minute ago."""
    now = utcnow()
    async with database.session() as session:
        for user_id in range(1, count + 1):
            await repo.get_or_create_user(session, user_id, user_id, now - dt.timedelta(days=1))
            due = now - dt.timedelta(minutes=1, milliseconds=user_id)
            await repo.create_scan(
                session, user_id, dt.date.today() + dt.timedelta(days=7), None, "UTC", [("lead", 7, due)]
            )


async def reset(database: Database) -> None:
    """Make every reminder due again, as if never sent."""
    async with database.session() as session:
        await session.execute(
            text(
                "UPDATE reminders SET status = 'pending', claim_token = NULL, lease_until = NULL, "
                "sent_at = NULL, attempts = 0, last_error = NULL"
            )
        )


async def deliver_all(
    variant: str, bot: ExtBot[None], database: Database, fake: FakeBotApi, count: int
) -> Figures:
    """Run dispatch ticks until every reminder is sent; time it."""
    send = telegram_send(bot)
    finished: list[float] = []

    async def timed_send(chat_id: int, reply: Reply) -> SendResult:
        result = await send(chat_id, reply)
        finished.append(time.perf_counter())
        return result

    dispatcher = ReminderDispatcher(database, load_domain().renderer, timed_send, utcnow)
    mark = fake.mark()
    sent = ticks = 0
    started = time.perf_counter()
    while sent < count:
        report = await dispatcher.dispatch_due_reminders()
        ticks += 1
        sent += report.sent
        if report.claimed == 0:
            raise RuntimeError(f"{variant}: nothing left to claim after {sent} of {count}")
    seconds = time.perf_counter() - started
    calls = fake.calls("sendMessage", since=mark)
    half = len(finished) // 2
    steady = (len(finished) - 1 - half) / (finished[-1] - finished[half]) if len(finished) > 3 else 0.0
    return Figures(
        variant,
        count,
        ticks,
        round(seconds, 2),
        round(count / seconds, 1),
        round(steady, 1),
        sum(1 for call in calls if call.ok),
        sum(1 for call in calls if not call.ok),
    )


async def _pg_admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, object]:
    if args.postgres:
        name = f"bonebot_bench_{os.getpid()}_{secrets.token_hex(3)}"
        await _pg_admin(args.postgres, f'CREATE DATABASE "{name}"')
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            return await run_on(args, url, "postgresql")
        finally:
            await _pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.database_url:
        return await run_on(args, args.database_url, make_url(args.database_url).get_backend_name())
    with tempfile.TemporaryDirectory(prefix="bonebot-bench-") as folder:
        return await run_on(args, f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", "sqlite")


async def run_on(args: argparse.Namespace, url: str, backend: str) -> dict[str, object]:
    """Deliver every reminder once per variant on the database at ``url``."""
    await upgrade(url)
    database = Database.connect(url)
    results: list[Figures] = []
    try:
        await create_due(database, args.reminders)
        async with FakeBotApi(validate=args.validate) as fake:
            settings = Settings(
                telegram_token=TEST_TOKEN, telegram_api_base_url=fake.base_url, database_url=url
            )
            application = build_application(settings, dispatch=False)  # the bot the application uses
            unlimited = ExtBot(
                TEST_TOKEN, base_url=fake.base_url, defaults=Defaults(parse_mode=ParseMode.HTML)
            )
            async with application.bot as limited_bot, unlimited:
                for variant in args.variants:
                    await reset(database)
                    bot = limited_bot if variant == "limited" else unlimited
                    results.append(await deliver_all(variant, bot, database, fake, args.reminders))
            violations = [str(v) for v in fake.violations]
    finally:
        await database.dispose()
    limited = next((r for r in results if r.variant == "limited"), None)
    met = None if limited is None else TARGET_LIMITED <= limited.steady_per_second <= TELEGRAM_LIMIT * 1.05
    return {
        "bench": "reminder_delivery",
        "database": backend,
        "reminders": args.reminders,
        "validated_requests": args.validate,
        "telegram_limit_per_second": TELEGRAM_LIMIT,
        "target_limited_per_second": TARGET_LIMITED,
        "target_met": met,
        "violations": violations,
        "results": [asdict(r) for r in results],
    }


def print_table(report: dict[str, object]) -> None:
    results = report["results"]
    assert isinstance(results, list)
    print(
        f"{'variant':<10} {'reminders':>9} {'ticks':>5} {'seconds':>8} {'per second':>10} {'steady':>7} "
        f"{'accepted':>8} {'refused':>7}"
    )
    for r in results:
        print(
            f"{r['variant']:<10} {r['reminders']:>9} {r['ticks']:>5} {r['seconds']:>8.2f} "
            f"{r['per_second']:>10.1f} {r['steady_per_second']:>7.1f} {r['accepted']:>8} {r['refused']:>7}"
        )
    print(
        f"target: limited steady rate ≥ {TARGET_LIMITED:.0f}/s and within Telegram's ~{TELEGRAM_LIMIT:.0f}/s: "
        f"{'met' if report['target_met'] else 'not met'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--reminders", type=int, default=600, help="due reminders, one per user")
    parser.add_argument("--database-url", help="an empty database to use instead of a temporary SQLite file")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="create a database on this PostgreSQL server for the run (dropped afterwards)",
    )
    parser.add_argument(
        "--variants", nargs="+", choices=("limited", "unlimited"), default=["limited", "unlimited"]
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check every request against api.json (the fake then costs more CPU in this process)",
    )
    args = parser.parse_args(argv)
    if args.reminders < 1:
        parser.error("--reminders must be positive")
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

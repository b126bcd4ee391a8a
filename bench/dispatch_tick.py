"""Measure whether a dispatch tick's database cost depends on how many reminders are stored.

A tick claims up to 100 due reminders and records each delivery. The stored reminders are almost all
not due (sent, cancelled, missed or pending in the future); 100 are due. The same 100 are claimed and
marked sent on every run, then reset, while the rest of the table grows from 10,000 to 1,000,000 rows.
If the partial indexes do their job, the median time hardly changes: the target is a ratio of at most 1.5
between the largest and the smallest table.

Two measures, each on PostgreSQL and SQLite:

* ``repo``: ``claim_due_reminders`` (limit 100), then ``mark_reminder_sent`` for each, one transaction
  apiece, as the dispatcher records deliveries;
* ``tick``: ``ReminderDispatcher.dispatch_due_reminders`` with a send function that returns at once
  (claim, render, record: everything but the network).

Run from the repository root; PostgreSQL gets its own database, created and dropped here::

    .venv/bin/python bench/dispatch_tick.py
    .venv/bin/python bench/dispatch_tick.py postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/dispatch_tick.py --backend sqlite --sizes 10000 100000 --runs 5

The server URL comes from the argument, else ``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL``, else the
local server. It prints a table, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import bindparam, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bot.content import Renderer  # noqa: E402
from bot.conversation import Reply  # noqa: E402
from bot.dispatch import ReminderDispatcher, SendOutcome, SendResult  # noqa: E402
from bot.domain import load_domain  # noqa: E402
from bot.storage import Database, upgrade  # noqa: E402
from bot.storage import repositories as repo  # noqa: E402

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TARGET_RATIO = 1.5
DUE = 100
USERS = 1000
LEASE = 120.0
NOW = dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)
_NOW_SQL = "2027-03-08 09:00:00"
_PAST_SECONDS = 300 * 86400  # background rows fall due up to 300 days back


@dataclass(frozen=True)
class Result:
    """Timings for one back end, table size and measure."""

    backend: str
    stored: int
    measure: str
    runs: int
    median_ms: float
    min_ms: float
    max_ms: float


# -- data ----------------------------------------------------------------------------------------------

# Background row g (1-based): status by g % 10 — 0..5 sent, 6..7 cancelled, 8 pending a day or more ahead,
# 9 missed. The due rows are the only 'two_hours' ones, inserted first.
_PG_USERS = """
INSERT INTO users (id, chat_id, created_at, last_seen_at)
SELECT g, g, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01' FROM generate_series(1, CAST(:users AS integer)) AS g
"""
_PG_SCANS = """
INSERT INTO scans (id, user_id, scan_date, timezone, status, created_at)
SELECT g, g, DATE '2027-03-15', 'UTC', 'upcoming', TIMESTAMP '2026-01-01' FROM generate_series(1, CAST(:users AS integer)) AS g
"""
_PG_DUE = f"""
INSERT INTO reminders (scan_id, user_id, kind, due_at, status, attempts)
SELECT (g % {USERS}) + 1, (g % {USERS}) + 1, 'two_hours', TIMESTAMP '{_NOW_SQL}' - g * INTERVAL '1 minute',
       'pending', 0
FROM generate_series(1, {DUE}) AS g
"""
_PG_BACKGROUND = f"""
INSERT INTO reminders (scan_id, user_id, kind, lead_days, due_at, status, attempts, sent_at)
SELECT (g % {USERS}) + 1, (g % {USERS}) + 1, 'lead', 7, t.due_at, t.status, t.attempts,
       CASE WHEN t.status = 'sent' THEN t.due_at END
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g % 10 = 8
                THEN TIMESTAMP '{_NOW_SQL}' + INTERVAL '1 day' + (g % {_PAST_SECONDS}) * INTERVAL '1 second'
                ELSE TIMESTAMP '{_NOW_SQL}' - INTERVAL '1 day' - (g % {_PAST_SECONDS}) * INTERVAL '1 second'
           END AS due_at,
           CASE WHEN g % 10 < 6 THEN 'sent' WHEN g % 10 < 8 THEN 'cancelled'
                WHEN g % 10 = 8 THEN 'pending' ELSE 'missed' END AS status,
           CASE WHEN g % 10 = 8 THEN 0 ELSE 1 END AS attempts
) AS t
"""
_RESET = text(
    "UPDATE reminders SET status = 'pending', claim_token = NULL, lease_until = NULL, sent_at = NULL, "
    "attempts = 0, last_error = NULL WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _sqlite_time(moment: dt.datetime) -> str:
    """Write an instant the way SQLAlchemy stores a naive UTC DateTime in SQLite."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


_SQLITE_BACKGROUND = f"""
WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?)
INSERT INTO reminders (scan_id, user_id, kind, lead_days, due_at, status, attempts, sent_at)
SELECT scan_id, scan_id, 'lead', 7, due_at, status, attempts, CASE WHEN status = 'sent' THEN due_at END
FROM (
    SELECT (i % {USERS}) + 1 AS scan_id,
           CASE WHEN i % 10 = 8
                THEN datetime('{_NOW_SQL}', '+1 day', '+' || (i % {_PAST_SECONDS}) || ' seconds')
                ELSE datetime('{_NOW_SQL}', '-1 day', '-' || (i % {_PAST_SECONDS}) || ' seconds')
           END || '.000000' AS due_at,
           CASE WHEN i % 10 < 6 THEN 'sent' WHEN i % 10 < 8 THEN 'cancelled'
                WHEN i % 10 = 8 THEN 'pending' ELSE 'missed' END AS status,
           CASE WHEN i % 10 = 8 THEN 0 ELSE 1 END AS attempts
    FROM g
)
"""


def _sqlite_fill(path: Path, first: int, last: int, *, fresh: bool) -> None:
    """Insert background rows ``first..last`` (and, when ``fresh``, users, scans and the due rows)."""
    connection = sqlite3.connect(path)
    try:
        with connection:
            if fresh:
                created = "2026-01-01 00:00:00.000000"
                connection.executemany(
                    "INSERT INTO users (id, chat_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                    ((u, u, created, created) for u in range(1, USERS + 1)),
                )
                connection.executemany(
                    "INSERT INTO scans (id, user_id, scan_date, timezone, status, created_at) "
                    "VALUES (?, ?, '2027-03-15', 'UTC', 'upcoming', ?)",
                    ((u, u, created) for u in range(1, USERS + 1)),
                )
                connection.executemany(
                    "INSERT INTO reminders (scan_id, user_id, kind, due_at, status, attempts) "
                    "VALUES (?, ?, 'two_hours', ?, 'pending', 0)",
                    (
                        (g % USERS + 1, g % USERS + 1, _sqlite_time(NOW - dt.timedelta(minutes=g)))
                        for g in range(1, DUE + 1)
                    ),
                )
            # One statement: a recursive CTE is about twice as fast as executemany of Python tuples.
            connection.execute(_SQLITE_BACKGROUND, (first, last))
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _pg_fill(url: str, first: int, last: int, *, fresh: bool) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            # The rows are consistent by construction; per-row foreign-key triggers would triple the time.
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            if fresh:
                await connection.execute(text(_PG_USERS), {"users": USERS})
                await connection.execute(text(_PG_SCANS), {"users": USERS})
                await connection.execute(text(_PG_DUE))
            await connection.execute(text(_PG_BACKGROUND), {"first": first, "last": last})
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as connection:
            await connection.execute(text("VACUUM ANALYZE reminders"))
    finally:
        await engine.dispose()


async def _pg_admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


# -- measuring -----------------------------------------------------------------------------------------


async def _instant_send(chat_id: int, reply: Reply) -> SendResult:
    return SendResult(SendOutcome.SENT)


async def _repo_run(database: Database) -> float:
    started = time.perf_counter()
    async with database.session() as session:
        claimed = await repo.claim_due_reminders(session, NOW, LEASE, DUE)
    for reminder in claimed:
        async with database.session() as session:
            await repo.mark_reminder_sent(session, reminder.reminder_id, reminder.claim_token, NOW)
    elapsed = time.perf_counter() - started
    if len(claimed) != DUE:
        raise RuntimeError(f"claimed {len(claimed)} reminders, expected {DUE}")
    return elapsed


async def _tick_run(dispatcher: ReminderDispatcher) -> float:
    started = time.perf_counter()
    report = await dispatcher.dispatch_due_reminders()
    elapsed = time.perf_counter() - started
    if report.sent != DUE:
        raise RuntimeError(f"the tick sent {report.sent} reminders, expected {DUE}")
    return elapsed


async def _measure(
    url: str, backend: str, stored: int, renderer: Renderer, runs: int, warmup: int
) -> list[Result]:
    database = Database.connect(url)
    try:
        async with database.session() as session:
            due_ids = list(
                (await session.scalars(text("SELECT id FROM reminders WHERE kind = 'two_hours'"))).all()
            )
        if len(due_ids) != DUE:
            raise RuntimeError(f"found {len(due_ids)} due reminders, expected {DUE}")

        async def reset() -> None:
            async with database.session() as session:
                await session.execute(_RESET, {"ids": due_ids})

        dispatcher = ReminderDispatcher(database, renderer, _instant_send, lambda: NOW, lease_seconds=LEASE)
        results = []
        for measure in ("repo", "tick"):
            timings = []
            for index in range(warmup + runs):
                await reset()
                elapsed = await (_repo_run(database) if measure == "repo" else _tick_run(dispatcher))
                if index >= warmup:
                    timings.append(elapsed * 1000)
            results.append(
                Result(
                    backend,
                    stored,
                    measure,
                    runs,
                    round(statistics.median(timings), 2),
                    round(min(timings), 2),
                    round(max(timings), 2),
                )
            )
        await reset()
        return results
    finally:
        await database.dispose()


async def _explain(url: str, backend: str) -> str:
    """Return the plan of the claim's candidate query, to show which index it reads."""
    from bot.storage.repositories.dispatch import pending_due_query

    prefix = "EXPLAIN " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
    engine = create_async_engine(url, poolclass=NullPool)
    compiled = pending_due_query(NOW, DUE).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text(prefix + str(compiled)))).all()
    finally:
        await engine.dispose()
    return " | ".join(str(row[-1]).strip() for row in rows)


async def _bench_backend(
    backend: str, url: str, sizes: list[int], renderer: Renderer, runs: int, warmup: int
) -> tuple[list[Result], dict[str, float], str]:
    """Grow one database through ``sizes`` (rows stored in total) and measure at each size."""
    results: list[Result] = []
    fill_seconds: dict[str, float] = {}
    await upgrade(url)
    loaded = DUE
    for size in sorted(sizes):
        first, last = loaded - DUE + 1, size - DUE
        started = time.perf_counter()
        if backend == "postgresql":
            await _pg_fill(url, first, last, fresh=loaded == DUE)
        else:
            path = make_url(url).database
            assert path is not None
            await asyncio.to_thread(_sqlite_fill, Path(path), first, last, fresh=loaded == DUE)
        fill_seconds[str(size)] = round(time.perf_counter() - started, 2)
        loaded = size
        print(f"  {backend}: {size:>9,} reminders stored in {fill_seconds[str(size)]:.1f} s", file=sys.stderr)
        results.extend(await _measure(url, backend, size, renderer, runs, warmup))
    plan = await _explain(url, backend)
    return results, fill_seconds, plan


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    renderer = load_domain().renderer
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    results: list[Result] = []
    fills: dict[str, dict[str, float]] = {}
    plans: dict[str, str] = {}
    for backend in backends:
        if backend == "postgresql":
            name = f"bonebot_bench_{os.getpid()}_{secrets.token_hex(3)}"
            await _pg_admin(args.server_url, f'CREATE DATABASE "{name}"')
            url = make_url(args.server_url).set(database=name).render_as_string(hide_password=False)
            try:
                found, fills[backend], plans[backend] = await _bench_backend(
                    backend, url, args.sizes, renderer, args.runs, args.warmup
                )
            finally:
                await _pg_admin(args.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            with tempfile.TemporaryDirectory(prefix="bonebot-bench-") as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
                found, fills[backend], plans[backend] = await _bench_backend(
                    backend, url, args.sizes, renderer, args.runs, args.warmup
                )
        results.extend(found)

    ratios = []
    smallest, largest = min(args.sizes), max(args.sizes)
    for backend in backends:
        for measure in ("repo", "tick"):
            by_size = {r.stored: r for r in results if r.backend == backend and r.measure == measure}
            ratio = by_size[largest].median_ms / by_size[smallest].median_ms
            ratios.append({"backend": backend, "measure": measure, "ratio": round(ratio, 2)})
    return {
        "bench": "dispatch_tick",
        "due": DUE,
        "sizes": sorted(args.sizes),
        "runs": args.runs,
        "warmup": args.warmup,
        "target_ratio": TARGET_RATIO,
        "target_met": all(r["ratio"] <= TARGET_RATIO for r in ratios),  # type: ignore[operator]
        "fill_seconds": fills,
        "plans": plans,
        "ratios": ratios,
        "results": [asdict(r) for r in results],
    }


def print_table(report: dict[str, object]) -> None:
    results = report["results"]
    assert isinstance(results, list)
    print(f"{'backend':<11} {'stored':>10} {'measure':<7} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for r in results:
        print(
            f"{r['backend']:<11} {r['stored']:>10,} {r['measure']:<7} {r['median_ms']:>10.2f} "
            f"{r['min_ms']:>8.2f} {r['max_ms']:>8.2f}"
        )
    print()
    ratios = report["ratios"]
    assert isinstance(ratios, list)
    for ratio in ratios:
        verdict = "OK" if ratio["ratio"] <= TARGET_RATIO else "over target"
        print(
            f"{ratio['backend']:<11} {ratio['measure']:<5} median ratio {max(report['sizes']):,} / "  # type: ignore[call-overload]
            f"{min(report['sizes']):,} = {ratio['ratio']:.2f} (target ≤ {TARGET_RATIO}: {verdict})"  # type: ignore[call-overload]
        )
    plans = report["plans"]
    assert isinstance(plans, dict)
    for backend, plan in plans.items():
        print(f"{backend} plan of the due-reminder query: {plan}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "server_url",
        nargs="?",
        default=os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_SERVER,
        help="PostgreSQL server URL (a database is created and dropped on it)",
    )
    parser.add_argument("--backend", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 1_000_000], help="reminders stored, in total"
    )
    parser.add_argument("--runs", type=int, default=11, help="timed runs per size and measure")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    args = parser.parse_args(argv)
    if min(args.sizes) <= DUE:
        parser.error(f"every size must be larger than the {DUE} due reminders")
    if len(set(args.sizes)) < 2:
        parser.error("give at least two different sizes to compare")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(main_async(args))
    try:
        print_table(report)
        print(json.dumps(report))
    except BrokenPipeError:
        # Output cut short (| head): nothing left to say.
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

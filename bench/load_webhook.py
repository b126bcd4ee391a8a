"""Load the whole stack through its webhook: updates per second, reply latency, memory, replicas.

Every bot under test is a separate process started the way operators start it (``bonebot run --webhook``
with settings from the environment). This process holds the fake Bot API server (``tests/fakes``, loopback)
the bots send their replies to, and the load generator that posts updates to the bots' webhooks as
Telegram does: JSON with the secret header, up to ``--concurrency`` connections at once (Telegram's default
``max_connections`` is 40). Each virtual user sends a question, waits until the fake server receives the
bot's first reply in that chat, then sends the next: the reply latency is from the POST to that reply.

Three parts:

* ``throughput``: BoneBot (webhook → safety rules and matcher → templated answer → sendMessage, on SQLite)
  against a minimal PTB echo bot (PTB's own webhook server, one handler, no database) on the same fake
  server with the same load. Target: BoneBot at least 80% of the echo bot's updates per second.
* ``rss``: BoneBot on an SQLite database holding 100,000 users, their scans and 200,000 pending reminders;
  resident memory sampled while it answers updates from those users. Target: flat (growth after warm-up
  within 10%), and within 10% of BoneBot's memory on a nearly empty database (from ``throughput``).
* ``replicas``: on PostgreSQL, one webhook replica, then two behind a round-robin split (as Caddy or a
  Kubernetes Service does). Target: two replicas at least 1.7x one replica's updates per second.

Telegram's overall limit of about 30 messages/s (PTB's AIORateLimiter) is lifted in the bot processes:
it caps every bot at the same 30/s and is not what this measures. Everything else is the production code.

    .venv/bin/python bench/load_webhook.py
    .venv/bin/python bench/load_webhook.py --parts throughput --updates 1000
    .venv/bin/python bench/load_webhook.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

The PostgreSQL server comes from ``--postgres``, else ``BENCH_POSTGRES_URL`` or ``TEST_POSTGRES_URL``,
else the local server; the bench creates its own database there and drops it. It prints a table per part,
then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-webhook-secret-0123456789"
WEBHOOK_PATH = "/telegram"
REPLY_TIMEOUT = 30.0
START_TIMEOUT = 90.0
TARGET_ECHO_SHARE = 0.80
TARGET_REPLICA_SPEEDUP = 1.7
TARGET_RSS_GROWTH = 0.10
_SCAN_DATE = "2027-06-15"


# -- the bot processes ------------------------------------------------------------------------------------


def _role_bonebot() -> int:
    """Run ``bonebot run --webhook`` with Telegram's overall send limit lifted."""
    import bot.telegram.app as app_module
    from bot.cli import main
    from bot.telegram._observe import CountingRateLimiter

    class UnlimitedRateLimiter(CountingRateLimiter):
        """The production limiter with its overall rate (Telegram's ~30 messages/s) switched off."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["overall_max_rate"] = 0
            super().__init__(*args, **kwargs)

    app_module.CountingRateLimiter = UnlimitedRateLimiter  # type: ignore[misc]
    profile = os.environ.get("BENCH_PROFILE")
    if not profile:
        return main(["run", "--webhook"])
    import cProfile

    profiler = cProfile.Profile()
    try:
        return int(profiler.runcall(main, ["run", "--webhook"]))
    finally:
        profiler.dump_stats(f"{profile}.{os.getpid()}")


def _role_echo() -> int:
    """Run the floor: PTB's own webhook server and one handler that echoes the text back."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text is not None:
            await context.bot.send_message(message.chat_id, message.text)

    base = os.environ["TELEGRAM_API_BASE_URL"]
    port = int(os.environ["BONEBOT_PORT"])
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base)
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_webhook(
        listen="127.0.0.1",
        port=port,
        url_path=WEBHOOK_PATH.lstrip("/"),
        webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        secret_token=SECRET,
        allowed_updates=Update.ALL_TYPES,
    )
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    """One bot under test: its process, port and log file."""

    role: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """Return the user + system CPU time the process has used."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        """Return the process's resident memory in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> int | None:
        """Ask the process to stop (SIGTERM), as an orchestrator does; kill it if it does not."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def log_errors(self) -> int:
        """Return how many ERROR records the process logged (text or JSON log lines)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return sum(1 for line in text.splitlines() if " ERROR " in line or '"ERROR"' in line)


def start_bot(role: str, fake_base_url: str, database_url: str, workdir: Path) -> BotProcess:
    """Start a bot process pointed at the fake server; it listens on a free loopback port."""
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BONEBOT_", "TELEGRAM_")) and k != "DATABASE_URL"
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": _token(),
            "TELEGRAM_API_BASE_URL": fake_base_url,
            "DATABASE_URL": database_url,
            "BONEBOT_WEBHOOK_URL": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            "BONEBOT_WEBHOOK_SECRET": SECRET,
            "BONEBOT_LISTEN": "127.0.0.1",
            "BONEBOT_PORT": str(port),
            "BONEBOT_LOG_FORMAT": "text",
            # As the container image and the systemd units set it: one BLAS thread per process.
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    log = workdir / f"{role}-{port}.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--role", role],
            env=env,
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return BotProcess(role, port, process, log)


async def wait_ready(bot: BotProcess, session: Any) -> None:
    """Wait until the bot's webhook server answers (BoneBot: until /healthz says the database is up)."""
    import aiohttp

    deadline = time.monotonic() + START_TIMEOUT
    path = "/healthz" if bot.role == "bonebot" else WEBHOOK_PATH
    while time.monotonic() < deadline:
        if bot.process.poll() is not None:
            raise RuntimeError(f"{bot.role} exited with {bot.process.returncode}; see {bot.log}")
        try:
            async with session.get(f"http://127.0.0.1:{bot.port}{path}") as response:
                if response.status == 200 or (bot.role == "echo" and response.status == 405):
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{bot.role} did not start within {START_TIMEOUT:.0f}s; see {bot.log}")


def _token() -> str:
    from tests.fakes.bot_api import TEST_TOKEN

    return TEST_TOKEN


# -- the fake server and the load ---------------------------------------------------------------------------


def reply_clock_server() -> Any:
    """Return the fake Bot API server, noting when the bot's first message in a waited-on chat arrives."""
    from tests.fakes.bot_api import FakeBotApi, SentMessage

    class ReplyClock(FakeBotApi):
        def __init__(self) -> None:
            # Request validation against api.json is the tests' job; here it would only load this process.
            super().__init__(validate=False)
            self.waiting: dict[int, asyncio.Future[float]] = {}
            self.bot_messages = 0

        def _store(self, message: Mapping[str, Any], *, from_bot: bool, **extra: Any) -> SentMessage:
            stored = super()._store(message, from_bot=from_bot, **extra)
            if from_bot:
                self.bot_messages += 1
                future = self.waiting.pop(stored.chat_id, None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
            return stored

    return ReplyClock()


def load_questions() -> list[str]:
    """Return the questions patients type: the labelled dev and holdout sets, in a fixed shuffled order."""
    questions = []
    for name in ("dev.tsv", "holdout.tsv"):
        for line in (REPO_ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#") and "\t" in line:
                questions.append(line.split("\t", 1)[1].strip())
    random.Random(7).shuffle(questions)
    return questions


_UPDATE_IDS = itertools.count(1)  # one sequence for the whole run: replicas may de-duplicate update ids


@dataclass
class Load:
    """What one load run measured."""

    label: str
    updates: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    lost: int
    refused: int
    bot_cpu_ms_per_update: float
    harness_cpu_share: float
    replies: int
    errors: int = 0  # errors the bot processes logged (the user got an apology instead of an answer)


async def drive(
    fake: Any,
    session: Any,
    bots: list[BotProcess],
    questions: list[str],
    *,
    label: str,
    count: int,
    concurrency: int,
    users: int,
    first_user: int,
    offset: int = 0,
) -> Load:
    """Send ``count`` updates with ``concurrency`` virtual users, round-robin over the bots' webhooks."""
    from tests.factories import make_message_update, make_user

    if users % concurrency:
        raise ValueError("users must be a multiple of concurrency, so concurrent chats never collide")
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    lost = refused = 0
    replies_before = fake.bot_messages
    cpu_before = [bot.cpu_seconds() for bot in bots]
    harness_before = time.process_time()

    async def virtual_user(v: int) -> None:
        nonlocal lost, refused
        for n in range(v, count, concurrency):
            chat = first_user + (offset + n) % users
            text = questions[(offset + n) % len(questions)]
            update = make_message_update(text, make_user(chat, "Pat"), update_id=next(_UPDATE_IDS))
            waiter: asyncio.Future[float] = loop.create_future()
            fake.waiting[chat] = waiter
            bot = bots[n % len(bots)]
            sent = time.perf_counter()
            async with session.post(
                f"http://127.0.0.1:{bot.port}{WEBHOOK_PATH}",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response:
                await response.read()
                ok = response.status == 200
            if not ok:
                refused += 1
                fake.waiting.pop(chat, None)
                continue
            try:
                answered = await asyncio.wait_for(waiter, REPLY_TIMEOUT)
            except TimeoutError:
                lost += 1
                fake.waiting.pop(chat, None)
                continue
            latencies.append(answered - sent)

    started = time.perf_counter()
    await asyncio.gather(*(virtual_user(v) for v in range(concurrency)))
    seconds = time.perf_counter() - started
    bot_cpu = sum(bot.cpu_seconds() - before for bot, before in zip(bots, cpu_before, strict=True))
    latencies.sort()
    done = len(latencies)
    return Load(
        label=label,
        updates=count,
        seconds=round(seconds, 2),
        per_second=round(done / seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1) if latencies else float("nan"),
        p99_ms=round(latencies[min(done - 1, int(done * 0.99))] * 1000, 1) if latencies else float("nan"),
        max_ms=round(latencies[-1] * 1000, 1) if latencies else float("nan"),
        lost=lost,
        refused=refused,
        bot_cpu_ms_per_update=round(bot_cpu * 1000 / max(done, 1), 2),
        harness_cpu_share=round((time.process_time() - harness_before) / seconds, 2),
        replies=fake.bot_messages - replies_before,
    )


@contextlib.asynccontextmanager
async def bots_running(
    role: str, fake: Any, session: Any, database_url: str, workdir: Path, replicas: int = 1
) -> Any:
    """Start ``replicas`` bot processes on one database, yield them ready, stop them with SIGTERM."""
    started = [start_bot(role, fake.base_url, database_url, workdir) for _ in range(replicas)]
    try:
        for bot in started:
            await wait_ready(bot, session)
        yield started
    finally:
        for bot in started:
            bot.stop()


# -- data -------------------------------------------------------------------------------------------------

_SQLITE_USERS = """
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
INSERT INTO users (id, chat_id, created_at, last_seen_at, consent, timezone)
SELECT i, i, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 1, 'Europe/London' FROM g
"""
_SQLITE_SCANS = """
INSERT INTO scans (id, user_id, scan_date, timezone, status, created_at)
SELECT id, id, ?, 'Europe/London', 'upcoming', '2026-01-01 00:00:00.000000' FROM users
"""
# Two pending reminders per user, due before the scan and so long after the run: nothing falls due.
_SQLITE_REMINDERS = """
WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < ? - 1)
INSERT INTO reminders (scan_id, user_id, kind, lead_days, due_at, status, attempts)
SELECT (i / 2) % ? + 1, (i / 2) % ? + 1, 'lead', CASE i % 2 WHEN 0 THEN 7 ELSE 1 END,
       CASE i % 2 WHEN 0 THEN '2027-06-08 08:00:00.000000' ELSE '2027-06-14 08:00:00.000000' END,
       'pending', 0
FROM g
"""


def fill_sqlite(path: Path, users: int, reminders: int) -> float:
    """Migrate an SQLite file and fill it with ``users`` patients and ``reminders`` reminders; return seconds."""
    from bot.storage import upgrade_sync

    started = time.perf_counter()
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(_SQLITE_USERS, (users,))
            connection.execute(_SQLITE_SCANS, (_SCAN_DATE,))
            connection.execute(_SQLITE_REMINDERS, (reminders, users, users))
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return time.perf_counter() - started


def count_rows(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("users", "reminders")
        }
    finally:
        connection.close()


async def _pg_admin(server_url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def postgres_database(server_url: str) -> Any:
    """Create a migrated database for the run on the server; drop it afterwards."""
    from sqlalchemy.engine import make_url

    from bot.storage import upgrade

    name = f"bonebot_bench_load_{secrets.token_hex(4)}"
    await _pg_admin(server_url, f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        await _pg_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the parts --------------------------------------------------------------------------------------------


@dataclass
class Report:
    """Every figure of the run."""

    cpus: int
    load_average_at_start: list[float]
    concurrency: int
    throughput: dict[str, Any] = field(default_factory=dict)
    rss: dict[str, Any] = field(default_factory=dict)
    replicas: dict[str, Any] = field(default_factory=dict)


def _print_loads(loads: list[Load]) -> None:
    print(
        f"  {'run':<22}{'updates':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'lost':>6}{'errors':>8}{'bot CPU ms/upd':>16}{'harness CPU':>13}"
    )
    for load in loads:
        print(
            f"  {load.label:<22}{load.updates:>8}{load.per_second:>9.1f}{load.p50_ms:>9.1f}{load.p99_ms:>9.1f}"
            f"{load.max_ms:>9.1f}{load.lost + load.refused:>6}{load.errors:>8}{load.bot_cpu_ms_per_update:>16.2f}"
            f"{load.harness_cpu_share:>13.0%}"
        )


async def timed_run(
    role: str,
    args: argparse.Namespace,
    fake: Any,
    session: Any,
    database_url: str,
    workdir: Path,
    *,
    label: str,
    first_user: int,
    replicas: int = 1,
) -> tuple[Load, float]:
    """Start fresh bot processes, warm them up, time ``--updates`` updates; return the load and the RSS."""
    questions = load_questions()
    async with bots_running(role, fake, session, database_url, workdir, replicas) as bots:
        common = {"concurrency": args.concurrency, "users": args.users, "first_user": first_user}
        await drive(fake, session, bots, questions, label="warm-up", count=args.warmup, **common)
        load = await drive(
            fake, session, bots, questions, label=label, count=args.updates, offset=args.warmup, **common
        )
        rss = max(bot.rss_mib() for bot in bots)
    load.errors = sum(bot.log_errors() for bot in bots)
    return load, round(rss, 1)


def _median_load(loads: list[Load]) -> Load:
    """Return the run with the median rate (the middle one of an odd count, the lower of an even one)."""
    ordered = sorted(loads, key=lambda load: load.per_second)
    return ordered[(len(ordered) - 1) // 2]


async def part_throughput(
    args: argparse.Namespace, fake: Any, session: Any, workdir: Path, report: Report
) -> None:
    from bot.storage import upgrade

    database_url = f"sqlite+aiosqlite:///{workdir / 'throughput.sqlite3'}"
    await upgrade(database_url)
    runs: dict[str, list[Load]] = {"echo": [], "bonebot": []}
    rss: dict[str, float] = {}
    # Alternate the two bots, so a change in what else the shared CPUs run hits both alike.
    for round_ in range(args.rounds):
        for role in ("echo", "bonebot"):
            load, rss[role] = await timed_run(
                role,
                args,
                fake,
                session,
                database_url,
                workdir,
                label=f"{role} #{round_ + 1}",
                first_user=1_000_001,
            )
            runs[role].append(load)
    echo, bonebot = _median_load(runs["echo"]), _median_load(runs["bonebot"])
    share = bonebot.per_second / echo.per_second if echo.per_second else 0.0
    cpu_share = echo.bot_cpu_ms_per_update / bonebot.bot_cpu_ms_per_update
    print("\nthroughput: BoneBot vs a minimal PTB echo bot, same fake Bot API, same load (BoneBot on SQLite)")
    _print_loads([load for pair in zip(runs["echo"], runs["bonebot"], strict=True) for load in pair])
    met = share >= TARGET_ECHO_SHARE
    print(
        f"  median runs: BoneBot at {share:.0%} of the echo bot's updates/s (target >= {TARGET_ECHO_SHARE:.0%}: "
        f"{'met' if met else 'NOT met'}); by CPU time per update {cpu_share:.0%}. RSS after a run: "
        f"echo {rss['echo']} MiB, BoneBot {rss['bonebot']} MiB"
    )
    report.throughput = {
        "runs": [asdict(load) for role in runs for load in runs[role]],
        "echo_per_second": echo.per_second,
        "bonebot_per_second": bonebot.per_second,
        "bonebot_p50_ms": bonebot.p50_ms,
        "bonebot_p99_ms": bonebot.p99_ms,
        "share_of_echo": round(share, 3),
        "share_of_echo_by_cpu": round(cpu_share, 3),
        "target": TARGET_ECHO_SHARE,
        "target_met": met,
        "rss_mib": rss,
    }


async def part_rss(args: argparse.Namespace, fake: Any, session: Any, workdir: Path, report: Report) -> None:
    database = workdir / "rss.sqlite3"
    fill_seconds = await asyncio.to_thread(fill_sqlite, database, args.rss_users, args.rss_reminders)
    rows = count_rows(database)
    questions = load_questions()
    samples: list[dict[str, float]] = []
    async with bots_running("bonebot", fake, session, f"sqlite+aiosqlite:///{database}", workdir) as bots:
        bot = bots[0]
        samples.append({"updates": 0, "rss_mib": round(bot.rss_mib(), 1)})
        step = max(args.rss_updates // 10, args.concurrency)
        done = 0
        loads = []
        while done < args.rss_updates:
            load = await drive(
                fake,
                session,
                bots,
                questions,
                label=f"updates {done + 1}-{done + step}",
                count=step,
                concurrency=args.concurrency,
                users=args.rss_users - args.rss_users % args.concurrency,
                first_user=1,
                offset=done * 7919,  # spread over the stored users, not the same few
            )
            done += step
            loads.append(load)
            samples.append({"updates": done, "rss_mib": round(bot.rss_mib(), 1)})
        errors = bot.log_errors()
    after_warmup = samples[2]["rss_mib"]  # after the first 20% of the updates
    final = samples[-1]["rss_mib"]
    growth = (final - after_warmup) / after_warmup
    peak = max(sample["rss_mib"] for sample in samples[2:])
    empty = report.throughput.get("rss_mib", {}).get("bonebot")
    versus_empty = (final - empty) / empty if empty else None
    met = growth <= TARGET_RSS_GROWTH and (versus_empty is None or versus_empty <= TARGET_RSS_GROWTH)
    print(
        f"\nrss: BoneBot on SQLite with {rows['users']:,} users and {rows['reminders']:,} reminders "
        f"(filled in {fill_seconds:.1f}s)"
    )
    print("  " + "  ".join(f"{int(s['updates'])}:{s['rss_mib']}" for s in samples) + "  (updates:MiB)")
    print(
        f"  after warm-up {after_warmup} MiB, end {final} MiB, peak {peak} MiB: growth {growth:+.1%}"
        + (f"; {versus_empty:+.1%} against a nearly empty database ({empty} MiB)" if empty else "")
        + f" (target <= {TARGET_RSS_GROWTH:.0%}: {'met' if met else 'NOT met'})"
        + (f"; {errors} errors logged" if errors else "")
    )
    report.rss = {
        "users": rows["users"],
        "reminders": rows["reminders"],
        "samples": samples,
        "after_warmup_mib": after_warmup,
        "final_mib": final,
        "peak_mib": peak,
        "growth": round(growth, 4),
        "versus_empty_database": None if versus_empty is None else round(versus_empty, 4),
        "per_second": round(statistics.median(load.per_second for load in loads), 1),
        "target": TARGET_RSS_GROWTH,
        "target_met": met,
    }


async def part_replicas(
    args: argparse.Namespace, fake: Any, session: Any, workdir: Path, report: Report
) -> None:
    server = args.postgres or os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    runs: dict[int, list[Load]] = {1: [], 2: []}
    async with postgres_database(server or DEFAULT_SERVER) as url:
        for round_ in range(args.rounds):
            for replicas in (1, 2):
                load, _rss = await timed_run(
                    "bonebot",
                    args,
                    fake,
                    session,
                    url,
                    workdir,
                    label=f"{replicas} replica{'s' if replicas > 1 else ''} #{round_ + 1}",
                    first_user=2_000_001,
                    replicas=replicas,
                )
                runs[replicas].append(load)
    one, two = _median_load(runs[1]), _median_load(runs[2])
    speedup = two.per_second / one.per_second if one.per_second else 0.0
    met = speedup >= TARGET_REPLICA_SPEEDUP
    print("\nreplicas: BoneBot webhook replicas on one PostgreSQL, updates split round-robin")
    _print_loads([load for pair in zip(runs[1], runs[2], strict=True) for load in pair])
    print(
        f"  median runs: two replicas {speedup:.2f}x one (target >= {TARGET_REPLICA_SPEEDUP}x: "
        f"{'met' if met else 'NOT met'}); CPU time per update {one.bot_cpu_ms_per_update} ms with one, "
        f"{two.bot_cpu_ms_per_update} ms with two. {os.cpu_count()} CPUs for the replicas, PostgreSQL and "
        "this load generator together"
    )
    report.replicas = {
        "runs": [asdict(load) for count in runs for load in runs[count]],
        "one_per_second": one.per_second,
        "two_per_second": two.per_second,
        "speedup": round(speedup, 3),
        "target": TARGET_REPLICA_SPEEDUP,
        "target_met": met,
    }


async def run(args: argparse.Namespace) -> Report:
    import aiohttp

    report = Report(
        cpus=os.cpu_count() or 1,
        load_average_at_start=[round(x, 2) for x in os.getloadavg()],
        concurrency=args.concurrency,
    )
    print(
        f"{report.cpus} CPUs, load average {report.load_average_at_start} at start; "
        f"{args.concurrency} concurrent webhook connections"
    )
    fake = reply_clock_server()
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    with contextlib.ExitStack() as stack:
        if args.keep:
            tmp = tempfile.mkdtemp(prefix="bonebot-load-")
            print(f"keeping the databases and the bots' logs in {tmp}")
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bonebot-load-"))
        workdir = Path(tmp)
        async with fake, aiohttp.ClientSession(connector=connector) as session:
            if "throughput" in args.parts:
                await part_throughput(args, fake, session, workdir, report)
            if "rss" in args.parts:
                await part_rss(args, fake, session, workdir, report)
            if "replicas" in args.parts:
                await part_replicas(args, fake, session, workdir, report)
    return report


def _parts(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = set(parts) - {"throughput", "rss", "replicas"}
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown parts: {', '.join(sorted(unknown))}")
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=["bonebot", "echo"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--parts", type=_parts, default=["throughput", "rss", "replicas"], help="comma-separated"
    )
    parser.add_argument("--updates", type=int, default=2000, help="timed updates per run (default 2000)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each bot, alternated (default 2)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed updates first (default 300)")
    parser.add_argument("--concurrency", type=int, default=40, help="webhook connections (default 40)")
    parser.add_argument("--users", type=int, default=2000, help="distinct patients in the throughput runs")
    parser.add_argument("--rss-users", type=int, default=100_000)
    parser.add_argument("--rss-reminders", type=int, default=200_000)
    parser.add_argument("--rss-updates", type=int, default=5000)
    parser.add_argument("--postgres", help="PostgreSQL server URL for the replicas part")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the bots' logs")
    args = parser.parse_args(argv)
    if args.role == "bonebot":
        return _role_bonebot()
    if args.role == "echo":
        return _role_echo()
    report = asyncio.run(run(args))
    print(json.dumps({"bench": "load_webhook", **asdict(report)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

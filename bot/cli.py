"""The ``bonebot`` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.content import ContentError, content_root
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.domain import Domain

logger = logging.getLogger(__name__)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"bonebot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _domain(threads: int = 1) -> Domain:
    from bot.domain import load_domain

    try:
        return load_domain(threads=threads)
    except ContentError as exc:
        print("bonebot: the content does not load; run `bonebot check`:", file=sys.stderr)
        for problem in exc.problems[:20]:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _line_batches(stream: Any, limit: int = 64) -> Iterator[list[str]]:
    """Yield the lines already waiting on ``stream``, up to ``limit`` at a time, never waiting for more.

    A script that writes one line and waits for its answer gets it at once; piped files are read in
    batches, which lets the safety model embed many lines in one call.
    """
    fd = stream.fileno()
    pending = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for start in range(0, len(complete), limit):
            yield [line.decode("utf-8", "replace") for line in complete[start : start + limit]]
    if pending:
        yield [pending.decode("utf-8", "replace")]


def cmd_match(_: argparse.Namespace) -> int:
    """Match questions from stdin, one JSON object per line."""
    matcher = _domain(threads=os.cpu_count() or 1).matcher
    sys.stdout.flush()
    for batch in _line_batches(sys.stdin):
        lines = [raw.rstrip("\r") for raw in batch]
        for line, result in zip(lines, matcher.match_many(lines), strict=True):
            record = {
                "text": line,
                "intent": result.intent,
                "score": round(float(result.score), 2),
                "alternatives": [
                    {"intent": c.intent, "score": round(float(c.score), 2)}
                    for c in result.alternatives
                    if c.intent != result.intent
                ][:3],
            }
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def cmd_check(_: argparse.Namespace) -> int:
    """Validate intents and answers."""
    from bot.content._check import check_content, find_article

    root = content_root()
    article = find_article(root)
    if article is None or not article.is_file():
        print(
            "bonebot check: the shared article (../shared/content/article.txt) was not found; set "
            "BONEBOT_ARTICLE to its path. The figure guard did not run.",
            file=sys.stderr,
        )
    problems = check_content(root, article)
    if not problems:
        from bot.content import Renderer, load_knowledge_base
        from bot.matching import Matcher
        from bot.safety._check import check_safety_data, check_safety_lines

        knowledge = load_knowledge_base(root)
        renderer = Renderer(root, knowledge)
        ordinary = Matcher.ordinary_questions(knowledge)
        problems = check_safety_lines(renderer.safety_languages()) + check_safety_data(ordinary=ordinary)
    if problems:
        print(f"{len(problems)} problem(s) in {root}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    from bot.content import load_knowledge_base
    from bot.conversation._dialogue import DialogueError
    from bot.domain import load_domain

    try:
        load_domain(root)  # the conversation rules in intents/_dialogue.yaml name intents and hold patterns
    except DialogueError as exc:
        print(f"1 problem(s) in {root}:\n  - {exc}", file=sys.stderr)
        return 1
    knowledge = load_knowledge_base(root)
    examples = sum(len(i.examples) for i in knowledge.intents.values())
    print(f"content OK: {len(knowledge.intents)} intents, {examples} examples, version {knowledge.version}")
    return 0


def cmd_review_pack(args: argparse.Namespace) -> int:
    """Write the clinicians' review pack."""
    from bot.content import load_knowledge_base
    from bot.content._review import build_review_pack

    root = content_root()
    out = Path(args.out) if args.out else Path(f"review-pack-{load_knowledge_base(root).version}.html")
    out.write_text(build_review_pack(root), encoding="utf-8")
    print(f"review pack written to {out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Report accuracy on a labelled file."""
    from bot.conversation._evaluate import looks_like_conversations

    if looks_like_conversations(Path(args.file)):
        return _eval_conversations(args)
    from bot.matching import MalformedFile, evaluate, read_labelled

    try:
        rows = read_labelled(Path(args.file))
    except MalformedFile as exc:
        print(f"bonebot eval: {exc}", file=sys.stderr)
        return 2
    matcher = _domain(threads=os.cpu_count() or 1).matcher
    if args.layers:
        from bot.safety import LAYERS

        layers = [layer.strip() for layer in args.layers.split(",") if layer.strip()]
        if not layers or set(layers) - set(LAYERS):
            print(f"bonebot eval: --layers takes some of {','.join(LAYERS)}", file=sys.stderr)
            return 2
        matcher.safety_detector = matcher.safety_detector.with_layers(layers)
    report = evaluate(matcher, rows)
    figures = report.as_dict()
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"top-1 accuracy (in scope):  {report.top1_accuracy:.1%}  ({report.correct}/{report.in_scope})")
    print(
        f"out-of-scope rejection:     {report.rejection_rate:.1%}  ({report.rejected}/{report.out_of_scope})"
    )
    print(f"safety recall:              {report.safety_recall:.1%}  ({report.safety_hits}/{report.safety})")
    print(f"false safety alarms:        {report.false_alarms}")
    if report.alarms:
        print(
            f"alarm recall:               {report.alarm_recall:.1%}  ({report.alarmed}/{report.alarms}), "
            f"right kind {report.right_kind_rate:.1%}  ({report.right_kind}/{report.alarms})"
        )
    if report.missed_with_line:
        print(f"  missed, but the emergency line was added: {report.missed_with_line}")
    if report.calm_rows:
        print(
            f"false alarm rate:           {report.false_alarm_rate:.1%}  ({report.false_alarms}/{report.calm_rows})"
        )
    if report.other_language_alarms[0]:
        rows_, given = report.other_language_alarms
        print(f"alarms in other languages:  numbers given {given}/{rows_}")
    for kind, (total, alarmed, right) in sorted(report.alarms_by_kind.items()):
        print(f"  {kind:<16} rows {total:4d}  alarmed {alarmed:4d}  right kind {right:4d}")
    languages = sorted(set(report.alarms_by_language) | set(report.calm_by_language))
    if len(languages) > 1:
        print("by language (alarms: rows/alarmed/right kind; others: rows/false alarms):")
        for language in languages:
            a = report.alarms_by_language.get(language, [0, 0, 0])
            c = report.calm_by_language.get(language, [0, 0])
            print(f"  {language:<4} alarms {a[0]:3d}/{a[1]:3d}/{a[2]:3d}   others {c[0]:3d}/{c[1]:3d}")
    if args.errors:
        for line, expected, predicted in report.missed:
            print(f"  missed line {line}: {expected} -> {predicted}")
        for line, predicted in report.false_alarm_lines:
            print(f"  false alarm line {line}: -> {predicted}")
    if report.unknown_labels:
        print(f"labels that are not intents: {', '.join(sorted(report.unknown_labels))}")
    if report.confusions:
        print("most confused (expected -> predicted):")
        for (expected, predicted), count in report.confusions.most_common(10):
            print(f"  {count:3d}  {expected} -> {predicted}")
    return 0


def cmd_safety_index(_: argparse.Namespace) -> int:
    """Embed the safety exemplar bank and write its vector cache beside it."""
    from bot.safety import DEFAULT_BANK

    matcher = _domain(threads=os.cpu_count() or 1).matcher  # embeds the bank if its cache is stale
    index = matcher.safety_detector.index
    assert index is not None
    if index.is_cache_current(DEFAULT_BANK):
        print("safety exemplar cache is up to date")
        return 0
    print(f"wrote {index.save_cache(DEFAULT_BANK)}")
    return 0


def _eval_conversations(args: argparse.Namespace) -> int:
    """Report how follow-ups, introductions, near-scope questions and question kinds are answered."""
    from bot.conversation._evaluate import (
        MalformedConversationFile,
        evaluate_conversations,
        read_conversations,
    )

    try:
        rows = read_conversations(Path(args.file))
    except MalformedConversationFile as exc:
        print(f"bonebot eval: {exc}", file=sys.stderr)
        return 2
    report = evaluate_conversations(_domain().conversation, rows)
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0
    names = {
        "followup": "follow-up top-1:",
        "intro": "introductions:",
        "near": "near-scope not covered:",
        "qkind": "question kinds top-1:",
    }
    for kind, figures in report.kinds.items():
        print(f"{names[kind]:<28}{figures.rate:.1%}  ({figures.correct}/{figures.rows})")
    print(f"{'near-scope topic named:':<28}{report.near_topic_named}/{report.kinds['near'].rows}")
    for kind, figures in report.kinds.items():
        if figures.confusions:
            print(f"{kind} confusions (expected -> predicted):")
            for (expected, predicted), count in figures.confusions.most_common(10):
                print(f"  {count:3d}  {expected} -> {predicted}")
    return 0


def cmd_chat(_: argparse.Namespace) -> int:
    """Chat with the bot in the terminal."""
    from bot.terminal import run_terminal_chat

    return run_terminal_chat(_settings(), sys.stdin, sys.stdout)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the Telegram bot."""
    settings = _settings()
    if not settings.telegram_token:
        print("bonebot: TELEGRAM_BOT_TOKEN is not set; get one from @BotFather (see README)", file=sys.stderr)
        return 2
    from bot.telegram.app import run_bot

    return run_bot(settings, webhook=args.webhook)


def cmd_worker(_: argparse.Namespace) -> int:
    """Run the dispatchers without taking updates."""
    settings = _settings()
    if not settings.telegram_token:
        print("bonebot: TELEGRAM_BOT_TOKEN is not set; the worker sends through the Bot API", file=sys.stderr)
        return 2
    from bot.telegram.app import run_worker

    return run_worker(settings)


def cmd_start(args: argparse.Namespace) -> int:
    """Start what `make run` promises: the bot with a token, else the local chat."""
    settings = _settings()
    if settings.telegram_token:
        return cmd_run(argparse.Namespace(webhook=False))
    print(
        "No TELEGRAM_BOT_TOKEN set: starting the local chat. To connect to Telegram, set "
        "TELEGRAM_BOT_TOKEN (from @BotFather) and run `make run` again.",
        file=sys.stderr,
    )
    return cmd_chat(args)


def cmd_db(args: argparse.Namespace) -> int:
    """Manage the database."""
    from bot.storage import upgrade_sync

    settings = _settings()
    upgrade_sync(settings.database_url)
    print("database is up to date")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    """Copy the SQLite database to a file while the bot runs."""
    from bot.storage.backup import BackupError, backup_sqlite

    settings = _settings()
    try:
        pages = backup_sqlite(settings.database_url, Path(args.file))
    except BackupError as exc:
        print(f"bonebot db backup: {exc}", file=sys.stderr)
        return 2
    print(f"backed up {pages} pages to {args.file}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bonebot", description="BoneBot: bone health after aromatase inhibitors."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the Telegram bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of long polling")
    run.set_defaults(func=cmd_run)
    sub.add_parser("worker", help="run the reminder and broadcast dispatchers only").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("chat", help="chat with the bot in this terminal").set_defaults(func=cmd_chat)
    sub.add_parser("start", help="the bot with a token, else the local chat (make run)").set_defaults(
        func=cmd_start
    )
    sub.add_parser("match", help="match questions from stdin, JSON lines out").set_defaults(func=cmd_match)
    sub.add_parser("check", help="validate intents/ and answers/").set_defaults(func=cmd_check)
    review = sub.add_parser(
        "review-pack", help="write every answer to one HTML file for clinicians to sign off"
    )
    review.add_argument("--out", help="the file to write (default: review-pack-<content version>.html)")
    review.set_defaults(func=cmd_review_pack)
    evaluate = sub.add_parser("eval", help="accuracy report on a labelled file")
    evaluate.add_argument("file", help="tab-separated intent<TAB>question, '-' for out of scope")
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    evaluate.add_argument(
        "--layers", help="safety layers to use, comma-separated (rules,lexicon,semantic); default all"
    )
    evaluate.add_argument("--errors", action="store_true", help="list the lines of missed and false alarms")
    evaluate.set_defaults(func=cmd_eval)
    sub.add_parser("safety-index", help="embed the safety exemplar bank after editing it").set_defaults(
        func=cmd_safety_index
    )
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply database migrations").set_defaults(func=cmd_db)
    backup = db_sub.add_parser("backup", help="copy the SQLite database to FILE while the bot runs")
    backup.add_argument("file", help="the backup file to create (must not exist)")
    backup.set_defaults(func=cmd_db_backup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bonebot`` command."""
    args = build_parser().parse_args(argv)
    # Every command validates the environment first: a malformed setting stops here with one line.
    settings = _settings()
    configure_logging(
        settings.log_format,
        logging.DEBUG if args.verbose else logging.WARNING,
        secrets=(settings.telegram_token, settings.webhook_secret),
    )
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0

"""The ``bonebot`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content import ContentError, content_root
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


def _domain() -> Domain:
    from bot.domain import load_domain

    try:
        return load_domain()
    except ContentError as exc:
        print("bonebot: the content does not load; run `bonebot check`:", file=sys.stderr)
        for problem in exc.problems[:20]:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_match(_: argparse.Namespace) -> int:
    """Match questions from stdin, one JSON object per line."""
    matcher = _domain().matcher
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        result = matcher.match(line)
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
    from bot.content._check import check_content

    root = content_root()
    problems = check_content(root)
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
    report = evaluate(_domain().matcher, rows)
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
    if report.unknown_labels:
        print(f"labels that are not intents: {', '.join(sorted(report.unknown_labels))}")
    if report.confusions:
        print("most confused (expected -> predicted):")
        for (expected, predicted), count in report.confusions.most_common(10):
            print(f"  {count:3d}  {expected} -> {predicted}")
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
    evaluate = sub.add_parser("eval", help="accuracy report on a labelled file")
    evaluate.add_argument("file", help="tab-separated intent<TAB>question, '-' for out of scope")
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    evaluate.set_defaults(func=cmd_eval)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply database migrations").set_defaults(func=cmd_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bonebot`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Every command validates the environment first: a malformed setting stops here with one line.
    _settings()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0

"""Prometheus metrics: counts only, never message text or user ids."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("bonebot_updates_total", "Updates handled, by kind.", ["kind"], registry=REGISTRY)
REPLIES = Counter(
    "bonebot_replies_total", "Messages sent or edited in answer to an update.", registry=REGISTRY
)
ANSWERS = Counter(
    "bonebot_answers_total", "Answers given, by intent and level.", ["intent", "level"], registry=REGISTRY
)
SAFETY_REPLIES = Counter(
    "bonebot_safety_replies_total",
    "Crisis and urgent replies, by kind and by the layer that raised them (followup: a downplay answered).",
    ["kind", "layer"],
    registry=REGISTRY,
)
UNANSWERED = Counter("bonebot_unanswered_total", "Questions outside what the bot covers.", registry=REGISTRY)
ERRORS = Counter("bonebot_errors_total", "Errors caught by the error handler.", registry=REGISTRY)
REMINDERS = Counter(
    "bonebot_reminders_total", "Reminder outcomes, by outcome.", ["outcome"], registry=REGISTRY
)
BROADCAST_DELIVERIES = Counter(
    "bonebot_broadcast_deliveries_total",
    "Care-team broadcast messages to patients, by outcome (the dispatch outcomes reminders use).",
    ["outcome"],
    registry=REGISTRY,
)
BOT_API_ERRORS = Counter(
    "bonebot_bot_api_errors_total",
    "Bot API calls that failed after the rate limiter's retries, by method and error class.",
    ["method", "error"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "bonebot_handler_seconds",
    "Time to handle one update, replies included, by update kind.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
DISPATCH_TICK = Histogram(
    "bonebot_dispatch_tick_seconds", "Time to claim and send one batch of reminders.", registry=REGISTRY
)
REDELIVERED = Counter(
    "bonebot_updates_redelivered_total",
    "Updates dropped because a replica had already taken the same update_id.",
    registry=REGISTRY,
)

"""Users and their settings."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import DATE_ORDER_VALUES, DEPTH_VALUES, PROFILE_VALUES, User
from bot.storage.records import UserRecord
from bot.storage.repositories._common import (
    dialect_name,
    require_aware,
    require_timezone,
    rowcount,
    upsert_for,
    user_record,
)

LEVEL_VALUES: tuple[str, ...] = ("short", *DEPTH_VALUES)
ALARM_KINDS: tuple[str, ...] = ("crisis", "urgent")
_LEAD_DAYS = re.compile(r"^(\d{1,3}(,\d{1,3})*)?$")
_KEY = re.compile(r"^[a-z0-9_]{1,64}$")


def _check_bool(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _check_optional_bool(value: Any) -> Any:
    return value if value is None else _check_bool(value)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _check_key(value: Any) -> Any:
    if not isinstance(value, str) or not _KEY.match(value):
        raise ValueError("must be a lower-case identifier of at most 64 characters")
    return value


def _check_timezone(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an IANA time zone name")
    return require_timezone(value)


def _check_country(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("must be a two-letter ISO 3166 country code")
    return value


def _check_lead_days(value: Any) -> Any:
    """Accept ``"7,1"`` or a sequence of day counts; store the canonical text, largest first."""
    if isinstance(value, str):
        if not _LEAD_DAYS.match(value):
            raise ValueError('must look like "7,1"')
        days: Iterable[Any] = (int(part) for part in value.split(",") if part)
    else:
        days = value
    numbers = sorted({int(day) for day in days}, reverse=True)
    if any(day < 0 or day > 366 for day in numbers):
        raise ValueError("each lead time must be between 0 and 366 days")
    return ",".join(str(day) for day in numbers)


# The settings a handler may change; ids, timestamps and ``blocked`` have their own functions.
USER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "consent": _check_optional_bool,
    "profile": _one_of(PROFILE_VALUES),
    "medicine": _optional(_check_key),
    "depth_pref": _one_of(DEPTH_VALUES),
    "date_order": _one_of(DATE_ORDER_VALUES),
    "date_order_chosen": _check_bool,
    "timezone": _optional(_check_timezone),
    "reminders_enabled": _check_bool,
    "updates_enabled": _check_bool,
    "paused": _check_bool,
    "lead_days": _check_lead_days,
    "two_hours_before": _check_bool,
    "last_intent": _optional(_check_key),
    "last_level": _optional(_one_of(LEVEL_VALUES)),
    "country": _optional(_check_country),
    "alarm_kind": _optional(_one_of(ALARM_KINDS)),
    "alarm_at": _optional(lambda value: require_aware(value, "alarm_at")),
}


@functools.cache
def _visit_statement(dialect: str) -> Any:
    """Build the visit upsert once per back end: building and keying a statement costs more than running it."""
    insert = upsert_for(dialect, User).values(
        id=bindparam("visitor"),
        chat_id=bindparam("visit_chat"),
        created_at=bindparam("visit_at"),
        last_seen_at=bindparam("visit_at"),
    )
    # One statement, so two updates from a new user arriving together cannot both try to insert. It leaves
    # ``blocked`` alone, so that the row it returns still says whether the user had blocked the bot.
    return insert.on_conflict_do_update(
        index_elements=[User.id],
        set_={"chat_id": insert.excluded.chat_id, "last_seen_at": insert.excluded.last_seen_at},
    ).returning(User)


async def record_visit(
    session: AsyncSession, user_id: int, chat_id: int, now: datetime
) -> tuple[UserRecord, bool]:
    """Return the user (created on first contact) and whether they had blocked the bot until now.

    Records this visit, the current chat and that the user is reachable again.
    """
    require_aware(now, "now")
    row = (
        await session.scalars(
            _visit_statement(dialect_name(session)),
            {"visitor": user_id, "visit_chat": chat_id, "visit_at": now},
            execution_options={"populate_existing": True},
        )
    ).one()
    user = user_record(row)
    if not user.blocked:
        return user, False
    # Rare: a user who had blocked the bot writes again. The upsert holds the row's lock, so of two
    # updates arriving together only the first sees it blocked.
    await set_blocked(session, user_id, False)
    return dataclasses.replace(user, blocked=False), True


async def get_or_create_user(session: AsyncSession, user_id: int, chat_id: int, now: datetime) -> UserRecord:
    """Return the user, creating them; record this visit, the current chat and that they are reachable."""
    user, _was_blocked = await record_visit(session, user_id, chat_id, now)
    return user


async def get_user(session: AsyncSession, user_id: int) -> UserRecord | None:
    """Return the user, or None if they never wrote or deleted their data."""
    row = await session.get(User, user_id, populate_existing=True)
    return None if row is None else user_record(row)


async def update_user(session: AsyncSession, user_id: int, **fields: Any) -> UserRecord | None:
    """Change the named settings (see ``USER_FIELDS``) and return the user, or None if unknown."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        check = USER_FIELDS.get(name)
        if check is None:
            raise TypeError(f"update_user() cannot change {name!r}")
        try:
            values[name] = check(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    if not values:
        return await get_user(session, user_id)
    parameters = {f"new_{name}": value for name, value in values.items()}
    parameters["user_to_update"] = user_id
    row = (
        await session.scalars(
            _update_statement(tuple(sorted(values))),
            parameters,
            execution_options={"populate_existing": True, "synchronize_session": False},
        )
    ).one_or_none()
    return None if row is None else user_record(row)


@functools.lru_cache(maxsize=64)
def _update_statement(names: tuple[str, ...]) -> Any:
    """Build the UPDATE of these settings once: a handful of combinations cover every caller."""
    # Parameters named apart from the columns: SQLAlchemy reserves a column's own name in SET.
    return (
        update(User)
        .where(User.id == bindparam("user_to_update"))
        .values({name: bindparam(f"new_{name}") for name in names})
        .returning(User)
    )


async def set_blocked(session: AsyncSession, user_id: int, blocked: bool) -> bool:
    """Record whether Telegram refuses delivery to the user (403); return whether the user exists."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(blocked=blocked)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def lock_user(session: AsyncSession, user_id: int) -> bool:
    """Lock the user's row until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    found = await session.scalar(select(User.id).where(User.id == user_id).with_for_update())
    return found is not None

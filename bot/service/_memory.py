"""What a patient said about themselves, kept in memory for the conversation when they chose not to be stored."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

MEMORY_TTL = dt.timedelta(days=2)  # a conversation left this long starts afresh, like a guided flow
MAX_PEOPLE = 10_000  # the oldest conversations are forgotten first past this many


@dataclass(frozen=True)
class Remembered:
    """A profile and medicine from an introduction, and when they were told."""

    profile: str
    medicine: str | None
    told_at: dt.datetime


class ConversationMemory:
    """Keep introductions in this process only: never written anywhere, gone on restart or /forget."""

    def __init__(self, ttl: dt.timedelta = MEMORY_TTL, capacity: int = MAX_PEOPLE) -> None:
        self._ttl = ttl
        self._capacity = capacity
        self._people: OrderedDict[int, Remembered] = OrderedDict()

    def remember(self, user_id: int, profile: str, medicine: str | None, now: dt.datetime) -> None:
        """Keep what ``user_id`` told about themselves until the conversation goes quiet."""
        self._people.pop(user_id, None)
        self._people[user_id] = Remembered(profile, medicine, now)
        while len(self._people) > self._capacity:
            self._people.popitem(last=False)

    def recall(self, user_id: int, now: dt.datetime) -> Remembered | None:
        """Return what ``user_id`` told, or None when nothing or when it is too old."""
        remembered = self._people.get(user_id)
        if remembered is None:
            return None
        if now - remembered.told_at > self._ttl:
            del self._people[user_id]
            return None
        return remembered

    def forget(self, user_id: int) -> None:
        """Drop everything kept about ``user_id``."""
        self._people.pop(user_id, None)

"""Emergency and crisis numbers for the safety replies, keyed by the country of the user's time zone."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from bot.content import EmergencyContacts
from bot.scheduling.timezones import country_for_timezone

logger = logging.getLogger(__name__)

DEFAULT_CONTACTS_PATH = Path(__file__).resolve().parent / "data" / "emergency_contacts.yaml"


class ContactsError(ValueError):
    """Raise when the operator's contacts file cannot be used."""


class EmergencyDirectory:
    """Look up emergency and crisis numbers for a time zone."""

    def __init__(self, table: dict[str, EmergencyContacts]) -> None:
        self._table = table

    @classmethod
    def load(cls, path: Path | None = None) -> EmergencyDirectory:
        """Read the operator's table, or the shipped default when ``path`` is None."""
        path = path or DEFAULT_CONTACTS_PATH
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ContactsError(f"cannot read {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ContactsError(f"{path}: expected a mapping of country code to numbers")
        table: dict[str, EmergencyContacts] = {}
        for code, entry in data.items():
            if not isinstance(entry, dict) or not {"country", "emergency", "crisis"} <= set(entry):
                raise ContactsError(f"{path}: entry {code!r} needs country, emergency and crisis")
            table[str(code).upper()] = EmergencyContacts(
                country=str(entry["country"]), emergency=str(entry["emergency"]), crisis=str(entry["crisis"])
            )
        return cls(table)

    def for_timezone(self, zone: str | None) -> EmergencyContacts | None:
        """Return the numbers for the country of ``zone``, or None when unknown."""
        if not zone:
            return None
        code = country_for_timezone(zone)
        return self._table.get(code) if code else None

    def __len__(self) -> int:
        return len(self._table)

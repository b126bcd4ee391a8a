"""Settings are read once from the environment and a bad one names its variable."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Settings, SettingsError


def test_defaults_need_nothing() -> None:
    settings = Settings.from_env({})
    assert settings.telegram_token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.default_timezone == "UTC"
    assert settings.dispatch_interval == 30.0
    assert settings.port == 8080
    assert settings.status_port is None
    assert settings.log_format == "auto"


def test_reads_every_variable() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "123456:ABC-def",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9000/bot",
            "DATABASE_URL": "postgres://postgres@127.0.0.1/bonebot",
            "BONEBOT_ADMIN_IDS": "1, 2,3",
            "BONEBOT_DEFAULT_TIMEZONE": "Europe/London",
            "BONEBOT_DISPATCH_INTERVAL": "5",
            "BONEBOT_PORT": "9090",
            "BONEBOT_LEASE_SECONDS": "15",
            "BONEBOT_LOG_FORMAT": "JSON",
        }
    )
    assert settings.telegram_token == "123456:ABC-def"
    assert settings.telegram_api_base_url == "http://127.0.0.1:9000/bot"
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1/bonebot"
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.default_timezone == "Europe/London"
    assert settings.dispatch_interval == 5.0
    assert settings.port == 9090
    assert settings.status_port == 9090
    assert settings.log_format == "json"
    assert settings.lease_seconds == 15.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_BASE_URL", "ftp://x"),
        ("DATABASE_URL", "just-a-path"),
        ("BONEBOT_ADMIN_IDS", "12,abc"),
        ("BONEBOT_DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("BONEBOT_DISPATCH_INTERVAL", "soon"),
        ("BONEBOT_DISPATCH_INTERVAL", "0"),
        ("BONEBOT_EMERGENCY_CONTACTS", "/no/such/file.yaml"),
        ("BONEBOT_PORT", "99999"),
        ("BONEBOT_LEASE_SECONDS", "0"),
        ("BONEBOT_LEASE_SECONDS", "long"),
        ("BONEBOT_LOG_FORMAT", "xml"),
    ],
)
def test_bad_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]

"""Care-team pieces without a database: the paid-broadcast setting, asker hashes, QR codes, the chart."""

from __future__ import annotations

import pytest

from bot.service._askers import asker_hash
from bot.service._charts import stats_chart
from bot.service._qr import qr_png
from bot.settings import Settings, SettingsError
from bot.storage.repositories.teams import CODE_PATTERN, new_code


def test_paid_broadcast_is_off_by_default_and_on_with_1() -> None:
    assert Settings.from_env({}).paid_broadcast is False
    assert Settings.from_env({"BONEBOT_PAID_BROADCAST": "1"}).paid_broadcast is True
    assert Settings.from_env({"BONEBOT_PAID_BROADCAST": "0"}).paid_broadcast is False


def test_a_malformed_paid_broadcast_setting_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="BONEBOT_PAID_BROADCAST"):
        Settings.from_env({"BONEBOT_PAID_BROADCAST": "yes"})


def test_asker_hashes_tell_askers_apart_without_showing_them() -> None:
    settings = Settings(telegram_token="123:abc")
    first = asker_hash(settings, 42, "can i swim")
    assert first == asker_hash(settings, 42, "can i swim")  # one person asking twice
    assert first != asker_hash(settings, 43, "can i swim")  # another person
    assert first != asker_hash(settings, 42, "can i ski")  # unlinkable across questions
    assert "42" not in first and len(first) == 16
    # The key is the bot's, not the database's: another deployment gets other hashes.
    assert first != asker_hash(Settings(telegram_token="456:def"), 42, "can i swim")


def test_codes_fit_telegrams_start_parameter_and_differ() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE_PATTERN.match(code) and len(code) <= 64 for code in codes)


def test_the_qr_code_is_a_png() -> None:
    assert qr_png("https://t.me/BoneBot?start=abc").startswith(b"\x89PNG\r\n\x1a\n")


def test_the_chart_is_a_png_with_or_without_data() -> None:
    assert stats_chart([("DEXA scans", 5)], [("can i swim", 3)], "Clinic").startswith(b"\x89PNG")
    assert stats_chart([], [], "Empty clinic").startswith(b"\x89PNG")

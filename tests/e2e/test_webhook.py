"""Webhook mode: updates arrive over HTTP with the secret header; /healthz and /metrics answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.storage import Database
from bot.telegram.app import build_application
from bot.telegram.webhook import SECRET_HEADER, webhook_app
from tests.factories import make_message_update, make_user
from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi

SECRET = "a-long-random-webhook-secret"


@pytest.fixture
async def webhook_client(
    database_url: str, database: Database, fake_bot_api: FakeBotApi
) -> AsyncIterator[TestClient[Any, Any]]:
    settings = Settings(
        telegram_token=TEST_TOKEN,
        telegram_api_base_url=fake_bot_api.base_url,
        database_url=database_url,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret=SECRET,
    )
    application = build_application(settings, dispatch=False)
    async with application:
        assert application.post_init is not None and application.post_shutdown is not None
        await application.post_init(application)
        await application.start()
        client = TestClient(TestServer(webhook_app(application, settings)))
        await client.start_server()
        try:
            yield client
        finally:
            await client.close()
            await application.stop()
            await application.post_shutdown(application)


def _update(text: str, user_id: int = 777001, update_id: int = 1) -> dict[str, object]:
    update = make_message_update(text, make_user(user_id, "Webb"))
    update["update_id"] = update_id
    return update


async def test_update_with_the_secret_is_answered(
    webhook_client: TestClient, fake_bot_api: FakeBotApi
) -> None:
    response = await webhook_client.post(
        "/telegram", json=_update("what is a dexa scan?"), headers={SECRET_HEADER: SECRET}
    )
    assert response.status == 200
    sent = await fake_bot_api.wait_for("sendMessage", chat_id=777001)
    assert "DEXA" in sent[0].params["text"]


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}])
async def test_update_without_the_secret_is_refused_and_not_processed(
    webhook_client: TestClient, fake_bot_api: FakeBotApi, headers: dict[str, str]
) -> None:
    response = await webhook_client.post("/telegram", json=_update("hello", 777002), headers=headers)
    assert response.status == 403
    await fake_bot_api.settle()
    assert fake_bot_api.messages_to(777002) == []


async def test_malformed_body_is_a_bad_request(webhook_client: TestClient) -> None:
    response = await webhook_client.post("/telegram", data=b"{not json", headers={SECRET_HEADER: SECRET})
    assert response.status == 400


async def test_healthz_reports_the_database(webhook_client: TestClient) -> None:
    response = await webhook_client.get("/healthz")
    assert response.status == 200
    assert (await response.text()).strip() == "ok"


async def test_metrics_are_prometheus_text(webhook_client: TestClient, fake_bot_api: FakeBotApi) -> None:
    await webhook_client.post(
        "/telegram", json=_update("hi there", 777003, 5), headers={SECRET_HEADER: SECRET}
    )
    await fake_bot_api.wait_for("sendMessage", chat_id=777003)
    response = await webhook_client.get("/metrics")
    body = await response.text()
    assert response.status == 200
    assert "bonebot_updates_total" in body
    assert 'kind="text"' in body

"""Fakes of the outside world for tests: a Telegram Bot API server."""

from tests.fakes.bot_api import TEST_TOKEN, FakeBotApi, Request, SentMessage, Violation
from tests.fakes.spec import ApiSpec, UploadedFile

__all__ = ["TEST_TOKEN", "ApiSpec", "FakeBotApi", "Request", "SentMessage", "UploadedFile", "Violation"]

"""A fake Telegram Bot API server on loopback for running the real python-telegram-bot against.

PTB talks to it over real HTTP (httpx), exactly as it talks to api.telegram.org: form-encoded or
multipart requests to ``/bot<token>/<method>``, answered with ``{"ok": ..., "result": ...}``. Every
request is checked against api.json (see :mod:`tests.fakes.spec`); a request Telegram would refuse is
refused with 400 and recorded in :attr:`FakeBotApi.violations`.

Typical use::

    async with FakeBotApi() as fake, fake.polling(fake.application_builder().build()) as app:
        app.add_handler(...)
        replies = await fake.send_text(make_user(), "/start")
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.telegram_html import TelegramHTMLError
from bot.telegram_html import parse as parse_html
from tests import factories
from tests.fakes.spec import ApiSpec, UploadedFile

if TYPE_CHECKING:
    from telegram.ext import Application
    from telegram.ext._applicationbuilder import InitApplicationBuilder

log = logging.getLogger(__name__)

TEST_TOKEN = "123456789:TEST-fake-bot-api-token"
BOT_USERNAME = "BoneBotTestBot"
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
# Telegram sends these update types only when asked for them explicitly.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
# Parameters decoded without api.json (validation off): numbers and JSON-serialized values.
_INT_PARAMS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "user_id"})


@dataclass
class Request:
    """One call the bot made, with its decoded parameters and, once answered, the answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    ok: bool | None = None  # None while the request is being answered
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    @property
    def chat_id(self) -> Any:
        """Return the request's chat_id parameter, if any."""
        return self.params.get("chat_id")

    @property
    def done(self) -> bool:
        """Tell whether the request has been answered."""
        return self.ok is not None


@dataclass(frozen=True)
class Violation:
    """A request Telegram would have refused, and why."""

    method: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method}: {self.reason}"


@dataclass
class SentMessage:
    """A message in a chat as the fake holds it: ``payload`` is the Message object Telegram would return."""

    chat_id: int
    message_id: int
    from_bot: bool
    payload: dict[str, Any]
    source: str | None = None  # text or caption exactly as sent, markup included
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # any kind of keyboard, as sent
    document: UploadedFile | str | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def text(self) -> str | None:
        """Return the visible text (HTML tags removed), as a Telegram client would show it."""
        value = self.payload.get("text")
        return value if isinstance(value, str) else None

    @property
    def caption(self) -> str | None:
        """Return the visible caption of a media message."""
        value = self.payload.get("caption")
        return value if isinstance(value, str) else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Return the inline keyboard buttons, row by row flattened."""
        markup = self.reply_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def button(self, label: str) -> dict[str, Any]:
        """Return the inline button whose text or callback_data equals ``label``."""
        for button in self.buttons:
            if label in (button.get("text"), button.get("callback_data")):
                return button
        offered = [button.get("text") for button in self.buttons]
        raise LookupError(f"no button {label!r} on message {self.message_id}; buttons: {offered}")


@dataclass
class WebhookDelivery:
    """One attempt to post an update to the bot's webhook."""

    update_id: int
    status: int | None
    error: str | None = None


@dataclass
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | str | None
    remaining: int


# What a scripted call does instead of answering normally (see FakeBotApi.script):
#   "malformed"   handle the call, then answer 200 with a body that is not JSON
#   "bad_result"  handle the call, then answer 200 {"ok": true, "result": <not the object asked for>}
#   "hang"        handle the call, then answer only after hang_seconds (the client times out first)
#   "drop"        handle the call, then close the connection without answering
#   "drop_before" close the connection without handling the call (nothing is sent)
#   an int        answer with that HTTP error before handling (429 carries retry_after 1)
#   None          answer normally
FAULTS = frozenset({"malformed", "bad_result", "hang", "drop", "drop_before"})
Step = str | int | None


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


@dataclass
class _Call:
    method: str
    token: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    disconnected: Callable[[], bool]


_Handler = Callable[["FakeBotApi", _Call], Awaitable[Any]]
_HANDLERS: dict[str, _Handler] = {}
_HANDLED_NAMES: dict[str, str] = {}  # lower case -> canonical spelling, for when api.json is absent


def _handles(*names: str) -> Callable[[_Handler], _Handler]:
    def register(func: _Handler) -> _Handler:
        for name in names:
            _HANDLERS[name.lower()] = func
            _HANDLED_NAMES[name.lower()] = name
        return func

    return register


def _chat_key(chat: int | str | Mapping[str, Any]) -> int | str:
    """Accept a chat id, a chat dict or a user dict (a private chat's id is the user's id)."""
    if isinstance(chat, Mapping):
        return int(chat["id"])
    return chat


class FakeBotApi:
    """A Bot API server for tests: records requests, validates them and keeps chats' messages."""

    def __init__(
        self,
        *,
        api_json: Path | str | None = None,
        validate: bool = True,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "BoneBot",
        quiet_period: float = 0.1,
        max_poll_wait: float | None = None,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.spec = ApiSpec.load(api_json) if validate else None
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.quiet_period = quiet_period
        self.max_poll_wait = max_poll_wait
        self.webhook_retry_delay = webhook_retry_delay

        self.requests: list[Request] = []
        self.violations: list[Violation] = []
        self.updates: list[dict[str, Any]] = []  # every update pushed, in order
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}  # (kind, language_code) -> text
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook: dict[str, Any] = {"url": ""}

        self._pending: list[dict[str, Any]] = []
        self._delivered: set[int] = set()
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._callback_queries: set[str] = set()
        self._failures: list[_Failure] = []
        self._scripts: list[tuple[str, str | None, list[Step]]] = []
        self.hang_seconds = 30.0
        self._blocked: set[int | str] = set()
        self._delays: dict[str | None, float] = {}
        self._file_ids = itertools.count(1)
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = 0.0
        self._closing = False
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application(client_max_size=50 * 1024 * 1024)  # Telegram's upload limit for bots
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # Waiting long polls are woken on stop, so a short shutdown timeout loses nothing.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        self._last_activity = asyncio.get_running_loop().time()
        log.debug("fake Bot API listening on port %s", self._port)

    async def stop(self) -> None:
        """Wake every waiting long poll, stop webhook delivery and close the server."""
        self._closing = True
        self._notify()
        await self._stop_webhook_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Return the Bot API base URL the token is appended to, as ApplicationBuilder.base_url wants it."""
        return f"http://127.0.0.1:{self.port}/bot"

    def application_builder(self, token: str = TEST_TOKEN) -> InitApplicationBuilder:
        """Return a PTB ApplicationBuilder already pointed at this server."""
        from telegram.ext import ApplicationBuilder  # imported late: the fake itself does not need PTB

        return ApplicationBuilder().token(token).base_url(self.base_url)

    @contextlib.asynccontextmanager
    async def polling(self, application: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
        """Run ``application`` with long polling against this server for the duration of the block."""
        updater = application.updater
        if updater is None:
            raise ValueError("the application has no Updater to poll with")
        async with application:
            await application.start()
            await updater.start_polling(poll_interval=0.0, timeout=10)
            try:
                yield
            finally:
                await updater.stop()
                await application.stop()

    # Test controls -----------------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot, numbering it if it has no update_id, and return it."""
        queued = dict(update)
        update_id = queued.setdefault("update_id", self._next_update_id)
        if not isinstance(update_id, int) or update_id < self._next_update_id:
            raise ValueError(f"update_id {update_id!r} must be an int of at least {self._next_update_id}")
        self._next_update_id = update_id + 1
        self._remember_update(queued)
        self.updates.append(queued)
        self._pending.append(queued)
        self._touch()
        return queued

    def expect_update(self, update: Mapping[str, Any]) -> None:
        """Learn chats, messages and callback query ids of an update the test posts to a webhook itself."""
        self._remember_update(update)
        self.updates.append(dict(update))

    async def send_update(
        self,
        update: Mapping[str, Any],
        *,
        until: str | None = None,
        count: int = 1,
        expect_reply: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109 - one deadline across several waits
    ) -> list[Request]:
        """Push an update and wait for the bot to finish answering; return the requests it made.

        With ``until``, wait for ``count`` calls of that method first; otherwise, unless
        ``expect_reply`` is false, for at least one call. Then wait until the bot has been quiet
        for the quiet period.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        mark = self.mark()
        self.push_update(update)
        if until is not None:
            await self.wait_for(until, count=count, since=mark, timeout=timeout)
        elif expect_reply:
            await self.wait_until(
                lambda: any(r.done and r.method != "getUpdates" for r in self.requests[mark:]),
                timeout=timeout,
                why=lambda: f"the bot made no request in answer to update {self.updates[-1]['update_id']}",
            )
        await self.settle(timeout=max(deadline - loop.time(), 0.0) + self.quiet_period)
        return [r for r in self.requests[mark:] if r.method != "getUpdates"]

    async def send_text(
        self,
        user: Mapping[str, Any],
        text: str,
        *,
        chat: Mapping[str, Any] | None = None,
        until: str | None = None,
        count: int = 1,
        expect_reply: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109 - one deadline across several waits
    ) -> list[Request]:
        """Send ``text`` from ``user`` (in their private chat unless ``chat`` is given) and await the answer."""
        chat = chat if chat is not None else factories.make_private_chat(user)
        message = factories.make_message(
            text, user=user, chat=chat, message_id=self._last_message_id.get(int(chat["id"]), 0) + 1
        )
        return await self.send_update(
            {"message": message}, until=until, count=count, expect_reply=expect_reply, timeout=timeout
        )

    async def click(
        self,
        user: Mapping[str, Any],
        message: SentMessage,
        button: str,
        *,
        until: str | None = None,
        count: int = 1,
        expect_reply: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109 - one deadline across several waits
    ) -> list[Request]:
        """Press the inline button labelled (or with callback_data) ``button`` and await the answer."""
        data = message.button(button).get("callback_data")
        if data is None:
            raise LookupError(f"button {button!r} has no callback_data")
        update = factories.make_callback_update(data, message.payload, user)
        return await self.send_update(
            update, until=until, count=count, expect_reply=expect_reply, timeout=timeout
        )

    def mark(self) -> int:
        """Return the number of requests so far, to pass as ``since`` to :meth:`wait_for`."""
        return len(self.requests)

    def calls(self, method: str, *, since: int = 0) -> list[Request]:
        """Return the answered requests of ``method`` (any case) made since index ``since``."""
        wanted = method.lower()
        return [r for r in self.requests[since:] if r.method.lower() == wanted and r.done]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109 - the agreed signature
        chat_id: int | str | Mapping[str, Any] | None = None,
    ) -> list[Request]:
        """Wait until ``count`` requests of ``method`` made since ``since`` have been answered; return them."""
        key = None if chat_id is None else str(_chat_key(chat_id))

        def matching() -> list[Request]:
            found = self.calls(method, since=since)
            return found if key is None else [r for r in found if str(r.chat_id) == key]

        await self.wait_until(
            lambda: len(matching()) >= count,
            timeout=timeout,
            why=lambda: (
                f"{len(matching())} of {count} {method} calls; methods seen: {self._methods_seen(since)}"
            ),
        )
        return matching()

    async def settle(self, *, quiet: float | None = None, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every pushed update was fetched, no request is open and the bot was quiet a while."""
        quiet = self.quiet_period if quiet is None else quiet
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            undelivered = self._undelivered()
            idle_for = loop.time() - self._last_activity
            if not undelivered and self._inflight == 0 and idle_for >= quiet:
                return
            if loop.time() >= deadline:
                if undelivered:
                    ids = [u["update_id"] for u in undelivered]
                    raise TimeoutError(
                        f"updates {ids} were never fetched: is the bot polling or on a webhook?"
                    )
                raise TimeoutError(f"the bot did not go quiet: {self._inflight} requests still open")
            wait = quiet - idle_for if not undelivered and self._inflight == 0 else deadline - loop.time()
            await self._wait_changed(min(max(wait, 0.001), deadline - loop.time()))

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | Mapping[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only to ``chat_id``) with an error."""
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after or 1}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        key = None if chat_id is None else _chat_key(chat_id)
        self._failures.append(_Failure(method.lower(), error_code, description, retry_after, key, times))

    def script(self, method: str, *steps: Step, chat_id: int | str | Mapping[str, Any] | None = None) -> None:
        """Play ``steps`` on the next calls of ``method`` (optionally only to ``chat_id``), one per call.

        A step is a fault named in FAULTS, an HTTP error code, or None for a normal answer; once the steps
        run out, calls are answered normally again.
        """
        for step in steps:
            if step is not None and not isinstance(step, int) and step not in FAULTS:
                raise ValueError(f"unknown fault {step!r}; expected one of {sorted(FAULTS)}, a code or None")
        key = None if chat_id is None else str(_chat_key(chat_id))
        self._scripts.append((method.lower(), key, list(steps)))

    def _next_step(self, method: str, params: Mapping[str, Any]) -> Step:
        chat = params.get("chat_id")
        for entry in self._scripts:
            wanted, key, steps = entry
            if wanted != method.lower() or (key is not None and key != str(chat)):
                continue
            step = steps.pop(0)
            if not steps:
                self._scripts.remove(entry)
            return step
        return None

    def block(self, chat_id: int | str | Mapping[str, Any]) -> None:
        """Make every later call to this chat fail with 403, as when the user blocked the bot."""
        self._blocked.add(str(_chat_key(chat_id)))

    def unblock(self, chat_id: int | str | Mapping[str, Any]) -> None:
        """Undo :meth:`block`."""
        self._blocked.discard(str(_chat_key(chat_id)))

    def set_delay(self, seconds: float, *, method: str | None = None) -> None:
        """Delay the answers to every method (or only ``method``) except getUpdates by ``seconds``."""
        self._delays[method.lower() if method else None] = seconds

    def messages_to(
        self, chat_id: int | str | Mapping[str, Any], *, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Return the bot's messages in a chat, oldest first, as they are now (edits applied)."""
        return [m for m in self.history(chat_id, include_deleted=include_deleted) if m.from_bot]

    def last_message_to(self, chat_id: int | str | Mapping[str, Any]) -> SentMessage:
        """Return the bot's latest message in a chat."""
        messages = self.messages_to(chat_id)
        if not messages:
            raise LookupError(f"the bot has sent nothing to chat {_chat_key(chat_id)}")
        return messages[-1]

    def history(
        self, chat_id: int | str | Mapping[str, Any], *, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Return every message in a chat, the user's and the bot's, oldest first."""
        key = _chat_key(chat_id)
        found = [m for (chat, _), m in self._messages.items() if str(chat) == str(key)]
        return sorted((m for m in found if include_deleted or not m.deleted), key=lambda m: m.message_id)

    def unanswered_callback_queries(self) -> list[str]:
        """Return the ids of pushed callback queries the bot never answered."""
        return sorted(self._callback_queries - set(self.callback_answers))

    def bot_user(self, token: str = TEST_TOKEN) -> dict[str, Any]:
        """Return the bot's User object for ``token``."""
        return {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def assert_no_violations(self) -> None:
        """Fail with every violation recorded so far."""
        if self.violations:
            listed = "\n".join(f"  - {v}" for v in self.violations)
            raise AssertionError(f"the bot made {len(self.violations)} invalid Bot API request(s):\n{listed}")

    # Waiting -----------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._notify()

    async def _wait_changed(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - waits on the fake's own change notifications
        why: Callable[[], str] | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever a request or update arrives or ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s: {why() if why else 'condition never held'}")
            await self._wait_changed(remaining)

    def _methods_seen(self, since: int) -> list[str]:
        return [r.method for r in self.requests[since:] if r.method != "getUpdates"]

    # HTTP --------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, name = request.match_info["token"], request.match_info["method"]
        if not _TOKEN_RE.fullmatch(token):
            return _error_response(ApiError(404, "Not Found"))
        method = self._canonical(name)
        try:
            raw, files = await _read_params(request)
        except ValueError as exc:
            self.violations.append(Violation(method or name, str(exc)))
            return _error_response(ApiError(400, f"Bad Request: {exc}"))
        if method is None:
            self.violations.append(Violation(name, "unknown method"))
            self.requests.append(Request(name, dict(raw), files, False, 404, "Not Found"))
            return _error_response(ApiError(404, "Not Found"))

        params, problems = (
            self.spec.check(method, raw, files) if self.spec else (_loose_decode(raw, files), [])
        )
        record = Request(method, params, files)
        self.requests.append(record)
        polling = method == "getUpdates"
        step = None if polling else self._next_step(method, params)
        if not polling:
            self._inflight += 1
            self._touch()
        try:
            if problems:
                self.violations.extend(Violation(method, problem) for problem in problems)
                raise ApiError(400, "Bad Request: " + "; ".join(problems))
            if not polling:
                await self._delay(method)
                if step == "drop_before":
                    record.ok, record.error_code, record.description = False, None, "dropped before handling"
                    return self._drop(request)
                if isinstance(step, int):
                    retry = {"retry_after": 1} if step == 429 else None
                    text = "Too Many Requests: retry after 1" if step == 429 else None
                    raise ApiError(
                        step, text or _DEFAULT_DESCRIPTIONS.get(step, "Internal Server Error"), retry
                    )
                self._inject_failure(method, params)
            call = _Call(
                method,
                token,
                params,
                files,
                lambda: request.transport is None or request.transport.is_closing(),
            )
            handler = _HANDLERS.get(method.lower(), FakeBotApi._default)
            result = await handler(self, call)
        except ApiError as exc:
            record.ok, record.error_code, record.description = False, exc.error_code, exc.description
            return _error_response(exc)
        except Exception as exc:  # a bug in the fake must fail the test, not hang the bot
            log.exception("fake Bot API failed on %s", method)
            self.violations.append(Violation(method, f"fake server error: {exc!r}"))
            record.ok, record.error_code, record.description = False, 500, "Internal Server Error"
            return _error_response(ApiError(500, "Internal Server Error"))
        else:
            record.ok, record.result = True, result
            if step == "malformed":
                return web.Response(status=200, text="<html>502 upstream</html>", content_type="text/html")
            if step == "bad_result":
                return web.json_response({"ok": True, "result": "not the object you asked for"})
            if step == "hang":
                await asyncio.sleep(self.hang_seconds)
            if step == "drop":
                return self._drop(request)
            return web.json_response({"ok": True, "result": result})
        finally:
            if polling:
                self._notify()  # a poll ending is not bot activity: settle() must not wait on it
            else:
                self._inflight -= 1
                self._touch()

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without an answer, as a proxy or a crashing server would."""
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _canonical(self, name: str) -> str | None:
        if self.spec is not None:
            return self.spec.method_name(name)
        return _HANDLED_NAMES.get(name.lower(), name)

    async def _delay(self, method: str) -> None:
        seconds = self._delays.get(method.lower(), self._delays.get(None, 0.0))
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _inject_failure(self, method: str, params: Mapping[str, Any]) -> None:
        chat = params.get("chat_id")
        if chat is not None and str(chat) in self._blocked:
            raise ApiError(403, _DEFAULT_DESCRIPTIONS[403])
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and str(failure.chat_id) != str(chat):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            parameters = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
            raise ApiError(failure.error_code, failure.description, parameters)

    # Updates -----------------------------------------------------------------------------------

    def _remember_update(self, update: Mapping[str, Any]) -> None:
        """Learn chats, user messages and callback query ids from an update the bot will receive."""
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(kind)
            if isinstance(message, Mapping):
                self._remember_chat(message)
                if kind in ("message", "channel_post"):
                    self._store(message, from_bot=False)
        query = update.get("callback_query")
        if isinstance(query, Mapping):
            self._callback_queries.add(str(query["id"]))
            if isinstance(query.get("message"), Mapping):
                self._remember_chat(query["message"])

    def _remember_chat(self, message: Mapping[str, Any]) -> None:
        chat = message.get("chat")
        if isinstance(chat, Mapping) and "id" in chat:
            self._chats.setdefault(int(chat["id"]), dict(chat))
            message_id = message.get("message_id")
            if isinstance(message_id, int):
                chat_id = int(chat["id"])
                self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _allowed(self, update: Mapping[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATES

    def _undelivered(self) -> list[dict[str, Any]]:
        return [u for u in self._pending if u["update_id"] not in self._delivered]

    def _confirm(self, offset: int | None) -> None:
        """Forget updates the bot confirmed, as getUpdates with an offset does."""
        if not offset:
            return
        if offset > 0:
            gone = [u for u in self._pending if u["update_id"] < offset]
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        else:
            gone, self._pending = self._pending[:offset], self._pending[offset:]
        self._delivered.update(u["update_id"] for u in gone)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        for update in [u for u in self._pending if not self._allowed(u)]:
            self._pending.remove(update)  # Telegram never generates updates of types not asked for
            self._delivered.add(update["update_id"])
        return self._pending[:limit]

    # Webhook -----------------------------------------------------------------------------------

    def _start_webhook_delivery(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhook(self) -> None:
        """Post pending updates to the webhook one at a time, retrying failures like Telegram does."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not self._closing and self.webhook["url"]:
                batch = self._deliverable(1)
                if not batch:
                    await self._wait_changed(1.0)
                    continue
                update = batch[0]
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                status: int | None = None
                error: str | None = None
                try:
                    async with session.post(self.webhook["url"], json=update, headers=headers) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, error))
                if status is not None and 200 <= status < 300:
                    self._delivered.add(update["update_id"])
                    if update in self._pending:
                        self._pending.remove(update)
                    self._touch()
                    continue
                self.webhook["last_error_date"] = int(time.time())
                self.webhook["last_error_message"] = error or f"Wrong response from the webhook: {status}"
                await asyncio.sleep(self.webhook_retry_delay)

    # Messages ----------------------------------------------------------------------------------

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        """Return the Chat object for a chat id, inventing a private chat for ids never seen."""
        if isinstance(chat_id, str) and not re.fullmatch(r"-?\d+", chat_id):
            raise ApiError(400, "Bad Request: chat not found")
        key = int(chat_id)
        if key not in self._chats:
            if key > 0:
                self._chats[key] = {"id": key, "type": "private", "first_name": "Patient"}
            else:
                kind = "supergroup" if str(key).startswith("-100") else "group"
                self._chats[key] = {"id": key, "type": kind, "title": "Test group"}
        return self._chats[key]

    def _store(self, message: Mapping[str, Any], *, from_bot: bool, **extra: Any) -> SentMessage:
        chat_id = int(message["chat"]["id"])
        stored = SentMessage(chat_id, int(message["message_id"]), from_bot, dict(message), **extra)
        self._messages[(chat_id, stored.message_id)] = stored
        return stored

    def _new_message(self, call: _Call, content: dict[str, Any], **extra: Any) -> SentMessage:
        """Create and store a bot message in the request's chat."""
        chat = self._chat(call.params["chat_id"])
        message_id = self._last_message_id.get(chat["id"], 0) + 1
        self._last_message_id[chat["id"]] = message_id
        payload: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user(call.token),
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            payload["reply_markup"] = markup  # Telegram echoes only inline keyboards
        reply = call.params.get("reply_parameters")
        if isinstance(reply, dict):
            target = self._messages.get((chat["id"], int(reply["message_id"])))
            if target is not None and not target.deleted:
                payload["reply_to_message"] = {
                    k: v for k, v in target.payload.items() if k != "reply_to_message"
                }
            elif not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        return self._store(
            payload, from_bot=True, reply_markup=markup if isinstance(markup, dict) else None, **extra
        )

    def _find(self, call: _Call, missing: str) -> SentMessage:
        if "chat_id" not in call.params or "message_id" not in call.params:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        chat = _chat_key(call.params["chat_id"])
        message = self._messages.get((int(chat), int(call.params["message_id"])))
        if message is None or message.deleted:
            raise ApiError(400, f"Bad Request: {missing}")
        return message

    def _editable(self, call: _Call) -> SentMessage:
        message = self._find(call, "message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _file_ref(self) -> dict[str, str]:
        n = next(self._file_ids)
        return {"file_id": f"BQACAgIAAxkBAAI{n:06d}", "file_unique_id": f"AgAD{n:06d}"}

    # Method handlers ---------------------------------------------------------------------------

    async def _default(self, call: _Call) -> Any:
        """Answer a method the fake does not model: a message for send* methods, else True."""
        returns = self.spec.methods[call.method].returns if self.spec is not None else ()
        if returns == ("Message",) and "chat_id" in call.params:
            content: dict[str, Any] = {}
            if isinstance(call.params.get("caption"), str):
                content["caption"] = _visible(call.params["caption"], call.params.get("parse_mode"))
            return self._new_message(call, content, source=call.params.get("caption")).payload
        return True

    @_handles("getMe")
    async def _get_me(self, call: _Call) -> Any:
        return self.bot_user(call.token)

    @_handles("getUpdates")
    async def _get_updates(self, call: _Call) -> Any:
        if self.webhook["url"]:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        params = call.params
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        self._confirm(params.get("offset"))
        limit = int(params.get("limit", 100))
        wait = float(params.get("timeout", 0))
        if self.max_poll_wait is not None:
            wait = min(wait, self.max_poll_wait)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older poll still waiting now loses to this one
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            batch = self._deliverable(limit)
            if batch or self._closing or loop.time() >= deadline:
                break
            await self._wait_changed(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT_POLL)
        if call.disconnected() or self._closing:
            return []  # nobody will read this answer; the updates stay pending for the next poll
        self._delivered.update(u["update_id"] for u in batch)
        if batch:
            self._touch()
        return batch

    @_handles("sendMessage")
    async def _send_message(self, call: _Call) -> Any:
        mode = call.params.get("parse_mode")
        text = call.params["text"]
        content: dict[str, Any] = {"text": _visible(text, mode)}
        if "entities" in call.params:
            content["entities"] = call.params["entities"]
        if "link_preview_options" in call.params:
            content["link_preview_options"] = call.params["link_preview_options"]
        return self._new_message(call, content, source=text, parse_mode=mode).payload

    @_handles("sendDocument")
    async def _send_document(self, call: _Call) -> Any:
        document = call.params["document"]
        if isinstance(document, UploadedFile):
            info: dict[str, Any] = {
                **self._file_ref(),
                "file_name": document.filename,
                "mime_type": document.content_type,
                "file_size": len(document.data),
            }
        else:
            info = {**self._file_ref(), "file_name": str(document).rsplit("/", 1)[-1]}
        content: dict[str, Any] = {"document": info}
        caption = call.params.get("caption")
        mode = call.params.get("parse_mode")
        if caption:
            content["caption"] = _visible(caption, mode)
        return self._new_message(call, content, source=caption, parse_mode=mode, document=document).payload

    @_handles("editMessageText")
    async def _edit_message_text(self, call: _Call) -> Any:
        if "inline_message_id" in call.params:
            return True
        message = self._editable(call)
        if message.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = call.params.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        mode = call.params.get("parse_mode")
        # Leaving reply_markup out of an edit removes the inline keyboard, as on Telegram.
        markup = call.params.get("reply_markup")
        if (text, mode, markup) == (message.source, message.parse_mode, message.reply_markup):
            raise ApiError(400, _NOT_MODIFIED)
        message.payload["text"] = _visible(text, mode)
        message.source, message.parse_mode = text, mode
        return self._apply_edit(message, markup)

    @_handles("editMessageCaption")
    async def _edit_message_caption(self, call: _Call) -> Any:
        if "inline_message_id" in call.params:
            return True
        message = self._editable(call)
        if message.text is not None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = call.params.get("caption")
        mode = call.params.get("parse_mode")
        markup = call.params.get("reply_markup")
        if (caption, mode, markup) == (message.source, message.parse_mode, message.reply_markup):
            raise ApiError(400, _NOT_MODIFIED)
        message.payload.pop("caption", None)
        if caption:
            message.payload["caption"] = _visible(caption, mode)
        message.source, message.parse_mode = caption, mode
        return self._apply_edit(message, markup)

    @_handles("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, call: _Call) -> Any:
        if "inline_message_id" in call.params:
            return True
        message = self._editable(call)
        markup = call.params.get("reply_markup")
        if markup == message.reply_markup:
            raise ApiError(400, _NOT_MODIFIED)
        return self._apply_edit(message, markup)

    def _apply_edit(self, message: SentMessage, markup: dict[str, Any] | None) -> dict[str, Any]:
        message.reply_markup = markup
        message.payload.pop("reply_markup", None)
        if markup:
            message.payload["reply_markup"] = markup
        message.payload["edit_date"] = int(time.time())
        message.edits += 1
        return message.payload

    @_handles("deleteMessage")
    async def _delete_message(self, call: _Call) -> Any:
        self._find(call, "message to delete not found").deleted = True
        return True

    @_handles("deleteMessages")
    async def _delete_messages(self, call: _Call) -> Any:
        chat = int(_chat_key(call.params["chat_id"]))
        for message_id in call.params["message_ids"]:
            if (message := self._messages.get((chat, int(message_id)))) is not None:
                message.deleted = True
        return True

    @_handles("answerCallbackQuery")
    async def _answer_callback_query(self, call: _Call) -> Any:
        query_id = str(call.params["callback_query_id"])
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise ApiError(400, _QUERY_INVALID)
        self.callback_answers[query_id] = dict(call.params)
        return True

    @_handles("sendChatAction")
    async def _send_chat_action(self, call: _Call) -> Any:
        self._chat(call.params["chat_id"])
        return True

    @_handles("setMyCommands")
    async def _set_my_commands(self, call: _Call) -> Any:
        self.commands[_commands_key(call.params)] = list(call.params["commands"])
        return True

    @_handles("getMyCommands")
    async def _get_my_commands(self, call: _Call) -> Any:
        return self.commands.get(_commands_key(call.params), [])

    @_handles("deleteMyCommands")
    async def _delete_my_commands(self, call: _Call) -> Any:
        self.commands.pop(_commands_key(call.params), None)
        return True

    @_handles("setMyDescription", "setMyShortDescription", "setMyName")
    async def _set_my_text(self, call: _Call) -> Any:
        kind = {"setmydescription": "description", "setmyshortdescription": "short_description"}.get(
            call.method.lower(), "name"
        )
        language = str(call.params.get("language_code", ""))
        value = call.params.get(kind, "")
        if value:
            self.descriptions[(kind, language)] = value
        else:  # an empty value restores the default
            self.descriptions.pop((kind, language), None)
        return True

    @_handles("getMyDescription")
    async def _get_my_description(self, call: _Call) -> Any:
        language = str(call.params.get("language_code", ""))
        return {"description": self.descriptions.get(("description", language), "")}

    @_handles("getMyShortDescription")
    async def _get_my_short_description(self, call: _Call) -> Any:
        language = str(call.params.get("language_code", ""))
        return {"short_description": self.descriptions.get(("short_description", language), "")}

    @_handles("getMyName")
    async def _get_my_name(self, call: _Call) -> Any:
        language = str(call.params.get("language_code", ""))
        return {"name": self.descriptions.get(("name", language), self.bot_first_name)}

    @_handles("setChatMenuButton")
    async def _set_chat_menu_button(self, call: _Call) -> Any:
        chat = call.params.get("chat_id")
        self.menu_buttons[None if chat is None else int(chat)] = call.params.get(
            "menu_button", {"type": "default"}
        )
        return True

    @_handles("getChatMenuButton")
    async def _get_chat_menu_button(self, call: _Call) -> Any:
        chat = call.params.get("chat_id")
        button = self.menu_buttons.get(None if chat is None else int(chat)) or self.menu_buttons.get(None)
        return button if button and button.get("type") != "default" else {"type": "commands"}

    @_handles("setWebhook")
    async def _set_webhook(self, call: _Call) -> Any:
        url = str(call.params.get("url", ""))
        if call.params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        if not url:
            self.webhook = {"url": ""}
            await self._stop_webhook_delivery()
            return True
        if not re.match(r"https?://", url):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {
            "url": url,
            "secret_token": call.params.get("secret_token"),
            "max_connections": call.params.get("max_connections", 40),
        }
        if "allowed_updates" in call.params:
            self._allowed_updates = list(call.params["allowed_updates"])
        self._start_webhook_delivery()
        self._notify()
        return True

    @_handles("deleteWebhook")
    async def _delete_webhook(self, call: _Call) -> Any:
        if call.params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        self.webhook = {"url": ""}
        await self._stop_webhook_delivery()
        return True

    @_handles("getWebhookInfo")
    async def _get_webhook_info(self, call: _Call) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    @_handles("close", "logOut")
    async def _close(self, call: _Call) -> Any:
        return True


def _visible(text: str, parse_mode: str | None) -> str:
    """Return text as a client shows it: HTML parsed, other modes left as sent."""
    if parse_mode != "HTML":
        return text
    try:
        return parse_html(text)
    except TelegramHTMLError as exc:  # only reachable with validation off
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc


def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code", ""))


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.error_code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.error_code)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Collect parameters from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return raw, files
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise ValueError(f"can't parse JSON body: {exc}") from exc
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        raw.update(body)
        return raw, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            data = value.file.read()
            files[name] = UploadedFile(name, value.filename, value.content_type, data)
        else:
            raw[name] = value
    return raw, files


def _loose_decode(raw: Mapping[str, Any], files: Mapping[str, UploadedFile]) -> dict[str, Any]:
    """Decode form values without api.json: ids as ints, JSON-serialized objects and arrays parsed."""
    decoded: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, str) and name in _INT_PARAMS and re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif isinstance(value, str) and value.startswith(("[", "{")):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        decoded[name] = value
    decoded.update(files)
    return decoded

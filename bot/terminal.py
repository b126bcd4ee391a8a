"""``bonebot chat``: the same bot in a terminal, one message per line, buttons as numbered choices."""

from __future__ import annotations

import asyncio
import logging
from typing import TextIO

from bot.conversation import Button, Reply
from bot.runtime import open_runtime
from bot.service import Response, Sender, run_command
from bot.settings import Settings
from bot.telegram_html import to_plain_text

logger = logging.getLogger(__name__)

LOCAL_USER = Sender(user_id=1, chat_id=1, first_name="", private=True)


class TerminalChat:
    """Turn lines into service calls and responses into plain text."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.choices: list[Button] = []

    def show(self, response: Response) -> None:
        numbered: list[Button] = []
        for reply in response.replies:
            self._print_reply(reply, numbered)
        if response.document is not None:
            document = response.document
            self.out.write(f"{to_plain_text(document.caption)}\n[file: {document.filename}]\n")
            if document.mime_type.startswith(("text/", "application/json")):
                self.out.write(document.content.decode("utf-8", errors="replace").rstrip() + "\n")
        if response.toast:
            self.out.write(f"({to_plain_text(response.toast)})\n")
        if numbered or not response.clear_buttons:
            self.choices = numbered
        self.out.write("\n")
        self.out.flush()

    def _print_reply(self, reply: Reply, numbered: list[Button]) -> None:
        self.out.write(to_plain_text(reply.html).rstrip() + "\n")
        for row in reply.buttons:
            for button in row:
                if button.url:
                    self.out.write(f"  [link] {button.label}: {button.url}\n")
                    continue
                numbered.append(button)
                self.out.write(f"  [{len(numbered)}] {button.label}\n")

    def choice(self, line: str) -> Button | None:
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            return self.choices[int(line) - 1]
        return None


async def chat(settings: Settings, source: TextIO, out: TextIO) -> int:
    """Read lines from ``source`` until it ends, answering each."""
    runtime = await open_runtime(settings)
    terminal = TerminalChat(out)
    interactive = source.isatty()
    try:
        if interactive:
            out.write(
                "BoneBot local chat. Type a question, a /command, or a number to press a button. "
                "Ctrl-D to leave.\n\n"
            )
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                out.write("you> ")
                out.flush()
            line = await loop.run_in_executor(None, source.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            try:
                terminal.show(await respond(runtime.service, terminal, text))
            except Exception:
                logger.exception("error while answering in the terminal chat")
                out.write(to_plain_text(runtime.domain.renderer.ui("error")) + "\n\n")
    finally:
        await runtime.close()
    return 0


async def respond(service: object, terminal: TerminalChat, text: str) -> Response:
    """Answer one line: a button number, a /command, or free text."""
    from bot.service import PatientService

    assert isinstance(service, PatientService)
    button = terminal.choice(text)
    if button is not None and button.action is not None:
        return await service.action(LOCAL_USER, button.action.encode())
    if text.startswith("/") and len(text) > 1:
        name, _, argument = text[1:].partition(" ")
        return await run_command(service, LOCAL_USER, name.split("@")[0], argument or None)
    return await service.text(LOCAL_USER, text)


def run_terminal_chat(settings: Settings, source: TextIO, out: TextIO) -> int:
    """Run the terminal chat to the end of its input."""
    return asyncio.run(chat(settings, source, out))

"""What the service takes from a chat front end and gives back to it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import Reply


@dataclass(frozen=True)
class Sender:
    """Who wrote, and where: a front end's view of a Telegram user and chat."""

    user_id: int
    chat_id: int
    first_name: str = ""
    private: bool = True
    language_code: str | None = None  # Telegram's IETF tag ("en", "pt-br"): its region hints the country


@dataclass(frozen=True)
class Document:
    """A file to send, with its caption (Telegram HTML)."""

    filename: str
    content: bytes
    caption: str
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Response:
    """Everything to send back for one update."""

    replies: tuple[Reply, ...] = ()
    document: Document | None = None
    toast: str | None = None  # a short notice for a button press (answerCallbackQuery)
    edit: bool = False  # replace the message whose button was pressed with the first reply
    clear_buttons: bool = False  # take the buttons off the message whose button was pressed

    @classmethod
    def of(cls, *replies: Reply, document: Document | None = None, edit: bool = False) -> Response:
        return cls(tuple(replies), document=document, edit=edit)

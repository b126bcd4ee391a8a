"""A keyed hash that tells different askers of one unanswered question apart without naming anyone."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.settings import Settings

ASKER_HASH_CHARS = 16
_PROCESS_KEY = secrets.token_bytes(32)


def _key(settings: Settings) -> bytes:
    # The key comes from the bot token, which the database never holds: a copy of the database cannot
    # link a hash to a user id by trying every id. Without a token (the local chat) a key per process.
    if settings.telegram_token:
        return hashlib.sha256(b"bonebot unanswered askers\x00" + settings.telegram_token.encode()).digest()
    return _PROCESS_KEY


def asker_hash(settings: Settings, user_id: int, normalized_text: str) -> str:
    """Return the hash of (question, asker): equal for one person asking twice, unlinkable across questions."""
    message = f"{user_id}\x00{normalized_text}".encode()
    return hmac.new(_key(settings), message, hashlib.sha256).hexdigest()[:ASKER_HASH_CHARS]

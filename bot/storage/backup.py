"""Copy a live SQLite database to a file with SQLite's online backup API (PostgreSQL: use pg_dump)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.storage._database import SQLITE_BUSY_TIMEOUT_MS, sqlite_file

logger = logging.getLogger(__name__)


class BackupError(Exception):
    """Raise when a backup cannot be made; the message says why and what to do instead."""


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the SQLite database behind ``url`` to ``target`` while the bot keeps running; return its pages.

    The copy is one read transaction, so it is a consistent snapshot; in WAL mode (the bot's) writers go on
    meanwhile, in the older rollback mode they wait for it (up to the busy timeout) instead of failing. It is
    written beside ``target``, checked, then renamed into place, so ``target`` is either a whole, checked
    database or absent, and it is one self-contained file (rollback journal, not WAL).
    """
    if make_url(url).get_backend_name() != "sqlite":
        raise BackupError(
            "DATABASE_URL is not SQLite: back up PostgreSQL with pg_dump (see deploy/README.md)"
        )
    source_path = sqlite_file(url)
    if source_path is None:
        raise BackupError("DATABASE_URL is an in-memory or URI SQLite database: there is no file to copy")
    if not source_path.is_file():
        raise BackupError(f"no database file at {source_path}")
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file name")
    if target.resolve() == source_path.resolve():
        raise BackupError("the backup file must not be the database itself")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    # Read-only: a backup never changes the database it copies.
    source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)
            # The copy takes the source's WAL mode; a backup should be one file that opens anywhere, even
            # read-only. The bot puts it back in WAL mode on its first connection after a restore.
            destination.execute("PRAGMA journal_mode=DELETE")
            check = destination.execute("PRAGMA integrity_check").fetchone()
            pages = int(destination.execute("PRAGMA page_count").fetchone()[0])
        finally:
            destination.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from None
    finally:
        source.close()
    if check is None or check[0] != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {check}")
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, target)
    with contextlib.suppress(OSError):  # make the rename durable where the platform allows it
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    logger.info("backed up %d pages to %s", pages, target)
    return pages

"""QR codes for join links (segno, pure Python)."""

from __future__ import annotations

import io

import segno


def qr_png(link: str) -> bytes:
    """Return a PNG QR code of ``link``, large enough to scan from a screen or a printout."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()

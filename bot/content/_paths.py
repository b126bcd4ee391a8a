"""Find the content folders in a checkout or inside an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def content_root() -> Path:
    """Return the folder holding ``intents/`` and ``answers/``.

    ``BONEBOT_CONTENT_DIR`` wins; then the repository a checkout or editable install runs from; then
    the copy a wheel carries inside the package.
    """
    override = os.environ.get("BONEBOT_CONTENT_DIR")
    if override:
        return Path(override)
    checkout = _PACKAGE.parent
    if (checkout / "intents").is_dir() and (checkout / "answers").is_dir():
        return checkout
    return _PACKAGE / "_content"

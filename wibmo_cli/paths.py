"""Paths as the user typed them."""

from __future__ import annotations

from pathlib import Path


def user_path(text: str) -> Path:
    """`text` as a path, `~` and `~user` expanded.

    Kept as typed when that user (or HOME) is unknown, as a shell keeps it, so the
    caller's own "no such file" error says what is wrong; `Path.expanduser` would raise
    RuntimeError, which no caller expects.
    """
    path = Path(text)
    try:
        return path.expanduser()
    except RuntimeError:
        return path

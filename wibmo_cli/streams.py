"""What kind of stream a file object is: a terminal, a regular file. Never raises.

A stream may be closed, detached, replaced by a test's or a framework's stand-in
without a descriptor, or None (started with ``<&-``): each question then answers False.
"""

from __future__ import annotations

import os
import stat


def is_terminal(stream: object) -> bool:
    """True when `stream` is open on a terminal."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def is_regular_file(stream: object) -> bool:
    """True when `stream` reads or writes a regular file (not a pipe, socket, terminal)."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False

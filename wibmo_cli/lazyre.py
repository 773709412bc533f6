"""Regular expressions compiled when first used, not at import: a command pays only for
the patterns it matches. Each costs 0.1 to 0.4 ms to compile; the ~40 in a lookup's
modules were ~4 ms of its start-up, most of them for input it never sees.

    _ZIP: Final = lazy(r"[1-9][0-9]{5}")     # then _ZIP.fullmatch(text), as with re

For patterns on a hot path (a loop over every token of a file), compile eagerly: each
use here goes through one `__getattr__`.
"""

from __future__ import annotations

import re
from typing import Any, AnyStr, cast


class _Lazy:
    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str | bytes, flags: int) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._source!r})"


def lazy(pattern: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """`re.compile(pattern, flags)`, put off until the pattern is first used."""
    return cast("re.Pattern[AnyStr]", _Lazy(pattern, flags))

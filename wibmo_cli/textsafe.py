"""Text from outside the tool made safe to show on a terminal: control characters visible.

A customer name, a responseMessage, an HTML page's <title> or a header can hold
``ESC[2J`` (clear the screen), an OSC title or OSC 52 clipboard write, a BEL, a CR
that overwrites the line, C1 controls (``\\x9b`` is CSI on some terminals), bidi
overrides that reorder what is shown, or a lone surrogate that no UTF-8 stream can
take. `visible` shows each as an escape instead (``\\x1b``, ``\\r``, ``\\u202e``), so
the terminal prints it rather than obeys it; everything else, any script included,
is left as it is. Every table cell built from an answer (`cell`) and every message
line the renderer writes goes through it.

JSON output is data, kept as sent, but `json_text` writes what json.dumps would leave
raw (DEL, C1 and bidi controls, line separators, lone surrogates, which no UTF-8 stream
can take) as \\u escapes: the same data, valid UTF-8, nothing a terminal obeys.
`UNSAFE_UTF8` finds those characters in bytes, for output written as it came.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from rich.text import Text

# C0 controls, DEL, C1 controls; the bidi embeddings, overrides, isolates and marks;
# the Unicode line and paragraph separators; lone surrogates.
_UNSAFE: Final = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    r"\ud800-\udfff]"
)
_NAMED: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# What json.dumps(ensure_ascii=False) leaves raw of those (it escapes C0 itself).
_JSON_UNSAFE: Final = re.compile(
    r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# The same characters in UTF-8 (a lone surrogate as json.loads' surrogatepass reads it).
UNSAFE_UTF8: Final = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]"
    rb"|\xed[\xa0-\xbf]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, lines: bool = False, tabs: bool = False) -> str:
    """`text` with every control character shown as an escape (``\\x1b``, ``\\r``).

    ``lines=True`` keeps line feeds as they are (a message of several lines of the
    tool's own); ``tabs=True`` keeps tabs (jq's ``@tsv``); every other control character
    is still shown escaped.
    """
    if text.isprintable():  # the usual case: nothing to do
        return text
    if tabs:
        return "\t".join(visible(part, lines=lines) for part in text.split("\t"))
    if lines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)


def cell(value: object, style: str = "", *, lines: bool = False) -> Text:
    """A rich Text of ``str(value)`` made `visible`: never parsed as markup, never
    obeyed by the terminal. For table cells, titles and lines built from answers."""
    from rich.text import Text

    return Text(visible(str(value), lines=lines), style=style)


def json_text(value: Any, *, pretty: bool = False) -> str:
    """JSON as the tool writes it (stdout, batch lines, the audit log): compact one line,
    or indented for people; non-ASCII kept, the characters of `_JSON_UNSAFE` escaped."""
    if pretty:
        text = json.dumps(value, indent=2, ensure_ascii=False)
        if _JSON_UNSAFE.search(text) is None:
            return text
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if text.isprintable():  # the usual case: nothing to escape
            return text
    return _JSON_UNSAFE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"

"""What arrives in a body, before any key is used: JSON parsed within a depth limit
(the one parser of text from the network), and the envelopes a token travels in.

    load_json      `json.loads` that never raises RecursionError, nesting bounded
    ENVELOPE_KEYS  "token" (the documents), "result" (closed-loop wallet pages), "encdata"
                   (some gateways): the one table, read by the client and by `decrypt`
    unwrap         a pasted input: a bare token, a body's token, or a plain JSON answer
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

from wibmo_cli.errors import CryptoError


class JSONDepthError(ValueError):
    """JSON nested deeper than allowed (or than Python's json module can parse)."""


def load_json(data: str | bytes, *, max_depth: int | None = None) -> Any:
    """`json.loads` that never raises `RecursionError`: the one parser of text that
    came from the network.

    NaN, Infinity and a number too big for a float keep their text (`NumberText`).
    Every failure is a `ValueError`: `JSONDepthError` when the value is nested more
    than `max_depth` deep (a container in a container is depth 2), or too deep for
    `json.loads` at all; `UnicodeDecodeError` for bytes that are not UTF-8 (or -16/-32).
    A value that passes is shallow enough for any recursive code downstream.
    """
    try:
        value = json.loads(data, parse_constant=_as_text, parse_float=_finite)
    except RecursionError:
        raise JSONDepthError("nested too deeply to parse") from None
    if max_depth is not None and _deeper_than(data, value, max_depth):
        raise JSONDepthError(f"nested more than {max_depth} levels deep")
    return value


class NumberText(str):
    """A number JSON cannot hold as a float, kept as the text that was sent: NaN,
    Infinity, -Infinity (which Python's json takes and JSON does not) and numbers too big
    for a float (1e400). Shown and written as that text, so no value is changed and JSON
    output stays JSON; never taken for a response code (`is_plain_answer`)."""


def _as_text(name: str) -> NumberText:
    return NumberText(name)


def _finite(text: str) -> float | NumberText:
    number = float(text)
    return number if math.isfinite(number) else NumberText(text)


def _deeper_than(data: str | bytes, value: Any, limit: int) -> bool:
    """Whether `value` (parsed from `data`) nests containers more than `limit` deep."""
    if isinstance(data, str):
        opened = data.count("[") + data.count("{")
    else:
        opened = data.count(b"[") + data.count(b"{")
    if opened <= limit:  # the common case: too few brackets to be that deep
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:  # iterative: the value may be nested several hundred deep
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return isinstance(value, dict | list) and limit < 1


# The keys a token travels under in a request or answer body, the documents' first: the
# closed-loop wallet pages answer {"result": ...}, some gateways {"encdata": ...}
# (spec/public-notes.md). The client and `decrypt` both read bodies through this table.
ENVELOPE_KEYS: Final = ("token", "result", "encdata")
# What marks a JSON body as an answer sent in the clear (the platform's decrypt helper,
# some proxies): the platform's answers all carry it.
PLAIN_ANSWER_KEY: Final = "responseCode"
_ENVELOPES_SAID: Final = '"token" string field (nor "result" or "encdata")'


def envelope_token(body: Any) -> str | None:
    """The token a JSON body carries under one of `ENVELOPE_KEYS` (the first found), or
    None when it carries none."""
    if isinstance(body, dict):
        for key in ENVELOPE_KEYS:
            value = body.get(key)
            if isinstance(value, str):
                return value
    return None


def is_plain_answer(body: Any) -> bool:
    """A JSON body that is an answer as it stands, not encrypted: an object whose
    responseCode is a code (text or a whole number) and that has no envelope key at all
    (``{"token": 123, "responseCode": "00"}`` is a broken body, not a plain answer)."""
    if not isinstance(body, dict) or any(key in body for key in ENVELOPE_KEYS):
        return False
    return is_code(body.get(PLAIN_ANSWER_KEY))


def is_code(value: Any) -> bool:
    """Whether a responseCode value is a code: text that is not blank, or a whole number
    (never null, true, a fraction, an object, or a number kept as text: `NumberText`)."""
    if isinstance(value, str):
        return bool(value.strip()) and not isinstance(value, NumberText)
    return isinstance(value, int) and not isinstance(value, bool)


def unwrap(text: str) -> str | dict[str, Any]:
    """What a pasted input holds: a bare token, the token of a request or answer body in
    any envelope (`ENVELOPE_KEYS`), or a plain JSON answer (returned as the dict)."""
    text = text.strip()
    if not text.startswith("{"):
        return text
    try:
        body = load_json(text)
    except ValueError:  # nested too deeply included
        raise CryptoError("the input starts with '{' but is not a JSON body") from None
    token = envelope_token(body)
    if token is not None:
        return token
    if is_plain_answer(body):
        return dict(body)
    raise CryptoError(
        f"the JSON body has no {_ENVELOPES_SAID}, and no {PLAIN_ANSWER_KEY}: "
        "neither an encrypted body nor a plain answer"
    )


def extract_token(text: str) -> str:
    """A bare token, or the token of a request or answer body in any envelope; a plain
    JSON answer has none, and says so (`CryptoError`)."""
    found = unwrap(text)
    if isinstance(found, dict):
        code = found.get(PLAIN_ANSWER_KEY)
        shown = repr(code) if isinstance(code, str | int) else "of another type"
        raise CryptoError(
            f"the input is a plain JSON answer (responseCode {shown[:40]}), not encrypted: "
            "it carries no token"
        )
    return found

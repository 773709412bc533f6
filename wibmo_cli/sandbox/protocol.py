"""The HTTP request and reply as the gateway sees them, independent of the server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any, Final

JSON: Final = "application/json"


@dataclass(slots=True)
class Request:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(slots=True)
class Reply:
    """What to send back.

    ``action`` is "answer" (send it), "hang" (send nothing, close after ``hang`` seconds)
    or "drop" (close at once without an answer); ``delay`` seconds are waited first.
    """

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()
    action: str = "answer"
    delay: float = 0.0
    hang: float = 0.0


def parse_json(data: bytes) -> Any:
    """A request's JSON (a body, or a token's plaintext), or None when it is not JSON the
    platform could take: not JSON text, nested deeper than the parser goes, an
    integer of more digits than Python converts, or text holding a lone surrogate
    (``"\\ud800"``, which no database or UTF-8 answer can carry). Never raises: the
    gateway answers None as a malformed request (1055)."""
    try:
        value = json.loads(data)
        if b"\\u" in data or not data.isascii():  # where a lone surrogate can come from
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on one
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        return None
    return value


def json_reply(status: int, value: Any, **kwargs: Any) -> Reply:
    return Reply(status, json.dumps(value, separators=(",", ":")).encode(), **kwargs)


def token_reply(token: str, key: str = "token") -> Reply:
    """The 200 carrying an encrypted answer: the bytes of ``json_reply(200, {key:
    token})`` without the encoder (every API answer goes through here; ``key`` is the
    envelope, "token", "result" or "encdata"). A token is base64 and a key one of those
    words, whose characters JSON never escapes."""
    return Reply(200, b'{"' + key.encode("ascii") + b'":"' + token.encode("ascii") + b'"}')


@cache  # a handful of statuses; the enum lookup is dear on every answer
def phrase(status: int) -> str:
    """The reason phrase of an HTTP status ("" for statuses the standard library lacks)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""

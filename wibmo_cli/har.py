"""A HAR capture (a browser's or a proxy's record of HTTP exchanges) read for the
platform's tokens: `decrypt --har`. Pure: bytes and dicts in, plain results out.

    load, read    the HAR file (or stdin), read whole within MAX_HAR bytes and checked
                  for the shape HAR 1.2 gives it (log.entries[].request/response)
    body_text     an entry's request body (postData.text) or answer body (content.text,
                  base64 when content.encoding says so)
    read_body     what a body holds: a token in one of bodies.ENVELOPE_KEYS, a plain
                  JSON answer, or nothing of the platform's
    timeline      every entry holding a token, decrypted and paired: `Exchange`s in the
                  order they started, and what was left out (`Timeline`)

The answer of an exchange is its own entry's response; the two are said to be paired
by clientTxnId when both carry the same one, by entry when one of them has none, and
mismatched when they differ (the entry whose request carries the answer's id is named:
a gateway or a client mixing up answers is a bug worth seeing). `har_clean.py` writes
the capture back with the tokens decrypted and the credentials redacted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final, Literal
from urllib.parse import urlsplit

from wibmo_cli.bodies import envelope_token, is_plain_answer, load_json
from wibmo_cli.crypto import TokenCodec
from wibmo_cli.errors import CryptoError, InputError

MAX_HAR: Final = 64 << 20  # loaded whole: a browser's capture of an API session is far less
MAX_DEPTH: Final = 64  # a request or answer nested deeper is not the platform's
REQUEST: Final = "request"
RESPONSE: Final = "response"
Side = Literal["request", "response"]
TXN: Final = "clientTxnId"


# -- the file ------------------------------------------------------------------------


def load(path: Path, what: str) -> dict[str, Any]:
    """The HAR at `path` as a dict; `InputError` (exit 2) naming `what` when it is too
    big, not JSON, or not a HAR."""
    try:
        with path.open("rb") as handle:
            return read(handle, what)
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}") from None


def read(stream: IO[bytes], what: str) -> dict[str, Any]:
    """`load` on an open stream (stdin): read within the same cap."""
    return parse(stream.read(MAX_HAR + 1), what)


def parse(data: bytes, what: str) -> dict[str, Any]:
    """`load` on bytes already read (at most MAX_HAR + 1 of them)."""
    if len(data) > MAX_HAR:
        raise InputError(
            f"{what} is larger than {MAX_HAR >> 20} MiB (HAR files are read whole): "
            "export only the API calls (filter the browser's network panel, e.g. by /api/)"
        )
    if not data or data.isspace():
        raise InputError(f"{what} is empty: give a HAR file (the network panel's Save all as HAR)")
    try:
        har = load_json(data, max_depth=MAX_DEPTH * 2)
    except UnicodeDecodeError:
        raise InputError(f"{what} is not a HAR file: not UTF-8 text") from None
    except ValueError as exc:
        raise InputError(f"{what} is not a HAR file: not valid JSON ({exc})") from None
    log = har.get("log") if isinstance(har, dict) else None
    if not isinstance(log, dict):
        raise InputError(f'{what} is JSON but not a HAR file: it has no "log" object')
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise InputError(f'{what} is JSON but not a HAR file: log has no "entries" list')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get(REQUEST), dict):
            raise InputError(f"{what}: log.entries[{index}] is not a HAR entry (no request)")
    return dict(har)


def entries(har: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = har["log"]["entries"]
    return found


# -- one body --------------------------------------------------------------------------


def body_text(entry: dict[str, Any], side: Side) -> str | None:
    """The body of an entry's request or response as text, None when it has none (or
    its base64 is not base64 of UTF-8 text: then it holds no token)."""
    part = entry.get(side)
    if not isinstance(part, dict):
        return None
    holder = part.get("postData" if side == REQUEST else "content")
    text = holder.get("text") if isinstance(holder, dict) else None
    if not isinstance(text, str) or not text:
        return None
    if side == RESPONSE and isinstance(holder, dict) and holder.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=False).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    return text


@dataclass(frozen=True)
class Body:
    """What one body holds: `token` (the encrypted text and the JSON object it came in),
    or `plain` (an answer sent in the clear); neither: nothing of the platform's."""

    envelope: dict[str, Any] | None = None  # the JSON object the body is
    token: str | None = None
    plain: bool = False


def read_body(text: str | None) -> Body:
    """The body's JSON object and the token it carries under one of ENVELOPE_KEYS."""
    if text is None or not text.lstrip().startswith("{"):
        return Body()
    try:
        value = load_json(text, max_depth=MAX_DEPTH)
    except ValueError:
        return Body()
    if not isinstance(value, dict):
        return Body()
    token = envelope_token(value)
    return Body(value, token, plain=token is None and is_plain_answer(value))


@dataclass(frozen=True)
class Decrypted:
    """A body's token opened (or a plain answer read): the JSON, or why it failed."""

    value: Any = None
    error: str = ""
    plain: bool = False

    @property
    def fields(self) -> dict[str, Any]:
        return self.value if isinstance(self.value, dict) else {}


def decrypt_body(body: Body, codec: Callable[[], TokenCodec]) -> Decrypted | None:
    """The body's token decrypted with `codec()` (asked for only when there is a token),
    its plain answer as it is, or None when it holds neither."""
    if body.plain:
        return Decrypted(body.envelope, plain=True)
    if body.token is None:
        return None
    try:
        return Decrypted(codec().decrypt_json(body.token, max_depth=MAX_DEPTH))
    except CryptoError as exc:
        return Decrypted(error=exc.message)


# -- the timeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One entry that carried a token (or a plain answer): when, what, and both bodies."""

    entry: int  # its number in log.entries, from 1 (as HAR viewers number their list)
    started: str  # startedDateTime as the capture wrote it
    method: str
    url: str
    status: int | None  # HTTP status; None for an entry with no response (aborted)
    time_ms: float | None  # the entry's total time
    request: Decrypted | None
    response: Decrypted | None
    paired: str = "entry"  # "clientTxnId", "entry" or "mismatch"
    answers_entry: int | None = None  # a mismatch: the entry whose request has the answer's id

    @property
    def path(self) -> str:
        try:
            return urlsplit(self.url).path or self.url
        except ValueError:  # e.g. an unclosed "[" of an IPv6 host
            return self.url

    @property
    def client_txn_id(self) -> str:
        return _text(self.request, TXN) or _text(self.response, TXN)

    @property
    def message_codes(self) -> tuple[str, str]:
        return _text(self.request, "messageCode"), _text(self.response, "messageCode")

    @property
    def response_code(self) -> str:
        return _text(self.response, "responseCode")

    def as_sent(self, key: str, *, answer: bool = False) -> str | int | None:
        """A field of the request (or of the `answer`) as the platform sent it: its
        messageCode a number, its responseCode a string; None when it has none."""
        return _as_sent(self.response if answer else self.request, key)

    @property
    def failed(self) -> int:
        """How many of its tokens could not be decrypted."""
        return sum(1 for part in (self.request, self.response) if part and part.error)


def _as_sent(part: Decrypted | None, key: str) -> str | int | None:
    value = part.fields.get(key) if part else None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _text(part: Decrypted | None, key: str) -> str:
    value = _as_sent(part, key)
    return "" if value is None else str(value)


@dataclass
class Timeline:
    exchanges: list[Exchange] = field(default_factory=list)
    entries: int = 0  # in the capture
    without_token: int = 0  # entries with no token and no plain answer: not shown

    @property
    def failed(self) -> int:
        return sum(exchange.failed for exchange in self.exchanges)


def decrypted_bodies(
    har: dict[str, Any], codec: Callable[[], TokenCodec]
) -> Iterator[tuple[int, Decrypted | None, Decrypted | None]]:
    """Each entry's index with its request's and its response's body decrypted."""
    for index, entry in enumerate(entries(har)):
        request = decrypt_body(read_body(body_text(entry, REQUEST)), codec)
        response = decrypt_body(read_body(body_text(entry, RESPONSE)), codec)
        yield index, request, response


def timeline(har: dict[str, Any], codec: Callable[[], TokenCodec]) -> Timeline:
    """The capture's exchanges that carried the platform's bodies, decrypted with
    `codec()` (called for each token, only when one is found: make it cache), paired,
    in start order."""
    result = Timeline(entries=len(entries(har)))
    found: list[Exchange] = []
    for index, request, response in decrypted_bodies(har, codec):
        if request is None and response is None:
            result.without_token += 1
            continue
        entry = entries(har)[index]
        found.append(
            Exchange(
                entry=index + 1,
                started=_str(entry.get("startedDateTime")),
                method=_str(entry[REQUEST].get("method")),
                url=_str(entry[REQUEST].get("url")),
                status=_status(entry.get(RESPONSE)),
                time_ms=_number(entry.get("time")),
                request=request,
                response=response,
            )
        )
    result.exchanges = _paired(sorted(found, key=_start_key))
    return result


def _paired(exchanges: list[Exchange]) -> list[Exchange]:
    sent_by = {_text(x.request, TXN): x.entry for x in exchanges if _text(x.request, TXN)}
    paired = []
    for exchange in exchanges:
        sent, answered = _text(exchange.request, TXN), _text(exchange.response, TXN)
        if not sent or not answered:
            how, other = "entry", None
        elif sent == answered:
            how, other = "clientTxnId", None
        else:
            how, other = "mismatch", sent_by.get(answered)
        paired.append(replace(exchange, paired=how, answers_entry=other))
    return paired


def _start_key(exchange: Exchange) -> tuple[float, int]:
    """Start time as a number (the capture's order when it cannot be read)."""
    try:
        stamp = datetime.fromisoformat(exchange.started).timestamp()
    except (ValueError, OverflowError, OSError):
        stamp = 0.0
    return stamp, exchange.entry


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _status(response: Any) -> int | None:
    status = response.get("status") if isinstance(response, dict) else None
    if isinstance(status, int) and not isinstance(status, bool) and status > 0:
        return status
    return None


# -- as data -----------------------------------------------------------------------------


ROWS: Final = ("exchanges",)  # the document's rows: --fields picks in each


def document(result: Timeline, *, reveal: bool) -> dict[str, Any]:
    """The timeline as `-o json` prints it: one document (so --jq reads it whole), the
    decrypted bodies masked unless `reveal`. The platform's own names are as it spells
    them (clientTxnId, messageCode, responseCode), their values as it sent them; the
    tool's own keys are snake_case, as in `lookup --file`'s lines (exit_code)."""
    return {
        "entries": result.entries,
        "shown": len(result.exchanges),
        "without_token": result.without_token,
        "failed": result.failed,
        "exchanges": [record(exchange, reveal=reveal) for exchange in result.exchanges],
    }


def record(exchange: Exchange, *, reveal: bool) -> dict[str, Any]:
    from wibmo_cli.codes import explain
    from wibmo_cli.masking import mask

    code = exchange.response_code
    known = explain(code) if code else None
    parts = {REQUEST: exchange.request, RESPONSE: exchange.response}
    shown = {
        side: (part.value if reveal else mask(part.value)) if part and not part.error else None
        for side, part in parts.items()
    }
    errors = {side: part.error for side, part in parts.items() if part and part.error}
    plain = [side for side, part in parts.items() if part and part.plain]
    return {
        "entry": exchange.entry,
        "started": exchange.started,
        "method": exchange.method,
        "path": exchange.path,
        "status": exchange.status,
        "time_ms": None if exchange.time_ms is None else round(exchange.time_ms, 1),
        TXN: _first(exchange.as_sent(TXN), exchange.as_sent(TXN, answer=True)),
        "messageCode": exchange.as_sent("messageCode"),
        "answerMessageCode": exchange.as_sent("messageCode", answer=True),
        "responseCode": exchange.as_sent("responseCode", answer=True),
        "response_name": known.name if known else None,
        "paired": exchange.paired,
        **({"answers_entry": exchange.answers_entry} if exchange.answers_entry is not None else {}),
        **shown,
        **({"errors": errors} if errors else {}),
        **({"plain": plain} if plain else {}),
    }


def _first(*values: str | int | None) -> str | int | None:
    return next((value for value in values if value not in (None, "")), None)

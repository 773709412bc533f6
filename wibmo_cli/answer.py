"""What came back: an HTTP answer's body read within limits, and described when it is
not a token answer; or, when none came, the error that says why. Used by the transports
(client.py, direct.py) and the rules they share (exchange.py).

    Decoder        a body's gzip or deflate undone a bounded piece at a time, so no
                   answer, a gzip bomb included, takes more than its limit: the
                   transports count and decode with it (`UnreadableAnswerError`, exit 6)
    describe_body  one short line for a body that is not `{"token": ...}`: its message,
                   an HTML page's title, or its first characters
    status_error   an HTTP error status with no answer; the gateway's own messages
                   (`GATEWAY_MESSAGES`: no key sent, a wrong key) explained
    refused, ...   the parts of a one-line `NetworkError` both transports share (each
                   maps its own failures: client.network_error, direct.py)
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from wibmo_cli import __version__
from wibmo_cli.codes import explain_http
from wibmo_cli.errors import HTTPStatusError, NetworkError, UnreadableAnswerError
from wibmo_cli.masking import redact
from wibmo_cli.sandbox_port import DEFAULT_PORT

# Only what `Decoder` decodes is asked for (httpx would add br and zstd when installed).
ACCEPT_ENCODING: Final = "gzip, deflate"
USER_AGENT: Final = f"wibmo/{__version__}"
_DECODERS: Final = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": 0}
# A title is looked for near the start, and bounded: no quadratic search of a big body.
_TITLE_RE: Final = re.compile(rb"<title>(.{0,512}?)</title>", re.IGNORECASE | re.DOTALL)
_TITLE_WITHIN: Final = 65536


class Decoder:
    """A body's content-encoding undone a bounded piece at a time: never more than
    `limit` bytes out, however much one compressed piece would inflate to."""

    def __init__(self, encoding: str, limit: int, status: int) -> None:
        self.limit = limit
        self.room = limit
        self.status = status
        self.encoding = encoding
        self._first = True
        self._z: Any = None
        if encoding not in ("", "identity"):
            if encoding not in _DECODERS:
                raise UnreadableAnswerError(
                    f"the answer (HTTP {status}) has Content-Encoding {short(repr(encoding))}, "
                    f"which wibmo does not decode (it asks for {ACCEPT_ENCODING})",
                    status=status,
                )
            self._z = zlib.decompressobj(_DECODERS[encoding] or zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            out = data
        elif self._z.eof:  # whatever follows the end of the compressed stream is ignored
            return b""
        else:
            try:
                out = self._z.decompress(data, self.room + 1)
            except zlib.error:
                if not (self._first and self.encoding == "deflate"):
                    raise self._undecodable() from None
                # "deflate" is often sent raw, without its zlib wrapper (as httpx allows)
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                return self.feed(data)
        self._first = False
        if len(out) > self.room:
            raise too_big(self.status, self.limit)
        self.room -= len(out)
        return out

    def finish(self) -> bytes:
        if self._z is None or self._z.eof:
            return b""
        try:
            out: bytes = self._z.flush()
        except zlib.error:
            raise self._undecodable() from None
        if len(out) > self.room:
            raise too_big(self.status, self.limit)
        return out

    def _undecodable(self) -> UnreadableAnswerError:
        return UnreadableAnswerError(
            f"the answer (HTTP {self.status}) is not valid {self.encoding} data",
            status=self.status,
        )


def refuse_declared(content_length: str, status: int, limit: int) -> None:
    """A Content-Length over `limit`: refused before any of the body is read."""
    declared = content_length.strip()
    if declared.isascii() and declared.isdigit() and (len(declared) > 12 or int(declared) > limit):
        raise too_big(status, limit)


def too_big(status: int, limit: int) -> UnreadableAnswerError:
    return UnreadableAnswerError(
        f"the answer (HTTP {status}) is bigger than max_answer_bytes ({limit} bytes): refused",
        status=status,
        hint="raise max_answer_bytes in the profile if answers this big are expected",
    )


def short(text: str) -> str:
    """At most 160 characters on one line (whitespace runs made one space)."""
    return " ".join(text[:4096].split())[:160]


def is_html_page(content: bytes) -> bool:
    start = content[:512].lower()
    return b"<html" in start or b"<!doctype" in start


def describe_body(data: Any, content: bytes, secrets: Iterable[str] = ()) -> str:
    """One short line for an error message; `-v` traces the whole body (client.py).
    Any of `secrets` (the profile's) the body echoes is redacted: a gateway or proxy may
    quote the request's headers back."""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        said = repr(short(data["message"]))
    elif is_html_page(content):
        title = _TITLE_RE.search(content, 0, _TITLE_WITHIN)
        name = short(title.group(1).decode("utf-8", "replace")) if title else ""
        said = f"an HTML page{f' ({name})' if name else ''}"
    elif not content:
        said = "an empty body"
    else:
        said = repr(short(content[:120].decode("utf-8", "replace")))
    return without_secrets(said, secrets)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret in it redacted (`masking.redact`: the last four at most)."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, redact(secret))
    return text


class GatewaySays(NamedTuple):
    """One message the gateway (Kong) answers by itself, unencrypted: what it means
    and what to do (spec/public-notes.md, Gateway)."""

    message: str
    statuses: frozenset[int]
    meaning: str
    action: str


GATEWAY_MESSAGES: Final = (
    GatewaySays(
        "No API key found in request",
        frozenset({401}),
        "no x-api-key reached the gateway",
        "wibmo sends the profile's api_key as x-api-key on every request: check api_key "
        "is set and not empty (and the variable it names), and whether a proxy between "
        "here and the gateway strips the header (HTTPS_PROXY; -v shows what was sent)",
    ),
    GatewaySays(
        "Invalid authentication credentials",
        frozenset({401, 403}),  # 403 on older gateways
        "the gateway does not know this x-api-key: the key is wrong",
        "check the profile's api_key (and the variable it names) is this environment's "
        "key: sandbox, UAT and production keys differ",
    ),
)


def gateway_says(status: int, data: Any) -> GatewaySays | None:
    """The gateway message a body is, for its status, or None."""
    said = data.get("message") if isinstance(data, dict) else None
    if not isinstance(said, str):
        return None
    text = " ".join(said.split()).casefold()
    for entry in GATEWAY_MESSAGES:
        if status in entry.statuses and text == entry.message.casefold():
            return entry
    return None


def status_error(
    status: int, data: Any, content: bytes, secrets: Iterable[str] = ()
) -> HTTPStatusError:
    """An HTTP error status with no answer: its name, what the body said (made short and
    safe by `describe_body`), and what it means where the gateway's words say more."""
    known = explain_http(status)
    name = known.name if known else "HTTP error"
    message = f"HTTP {status} {name}: {describe_body(data, content, secrets)}"
    gateway = gateway_says(status, data)
    if gateway is not None:
        return HTTPStatusError(f"{message} ({gateway.meaning})", status=status, hint=gateway.action)
    if status == 401:
        message += " (the gateway rejected the x-api-key)"
    return HTTPStatusError(message, status=status, hint=known.action if known else None)


def is_tls(exc: Exception) -> bool:
    text = str(exc)
    return "CERTIFICATE" in text or "SSL" in text or "TLS" in text


def host_port(url: str) -> str:
    """host:port as the URL gives them (the port only when it names one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _port(url)
    return f"{host}:{port}" if port else host


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:  # a port that is not a number: the request fails on its own
        return None


def refused(url: str, where: str) -> NetworkError:
    """Connection refused; on loopback at the sandbox's port, say how to start it (the
    example profiles file's default profile `local` is that sandbox)."""
    host = urlsplit(url).hostname
    if host in ("127.0.0.1", "localhost", "::1") and _port(url) == DEFAULT_PORT:
        return NetworkError(
            f"connection refused by {where}: no sandbox is running there",
            hint="start one with `wibmo sandbox` (in another terminal), or use a profile "
            'with base_url = "embedded" (the built-in demo: -p demo)',
        )
    return NetworkError(f"connection refused by {where}: is the service up?")


def os_cause(exc: BaseException) -> BaseException | None:
    """The deepest OSError in an httpx exception chain (the specific one), if any."""
    seen: set[int] = set()
    found: BaseException | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        if isinstance(current, BaseExceptionGroup):
            inner = [os_cause(e) for e in current.exceptions]
            return next((f for f in inner if f is not None), found)
        current = current.__cause__ or current.__context__
    return found

"""The only module that touches the network.

One `httpx.AsyncClient` per command: TLS verification on, proxies from the standard
environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). What it sends is built by
wire.py (credentials, token, URL); the sequence around an update is send.py's.

Every attempt is one exchange bounded as a whole (DESIGN.md, Reliability):

    time     `timeout` covers connecting, sending, the headers and the whole body,
             however slowly the server drips them
    size     the body is streamed and counted, decoded (gzip, deflate) by us a bounded
             piece at a time: more than `max_answer_bytes` is refused, a gzip bomb included
    JSON     parsed by `crypto.load_json`: nesting deeper than `MAX_ANSWER_DEPTH` is
             refused, so nothing downstream (masking, rendering) can recurse too deep
    answer   a token under any of `crypto.ENVELOPE_KEYS` ("token", "result", "encdata"),
             decrypted; or plain JSON with a responseCode, as it is (`Exchange.plain`)

    lookup   retried with backoff on connect errors, dropped connections, 429, 502,
             503 and 504, each attempt with a fresh clientTxnId (lookups are idempotent).
             It ends within (retries + 1) * timeout + retries * MAX_RETRY_WAIT seconds
             (`Profile.lookup_budget`): each wait is at most MAX_RETRY_WAIT, a longer
             Retry-After included.
    update   sent at most once: once the request may have reached the server, every
             failure is `OutcomeUnknownError` (exit 5), never a resend: no answer in
             time, a dropped connection, a 5xx or 3xx, an answer that cannot be read or
             decrypted, or one for another clientTxnId. Only a 4xx (refused) is not.

Whatever the server sends, these methods raise only `WibmoError`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from wibmo_cli.answer import (
    ACCEPT_ENCODING,
    describe_body,
    host_port,
    is_html_page,
    is_tls,
    network_error,
    read_body,
    short,
    status_error,
    without_secrets,
)
from wibmo_cli.bodies import envelope_token, is_plain_answer, load_json
from wibmo_cli.errors import (
    CryptoError,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
    UndecryptableAnswerError,
    UnreadableAnswerError,
)
from wibmo_cli.masking import mask, redact_url, secrets_hidden, shown_value
from wibmo_cli.messages import new_client_txn_id
from wibmo_cli.profiles import MAX_RETRY_WAIT, Profile
from wibmo_cli.wire import Request, Route, Wire

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
# Connect errors, and connections dropped before an answer (closed or reset by the peer).
RETRY_ERRORS: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
# Raised before the request left: an update that failed so was not sent.
UNSENT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0  # before the jitter (x0.75 to x1.25): at most MAX_RETRY_WAIT
MAX_ANSWER_DEPTH: Final = 64  # a real answer is nested 4 deep
_SECONDS_RE: Final = re.compile(r"[0-9]+")  # ASCII digits only: "²".isdigit() is True

Trace = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Exchange:
    """One answered request: the decrypted answer and how it went. `plain`: the answer
    came as plain JSON, not encrypted (so it proves nothing about the key)."""

    answer: dict[str, Any]
    status: int
    elapsed: float
    client_txn_id: str
    attempts: int
    plain: bool = False


@dataclass(frozen=True)
class _Reply:
    """An HTTP answer read whole (within the size cap): what `_interpret` works on."""

    status: int
    headers: httpx.Headers
    content: bytes
    elapsed: float


class _Failed(Exception):
    """An attempt that got no HTTP answer: the error to report, and whether the
    request may have left (`sent`) and may be tried again (`retry`, lookups only)."""

    def __init__(self, error: NetworkError, *, sent: bool, retry: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.sent = sent
        self.retry = retry


class Client:
    """Talks to one profile's endpoint. Use as `async with Client(...) as client:`."""

    def __init__(
        self,
        profile: Profile,
        base_url: str,
        *,
        trace: Trace | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.wire = Wire(profile)  # credentials and key checked before anything is sent
        self.profile = profile
        self.base_url = base_url
        self.retries = int(profile.get("retries"))
        self.timeout = float(profile.get("timeout"))
        self.max_answer_bytes = int(profile.get("max_answer_bytes"))
        self._trace = trace
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),  # each phase; `_attempt` bounds the whole
            headers={"Accept-Encoding": ACCEPT_ENCODING},
            verify=needs_tls(base_url),
            trust_env=True,
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the two APIs ---------------------------------------------------------------

    async def lookup(
        self, payload: Mapping[str, Any], *, route: Route | None = None, keep_txn_id: bool = False
    ) -> Exchange:
        """Retrieve Cust Record, retried per DESIGN.md on transient failures, each retry
        with a fresh clientTxnId (`keep_txn_id`: the one given, which a user chose); with
        `route`, any read (`wibmo call`), retried the same way."""
        route = route or self.wire.route("lookup")
        started = time.perf_counter()
        attempt = 0
        body = dict(payload)
        while True:
            attempt += 1
            last = attempt > self.retries
            request = self.wire.request(route, body, self.base_url)
            try:
                reply = await self._attempt(
                    request, lenient=frozenset() if last else RETRY_STATUSES
                )
            except _Failed as failed:
                if last or not failed.retry:
                    raise failed.error from None
                delay = retry_wait(attempt, None)
                self._note(f"retrying in {delay:.1f}s after: {failed.error.message}")
            else:
                if last or reply.status not in RETRY_STATUSES:
                    answer, plain = self._interpret(reply)
                    elapsed = time.perf_counter() - started
                    txn = body["clientTxnId"]
                    return Exchange(answer, reply.status, elapsed, txn, attempt, plain)
                delay = retry_wait(attempt, reply.headers.get("retry-after"))
                self._note(f"retrying in {delay:.1f}s after HTTP {reply.status}")
            await self._sleep(delay)
            if not keep_txn_id:
                body = {**body, "clientTxnId": new_client_txn_id()}

    async def update(self, payload: Mapping[str, Any], *, route: Route | None = None) -> Exchange:
        """Update Profile, sent at most once; with `route`, any write (`wibmo call`), the
        same way. See the module's docstring for the outcomes."""
        route = route or self.wire.route("update")
        txn = str(payload["clientTxnId"])
        started = time.perf_counter()
        try:
            reply = await self._attempt(self.wire.request(route, payload, self.base_url))
            answer, plain = self._interpret(reply)
        except _Failed as failed:
            if not failed.sent:
                raise NetworkError(failed.error.message, sent=False) from None
            raise OutcomeUnknownError(failed.error.message, client_txn_id=txn) from None
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:  # refused before it was applied
                raise
            raise OutcomeUnknownError(exc.message, client_txn_id=txn) from None
        except CryptoError as exc:  # an answer came, but it cannot be read
            raise OutcomeUnknownError(exc.message, client_txn_id=txn) from None
        found = answer.get("clientTxnId")
        if found is not None and str(found) != txn:
            raise OutcomeUnknownError(
                f"the answer is for clientTxnId {short(repr(str(found)))}, not the one sent",
                client_txn_id=txn,
            )
        return Exchange(answer, reply.status, time.perf_counter() - started, txn, 1, plain)

    # -- one exchange ------------------------------------------------------------------

    async def _attempt(self, request: Request, *, lenient: frozenset[int] = frozenset()) -> _Reply:
        """One request and its whole answer within `timeout`, or `_Failed`.

        `UnreadableAnswerError` when the body is bigger than `max_answer_bytes` or its
        content-encoding does not decode, unless the status is in `lenient` (a lookup
        about to be retried): then the body is taken as empty.
        """
        if self._trace:
            self._trace_request(request)
        url = request.url
        progress = _Progress()
        outgoing = self._http.build_request(
            request.method,
            url,
            content=request.content,
            headers=dict(request.headers),
            extensions={"trace": progress.event},
        )
        started = time.perf_counter()
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                response = await self._http.send(outgoing, stream=True)
                try:
                    elapsed = time.perf_counter() - started
                    if self._trace:
                        self._trace_status(response, elapsed)
                    try:
                        content = await read_body(response, self.max_answer_bytes)
                    except UnreadableAnswerError as exc:
                        if response.status_code not in lenient:
                            raise
                        self._note(exc.message)
                        content = b""
                finally:
                    await response.aclose()
        except TimeoutError:
            where = host_port(url)
            if progress.unsent:
                error = NetworkError(f"timed out connecting to {where} after {self.timeout:g}s")
                raise _Failed(error, sent=False, retry=True) from None
            error = NetworkError(f"no answer from {where} within {self.timeout:g}s (timeout)")
            raise _Failed(error, sent=True, retry=False) from None
        except httpx.HTTPError as exc:
            error = network_error(exc, url, self.timeout)
            retry = isinstance(exc, RETRY_ERRORS) and not is_tls(exc)
            raise _Failed(error, sent=not isinstance(exc, UNSENT_ERRORS), retry=retry) from None
        reply = _Reply(response.status_code, response.headers, content, elapsed)
        if self._trace:
            self._trace_body(reply)
        return reply

    def _interpret(self, reply: _Reply) -> tuple[dict[str, Any], bool]:
        """The answer and whether it came plain: a token in any envelope
        (`bodies.ENVELOPE_KEYS`) decrypted, at any status (only the platform, holding the
        key, can make one); or, with a 2xx status only, plain JSON with a responseCode as
        it is; else the error that says what came back instead (a gateway's {"message"} is
        a gateway failure, and plain JSON at a 3xx or 5xx stays that status: for an
        update, an outcome unknown)."""
        status = reply.status
        content = reply.content
        data: Any = None
        with contextlib.suppress(ValueError):
            data = load_json(content, max_depth=MAX_ANSWER_DEPTH)
        token = envelope_token(data)
        if token is not None:
            try:
                answer = self.wire.codec.decrypt_json(token, max_depth=MAX_ANSWER_DEPTH)
            except CryptoError as exc:
                if status >= 400:
                    raise status_error(status, data, content, self._secrets) from None
                raise UndecryptableAnswerError(
                    f"the answer (HTTP {status}) could not be decrypted: {exc.message}",
                    token=token,
                    hint=exc.hint,
                ) from None
            if not isinstance(answer, dict):
                raise CryptoError(f"the decrypted answer (HTTP {status}) is not a JSON object")
            return secrets_hidden(answer, self._secrets), False
        if status >= 300 or status < 200:  # plain JSON at an error status is the error's
            raise status_error(status, data, content, self._secrets)
        if is_plain_answer(data):  # the platform's decrypt helper, some proxies
            return secrets_hidden(dict(data), self._secrets), True
        raise CryptoError(
            f'HTTP {status}, but the body is not a {{"token": ...}} answer (nor "result" or '
            f'"encdata", nor plain JSON with a responseCode): '
            f"{describe_body(data, content, self._secrets)}",
        )

    # -- tracing (-v) ---------------------------------------------------------------

    def _note(self, message: str) -> None:
        if self._trace:
            self._trace(f"* {message}")

    def _trace_request(self, request: Request) -> None:
        assert self._trace
        self._trace(f"> {request.method} {redact_url(request.url)}")
        secrets = self._secrets
        for name, value in request.headers.items():
            self._trace(f"> {name}: {shown_value(name, value, secrets)}")
        body = request.body
        shown_body = {k: shown_value(k, v, secrets) for k, v in body.items()}
        shown_body["token"] = f"<{len(body['token'])} characters>"
        self._trace(f"> body: {json.dumps(shown_body)}")
        shown = secrets_hidden(mask(dict(request.payload)), secrets)
        self._trace(f"> decrypted: {json.dumps(shown, ensure_ascii=False)}")

    def _trace_status(self, response: httpx.Response, elapsed: float) -> None:
        assert self._trace
        self._trace(
            f"< HTTP {response.status_code} {response.reason_phrase} ({elapsed * 1000:.0f} ms)"
        )
        for name in ("content-type", "content-length", "content-encoding", "retry-after"):
            if name in response.headers:
                self._trace(f"< {name}: {short(response.headers[name])}")

    def _trace_body(self, reply: _Reply) -> None:
        assert self._trace
        try:
            data = load_json(reply.content, max_depth=MAX_ANSWER_DEPTH)
            token = envelope_token(data)
            if token is not None:
                decrypted = mask(self.wire.codec.decrypt_json(token, max_depth=MAX_ANSWER_DEPTH))
                shown = json.dumps(decrypted, ensure_ascii=False)
                self._trace(f"< decrypted: {self._without_secrets(shown)}")
                return
            if is_plain_answer(data):
                shown = json.dumps(mask(data), ensure_ascii=False)
                self._trace(f"< plain answer: {self._without_secrets(shown)}")
                return
        except (ValueError, CryptoError):
            pass
        content = reply.content
        if not content or is_html_page(content):
            self._trace(f"< body: {describe_body(None, content, self._secrets)}")
        if content:  # whole, so a token the key does not open can be fed to --detect
            text = content.decode("utf-8", "backslashreplace")  # bytes not UTF-8 as \xff
            self._trace(f"< body ({len(content)} bytes): {self._without_secrets(text)}")

    def _without_secrets(self, text: str) -> str:
        """A traced answer with any of the profile's secrets it echoes redacted (the
        renderer makes its control characters visible)."""
        return without_secrets(text, self._secrets)

    @property
    def _secrets(self) -> tuple[str, ...]:
        return self.profile.secret_values()

    # -- the platform's helper endpoints (`profiles check`) ---------------------------

    async def helper(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, bytes]:
        """POST `body` as JSON, once, to one of the platform's helper endpoints
        (`encrypt_path`, `decrypt_path`): the status and the body, read within `timeout`
        and `max_answer_bytes` as every answer is. A helper changes nothing, and a check
        reads one answer: no retry. What the answer means is the caller's to read."""
        url = self.profile.url(path, self.base_url)
        self._note(f"POST {redact_url(url)} (the platform's helper)")
        outgoing = self._http.build_request(
            "POST", url, content=json.dumps(dict(body)).encode(), headers=dict(headers)
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http.send(outgoing, stream=True)
                try:
                    content = await read_body(response, self.max_answer_bytes)
                finally:
                    await response.aclose()
        except TimeoutError:
            where = host_port(url)
            raise NetworkError(
                f"no answer from {where} within {self.timeout:g}s (timeout)"
            ) from None
        except httpx.HTTPError as exc:
            raise network_error(exc, url, self.timeout) from None
        self._note(f"HTTP {response.status_code} from the helper ({len(content)} bytes)")
        return response.status_code, content


class _Progress:
    """How far one request got, from httpcore's trace events: `unsent` is True only
    when a connection was being made and no byte of the request was being written."""

    __slots__ = ("seen", "sending")

    def __init__(self) -> None:
        self.seen = False
        self.sending = False

    async def event(self, name: str, info: Mapping[str, Any]) -> None:
        self.seen = True
        if ".send_request_" in name:
            self.sending = True

    @property
    def unsent(self) -> bool:
        return self.seen and not self.sending


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")  # fmt: skip


def needs_tls(base_url: str) -> bool:
    """Whether requests to `base_url` can use TLS: an https:// URL, or an http:// one
    through a proxy reached over https. Otherwise no certificate is ever checked, so the
    CA bundle (about 40 ms to load) is not loaded: a plain-HTTP loopback sandbox, the
    embedded one."""
    import os

    if not base_url.lower().startswith("http://"):
        return True
    return any(os.environ.get(name, "").lower().startswith("https") for name in _PROXY_VARIABLES)


def one_connection_each(
    profile: Profile, base_url: str, count: int, *, trace: Trace | None = None
) -> list[Client]:
    """`count` clients of one connection each, sharing one TLS context (batch lookups).

    httpcore's pool spends more time matching requests to connections than a request
    takes once there are a dozen in flight; one connection per client avoids that (a
    batch at concurrency 16 runs about twice as fast), and the shared TLS context saves
    loading the CA bundle `count` times.
    """
    tls = httpx.create_ssl_context(trust_env=True) if needs_tls(base_url) else False
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [
        Client(
            profile,
            base_url,
            trace=trace,
            transport=httpx.AsyncHTTPTransport(verify=tls, trust_env=True, limits=limits),
        )
        for _ in range(count)
    ]


def retry_wait(attempt: int, retry_after: str | None) -> float:
    """The wait before the next attempt: Retry-After when it says one, else exponential
    backoff with jitter; never more than MAX_RETRY_WAIT."""
    wait = _retry_after(retry_after) if retry_after else None
    if wait is None:
        delay = min(BACKOFF_BASE * float(2 ** min(attempt - 1, 16)), BACKOFF_CAP)
        wait = delay * random.uniform(0.75, 1.25)
    return min(max(wait, 0.0), MAX_RETRY_WAIT)


def _retry_after(value: str) -> float | None:
    """Retry-After as seconds: ASCII digits or an HTTP date; None when it is neither."""
    text = value.strip()
    if _SECONDS_RE.fullmatch(text):
        return float(text)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:  # "-0000": a date in UTC
            when = when.replace(tzinfo=UTC)
        return (when - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None

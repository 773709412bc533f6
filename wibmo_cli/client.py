"""The network through httpx, asynchronously: updates (single, bulk apply, `wibmo call`),
the platform's helper endpoints, and every request when a proxy variable is set
(HTTPS_PROXY, HTTP_PROXY, ALL_PROXY; NO_PROXY exempts); reads otherwise go through
direct.py. TLS verified (exchange.tls_context). What it sends is built by wire.py; when
to try again and what counts as an answer are exchange.py's rules, the same as
direct.py's; the sequence around an update is send.py's. An unreachable proxy is named
with its variable (`proxy_unreachable`).

Every attempt is one exchange bounded as a whole (DESIGN.md, Reliability):

    time     `timeout` covers connecting, sending, the headers and the whole body,
             however slowly the server drips them
    size     the body is streamed and counted, decoded (gzip, deflate) by us a bounded
             piece at a time: more than `max_answer_bytes` is refused, a gzip bomb included

Whatever the server sends, these methods raise only `WibmoError`s.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import httpx

if TYPE_CHECKING:
    import ssl

from wibmo_cli.answer import (
    ACCEPT_ENCODING,
    USER_AGENT,
    Decoder,
    host_port,
    is_tls,
    os_cause,
    refuse_declared,
    refused,
    short,
    too_big,
)
from wibmo_cli.errors import ConfigError, NetworkError, UnreadableAnswerError
from wibmo_cli.exchange import (
    BACKOFF_BASE,
    RETRY_STATUSES,
    Exchange,
    Failed,
    Reply,
    Rules,
    Trace,
    drive_async,
    needs_tls,
    retry_wait,
    tls_context,
)
from wibmo_cli.masking import redact_url
from wibmo_cli.profiles import Profile
from wibmo_cli.wire import Request, Route

__all__ = [  # what callers and tests take from here
    "BACKOFF_BASE",
    "RETRY_STATUSES",
    "Client",
    "Exchange",
    "Trace",
    "needs_tls",
    "one_connection_each",
    "retry_wait",
]

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

Sleep = Callable[[float], Awaitable[None]]


class Client(Rules):
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
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(profile, base_url, trace=trace)
        self._sleep = sleep
        self._transport = transport
        self._max_connections = max_connections
        # exchange.tls_context, made once and shared (the CA bundle takes ~40 ms to load);
        # False where TLS cannot be used. httpx then takes proxies from the environment
        # itself (it does only when no transport is given).
        self._verify: ssl.SSLContext | bool = False
        if needs_tls(base_url):
            self._verify = tls or tls_context()
        self._http = self._new_http()

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),  # each phase; `_attempt` bounds the whole
            headers={"Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT},
            verify=self._verify,
            trust_env=True,
            transport=self._transport,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=self._max_connections,
            ),
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the two APIs (exchange.py's rules) --------------------------------------------

    async def lookup(
        self, payload: Mapping[str, Any], *, route: Route | None = None, keep_txn_id: bool = False
    ) -> Exchange:
        """Retrieve Cust Record, or with `route` any read: `Rules.lookup_steps`."""
        steps = self.lookup_steps(payload, route, keep_txn_id)
        return await drive_async(steps, self._attempt, self._sleep)

    async def update(self, payload: Mapping[str, Any], *, route: Route | None = None) -> Exchange:
        """Update Profile, or with `route` any write, at most once: `Rules.update_steps`."""
        return await drive_async(self.update_steps(payload, route), self._attempt, self._sleep)

    # -- one exchange ------------------------------------------------------------------

    async def _attempt(self, request: Request, lenient: frozenset[int] = frozenset()) -> Reply:
        """One request and its whole answer within `timeout`, or `Failed`.

        `UnreadableAnswerError` when the body is bigger than `max_answer_bytes` or its
        content-encoding does not decode, unless the status is in `lenient` (a lookup
        about to be retried): then the body is taken as empty.
        """
        if self.renew_connection:  # out of step: its connections closed, new ones opened
            self.renew_connection = False
            await self._http.aclose()
            self._http = self._new_http()
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
                        headers = response.headers
                        status = response.status_code
                        self._trace_status(status, response.reason_phrase, headers, elapsed)
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
                error = proxy_unreachable(url, f"timed out after {self.timeout:g}s") or (
                    NetworkError(f"timed out connecting to {where} after {self.timeout:g}s")
                )
                raise Failed(error, sent=False, retry=True) from None
            error = NetworkError(f"no answer from {where} within {self.timeout:g}s (timeout)")
            raise Failed(error, sent=True, retry=False) from None
        except httpx.HTTPError as exc:
            error = network_error(exc, url, self.timeout)
            retry = isinstance(exc, RETRY_ERRORS) and not is_tls(exc)
            raise Failed(error, sent=not isinstance(exc, UNSENT_ERRORS), retry=retry) from None
        reply = Reply(response.status_code, response.headers, content, elapsed)
        if self._trace:
            self._trace_body(reply)
        return reply

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


def one_connection_each(
    profile: Profile, base_url: str, count: int, *, trace: Trace | None = None
) -> list[Client]:
    """`count` clients of one connection each, sharing one TLS context (batches through
    a proxy, bulk apply).

    httpcore's pool spends more time matching requests to connections than a request
    takes once there are a dozen in flight; one connection per client avoids that (a
    batch at concurrency 16 runs about twice as fast), and the shared TLS context saves
    loading the CA bundle `count` times. No transport is handed to httpx, so it applies
    the proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) to each client.
    """
    tls = tls_context() if needs_tls(base_url) else None
    return [
        Client(profile, base_url, trace=trace, max_connections=1, tls=tls) for _ in range(count)
    ]


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body, streamed and counted: `UnreadableAnswerError` past `limit` bytes, raw or
    decoded (a bigger answer is refused before it is all read, or inflated)."""
    status = response.status_code
    if response.is_stream_consumed:  # built in memory, already read and decoded (tests)
        if len(response.content) > limit:
            raise too_big(status, limit)
        return response.content
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decoder = Decoder(encoding, limit, status)
    refuse_declared(response.headers.get("content-length", ""), status, limit)
    parts: list[bytes] = []
    received = 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise too_big(status, limit)
        parts.append(decoder.feed(chunk))
    parts.append(decoder.finish())
    return b"".join(parts)


def network_error(exc: Exception, url: str, timeout: float) -> NetworkError:
    host = httpx.URL(url).host
    where = host_port(url)
    text = str(exc)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and not is_tls(exc):
        cause = os_cause(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            reason = f"timed out after {timeout:g}s"
        elif isinstance(cause, ConnectionRefusedError) or "refused" in text.lower():
            reason = "connection refused"
        elif isinstance(cause, socket.gaierror):
            reason = "its host name does not resolve (DNS)"
        else:
            reason = short(text) or type(exc).__name__
        unreachable = proxy_unreachable(url, reason)
        if unreachable is not None:
            return unreachable
    if isinstance(exc, httpx.ConnectTimeout):
        return NetworkError(f"timed out connecting to {where} after {timeout:g}s")
    if isinstance(exc, httpx.PoolTimeout):
        return NetworkError(f"no free connection to {where} within {timeout:g}s")
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(f"no answer from {where} within {timeout:g}s (timeout)")
    if isinstance(exc, httpx.ProxyError):
        return NetworkError(f"the proxy refused or failed the connection to {where}: {text}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        raise ConfigError(f"cannot use the URL {url}: {text}")
    if isinstance(exc, httpx.ConnectError):
        cause = os_cause(exc)
        if isinstance(cause, ConnectionRefusedError):
            return refused(url, where)
        if isinstance(cause, socket.gaierror):
            return NetworkError(f"cannot resolve host {host} (DNS)")
        if is_tls(exc):
            return NetworkError(
                f"TLS with {where} failed: {short(text)}",
                hint="check the base_url and the server's certificate",
            )
        if "Name or service not known" in text or "name resolution" in text or "nodename" in text:
            return NetworkError(f"cannot resolve host {host} (DNS)")
        if "refused" in text.lower():
            return refused(url, where)
        return NetworkError(f"cannot connect to {where}: {short(text)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"{where} closed the connection without an answer")
    if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header value
        return NetworkError(f"the request to {where} could not be sent: not valid HTTP")
    cause = os_cause(exc)  # httpx's ReadError and WriteError say nothing themselves
    said = short(text) or (cause.strerror if isinstance(cause, OSError) else None)
    return NetworkError(f"connection to {where} failed: {said or type(exc).__name__}")


def proxy_unreachable(url: str, reason: str) -> NetworkError | None:
    """The one line for a proxy that could not be reached, naming it and the variable it
    came from (httpx would name only the endpoint behind it); None when no proxy is
    configured for `url` (NO_PROXY included)."""
    found = proxy_for(url)
    if found is None:
        return None
    variable, proxy = found
    return NetworkError(
        f"cannot reach the proxy {redact_url(proxy)} (from {variable}) on the way to "
        f"{host_port(url)}: {reason}",
        hint=f"check {variable}, or list the host in NO_PROXY to go there directly",
    )


def proxy_for(url: str) -> tuple[str, str] | None:
    """(variable, proxy URL) the environment gives for `url`, as httpx reads it (the
    scheme's variable, else ALL_PROXY; lower case first; NO_PROXY exempts), or None."""
    import os
    from urllib import request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if request.proxy_bypass_environment(parts.hostname or ""):  # type: ignore[attr-defined]
        return None
    for name in (f"{parts.scheme.lower()}_proxy", "all_proxy"):
        for variable in (name, name.upper()):
            value = os.environ.get(variable, "").strip()
            if value:
                return variable, value
    return None

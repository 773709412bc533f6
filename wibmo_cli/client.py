"""The only module that touches the network.

One `httpx.AsyncClient` per command: TLS verification on, proxies from the standard
environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), a timeout on every phase.

    lookup   retried with backoff on connect errors, dropped connections, 429, 502,
             503 and 504, each attempt with a fresh clientTxnId (lookups are idempotent)
    update   sent at most once: once the request may have reached the server, a
             failure is `OutcomeUnknownError`, never a resend
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from wibmo_cli.codes import explain_http
from wibmo_cli.errors import (
    ConfigError,
    CryptoError,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
)
from wibmo_cli.masking import mask, redact_url
from wibmo_cli.messages import new_client_txn_id
from wibmo_cli.profiles import Profile, redact

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
# Connect errors, and connections dropped before an answer (closed or reset by the peer).
RETRY_ERRORS: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
)
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0
_TITLE_RE: Final = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SECRET_HEADERS: Final = frozenset({"x-api-key", "securecode"})
_SECRET_BODY: Final = frozenset({"secureCode"})
_HEADER_KEYS: Final = {  # header -> the profile key it comes from, for messages
    "x-api-key": "api_key",
    "clientId": "client_id",
    "bankId": "bank_id",
    "entityId": "entity_id",
    "secureCode": "secure_code",
    "X-Consumer-Custom-ID": "consumer_custom_id",
}

Trace = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Exchange:
    """One answered request: the decrypted answer and how it went."""

    answer: dict[str, Any]
    status: int
    elapsed: float
    client_txn_id: str
    attempts: int


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
        profile.require("api_key", "secure_code", "client_id", "bank_id")
        self.profile = profile
        self.base_url = base_url
        self.codec = profile.codec()
        self.retries = int(profile.get("retries"))
        self.timeout = float(profile.get("timeout"))
        self._trace = trace
        self._sleep = sleep
        self._headers, self._body_extra = _credentials(profile)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            verify=True,
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

    async def lookup(self, payload: Mapping[str, Any]) -> Exchange:
        """Retrieve Cust Record, retried per DESIGN.md on transient failures."""
        url = self.profile.url(self.profile.get("lookup_path"), self.base_url)
        started = time.perf_counter()
        attempt = 0
        body = dict(payload)
        while True:
            attempt += 1
            try:
                response = await self._send("POST", url, body)
            except RETRY_ERRORS as exc:
                if attempt > self.retries or _is_tls(exc):
                    raise _network_error(exc, url, self.timeout) from None
                delay = _backoff(attempt, None)
                self._note(f"retrying in {delay:.1f}s after: {_network_error(exc, url, 0)}")
            except httpx.HTTPError as exc:
                raise _network_error(exc, url, self.timeout) from None
            else:
                if response.status_code not in RETRY_STATUSES or attempt > self.retries:
                    answer = self._interpret(response)
                    elapsed = time.perf_counter() - started
                    return Exchange(
                        answer, response.status_code, elapsed, body["clientTxnId"], attempt
                    )
                delay = _backoff(attempt, response.headers.get("retry-after"))
                self._note(f"retrying in {delay:.1f}s after HTTP {response.status_code}")
            await self._sleep(delay)
            body = {**body, "clientTxnId": new_client_txn_id()}

    async def update(self, payload: Mapping[str, Any]) -> Exchange:
        """Update Profile, sent at most once."""
        url = self.profile.url(self.profile.get("update_path"), self.base_url)
        txn = str(payload["clientTxnId"])
        started = time.perf_counter()
        try:
            response = await self._send("PATCH", url, dict(payload))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            error = _network_error(exc, url, self.timeout)
            raise NetworkError(f"{error.message}; nothing was sent") from None
        except httpx.HTTPError as exc:
            cause = _network_error(exc, url, self.timeout).message
            raise OutcomeUnknownError(
                f"{cause}; the update may or may not have been applied (clientTxnId {txn})",
                client_txn_id=txn,
            ) from None
        answer = self._interpret(response)
        return Exchange(answer, response.status_code, time.perf_counter() - started, txn, 1)

    # -- wire -------------------------------------------------------------------------

    def request_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body sent: the token, plus credentials when they travel in the body."""
        return {"token": self.codec.encrypt_json(payload), **self._body_extra}

    @property
    def headers(self) -> dict[str, str]:
        return dict(self._headers)

    async def _send(self, method: str, url: str, payload: dict[str, Any]) -> httpx.Response:
        body = self.request_body(payload)
        if self._trace:
            self._trace_request(method, url, body, payload)
        started = time.perf_counter()
        response = await self._http.request(
            method, url, content=json.dumps(body).encode(), headers=self._headers
        )
        if self._trace:
            self._trace_response(response, time.perf_counter() - started)
        return response

    def _interpret(self, response: httpx.Response) -> dict[str, Any]:
        """The decrypted answer, or the error that says what came back instead."""
        status = response.status_code
        content = response.content
        data: Any = None
        with contextlib.suppress(ValueError):
            data = json.loads(content)
        token = data.get("token") if isinstance(data, dict) else None
        if isinstance(token, str):
            try:
                answer = self.codec.decrypt_json(token)
            except CryptoError as exc:
                if status >= 400:
                    raise _status_error(status, data, content) from None
                raise CryptoError(
                    f"the answer (HTTP {status}) could not be decrypted: {exc.message}",
                    hint=exc.hint,
                ) from None
            if not isinstance(answer, dict):
                raise CryptoError(f"the decrypted answer (HTTP {status}) is not a JSON object")
            return answer
        if status >= 300 or status < 200:
            raise _status_error(status, data, content)
        raise CryptoError(
            f'HTTP {status}, but the body is not a {{"token": ...}} answer: '
            f"{_describe_body(data, content)}",
        )

    # -- tracing (-v) ---------------------------------------------------------------

    def _note(self, message: str) -> None:
        if self._trace:
            self._trace(f"* {message}")

    def _trace_request(
        self, method: str, url: str, body: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> None:
        assert self._trace
        self._trace(f"> {method} {redact_url(url)}")
        for name, value in self._headers.items():
            shown = redact(value) if name.lower() in _SECRET_HEADERS else value
            self._trace(f"> {name}: {shown}")
        shown_body = {k: (redact(str(v)) if k in _SECRET_BODY else v) for k, v in body.items()}
        shown_body["token"] = f"<{len(body['token'])} characters>"
        self._trace(f"> body: {json.dumps(shown_body)}")
        self._trace(f"> decrypted: {json.dumps(mask(dict(payload)), ensure_ascii=False)}")

    def _trace_response(self, response: httpx.Response, elapsed: float) -> None:
        assert self._trace
        self._trace(
            f"< HTTP {response.status_code} {response.reason_phrase} ({elapsed * 1000:.0f} ms)"
        )
        for name in ("content-type", "content-length", "retry-after"):
            if name in response.headers:
                self._trace(f"< {name}: {response.headers[name]}")
        try:
            data = json.loads(response.content)
            token = data.get("token") if isinstance(data, dict) else None
            if isinstance(token, str):
                decrypted = mask(self.codec.decrypt_json(token))
                self._trace(f"< decrypted: {json.dumps(decrypted, ensure_ascii=False)}")
                return
        except (ValueError, CryptoError):
            pass
        self._trace(f"< body: {_describe_body(None, response.content)}")


def one_connection_each(
    profile: Profile, base_url: str, count: int, *, trace: Trace | None = None
) -> list[Client]:
    """`count` clients of one connection each, sharing one TLS context (batch lookups).

    httpcore's pool spends more time matching requests to connections than a request
    takes once there are a dozen in flight; one connection per client avoids that (a
    batch at concurrency 16 runs about twice as fast), and the shared TLS context saves
    loading the CA bundle `count` times.
    """
    tls = httpx.create_ssl_context(trust_env=True)
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


def _credentials(profile: Profile) -> tuple[dict[str, str], dict[str, str]]:
    """Headers always carry x-api-key; the rest go in headers or the body per profile."""
    creds = {
        "clientId": str(profile.get("client_id")),
        "bankId": str(profile.get("bank_id")),
        "entityId": str(profile.get("entity_id")),
        "secureCode": str(profile.get("secure_code")),
    }
    custom = str(profile.get("consumer_custom_id"))
    if custom:
        creds["X-Consumer-Custom-ID"] = custom
    headers = {
        "x-api-key": str(profile.get("api_key")),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    if profile.get("credentials") == "body":
        _check_header_values(profile, headers)
        return headers, creds
    headers = {**headers, **creds}
    _check_header_values(profile, headers)
    return headers, {}


def _check_header_values(profile: Profile, headers: Mapping[str, str]) -> None:
    """Refuse a value HTTP cannot carry in a header, naming its key, never the value.

    Left to httpx, such a value fails mid-request with an error that quotes it whole:
    an api_key or secureCode with a line break or a space at either end would be printed.
    """
    for name, value in headers.items():
        if value.isascii() and value.isprintable() and value == value.strip():
            continue
        key = _HEADER_KEYS.get(name, name)
        raise ConfigError(
            f"profile {profile.name!r}: {key} cannot be sent in an HTTP header: it has "
            "a space at either end, a line break, or a control or non-ASCII character",
        )


def _backoff(attempt: int, retry_after: str | None) -> float:
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), 30.0)
    delay = min(BACKOFF_BASE * float(2 ** (attempt - 1)), BACKOFF_CAP)
    return delay * random.uniform(0.75, 1.25)


def _is_tls(exc: Exception) -> bool:
    text = str(exc)
    return "CERTIFICATE" in text or "SSL" in text or "TLS" in text


def _network_error(exc: Exception, url: str, timeout: float) -> NetworkError:
    host = httpx.URL(url).host
    port = httpx.URL(url).port
    where = f"{host}:{port}" if port else host
    text = str(exc)
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
        cause = _os_cause(exc)
        if isinstance(cause, ConnectionRefusedError):
            return NetworkError(f"connection refused by {where}: is the service up?")
        if isinstance(cause, socket.gaierror):
            return NetworkError(f"cannot resolve host {host} (DNS)")
        if _is_tls(exc):
            return NetworkError(
                f"TLS with {where} failed: {_short(text)}",
                hint="check the base_url and the server's certificate",
            )
        if "Name or service not known" in text or "name resolution" in text or "nodename" in text:
            return NetworkError(f"cannot resolve host {host} (DNS)")
        if "refused" in text.lower():
            return NetworkError(f"connection refused by {where}: is the service up?")
        return NetworkError(f"cannot connect to {where}: {_short(text)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"{where} closed the connection without an answer")
    if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header value
        return NetworkError(f"the request to {where} could not be sent: not valid HTTP")
    return NetworkError(f"connection to {where} failed: {_short(text) or type(exc).__name__}")


def _os_cause(exc: BaseException) -> BaseException | None:
    """The deepest OSError in an httpx exception chain (the specific one), if any."""
    seen: set[int] = set()
    found: BaseException | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            found = current
        if isinstance(current, BaseExceptionGroup):
            inner = [_os_cause(e) for e in current.exceptions]
            return next((f for f in inner if f is not None), found)
        current = current.__cause__ or current.__context__
    return found


def _short(text: str) -> str:
    return " ".join(text.split())[:160]


def _describe_body(data: Any, content: bytes) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return repr(data["message"])
    if b"<html" in content[:512].lower() or b"<!doctype" in content[:512].lower():
        title = _TITLE_RE.search(content)
        name = _short(title.group(1).decode("utf-8", "replace")) if title else ""
        return f"an HTML page{f' ({name})' if name else ''}"
    if not content:
        return "an empty body"
    return repr(_short(content[:120].decode("utf-8", "replace")))


def _status_error(status: int, data: Any, content: bytes) -> HTTPStatusError:
    known = explain_http(status)
    name = known.name if known else "HTTP error"
    message = f"HTTP {status} {name}: {_describe_body(data, content)}"
    if status == 401:
        message += " (the gateway rejected the x-api-key)"
    return HTTPStatusError(message, status=status, hint=known.action if known else None)

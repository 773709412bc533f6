"""The rules of an exchange with the platform, with no transport in them: what is sent
(wire.py builds it), when to try again, what counts as an answer, what is traced.
Both transports follow these same rules: client.py (httpx, async: batches, the console,
updates, proxies) and direct.py (a socket, synchronous: one lookup without a proxy).

A call is a generator of steps (`Steps`), driven by a transport:

    Send(request, lenient)   send it: the driver sends back the `Reply`, or throws in
                             what stopped it (`Failed`: no answer came; or an answer
                             that cannot be read, UnreadableAnswerError)
    Wait(seconds)            sleep before the next attempt
    return Exchange          the decrypted answer (or an exception: a WibmoError)

    lookup   retried with backoff on connect errors, dropped connections, 429, 502,
             503 and 504, each attempt with a fresh clientTxnId (lookups are idempotent).
             It ends within (retries + 1) * timeout + retries * MAX_RETRY_WAIT seconds
             (`Profile.lookup_budget`): each wait is at most MAX_RETRY_WAIT, a longer
             Retry-After included. An answer naming another clientTxnId is another
             request's (a server that answered twice on one kept-alive connection):
             never taken, tried again on a new connection (`renew_connection`), exit 5
             when the retries run out.
    update   sent at most once: once the request may have reached the server, every
             failure is `OutcomeUnknownError` (exit 5), never a resend: no answer in
             time, a dropped connection, a 5xx or 3xx, an answer that cannot be read or
             decrypted, or one for another clientTxnId. Only a 4xx (refused) is not.
    answer   a token under any of `bodies.ENVELOPE_KEYS` ("token", "result", "encdata"),
             decrypted; or plain JSON with a responseCode, as it is (`Exchange.plain`);
             JSON nested deeper than `MAX_ANSWER_DEPTH` is refused
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from wibmo_cli.answer import describe_body, is_html_page, short, status_error, without_secrets
from wibmo_cli.bodies import envelope_token, is_plain_answer, load_json
from wibmo_cli.errors import (
    ConfigError,
    CryptoError,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
    UndecryptableAnswerError,
    WibmoError,
)
from wibmo_cli.masking import mask, redact_url, secrets_hidden, shown_value
from wibmo_cli.messages import new_client_txn_id
from wibmo_cli.profiles import MAX_RETRY_WAIT, Profile
from wibmo_cli.wire import Request, Route, Wire

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
BACKOFF_BASE: Final = 0.5
BACKOFF_CAP: Final = 8.0  # before the jitter (x0.75 to x1.25): at most MAX_RETRY_WAIT
MAX_ANSWER_DEPTH: Final = 64  # a real answer is nested 4 deep
_SECONDS_RE: Final = re.compile(r"[0-9]+")  # ASCII digits only: "²".isdigit() is True

if TYPE_CHECKING:
    import ssl

Trace = Callable[[str], None]


class Exchange(NamedTuple):
    """One answered request: the decrypted answer and how it went. `plain`: the answer
    came as plain JSON, not encrypted (so it proves nothing about the key)."""

    answer: dict[str, Any]
    status: int
    elapsed: float
    client_txn_id: str
    attempts: int
    plain: bool = False


class Reply(NamedTuple):
    """An HTTP answer read whole (within the size cap). `headers`: looked up by
    lower-case name."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float


class Failed(Exception):
    """An attempt that got no HTTP answer: the error to report, and whether the
    request may have left (`sent`) and may be tried again (`retry`, lookups only)."""

    def __init__(self, error: NetworkError, *, sent: bool, retry: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.sent = sent
        self.retry = retry


class Send(NamedTuple):
    """Send `request`. A body over the size cap is `UnreadableAnswerError`, unless the
    status is in `lenient` (a lookup about to be retried): then it is taken as empty."""

    request: Request
    lenient: frozenset[int] = frozenset()


class Wait(NamedTuple):
    seconds: float


Steps = Generator[Send | Wait, Reply | None, Exchange]


class LookupClient(Protocol):
    """What reads need of a client: client.Client, direct.AsyncDirectClient."""

    async def lookup(
        self, payload: Mapping[str, Any], *, route: Route | None = None, keep_txn_id: bool = False
    ) -> Exchange: ...

    async def aclose(self) -> None: ...


Attempt = Callable[[Request, frozenset[int]], Reply]
AsyncAttempt = Callable[[Request, frozenset[int]], Awaitable[Reply]]


def drive(steps: Steps, attempt: Attempt, sleep: Callable[[float], None]) -> Exchange:
    """Run a call's steps with a synchronous transport: `attempt(request, lenient)`
    answers each Send, `sleep` each Wait; what stops an attempt (Failed, or an answer
    that cannot be read) is thrown back in, for the rules to say what it means."""
    try:
        step = next(steps)
        while True:
            if isinstance(step, Wait):
                sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                reply = attempt(step.request, step.lenient)
            except (Failed, WibmoError) as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(reply)
    except StopIteration as done:
        exchange: Exchange = done.value
        return exchange
    finally:
        steps.close()


async def drive_async(
    steps: Steps, attempt: AsyncAttempt, sleep: Callable[[float], Awaitable[None]]
) -> Exchange:
    """`drive`, with an asynchronous transport."""
    try:
        step = next(steps)
        while True:
            if isinstance(step, Wait):
                await sleep(step.seconds)
                step = steps.send(None)
                continue
            try:
                reply = await attempt(step.request, step.lenient)
            except (Failed, WibmoError) as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(reply)
    except StopIteration as done:
        exchange: Exchange = done.value
        return exchange
    finally:
        steps.close()


class Rules:
    """One profile's endpoint: its requests (`Wire`) and the rules above. A transport
    subclasses it and drives `lookup_steps` and `update_steps`."""

    def __init__(self, profile: Profile, base_url: str, *, trace: Trace | None = None) -> None:
        self.wire = Wire(profile)  # credentials and key checked before anything is sent
        self.profile = profile
        self.base_url = base_url
        self.retries = int(profile.get("retries"))
        self.timeout = float(profile.get("timeout"))
        self.max_answer_bytes = int(profile.get("max_answer_bytes"))
        self._trace = trace
        # An answer for another clientTxnId came: the connection it came on is out of
        # step (a server that answered twice), so the transport opens a new one next.
        self.renew_connection = False

    def lookup_steps(
        self, payload: Mapping[str, Any], route: Route | None = None, keep_txn_id: bool = False
    ) -> Steps:
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
                reply = yield Send(request, frozenset() if last else RETRY_STATUSES)
            except Failed as failed:
                if last or not failed.retry:
                    raise failed.error from None
                delay = retry_wait(attempt, None)
                self._note(f"retrying in {delay:.1f}s after: {failed.error.message}")
            else:
                assert reply is not None
                if last or reply.status not in RETRY_STATUSES:
                    answer, plain = self.interpret(reply)
                    txn = str(body["clientTxnId"])
                    foreign = self._foreign(answer, txn)
                    if foreign is None:
                        elapsed = time.perf_counter() - started
                        return Exchange(answer, reply.status, elapsed, txn, attempt, plain)
                    if last:
                        raise NetworkError(foreign)
                    delay = retry_wait(attempt, None)
                    self._note(f"retrying in {delay:.1f}s after: {foreign}")
                else:
                    delay = retry_wait(attempt, reply.headers.get("retry-after"))
                    self._note(f"retrying in {delay:.1f}s after HTTP {reply.status}")
            yield Wait(delay)
            if not keep_txn_id:
                body = {**body, "clientTxnId": new_client_txn_id()}

    def update_steps(self, payload: Mapping[str, Any], route: Route | None = None) -> Steps:
        """Update Profile, sent at most once; with `route`, any write (`wibmo call`), the
        same way. See the module's docstring for the outcomes."""
        route = route or self.wire.route("update")
        txn = str(payload["clientTxnId"])
        started = time.perf_counter()
        try:
            reply = yield Send(self.wire.request(route, payload, self.base_url))
            assert reply is not None
            answer, plain = self.interpret(reply)
        except Failed as failed:
            if not failed.sent:
                raise NetworkError(failed.error.message, sent=False) from None
            raise OutcomeUnknownError(failed.error.message, client_txn_id=txn) from None
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500:  # refused before it was applied
                raise
            raise OutcomeUnknownError(exc.message, client_txn_id=txn) from None
        except CryptoError as exc:  # an answer came, but it cannot be read
            raise OutcomeUnknownError(exc.message, client_txn_id=txn) from None
        foreign = self._foreign(answer, txn)
        if foreign is not None:
            raise OutcomeUnknownError(foreign, client_txn_id=txn)
        return Exchange(answer, reply.status, time.perf_counter() - started, txn, 1, plain)

    def _foreign(self, answer: Mapping[str, Any], txn: str) -> str | None:
        """Why `answer` is not the answer to the request sent as `txn` (it names another
        clientTxnId), or None. Then the connection is out of step: renewed."""
        found = answer.get("clientTxnId")
        if found is None or str(found) == txn:
            return None
        self.renew_connection = True
        return f"the answer is for clientTxnId {short(repr(str(found)))}, not the one sent"

    def interpret(self, reply: Reply) -> tuple[dict[str, Any], bool]:
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

    def _trace_status(
        self, status: int, reason: str, headers: Mapping[str, str], elapsed: float
    ) -> None:
        assert self._trace
        self._trace(f"< HTTP {status} {reason} ({elapsed * 1000:.0f} ms)")
        for name in ("content-type", "content-length", "content-encoding", "retry-after"):
            if name in headers:
                self._trace(f"< {name}: {short(headers[name])}")

    def _trace_body(self, reply: Reply) -> None:
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


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                    "all_proxy")  # fmt: skip


def needs_tls(base_url: str) -> bool:
    """Whether requests to `base_url` can use TLS: an https:// URL, or an http:// one
    through a proxy reached over https. Otherwise no certificate is ever checked, so the
    CA bundle (about 40 ms to load) is not loaded: a plain-HTTP loopback sandbox, the
    embedded one."""
    if not base_url.lower().startswith("http://"):
        return True
    return any(os.environ.get(name, "").lower().startswith("https") for name in _PROXY_VARIABLES)


def tls_context() -> ssl.SSLContext:
    """Verified TLS, as httpx makes it with trust_env: the file in SSL_CERT_FILE, else
    the directory in SSL_CERT_DIR, else certifi's bundle; host names checked. Both
    transports use it. A variable naming something that holds no certificate is a
    configuration error (exit 3), not a failed connection."""
    import ssl

    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        value = os.environ.get(name)
        if not value:
            continue
        try:
            if name == "SSL_CERT_FILE":
                context = ssl.create_default_context(cafile=value)
            else:
                context = ssl.create_default_context(capath=value)
        except (OSError, ssl.SSLError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(
                f"{name}={value!r} cannot be used for TLS: {short(why)}",
                hint=f"point {name} at a PEM file (or directory) of CA certificates, "
                "or unset it to use the bundled ones",
            ) from None
        break
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


def proxy_configured() -> bool:
    """Whether the environment names a proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, in
    either case). Only client.py (httpx) goes through proxies, NO_PROXY included."""
    return any(os.environ.get(name, "").strip() for name in _PROXY_VARIABLES)


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

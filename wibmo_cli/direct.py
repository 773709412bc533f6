"""The network straight over sockets, HTTP/1.1 by h11 (TLS from the standard library's
`ssl`), when no proxy is configured (only httpx, client.py, knows proxies). The rules of
the exchange (retries, at most once, what counts as an answer, the trace) are
exchange.py's, the same as client.py's; only the transport is here.

    DirectClient       synchronous, a fresh connection per attempt: one `wibmo lookup`,
                       which then pays for neither asyncio nor httpx (~60 ms of a cold
                       start)
    AsyncDirectClient  asyncio streams, one kept-alive connection (a new one when the
                       server closed it, sent bytes nobody asked for, or the rules saw
                       another request's answer): the reads of batches, bulk plans,
                       reconcile and `wibmo shell` (endpoint.open_lookup_clients)

Each attempt is bounded as a whole, as client.py's are (DESIGN.md, Reliability):

    time     `timeout` covers resolving the name (in a daemon thread: getaddrinfo has no
             timeout of its own), connecting, the TLS handshake, sending, the headers
             and the whole body, however slowly the server drips them
    size     the raw body and the decoded one are counted (`answer.Decoder`); headers
             are limited by h11 (16 KiB)
    TLS      exchange.tls_context: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR, as
             httpx; the host name checked
    sent     a failure before the first byte of the request is written is `sent=False`
             (refused, DNS, a connect timeout, TLS); after it, `sent=True`
    auth     a base_url's user:password sent as Basic credentials, as httpx does
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import unquote, urlsplit

import h11

from wibmo_cli.answer import (
    ACCEPT_ENCODING,
    USER_AGENT,
    Decoder,
    host_port,
    refuse_declared,
    refused,
    short,
    too_big,
)
from wibmo_cli.errors import ConfigError, NetworkError, UnreadableAnswerError
from wibmo_cli.exchange import (
    Exchange,
    Failed,
    Reply,
    Rules,
    Trace,
    drive,
    drive_async,
    needs_tls,
    tls_context,
)
from wibmo_cli.profiles import Profile
from wibmo_cli.wire import Request, Route

if TYPE_CHECKING:
    import asyncio
    import ssl

READ_SIZE: Final = 65536
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class DirectClient(Rules):
    """One profile's endpoint, reached straight (no proxy), one request at a time, a
    fresh connection for each (a single lookup has nothing to reuse)."""

    def __init__(
        self,
        profile: Profile,
        base_url: str,
        *,
        trace: Trace | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(profile, base_url, trace=trace)
        self._sleep = sleep
        self._tls: ssl.SSLContext | None = None

    def lookup(
        self, payload: Mapping[str, Any], *, route: Route | None = None, keep_txn_id: bool = False
    ) -> Exchange:
        """Retrieve Cust Record, or with `route` any read: `Rules.lookup_steps`."""
        return drive(self.lookup_steps(payload, route, keep_txn_id), self._attempt, self._sleep)

    def _attempt(self, request: Request, lenient: frozenset[int]) -> Reply:
        """One request and its whole answer within `timeout`, or `Failed`; a body too
        big or not decodable is `UnreadableAnswerError` unless its status is `lenient`."""
        target = _target(request.url)
        if self._trace:
            self._trace_request(request)
        connection = h11.Connection(h11.CLIENT)
        outgoing = _request_bytes(connection, target, request)
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        tls = self._tls_context() if target.scheme == "https" else None  # before connecting
        try:
            sock = _open(target.host, target.port, deadline)
            if tls is not None:
                sock = _wrapped(sock, tls, target.host, deadline)
        except OSError as exc:
            raise _connect_failure(exc, target, self.timeout) from None
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(outgoing)
            reading = _read_answer(self, connection, lenient, started)
            next(reading)
            while True:
                sock.settimeout(_left(deadline))
                reading.send(sock.recv(READ_SIZE))
        except StopIteration as done:
            status, headers, content = done.value
        except (OSError, h11.RemoteProtocolError) as exc:
            raise _exchange_failure(exc, target, self.timeout) from None
        finally:
            sock.close()
        reply = Reply(status, headers, content, time.perf_counter() - started)
        if self._trace:
            self._trace_body(reply)
        return reply

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = tls_context()
        return self._tls


class AsyncDirectClient(Rules):
    """One profile's endpoint, reached straight (no proxy), over one kept-alive
    connection, asynchronously: batch lookups run one of these per request in flight
    (`endpoint.open_lookup_clients`), on eventloop.py's loop. Use as `async with`, or
    `aclose()`."""

    def __init__(
        self,
        profile: Profile,
        base_url: str,
        *,
        trace: Trace | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(profile, base_url, trace=trace)
        import asyncio

        self._sleep = sleep or asyncio.sleep
        self._tls = tls
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection] | None
        self._stream = None

    async def __aenter__(self) -> AsyncDirectClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._drop()

    async def lookup(
        self, payload: Mapping[str, Any], *, route: Route | None = None, keep_txn_id: bool = False
    ) -> Exchange:
        """Retrieve Cust Record, or with `route` any read: `Rules.lookup_steps`."""
        steps = self.lookup_steps(payload, route, keep_txn_id)
        return await drive_async(steps, self._attempt, self._sleep)

    async def _attempt(self, request: Request, lenient: frozenset[int]) -> Reply:
        """As `DirectClient._attempt`, on the kept-alive connection (a new one when there
        is none, or the server closed it)."""
        import asyncio

        target = _target(request.url)
        if self._trace:
            self._trace_request(request)
        started = time.perf_counter()
        connecting = True
        reusable = False
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer, connection = await self._connection(target)
                connecting = False
                outgoing = _request_bytes(connection, target, request)
                writer.write(outgoing)
                await writer.drain()
                reading = _read_answer(self, connection, lenient, started)
                try:  # h11 may hold the whole answer already: done before any read
                    next(reading)
                    while True:
                        reading.send(await reader.read(READ_SIZE))
                except StopIteration as done:
                    status, headers, content = done.value
                # Kept only when both sides are done and nothing came after the answer:
                # bytes sent unasked would be read as the next request's answer.
                reusable = (
                    connection.our_state is connection.their_state is h11.DONE
                    and connection.trailing_data == (b"", False)
                )
                if reusable:
                    connection.start_next_cycle()
        except TimeoutError:
            if connecting:
                raise _connect_failure(TimeoutError(), target, self.timeout) from None
            raise _exchange_failure(TimeoutError(), target, self.timeout) from None
        except OSError as exc:
            if connecting:
                raise _connect_failure(exc, target, self.timeout) from None
            raise _exchange_failure(exc, target, self.timeout) from None
        except h11.RemoteProtocolError as exc:
            raise _exchange_failure(exc, target, self.timeout) from None
        finally:
            if not reusable:
                self._drop()
        reply = Reply(status, headers, content, time.perf_counter() - started)
        if self._trace:
            self._trace_body(reply)
        return reply

    async def _connection(
        self, target: _Target
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection]:
        """The kept-alive connection, unless the server has closed it; else a new one."""
        import asyncio

        if self.renew_connection:
            self.renew_connection = False
            self._drop()
        if self._stream is not None:
            reader, writer, _ = self._stream
            if not reader.at_eof() and not writer.is_closing() and not _stirred(reader, writer):
                return self._stream
            self._drop()
        tls = None
        if target.scheme == "https":
            if self._tls is None:
                self._tls = tls_context()
            tls = self._tls
        # The name is looked up by the loop: eventloop.py's, in a daemon thread, so a
        # hung DNS server cannot hold the process after its last row.
        reader, writer = await asyncio.open_connection(
            target.host, target.port, ssl=tls, server_hostname=target.host if tls else None
        )
        self._stream = (reader, writer, h11.Connection(h11.CLIENT))
        return self._stream

    def _drop(self) -> None:
        if self._stream is not None:
            self._stream[1].close()
            self._stream = None


def _stirred(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    """Whether anything came on the idle connection since its last answer: the server
    closed it (a keep-alive timeout; the console's loop does not run between lines, so
    asyncio has not seen it yet), or sent bytes nobody asked for, which the next request
    would take as its answer. Either way it is not used again (as httpcore checks)."""
    import select

    if getattr(reader, "_buffer", b""):  # read by asyncio, not by us: StreamReader has
        return True  # no public peek
    sock = writer.get_extra_info("socket")
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def open_direct_clients(
    profile: Profile, base_url: str, count: int, *, trace: Trace | None = None
) -> list[AsyncDirectClient]:
    """`count` clients of one connection each, sharing one TLS context (batches)."""
    tls = tls_context() if needs_tls(base_url) else None
    return [AsyncDirectClient(profile, base_url, trace=trace, tls=tls) for _ in range(count)]


# -- what both share: the request's bytes, the answer read, failures named ------------------


class _Target(NamedTuple):
    scheme: str
    host: str
    port: int
    where: str  # host:port as the URL gives them, for messages
    path: str  # with the query
    authority: str  # the Host header
    auth: str | None  # Basic credentials from the URL's user:password, as httpx sends them


def _target(url: str) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    if scheme not in _DEFAULT_PORTS or not host or port is None:
        raise ConfigError(f"cannot use the URL {url}: not an http(s) URL with a host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    auth = None
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(pair.encode()).decode()
    authority = parts.netloc.rpartition("@")[2]
    return _Target(scheme, host, port, host_port(url), path, authority, auth)


def _request_bytes(connection: h11.Connection, target: _Target, request: Request) -> bytes:
    """The request as h11 writes it on `connection`; `Failed` (not sent) when a header
    cannot be sent."""
    content = request.content
    headers = [
        ("Host", target.authority),
        ("Accept-Encoding", ACCEPT_ENCODING),
        ("User-Agent", USER_AGENT),
        ("Content-Length", str(len(content))),
        *request.headers.items(),
        *([("Authorization", target.auth)] if target.auth else []),
    ]
    try:
        head = connection.send(h11.Request(method=request.method, target=target.path,
                                           headers=headers))  # fmt: skip
        body = connection.send(h11.Data(data=content))
        end = connection.send(h11.EndOfMessage())
    except h11.LocalProtocolError:  # its text may quote a header value
        error = NetworkError(f"the request to {target.where} could not be sent: not valid HTTP")
        raise Failed(error, sent=False, retry=False) from None
    return (head or b"") + (body or b"") + (end or b"")


Answer = tuple[int, dict[str, str], bytes]


def _read_answer(
    rules: Rules, connection: h11.Connection, lenient: frozenset[int], started: float
) -> Generator[None, bytes, Answer]:
    """One answer read from `connection` (sans I/O): it yields when it needs bytes and
    is sent what the socket gave (b"" once it is closed). The status is traced as it
    comes; the body is counted raw and decoded (`UnreadableAnswerError` past
    `max_answer_bytes`, unless the status is `lenient`: then it is taken as empty)."""
    response = yield from _event(connection, h11.Response)
    status = response.status_code
    headers = _headers(response.headers)
    if rules._trace:
        reason = response.reason.decode("ascii", "replace")
        rules._trace_status(status, reason, headers, time.perf_counter() - started)
    limit = rules.max_answer_bytes
    try:
        refuse_declared(headers.get("content-length", ""), status, limit)
        decoder = Decoder(headers.get("content-encoding", "").strip().lower(), limit, status)
        parts: list[bytes] = []
        received = 0
        while True:
            event = yield from _event(connection, h11.Data, h11.EndOfMessage)
            if isinstance(event, h11.EndOfMessage):
                break
            received += len(event.data)
            if received > limit:
                raise too_big(status, limit)
            parts.append(decoder.feed(event.data))
        parts.append(decoder.finish())
    except UnreadableAnswerError as exc:
        if status not in lenient:
            raise
        rules._note(exc.message)
        return status, headers, b""
    return status, headers, b"".join(parts)


def _event(connection: h11.Connection, *wanted: type) -> Generator[None, bytes, Any]:
    """The next h11 event of the `wanted` kinds (1xx answers skipped), asking for bytes
    as needed; a closed connection before it is h11.RemoteProtocolError."""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data((yield))
            continue
        if isinstance(event, wanted):
            return event
        if isinstance(event, h11.InformationalResponse):
            continue
        raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")


def _connect_failure(exc: OSError, target: _Target, timeout: float) -> Failed:
    """A failure before any of the request was written: nothing was sent."""
    where = target.where
    if isinstance(exc, TimeoutError):
        error = NetworkError(f"timed out connecting to {where} after {timeout:g}s")
        return Failed(error, sent=False, retry=True)
    if isinstance(exc, ConnectionRefusedError):
        return Failed(refused(f"{target.scheme}://{where}", where), sent=False, retry=True)
    if isinstance(exc, socket.gaierror):
        error = NetworkError(f"cannot resolve host {target.host} (DNS)")
        return Failed(error, sent=False, retry=True)
    if _is_tls_error(exc):
        error = NetworkError(
            f"TLS with {where} failed: {short(str(exc))}",
            hint="check the base_url and the server's certificate",
        )
        return Failed(error, sent=False, retry=False)
    text = short(exc.strerror or str(exc)) or type(exc).__name__
    return Failed(NetworkError(f"cannot connect to {where}: {text}"), sent=False, retry=True)


def _exchange_failure(exc: Exception, target: _Target, timeout: float) -> Failed:
    """A failure once the request may have left: sent."""
    where = target.where
    if isinstance(exc, TimeoutError):
        error = NetworkError(f"no answer from {where} within {timeout:g}s (timeout)")
        return Failed(error, sent=True, retry=False)
    if isinstance(exc, h11.RemoteProtocolError):
        error = NetworkError(f"{where} closed the connection without an answer")
        return Failed(error, sent=True, retry=True)
    text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    error = NetworkError(f"connection to {where} failed: {short(text) or type(exc).__name__}")
    return Failed(error, sent=True, retry=True)  # reset, broken pipe, TLS failing mid-way


def _wrapped(
    sock: socket.socket, context: ssl.SSLContext, host: str, deadline: float
) -> socket.socket:
    """`sock` with TLS, the handshake done by `deadline`."""
    try:
        sock.settimeout(_left(deadline))
        return context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _left(deadline: float) -> float:
    """Seconds to the deadline; TimeoutError once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _open(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first address of `host` that takes it, by `deadline`."""
    error: OSError | None = None
    for family, kind, proto, _, address in _resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_left(deadline))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(address)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address for {host}")


def _resolve(host: str, port: int, deadline: float) -> list[Any]:
    """getaddrinfo, bounded by `deadline`: it has no timeout of its own, so it runs in a
    daemon thread, left behind if the resolver hangs (the process still ends on time).
    An address is not looked up; an ASCII name goes as bytes (for a str, getaddrinfo
    loads the idna codec: 2 ms of start-up)."""
    family = _address_family(host)
    if family is not None:
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]
    name: str | bytes = host.encode("ascii") if host.isascii() else host
    found: list[Any] = []
    failed: list[OSError] = []

    def resolve() -> None:
        try:
            found.extend(socket.getaddrinfo(name, port, type=socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    thread = threading.Thread(target=resolve, name="wibmo-resolve", daemon=True)
    thread.start()
    thread.join(_left(deadline))
    if thread.is_alive():
        raise TimeoutError
    if failed:
        raise failed[0]
    return found


def _is_tls_error(exc: OSError) -> bool:
    import ssl

    return isinstance(exc, ssl.SSLError | ssl.CertificateError)


def _address_family(host: str) -> socket.AddressFamily | None:
    """AF_INET or AF_INET6 for an IP address literal; None for a name."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        return None
    return family


def _headers(raw: Any) -> dict[str, str]:
    """h11's (name, value) pairs by lower-case name; repeated names joined by ", "."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers

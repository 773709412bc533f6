"""The network, synchronously: one request at a time on a plain socket (TLS from the
standard library's `ssl`), HTTP/1.1 by h11. `wibmo lookup` of one customer uses it when
no proxy is configured: the command pays for neither asyncio nor httpx (about 60 ms of
a cold start). The rules of the exchange (retries, what counts as an answer, tracing)
are exchange.py's, the same as client.py's; only the transport is here.

Each attempt is bounded as a whole, as client.py's are (DESIGN.md, Reliability):

    time     one deadline, `timeout` after the attempt starts, covers resolving the name
             (in a thread: `getaddrinfo` has no timeout of its own), connecting, the TLS
             handshake, sending, the headers and the whole body, however slowly the
             server drips them
    size     the raw body and the decoded one are counted (`answer.Decoder`); headers
             are limited by h11 (16 KiB)
    TLS      verified with the CA bundle httpx uses (certifi), or SSL_CERT_FILE or
             SSL_CERT_DIR when set, as httpx does; the name is checked
    sent     a failure before the first byte of the request is written is `sent=False`
             (refused, DNS, a connect timeout, TLS); after it, `sent=True`

A fresh connection per attempt, closed after it: a single lookup has nothing to reuse.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import h11

from wibmo_cli.answer import (
    ACCEPT_ENCODING,
    USER_AGENT,
    Decoder,
    host_port,
    refused,
    short,
)
from wibmo_cli.answer import too_big as _too_big
from wibmo_cli.errors import ConfigError, NetworkError, UnreadableAnswerError, WibmoError
from wibmo_cli.exchange import Exchange, Failed, Reply, Rules, Steps, Trace, Wait
from wibmo_cli.profiles import Profile
from wibmo_cli.wire import Request, Route

if TYPE_CHECKING:
    import ssl

READ_SIZE: Final = 65536
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class DirectClient(Rules):
    """One profile's endpoint, reached straight (no proxy), one request at a time."""

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
        return self._drive(self.lookup_steps(payload, route, keep_txn_id))

    def update(self, payload: Mapping[str, Any], *, route: Route | None = None) -> Exchange:
        """Update Profile, or with `route` any write, at most once: `Rules.update_steps`."""
        return self._drive(self.update_steps(payload, route))

    def _drive(self, steps: Steps) -> Exchange:
        step = next(steps)
        try:
            while True:
                if isinstance(step, Wait):
                    self._sleep(step.seconds)
                    step = steps.send(None)
                    continue
                try:
                    reply = self._attempt(step.request, lenient=step.lenient)
                except (Failed, WibmoError) as exc:  # no answer, or one that cannot be read:
                    step = steps.throw(exc)  # the rules say what that means
                else:
                    step = steps.send(reply)
        except StopIteration as done:
            exchange: Exchange = done.value
            return exchange
        finally:
            steps.close()

    # -- one exchange ------------------------------------------------------------------

    def _attempt(self, request: Request, *, lenient: frozenset[int] = frozenset()) -> Reply:
        """One request and its whole answer within `timeout`, or `Failed`; a body too
        big or not decodable is `UnreadableAnswerError` unless its status is `lenient`."""
        if self._trace:
            self._trace_request(request)
        url = request.url
        where = host_port(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        try:
            port = parts.port or _DEFAULT_PORTS.get(scheme)
        except ValueError:
            port = None
        if scheme not in _DEFAULT_PORTS or not host or port is None:
            raise ConfigError(f"cannot use the URL {url}: not an http(s) URL with a host")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        content = request.content
        headers = [
            ("Host", parts.netloc.rpartition("@")[2]),
            ("Accept-Encoding", ACCEPT_ENCODING),
            ("User-Agent", USER_AGENT),
            ("Content-Length", str(len(content))),
            *request.headers.items(),
        ]
        connection = h11.Connection(h11.CLIENT)
        try:
            outgoing = connection.send(h11.Request(method=request.method, target=target,
                                                   headers=headers))  # fmt: skip
            outgoing = (outgoing or b"") + (connection.send(h11.Data(data=content)) or b"")
            outgoing += connection.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:  # its text may quote a header value
            error = NetworkError(f"the request to {where} could not be sent: not valid HTTP")
            raise Failed(error, sent=False, retry=False) from None
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        sock = self._connect(scheme, host, port, where, deadline)
        try:
            reply = self._exchange(sock, connection, outgoing, where, deadline, lenient)
        finally:
            sock.close()
        reply = Reply(reply.status, reply.headers, reply.content, time.perf_counter() - started)
        if self._trace:
            self._trace_body(reply)
        return reply

    def _connect(
        self, scheme: str, host: str, port: int, where: str, deadline: float
    ) -> socket.socket:
        """A connected socket (TLS wrapped for https), or `Failed` with `sent=False`."""
        url = f"{scheme}://{where}"
        try:
            sock = _open(host, port, deadline)
            if scheme == "https":
                sock.settimeout(_left(deadline))
                try:
                    sock = self._tls_context().wrap_socket(sock, server_hostname=host)
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:
            error = NetworkError(f"timed out connecting to {where} after {self.timeout:g}s")
            raise Failed(error, sent=False, retry=True) from None
        except ConnectionRefusedError:
            raise Failed(refused(url, where), sent=False, retry=True) from None
        except socket.gaierror:
            error = NetworkError(f"cannot resolve host {host} (DNS)")
            raise Failed(error, sent=False, retry=True) from None
        except OSError as exc:
            import ssl

            if isinstance(exc, ssl.SSLError | ssl.CertificateError):
                error = NetworkError(
                    f"TLS with {where} failed: {short(str(exc))}",
                    hint="check the base_url and the server's certificate",
                )
                raise Failed(error, sent=False, retry=False) from None
            text = short(exc.strerror or str(exc)) or type(exc).__name__
            raise Failed(NetworkError(f"cannot connect to {where}: {text}"), sent=False,
                         retry=True) from None  # fmt: skip
        return sock

    def _exchange(
        self,
        sock: socket.socket,
        connection: h11.Connection,
        outgoing: bytes,
        where: str,
        deadline: float,
        lenient: frozenset[int],
    ) -> Reply:
        """Send the request and read the answer, all before `deadline`."""
        started = time.perf_counter()
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(outgoing)
            response = _next(sock, connection, deadline, (h11.Response,))
            assert isinstance(response, h11.Response)
            status = response.status_code
            headers = _headers(response.headers)
            if self._trace:
                reason = response.reason.decode("ascii", "replace")
                elapsed = time.perf_counter() - started
                self._trace_status(status, reason, headers, elapsed)
            try:
                content = self._body(sock, connection, deadline, status, headers)
            except UnreadableAnswerError as exc:
                if status not in lenient:
                    raise
                self._note(exc.message)
                content = b""
        except TimeoutError:
            error = NetworkError(f"no answer from {where} within {self.timeout:g}s (timeout)")
            raise Failed(error, sent=True, retry=False) from None
        except h11.RemoteProtocolError:
            error = NetworkError(f"{where} closed the connection without an answer")
            raise Failed(error, sent=True, retry=True) from None
        except OSError as exc:  # reset, broken pipe, or TLS failing mid-way
            text = short(exc.strerror or str(exc)) or type(exc).__name__
            error = NetworkError(f"connection to {where} failed: {text}")
            raise Failed(error, sent=True, retry=True) from None
        return Reply(status, headers, content, 0.0)

    def _body(
        self,
        sock: socket.socket,
        connection: h11.Connection,
        deadline: float,
        status: int,
        headers: Mapping[str, str],
    ) -> bytes:
        """The body, counted raw and decoded: `UnreadableAnswerError` past the limit."""
        limit = self.max_answer_bytes
        declared = headers.get("content-length", "").strip()
        if (
            declared.isascii()
            and declared.isdigit()
            and (len(declared) > 12 or int(declared) > limit)
        ):
            raise _too_big(status, limit)
        decoder = Decoder(headers.get("content-encoding", "").strip().lower(), limit, status)
        parts: list[bytes] = []
        received = 0
        while True:
            event = _next(sock, connection, deadline, (h11.Data, h11.EndOfMessage))
            if isinstance(event, h11.EndOfMessage):
                break
            assert isinstance(event, h11.Data)
            received += len(event.data)
            if received > limit:
                raise _too_big(status, limit)
            parts.append(decoder.feed(event.data))
        parts.append(decoder.finish())
        return b"".join(parts)

    def _tls_context(self) -> ssl.SSLContext:
        """Verified TLS as httpx makes it (trust_env): SSL_CERT_FILE, SSL_CERT_DIR, or
        certifi's bundle; made once, on the first https request."""
        if self._tls is None:
            import ssl

            if os.environ.get("SSL_CERT_FILE"):
                context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi

                context = ssl.create_default_context(cafile=certifi.where())
            context.set_alpn_protocols(["http/1.1"])
            self._tls = context
        return self._tls


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
    """getaddrinfo, bounded by `deadline`: it runs in a daemon thread, left behind if
    the resolver hangs (the process ends soon after). An IP address is not looked up."""
    family = _address_family(host)
    if family is not None:
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (host, port))]
    # An ASCII name as bytes: for a str, getaddrinfo loads the idna codec (2 ms).
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


def _address_family(host: str) -> socket.AddressFamily | None:
    """AF_INET or AF_INET6 for an IP address literal; None for a name."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:
        return None
    return family


def _next(
    sock: socket.socket, connection: h11.Connection, deadline: float, wanted: tuple[type, ...]
) -> Any:
    """The next h11 event of the `wanted` kinds (1xx answers skipped), reading from
    `sock` as needed; a closed connection before it is h11.RemoteProtocolError."""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            sock.settimeout(_left(deadline))
            connection.receive_data(sock.recv(READ_SIZE))
            continue
        if isinstance(event, wanted):
            return event
        if isinstance(event, h11.InformationalResponse):
            continue
        raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")


def _headers(raw: Any) -> dict[str, str]:
    """h11's (name, value) pairs by lower-case name; repeated names joined by ", "."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers

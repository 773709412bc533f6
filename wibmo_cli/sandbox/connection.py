"""One client connection of the sandbox: HTTP/1.1 parsed and framed by h11, on an asyncio
`Protocol` (callbacks on the server's one event-loop thread, no task per request).

h11 does the protocol: request line and headers, ``Content-Length`` and chunked request
bodies, keep-alive (HTTP/1.1 by default; HTTP/1.0 and ``Connection: close`` close after
the answer), pipelined requests answered in order, ``Expect: 100-continue``. This module
adds the sandbox's own rules, each refused with a JSON answer and the connection closed:

    head over MAX_HEAD bytes                          431
    body over MAX_BODY bytes (declared or streamed)   413
    a request h11 cannot parse                        400 (501: a transfer coding
                                                      other than chunked)
    a version other than HTTP/1.0 and 1.1             400
    a method not made of letters, a target not
    starting with "/"                                 400
    both Content-Length and Transfer-Encoding         400 (how requests are smuggled)
    a header of SINGLE_VALUED given twice             400 (see there)

A client that closes mid-request gets nothing (there is nobody to read an answer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, Protocol

import h11

from wibmo_cli.sandbox.protocol import Reply, Request, json_reply, phrase
from wibmo_cli.sandbox.settings import IDLE_TIMEOUT, REQUEST_TIMEOUT

MAX_BODY: Final = 1024 * 1024
MAX_HEAD: Final = 64 * 1024
ANSWERS_PER_TURN: Final = 32  # pipelined answers before the other connections' turn
# A header the sandbox reads, or one that frames the request, may come only once: a
# second value would make the request ambiguous (which clientId, which key?), and
# gateways disagree on which one wins, so a client sending two has a bug that only
# works by luck. Any other repeated header is joined with ", " (RFC 9110, 5.3) and
# read by nobody. h11 itself refuses two Host headers and two different Content-Lengths.
SINGLE_VALUED: Final = frozenset(
    {
        "content-type",
        "x-api-key",
        "clientid",
        "bankid",
        "entityid",
        "securecode",
        "x-consumer-custom-id",
    }
)
_VERSIONS: Final = (b"1.1", b"1.0")
_SERVER: Final = (b"Server", b"wibmo-sandbox")
_CLOSE: Final = (b"Connection", b"close")
_END: Final = h11.EndOfMessage()  # immutable, no fields: one for every answer


class BadRequest(Exception):
    """A request refused before it reaches the gateway: ``status`` and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(Protocol):
    """What a connection needs from its server."""

    def answer(self, request: Request) -> Reply:
        """The reply to a whole request (the server records it)."""

    def refused(self, status: int) -> None:
        """Record a request refused with ``status`` before it reached the gateway."""


class HttpConnection(asyncio.Protocol):
    """Reads requests through h11, has the handler answer each, writes the replies.

    A reply to wait for (``delay``, a hang) runs in a task; until it is written, and
    while the client is slower to read than we are to write, reading stops, so a
    pipelining or silent client cannot make the sandbox buffer without bound. At most
    `ANSWERS_PER_TURN` pipelined requests are answered before the event loop serves the
    other connections: one client's backlog never holds the rest waiting.

    Time limits: a request must arrive whole within `request_timeout` seconds of its
    first byte (else 408 and close: a slowloris client), and a connection with no request
    under way is closed after `idle_timeout` seconds, so idle clients cannot hold every
    file descriptor. An answer being waited for (a delay, a hang) is never timed out.
    """

    def __init__(
        self,
        handler: Handler,
        on_close: Callable[[HttpConnection], None],
        *,
        request_timeout: float = REQUEST_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.handler = handler
        self.on_close = on_close
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._waiting_idle = False  # the timer is the idle one
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.pending: asyncio.Task[None] | None = None  # a reply being waited for
        self._request: Request | None = None
        self._body = bytearray()
        self._write_paused = False
        self._eof = False  # the client has closed its side
        self._yielded = False  # answered a turn's worth: the rest after the others

    # -- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=MAX_HEAD)
        self._time_next_request()

    def data_received(self, data: bytes) -> None:
        if self._waiting_idle:  # the first bytes of a request: it has this long to arrive
            self._arm(self.request_timeout, self._request_too_slow, idle=False)
        self.h11.receive_data(data)
        self._serve()

    def eof_received(self) -> bool:
        # h11 is not told: a request cut short by the close is then left unanswered
        # instead of refused (nobody would read the refusal)
        self._eof = True
        self._serve()
        return True  # keep the transport: an answer may still be on its way

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.pending is not None:
            self.pending.cancel()
        self.on_close(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._flow()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._flow()
        self._serve()

    def close(self) -> None:
        """Close now, the answer being waited for included (the server is stopping)."""
        if self.pending is not None:
            self.pending.cancel()
        if self.transport is not None:
            self.transport.close()

    # -- requests in -------------------------------------------------------------------

    def _serve(self) -> None:
        """Answer every whole request buffered, in order, while nothing is waited for."""
        answered = 0
        while (
            self.pending is None
            and not self._write_paused
            and not self._yielded
            and not self._closing()
        ):
            try:
                event = self.h11.next_event()
                if not isinstance(event, h11.Event):  # NEED_DATA, or PAUSED
                    self._need_data()
                    return
                request = self._take(event)
            except h11.RemoteProtocolError as exc:
                self._refuse(exc.error_status_hint, _refusal(exc))
                return
            except BadRequest as exc:
                self._refuse(exc.status, exc.message)
                return
            if request is not None:
                self._answer(request)
                if not self._buffered():
                    return  # the usual keep-alive case: h11 would only say NEED_DATA
                answered += 1
                if answered == ANSWERS_PER_TURN:
                    self._yield_turn()
                    return

    def _yield_turn(self) -> None:
        """Stop reading and answer this connection's next requests after every other
        ready callback has run."""
        self._yielded = True
        self._flow()
        asyncio.get_running_loop().call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._yielded = False
        self._flow()
        self._serve()

    def _buffered(self) -> bool:
        """Whether h11 may have more to say before the next read: bytes of a further
        request received, or the client's close still to act on."""
        data, closed = self.h11.trailing_data
        return bool(data) or closed or self._eof

    def _need_data(self) -> None:
        if self._eof:  # the client is done, between requests or in the middle of one
            self._close()
        elif self.h11.client_is_waiting_for_100_continue:
            self._write(self.h11.send(h11.InformationalResponse(status_code=100, headers=[])))

    def _take(self, event: h11.Event) -> Request | None:
        """The request once ``event`` completes one; None until then."""
        if isinstance(event, h11.Request):
            self._request = _request(event)
            self._body.clear()
        elif isinstance(event, h11.Data):
            self._body += event.data
            if len(self._body) > MAX_BODY:
                raise BadRequest(413, f"body over {MAX_BODY} bytes")
        elif isinstance(event, h11.EndOfMessage):
            request, self._request = self._request, None
            assert request is not None
            request.body = bytes(self._body)
            return request
        return None

    # -- replies out -------------------------------------------------------------------

    def _answer(self, request: Request) -> None:
        self._disarm()  # a whole request: from here the answer's time is the sandbox's
        reply = self.handler.answer(request)
        if reply.delay > 0 or reply.action != "answer":
            self.pending = asyncio.get_running_loop().create_task(self._later(request, reply))
            self._flow()
        else:
            self._send(request, reply)

    async def _later(self, request: Request, reply: Reply) -> None:
        """A reply with a delay, a hang or a drop: wait, then send it or close unanswered."""
        await asyncio.sleep(reply.delay)
        if reply.action == "hang":
            await asyncio.sleep(reply.hang)
        if reply.action != "answer":
            self._close()
            return
        self.pending = None
        self._send(request, reply)
        self._flow()
        self._serve()

    def _send(self, request: Request, reply: Reply) -> None:
        self._write(self._render(reply, head_only=request.method == "HEAD"))
        if self.h11.our_state is h11.MUST_CLOSE:
            self._close()
        else:
            self.h11.start_next_cycle()
            self._time_next_request()

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request refused before the gateway, and close: its body, if any, was
        not read, so nothing after it on this connection can be told apart."""
        self.handler.refused(status)
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._write(self._render(json_reply(status, {"message": message}), close=True))
        self._close()

    def _render(self, reply: Reply, *, head_only: bool = False, close: bool = False) -> bytes:
        send = self.h11.send
        head = send(_head(reply.status, reply.content_type, len(reply.body), reply.headers, close))
        if head_only:
            return head + send(_END)
        # the body as it is: h11 writes a Content-Length body through unchanged
        body = self.h11.send_with_data_passthrough(h11.Data(data=reply.body))
        assert body is not None
        return b"".join((head, *body, send(_END)))

    # -- time limits -------------------------------------------------------------------

    def _time_next_request(self) -> None:
        """Between requests: the idle limit, or the request limit when the next request's
        bytes are here already."""
        if self._buffered():
            self._arm(self.request_timeout, self._request_too_slow, idle=False)
        else:
            self._arm(self.idle_timeout, self._close, idle=True)

    def _arm(self, seconds: float, callback: Callable[[], None], *, idle: bool) -> None:
        self._disarm()
        self._waiting_idle = idle
        self._timer = asyncio.get_running_loop().call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting_idle = False

    def _request_too_slow(self) -> None:
        self._timer = None
        if self.pending is not None or self._closing():
            return
        if self._write_paused or self._yielded:  # the sandbox is not reading: its wait,
            self._arm(self.request_timeout, self._request_too_slow, idle=False)  # not theirs
            return
        self._refuse(408, f"the request did not arrive within {self.request_timeout:g} s")

    # -- the transport -----------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def _flow(self) -> None:
        """Read only while no answer is waited for and the client keeps up with ours."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self.pending is None and not self._write_paused and not self._yielded:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


_HEADS: dict[tuple[int, str, int, tuple[tuple[str, str], ...], bool], h11.Response] = {}
MAX_HEADS: Final = 1024  # answer heads kept (then forgotten, all at once)


def _head(
    status: int, content_type: str, length: int, extra: tuple[tuple[str, str], ...], close: bool
) -> h11.Response:
    """The h11 event of an answer's head. Events are immutable and building one (h11
    checks every header) costs more than sending it, so each is made once: answers of
    the same length share theirs."""
    key = (status, content_type, length, extra, close)
    event = _HEADS.get(key)
    if event is None:
        headers = [
            _SERVER,
            (b"Content-Type", content_type.encode("latin-1")),
            (b"Content-Length", b"%d" % length),
        ]
        for name, value in extra:
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        if close:
            headers.append(_CLOSE)
        reason = phrase(status).encode()
        event = h11.Response(status_code=status, headers=headers, reason=reason)
        if len(_HEADS) >= MAX_HEADS:
            _HEADS.clear()
        _HEADS[key] = event
    return event


def _request(event: h11.Request) -> Request:
    """The gateway's view of a request head, or `BadRequest` for one the sandbox refuses."""
    if event.http_version not in _VERSIONS:
        version = event.http_version.decode("latin-1")
        raise BadRequest(400, f"unsupported protocol version 'HTTP/{version[:20]}'")
    method = event.method.decode("latin-1")
    target = event.target.decode("latin-1")
    if not method.isalpha() or not target.startswith("/"):
        raise BadRequest(400, "malformed request line")
    size = len(target)
    headers: dict[str, str] = {}
    for raw_name, raw_value in event.headers.raw_items():  # a list: iterating Headers is slow
        size += len(raw_name) + len(raw_value)
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name not in headers:
            headers[name] = value
        elif name in SINGLE_VALUED:
            raise BadRequest(400, f"header {name} given more than once")
        else:
            headers[name] += ", " + value
    if size > MAX_HEAD:  # h11 refuses a long head only while it is incomplete
        raise BadRequest(431, "headers too large")
    if "transfer-encoding" in headers and "content-length" in headers:
        raise BadRequest(400, "both Content-Length and Transfer-Encoding")
    if int(headers.get("content-length", 0)) > MAX_BODY:  # h11 checked the digits
        raise BadRequest(413, f"body over {MAX_BODY} bytes")
    return Request(method, target.split("?", 1)[0], headers, b"")


# h11's reasons in the sandbox's own words: h11 names what it saw as a Python repr
# (``illegal request line: bytearray(b'GARBAGE')``), which is no message for a client.
_REFUSALS: Final = {
    "illegal request line": "malformed request line",
    "illegal header line": "malformed header line",
    "bad Content-Length": "malformed Content-Length",
    "conflicting Content-Length headers": "header content-length given more than once",
    "Found multiple Host: headers": "header host given more than once",
    "Missing mandatory Host: header": "no Host header (HTTP/1.1 requires one)",
    "Only Transfer-Encoding: chunked is supported": "Transfer-Encoding other than chunked",
}


def _refusal(exc: h11.RemoteProtocolError) -> str:
    """Why h11 refused a request, in one line for the refusal's JSON body."""
    if exc.error_status_hint == 431:
        return "headers too large"
    reason = str(exc).partition(": bytearray(")[0]
    return _REFUSALS.get(reason, reason)[:200]

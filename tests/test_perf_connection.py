"""The connection's keep-alive shortcut (`HttpConnection._buffered`): after an answer it
asks h11 for the next request only when bytes or a close are waiting. Whatever arrives
and however it is cut, every request is answered as with the plain loop."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from wibmo_cli.sandbox import Sandbox
from wibmo_cli.sandbox.connection import ANSWERS_PER_TURN, HttpConnection
from wibmo_cli.sandbox.protocol import Reply, Request, json_reply

pytestmark = pytest.mark.e2e

NOWHERE = b"GET /nowhere HTTP/1.1\r\nHost: sandbox\r\n\r\n"
LAST = b"GET /nowhere HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\r\n"


def connect(sandbox: Sandbox) -> socket.socket:
    host, port = sandbox.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def read_answers(sock: socket.socket, count: int) -> bytes:
    """Read until ``count`` whole 404 answers (each ends with its JSON body's "}")."""
    data = b""
    while len(re.findall(rb"HTTP/1\.1 404 ", data)) < count or not data.endswith(b"}"):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def statuses(answer: bytes) -> list[int]:
    return [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def test_keep_alive_requests_sent_one_at_a_time_are_each_answered(sandbox: Sandbox) -> None:
    with connect(sandbox) as sock:
        for _ in range(20):
            sock.sendall(NOWHERE)
            assert statuses(read_answers(sock, 1)) == [404]


def test_a_request_with_the_start_of_the_next_is_answered_then_the_rest(
    sandbox: Sandbox,
) -> None:
    with connect(sandbox) as sock:
        sock.sendall(NOWHERE + LAST[:10])
        assert statuses(read_answers(sock, 1)) == [404]
        sock.sendall(LAST[10:])
        assert statuses(read_answers(sock, 1)) == [404]
        assert sock.recv(1) == b""  # Connection: close honoured


def test_a_request_then_a_half_close_is_answered_and_the_connection_closed(
    sandbox: Sandbox,
) -> None:
    with connect(sandbox) as sock:
        sock.sendall(NOWHERE * 3)
        sock.shutdown(socket.SHUT_WR)
        answer = read_answers(sock, 3)
        assert statuses(answer) == [404, 404, 404]
        assert sock.recv(1) == b""


class _Transport(asyncio.Transport):
    """What HttpConnection writes, and whether it reads, without a socket."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.reading = True
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


class _Handler:
    def answer(self, request: Request) -> Reply:
        return json_reply(404, {"message": "no route"})

    def refused(self, status: int) -> None:
        pass


def test_a_pipelined_backlog_is_answered_a_turn_at_a_time() -> None:
    """One client's 100 pipelined requests held the event loop until all were answered (an
    attack review: 20 such clients kept a fresh client waiting 14-17 s): at most
    ANSWERS_PER_TURN, then the other connections' turn, then the rest, in order."""

    async def run() -> tuple[int, bool, int]:
        transport = _Transport()
        connection = HttpConnection(_Handler(), on_close=lambda _: None)
        connection.connection_made(transport)
        connection.data_received(NOWHERE * 99 + LAST)
        first_turn = transport.written.count(b"HTTP/1.1 404 ")
        reading = transport.reading
        for _ in range(10):
            await asyncio.sleep(0)
        return first_turn, reading, transport.written.count(b"HTTP/1.1 404 ")

    first_turn, reading, total = asyncio.run(run())
    assert first_turn == ANSWERS_PER_TURN and not reading  # then it waits its turn
    assert total == 100


def test_requests_held_while_the_client_is_not_reading_are_not_timed_out() -> None:
    """Whole pipelined requests waiting because the client does not read its answers
    (writing paused): that wait is the sandbox's, not a slow request (an attack re-check:
    they got a 408, and the reset lost thousands of answers already recorded)."""

    async def run() -> tuple[bytes, bytes]:
        transport = _Transport()
        connection = HttpConnection(_Handler(), on_close=lambda _: None, request_timeout=0.05)
        connection.connection_made(transport)
        connection.pause_writing()  # the client stopped reading
        connection.data_received(NOWHERE * 9 + LAST)
        await asyncio.sleep(0.2)  # four times the request limit
        held = transport.written
        connection.resume_writing()  # it reads again
        for _ in range(10):
            await asyncio.sleep(0)
        return held, transport.written

    held, written = asyncio.run(run())
    assert b"408" not in held
    assert written.count(b"HTTP/1.1 404 ") == 10 and b"408" not in written

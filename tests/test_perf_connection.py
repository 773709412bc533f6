"""The connection's keep-alive shortcut (`HttpConnection._buffered`): after an answer it
asks h11 for the next request only when bytes or a close are waiting. Whatever arrives
and however it is cut, every request is answered as with the plain loop."""

from __future__ import annotations

import re
import socket

import pytest

from wibmo_cli.sandbox import Sandbox

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

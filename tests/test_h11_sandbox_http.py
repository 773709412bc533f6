"""Issue 10: the sandbox's HTTP spoken by h11 (wibmo_cli/sandbox/connection.py).

Chunked request bodies are answered (curl, Java and Postman send them); a header the
sandbox reads given twice is refused, never silently resolved; the limits, keep-alive,
pipelining and the faults behave as before the rewrite.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    API_KEY,
    LOOKUP,
    Platform,
    credential_headers,
    running,
    txn_id,
)

from wibmo_cli.sandbox import Sandbox
from wibmo_cli.sandbox.connection import MAX_BODY, SINGLE_VALUED

pytestmark = pytest.mark.e2e


def connect(sandbox: Sandbox, timeout: float = 5.0) -> socket.socket:
    host, port = sandbox.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def exchange(sandbox: Sandbox, data: bytes) -> bytes:
    with connect(sandbox) as sock:
        sock.sendall(data)
        return read_all(sock)


def statuses(answer: bytes) -> list[int]:
    return [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def head(method: str, path: str, *lines: str, host: bool = True) -> bytes:
    """A request head; credential headers are the tests' own lines."""
    all_lines = [f"{method} {path} HTTP/1.1", *(["Host: sandbox"] if host else []), *lines]
    return ("\r\n".join(all_lines) + "\r\n\r\n").encode("latin-1")


def credential_lines() -> list[str]:
    return [f"{name}: {value}" for name, value in credential_headers().items()]


def lookup_body(platform: Platform, **fields: Any) -> bytes:
    payload = {"messageCode": 1930, "clientTxnId": txn_id(), "urn": "389", **fields}
    return json.dumps({"token": platform.codec.encrypt_json(payload)}).encode()


def chunked(data: bytes, size: int) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def answer_of(platform: Platform, answer: bytes) -> dict[str, Any]:
    """The decrypted answer of a single HTTP/1.1 200 response read to its close."""
    response_head, _, body = answer.partition(b"\r\n\r\n")
    assert response_head.startswith(b"HTTP/1.1 200 "), answer[:200]
    value = platform.codec.decrypt_json(json.loads(body)["token"])
    assert isinstance(value, dict)
    return value


# -- chunked request bodies ------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_a_chunked_body_from_a_raw_socket_is_answered(
    sandbox: Sandbox, platform: Platform, size: int
) -> None:
    """As `curl -H 'Transfer-Encoding: chunked'` sends it: once 411, now answered."""
    body = lookup_body(platform)
    lines = [*credential_lines(), "Transfer-Encoding: chunked", "Connection: close"]
    answer = exchange(sandbox, head("POST", LOOKUP, *lines) + chunked(body, size))
    assert answer_of(platform, answer)["responseCode"] == "00"
    assert sandbox.requests[-1].status == 200


def test_a_chunked_body_sent_slowly_is_answered(sandbox: Sandbox, platform: Platform) -> None:
    body = chunked(lookup_body(platform), 100)
    lines = [*credential_lines(), "Transfer-Encoding: chunked", "Connection: close"]
    with connect(sandbox) as sock:
        sock.sendall(head("POST", LOOKUP, *lines))
        for at in range(0, len(body), 150):
            sock.sendall(body[at : at + 150])
            time.sleep(0.01)
        answer = read_all(sock)
    assert answer_of(platform, answer)["responseCode"] == "00"


def test_a_generator_body_from_httpx_is_answered(platform: Platform) -> None:
    """httpx sends a generator body chunked (no Content-Length), as Java and Postman can."""
    body = lookup_body(platform)

    def pieces() -> Iterator[bytes]:
        for at in range(0, len(body), 50):
            yield body[at : at + 50]

    request = platform.http.build_request(
        "POST", LOOKUP, content=pieces(), headers=credential_headers()
    )
    assert request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in request.headers
    response = platform.http.send(request)
    assert platform.answer(response)["responseCode"] == "00"


def test_a_chunked_body_over_the_cap_is_a_413(sandbox: Sandbox) -> None:
    piece = b"x" * 65536
    with connect(sandbox, timeout=10) as sock:
        sock.sendall(head("POST", LOOKUP, "Transfer-Encoding: chunked"))
        for _ in range(MAX_BODY // len(piece)):  # the cap exactly: still read
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"1\r\nx\r\n")  # one byte more
        answer = read_all(sock)
    assert statuses(answer) == [413]
    assert b"Connection: close" in answer
    assert sandbox.requests[-1].status == 413


def test_a_chunked_body_of_the_cap_is_taken(sandbox: Sandbox, platform: Platform) -> None:
    body = lookup_body(platform)
    body += b" " * (MAX_BODY - len(body))  # JSON may end in whitespace
    lines = [*credential_lines(), "Transfer-Encoding: chunked", "Connection: close"]
    answer = exchange(sandbox, head("POST", LOOKUP, *lines) + chunked(body, 65536))
    assert answer_of(platform, answer)["responseCode"] == "00"


def test_content_length_and_transfer_encoding_together_is_a_400(sandbox: Sandbox) -> None:
    """How requests are smuggled past a proxy: refused, not resolved either way."""
    lines = ["Content-Length: 5", "Transfer-Encoding: chunked"]
    answer = exchange(sandbox, head("POST", LOOKUP, *lines) + b"5\r\nhello\r\n0\r\n\r\n")
    assert statuses(answer) == [400]
    assert b"both Content-Length and Transfer-Encoding" in answer


def test_a_transfer_coding_other_than_chunked_is_a_501(sandbox: Sandbox) -> None:
    answer = exchange(sandbox, head("POST", LOOKUP, "Transfer-Encoding: gzip, chunked"))
    assert statuses(answer) == [501]
    assert b"Connection: close" in answer


def test_a_malformed_chunk_is_a_400(sandbox: Sandbox) -> None:
    data = head("POST", LOOKUP, "Transfer-Encoding: chunked") + b"5\r\nhelloXX0\r\n\r\n"
    assert statuses(exchange(sandbox, data)) == [400]


# -- repeated headers ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["x-api-key", "clientId", "bankId", "secureCode", "entityId"])
@pytest.mark.parametrize("same", [True, False])
def test_a_credential_header_given_twice_is_a_400(
    sandbox: Sandbox, platform: Platform, name: str, same: bool
) -> None:
    """Two values of a credential are never resolved (first or last wins): refused."""
    headers = list(credential_headers().items())
    value = dict(headers)[name]
    headers.append((name, value if same else value + "-other"))
    response = platform.http.post(LOOKUP, content=lookup_body(platform), headers=headers)
    assert response.status_code == 400
    assert response.json() == {"message": f"header {name.lower()} given more than once"}
    assert response.headers["connection"] == "close"
    assert (sandbox.requests[-1].api, sandbox.requests[-1].status) == ("other", 400)


def test_content_type_given_twice_is_a_400(platform: Platform) -> None:
    headers = [*credential_headers().items(), ("Content-Type", "application/json")] * 1
    headers.append(("Content-Type", "text/plain"))
    response = platform.http.post(LOOKUP, content=lookup_body(platform), headers=headers)
    assert response.status_code == 400


def test_every_single_valued_header_is_refused_twice(sandbox: Sandbox) -> None:
    for name in sorted(SINGLE_VALUED):
        answer = exchange(sandbox, head("GET", "/nowhere", f"{name}: a", f"{name}: a"))
        assert statuses(answer) == [400], name


def test_another_repeated_header_is_joined_and_answered(platform: Platform) -> None:
    headers = [*credential_headers().items(), ("Accept", "application/json"), ("Accept", "*/*")]
    response = platform.http.post(LOOKUP, content=lookup_body(platform), headers=headers)
    assert platform.answer(response)["responseCode"] == "00"


def test_two_host_headers_are_a_400(sandbox: Sandbox) -> None:
    assert statuses(exchange(sandbox, head("GET", "/nowhere", "Host: other"))) == [400]


# -- malformed requests: 400 and close, as before --------------------------------------


@pytest.mark.parametrize(
    ("request_line", "message"),
    [
        ("GET nowhere HTTP/1.1", b"malformed request line"),
        ("GET * HTTP/1.1", b"malformed request line"),
        ("GET http://sandbox/nowhere HTTP/1.1", b"malformed request line"),
        ("G3T / HTTP/1.1", b"malformed request line"),
        ("GET / HTTP/2.0", b"unsupported protocol version 'HTTP/2.0'"),
        ("GET / HTTP/0.9", b"unsupported protocol version 'HTTP/0.9'"),
    ],
)
def test_a_bad_request_line_is_a_400(sandbox: Sandbox, request_line: str, message: bytes) -> None:
    answer = exchange(sandbox, f"{request_line}\r\nHost: sandbox\r\n\r\n".encode())
    assert statuses(answer) == [400]
    assert message in answer
    assert b"Connection: close" in answer
    assert sandbox.requests[-1].status == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GARBAGE\r\n\r\n", b"malformed request line"),
        (b"GET /\r\n\r\n", b"malformed request line"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBadHeader\r\n\r\n", b"malformed header line"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x00c\r\n\r\n", b"malformed header line"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b"malformed Content-Length"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", b"header host given more than once"),
        (b"GET / HTTP/1.1\r\n\r\n", b"no Host header"),
    ],
)
def test_a_refusal_says_why_in_the_sandboxs_words(
    sandbox: Sandbox, data: bytes, message: bytes
) -> None:
    """h11's reasons name what it saw as a Python repr (bytearray(b'GARBAGE')): the
    refusal says it as the hand-written parser did."""
    answer = exchange(sandbox, data)
    assert statuses(answer) == [400]
    assert message in answer and b"bytearray" not in answer


def test_http_11_without_host_is_a_400(sandbox: Sandbox) -> None:
    """RFC 9112, 3.2 (h11 enforces it; the hand-written parser did not look)."""
    answer = exchange(sandbox, head("GET", "/nowhere", host=False))
    assert statuses(answer) == [400]
    assert b"Host" in answer


def test_http_10_without_host_is_answered(sandbox: Sandbox) -> None:
    assert statuses(exchange(sandbox, b"GET /nowhere HTTP/1.0\r\n\r\n")) == [404]


@pytest.mark.parametrize("value", ["ten", "-1", "1e3", "5 5", "5, 6"])
def test_a_bad_content_length_is_a_400(sandbox: Sandbox, value: str) -> None:
    answer = exchange(sandbox, head("POST", LOOKUP, f"Content-Length: {value}"))
    assert statuses(answer) == [400]


def test_a_head_over_the_cap_sent_slowly_is_a_431(sandbox: Sandbox) -> None:
    """The cap holds whether the head arrives at once or in pieces."""
    with connect(sandbox, timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: sandbox\r\nX-Big: ")
        for _ in range(65):  # just over the cap, never complete
            sock.sendall(b"a" * 1024)
            time.sleep(0.001)
        answer = read_all(sock)
    assert statuses(answer) == [431]
    assert sandbox.requests[-1].status == 431


def test_a_declared_body_over_the_cap_is_refused_before_it_is_sent(sandbox: Sandbox) -> None:
    with connect(sandbox) as sock:
        sock.sendall(head("POST", LOOKUP, f"Content-Length: {MAX_BODY + 1}"))
        answer = read_all(sock)  # no body sent: the answer comes anyway
    assert statuses(answer) == [413]


def test_a_client_closing_mid_request_gets_no_answer_and_no_record(sandbox: Sandbox) -> None:
    for data in (
        b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Le",
        head("POST", "/x", "Content-Length: 10") + b"abc",
    ):
        with connect(sandbox) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert read_all(sock) == b""
    assert sandbox.requests == []
    assert statuses(exchange(sandbox, head("GET", "/nowhere", "Connection: close"))) == [404]


def test_a_request_then_a_half_close_is_still_answered(sandbox: Sandbox) -> None:
    """`printf ... | nc` style: the client stops sending and waits for the answer."""
    with connect(sandbox) as sock:
        sock.sendall(head("GET", "/nowhere"))
        sock.shutdown(socket.SHUT_WR)
        assert statuses(read_all(sock)) == [404]


# -- keep-alive, pipelining, Expect ----------------------------------------------------


def test_http_10_keep_alive_is_not_kept(sandbox: Sandbox) -> None:
    """h11 closes every HTTP/1.0 exchange, keep-alive asked or not (it said so: the old
    parser kept the connection open without saying Connection: keep-alive)."""
    data = b"GET /nowhere HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2
    answer = exchange(sandbox, data)
    assert statuses(answer) == [404]
    assert b"Connection: close" in answer


def test_many_pipelined_requests_are_answered_in_order(sandbox: Sandbox) -> None:
    data = b"".join(
        head("GET", "/__sandbox/faults" if n % 3 else "/nowhere") for n in range(300)
    ) + head("GET", "/nowhere", "Connection: close")
    answer = exchange(sandbox, data)
    expected = [404 if n % 3 == 0 else 200 for n in range(300)] + [404]
    assert statuses(answer) == expected


def test_a_delayed_answer_keeps_pipelined_order(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.latency_ms = 150
    body = lookup_body(platform)
    lines = [*credential_lines(), f"Content-Length: {len(body)}"]
    data = head("POST", LOOKUP, *lines) + body + head("GET", "/nowhere", "Connection: close")
    started = time.monotonic()
    answer = exchange(sandbox, data)
    assert time.monotonic() - started >= 0.14
    assert statuses(answer) == [200, 404]


def test_a_drop_in_a_pipeline_closes_without_answering_the_rest(
    sandbox: Sandbox, platform: Platform
) -> None:
    sandbox.settings.faults.queue.append("drop")
    body = lookup_body(platform)
    lines = [*credential_lines(), f"Content-Length: {len(body)}"]
    data = head("GET", "/nowhere") + head("POST", LOOKUP, *lines) + body + head("GET", "/x")
    assert statuses(exchange(sandbox, data)) == [404]


def test_expect_100_continue_is_answered_before_the_body(
    sandbox: Sandbox, platform: Platform
) -> None:
    body = lookup_body(platform)
    lines = [
        *credential_lines(),
        f"Content-Length: {len(body)}",
        "Expect: 100-continue",
        "Connection: close",
    ]
    with connect(sandbox) as sock:
        sock.sendall(head("POST", LOOKUP, *lines))
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 ")
        sock.sendall(body)
        answer = read_all(sock)
    assert answer_of(platform, answer)["responseCode"] == "00"


def test_expect_100_continue_with_a_body_over_the_cap_is_a_413_at_once(sandbox: Sandbox) -> None:
    lines = [f"Content-Length: {MAX_BODY + 1}", "Expect: 100-continue"]
    assert statuses(exchange(sandbox, head("POST", LOOKUP, *lines))) == [413]


def test_head_gets_headers_only_and_the_connection_stays(sandbox: Sandbox) -> None:
    answer = exchange(
        sandbox, head("HEAD", "/nowhere") + head("GET", "/nowhere", "Connection: close")
    )
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 404 ")
    assert rest.startswith(b"HTTP/1.1 404 ")  # no body between the two answers


def test_an_upgrade_request_is_answered_as_http(sandbox: Sandbox) -> None:
    data = head("GET", "/nowhere", "Connection: Upgrade", "Upgrade: websocket")
    answer = exchange(sandbox, data + head("GET", "/nowhere", "Connection: close"))
    assert statuses(answer) == [404, 404]


def test_answers_carry_the_reason_phrase_and_server(sandbox: Sandbox) -> None:
    answer = exchange(sandbox, head("GET", "/nowhere", "Connection: close"))
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"\r\nServer: wibmo-sandbox\r\n" in answer
    assert b"\r\nContent-Type: application/json\r\n" in answer


def test_stop_closes_a_connection_waiting_for_a_delayed_answer(db_path: Path) -> None:
    with running(db_path) as sandbox:
        sandbox.settings.faults.latency_ms = 30_000
        platform = Platform(sandbox.url, timeout=30)
        sock = connect(sandbox)
        body = lookup_body(platform)
        lines = [*credential_lines(), f"Content-Length: {len(body)}"]
        sock.sendall(head("POST", LOOKUP, *lines) + body)
        time.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert read_all(sock) == b""
    sock.close()
    platform.close()


def test_the_api_key_header_name_is_case_insensitive(platform: Platform) -> None:
    headers = {**credential_headers(), "X-API-KEY": API_KEY}
    del headers["x-api-key"]
    response = platform.http.post(LOOKUP, content=lookup_body(platform), headers=headers)
    assert platform.answer(response)["responseCode"] == "00"


def test_a_client_of_the_sandbox_sees_no_change(platform: Platform) -> None:
    """The ordinary path: httpx with Content-Length, keep-alive, five requests."""
    with httpx.Client(base_url=str(platform.http.base_url), timeout=5) as http:
        for _ in range(5):
            response = http.post(
                LOOKUP, content=lookup_body(platform), headers=credential_headers()
            )
            assert platform.answer(response)["responseCode"] == "00"


# -- time limits: slow requests and idle connections ----------------------------------


def test_a_request_dripped_past_its_time_is_a_408_and_closed(db_path: Path) -> None:
    """A slowloris client (a byte now and then, never a whole head) held its connection,
    and with enough of them every file descriptor, for ever (an attack review)."""
    with running(db_path, request_timeout=0.5) as sandbox, connect(sandbox) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: sandbox\r\n")  # never the blank line
        for _ in range(3):
            time.sleep(0.1)
            sock.sendall(b"X-Drip: 1\r\n")  # bytes keep coming: still too slow
        answer = read_all(sock)
        assert time.monotonic() - started < 3
    assert statuses(answer) == [408]
    assert b"did not arrive within 0.5 s" in answer
    assert sandbox.requests[-1].status == 408


def test_an_idle_connection_is_closed_and_a_busy_one_is_not(db_path: Path) -> None:
    with running(db_path, idle_timeout=0.4) as sandbox, connect(sandbox) as sock:
        for _ in range(3):  # requests closer together than the limit keep it open
            sock.sendall(head("GET", "/nowhere"))
            assert statuses(sock.recv(65536)) == [404]
            time.sleep(0.2)
        started = time.monotonic()
        assert read_all(sock) == b""  # then idle: closed without a word
        assert time.monotonic() - started < 3


def test_an_answer_waited_for_is_never_timed_out(db_path: Path) -> None:
    """A delay knob longer than both limits: the answer still comes."""
    with running(db_path, request_timeout=0.2, idle_timeout=0.2) as sandbox:
        sandbox.settings.faults.latency_ms = 600
        with connect(sandbox) as sock:
            started = time.monotonic()
            sock.sendall(head("POST", LOOKUP, "Content-Length: 0", "Connection: close"))
            answer = read_all(sock)
            assert time.monotonic() - started >= 0.6  # delayed, then answered
        assert len(statuses(answer)) == 1 and statuses(answer) != [408]


def test_answer_heads_are_made_once_and_never_mixed_up() -> None:
    from wibmo_cli.sandbox.connection import _head

    one = _head(200, "application/json", 1234, (), False)
    assert _head(200, "application/json", 1234, (), False) is one
    events = [
        one,
        _head(200, "application/json", 1235, (), False),
        _head(200, "application/json", 1234, (), True),
        _head(200, "text/html", 1234, (), False),
        _head(405, "application/json", 1234, (("Allow", "POST"),), False),
        _head(405, "application/json", 1234, (("Allow", "GET"),), False),
    ]
    seen = {(event.status_code, tuple(event.headers.raw_items())) for event in events}
    assert len(seen) == len(events)
    assert dict(events[4].headers.raw_items())[b"Allow"] == b"POST"
    assert dict(events[2].headers.raw_items())[b"Connection"] == b"close"
    assert dict(events[1].headers.raw_items())[b"Content-Length"] == b"1235"

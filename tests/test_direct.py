"""Issue 16: one lookup goes straight over a socket (direct.py) unless a proxy is
configured, when httpx (client.py) carries it. Both follow exchange.py's rules, so
whatever a server sends, both end the same way: the same exit code and the same line.

Against `hostile.Hostile` on loopback, each fault is looked up twice, once per
transport (a proxy variable with NO_PROXY=* picks httpx without using a proxy).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile, unanswered
from support import (
    API_KEY,
    BANK_ID,
    CLIENT_ID,
    ENCRYPTION_KEY,
    SECURE_CODE,
    Invoke,
    assert_one_line_error,
    codec,
    write_profiles,
)
from typer.testing import Result

from wibmo_cli import direct
from wibmo_cli.exchange import proxy_configured
from wibmo_cli.profiles import resolve
from wibmo_cli.sandbox import Sandbox

pytestmark = pytest.mark.e2e
LOOKUP = ("lookup", "--urn", "389", "-o", "json")
PROFILE = {  # for a client made in the test: the sandbox fixture's credentials
    "client_id": CLIENT_ID,
    "bank_id": BANK_ID,
    "api_key": API_KEY,
    "secure_code": SECURE_CODE,
    "encryption_key": ENCRYPTION_KEY,
}


def _both(
    wibmo: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *args: str,
    before: Callable[[], None] = lambda: None,
    command: tuple[str, ...] = LOOKUP,
    **profile: Any,
) -> dict[str, Result]:
    """The same lookup by each transport: {"direct": ..., "httpx": ...}; `before` runs
    before each (a random server reseeded, so both get the same answers)."""
    write_profiles(url, **profile)
    results = {}
    for transport in ("direct", "httpx"):
        before()
        with monkeypatch.context() as patch:
            if transport == "httpx":
                patch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # never used: NO_PROXY
                patch.setenv("NO_PROXY", "*")
            assert proxy_configured() is (transport == "httpx")
            results[transport] = wibmo(*command, *args)
    return results


def _said(result: Result) -> tuple[int, str]:
    """Exit code and stderr, with timings and generated ids made neutral."""
    text = re.sub(r"\b\d+ ms\b", "N ms", result.stderr)
    text = re.sub(r'"requestDateTime": "\d{14}"', '"requestDateTime": "NOW"', text)
    return result.exit_code, re.sub(r"\bW[0-9A-Z]{13}\b", "TXN", text)


SLOW = pytest.mark.slow  # bound by a timeout: 1-2 s of waiting each
MODES = [
    ("ok", {}),
    pytest.param("drip-headers", {"timeout": 1}, marks=SLOW),
    pytest.param("drip-body", {"timeout": 1}, marks=SLOW),
    ("huge", {}),
    ("huge-length", {}),
    ("gzip-bomb", {}),
    ("bad-gzip", {}),
    ("brotli", {}),
    ("deep-body", {}),
    ("deep-token", {}),
    ("5xx", {}),
    ("garbage", {}),
    ("html", {}),
    ("titles", {}),
]


@pytest.mark.parametrize(("mode", "profile"), MODES)
def test_both_transports_end_a_hostile_answer_the_same_way(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, mode: str, profile: dict[str, Any]
) -> None:
    with Hostile(mode, size=4 * 1024 * 1024) as server:
        results = _both(wibmo, monkeypatch, server.url, retries=0, **profile)
    direct_said, httpx_said = (_said(results[t]) for t in ("direct", "httpx"))
    assert direct_said == httpx_said
    if mode != "ok":
        assert_one_line_error(results["direct"], direct_said[0], "")


@pytest.mark.parametrize("seed", range(12))
def test_both_transports_read_random_answers_the_same_way(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Random statuses, headers, bodies and encodings (`hostile.random_answer`)."""
    with Hostile("random", seed=seed) as server:
        reseed = lambda: server.reseed(seed)  # noqa: E731
        results = _both(wibmo, monkeypatch, server.url, before=reseed, retries=0)
    assert _said(results["direct"]) == _said(results["httpx"])


def test_the_trace_is_the_same_from_both(wibmo: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    with Hostile("ok") as server:
        results = _both(wibmo, monkeypatch, server.url, "-v", retries=0)
    assert results["direct"].exit_code == 0, results["direct"].stderr
    assert "< HTTP 200" in results["direct"].stderr
    assert _said(results["direct"]) == _said(results["httpx"])


def test_a_retried_lookup_is_retried_by_both(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """429 with Retry-After, then an answer: each transport tries twice and succeeds."""
    for transport in ("direct", "httpx"):
        with Hostile("retry-after", retry_after="0") as server, monkeypatch.context() as patch:
            if transport == "httpx":
                patch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
                patch.setenv("NO_PROXY", "*")
            write_profiles(server.url, retries=1)
            result = wibmo(*LOOKUP)
            assert result.exit_code == 0, (transport, result.stderr)
            assert len(server.seen) == 2, transport


@SLOW
def test_a_connection_that_never_completes_times_out_on_time(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    with unanswered() as url:
        started = time.monotonic()
        results = _both(wibmo, monkeypatch, url, retries=0, timeout=1)
    assert time.monotonic() - started < 6
    assert _said(results["direct"]) == _said(results["httpx"])
    assert_one_line_error(results["direct"], 5, "timed out connecting")


def test_a_hanging_name_lookup_is_bounded_by_the_timeout(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getaddrinfo has no timeout of its own: direct.py runs it in a thread, so a
    resolver that hangs still ends the attempt at `timeout`."""

    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    write_profiles("http://platform.invalid", retries=0, timeout=1, allow_insecure_http=True)
    started = time.monotonic()
    result = wibmo(*LOOKUP)
    assert time.monotonic() - started < 3
    assert_one_line_error(result, 5, "timed out connecting to platform.invalid after 1s")


def test_a_hanging_name_lookup_ends_a_batch_on_time(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The batch's connections resolve names in daemon threads too (asyncio's resolver
    threads are joined at exit: the process outlived its last row by the resolver's
    own timeout)."""

    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    (tmp_path / "urns.txt").write_text("urn\n389\n390\n")
    write_profiles("http://platform.invalid", retries=0, timeout=1, allow_insecure_http=True)
    started = time.monotonic()
    result = wibmo("lookup", "--file", str(tmp_path / "urns.txt"), "--concurrency", "2")
    assert time.monotonic() - started < 3
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ok"] for r in rows] == [False, False]
    assert all("timed out connecting to platform.invalid" in r["error"]["message"] for r in rows)


def test_a_name_is_resolved_as_ascii_bytes_and_an_address_not_at_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No idna codec for an ASCII name (2 ms of start-up), no lookup for an address."""
    asked: list[Any] = []

    def record(host: Any, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 1))]

    monkeypatch.setattr(socket, "getaddrinfo", record)
    deadline = time.monotonic() + 5
    assert direct._resolve("127.0.0.1", 80, deadline)[0][4] == ("127.0.0.1", 80)
    assert direct._resolve("::1", 80, deadline)[0][0] == socket.AF_INET6
    direct._resolve("platform.example", 443, deadline)
    direct._resolve("bücher.example", 443, deadline)
    assert asked == [b"platform.example", "bücher.example"]


def test_a_refused_connection_says_so_from_both(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    results = _both(wibmo, monkeypatch, f"http://127.0.0.1:{port}", retries=0)
    assert _said(results["direct"]) == _said(results["httpx"])
    assert_one_line_error(results["direct"], 5, "connection refused")


# -- batches: one kept-alive connection per request in flight (AsyncDirectClient) --------


def _rows(text: str) -> list[dict[str, Any]]:
    """Output lines with the parts that differ run to run taken out."""
    rows = [json.loads(line) for line in text.splitlines()]
    for row in rows:
        row.pop("clientTxnId", None)
        if isinstance(row.get("answer"), dict):
            for key in ("clientTxnId", "responseDateTime", "accosaTransactionId"):
                row["answer"].pop(key, None)
    return rows


def test_a_batch_of_faults_ends_the_same_way_by_both_transports(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One fault per row (the server closes every connection after its answer, so each
    row also makes the kept-alive client connect again)."""
    faults = ["ok", "deep-body", "5xx", "garbage", "html", "bad-gzip", "brotli", "huge", "ok"]
    urns = [str(1000 + n) for n in range(len(faults))]
    (tmp_path / "urns.txt").write_text("urn\n" + "\n".join(urns) + "\n")
    with Hostile("ok", by_urn=dict(zip(urns, faults, strict=True)), size=2 << 20) as server:
        batch = ("lookup", "--file", str(tmp_path / "urns.txt"), "--concurrency", "3")
        results = _both(wibmo, monkeypatch, server.url, command=batch, retries=0)
    direct_rows, httpx_rows = (_rows(results[t].stdout) for t in ("direct", "httpx"))
    assert len(direct_rows) == len(urns)
    assert direct_rows == httpx_rows
    assert results["direct"].exit_code == results["httpx"].exit_code
    assert [r["ok"] for r in direct_rows] == [f == "ok" for f in faults]


def test_a_batch_keeps_one_connection_per_request_in_flight(sandbox: Sandbox) -> None:
    """Against the sandbox (which keeps connections alive), six lookups on one client
    go over one connection."""
    import asyncio

    from wibmo_cli.direct import AsyncDirectClient
    from wibmo_cli.messages import Identifiers, lookup_payload

    profile = resolve("p", {**PROFILE, "base_url": sandbox.url}, {}, source="test")

    async def run() -> set[int]:
        seen: set[int] = set()
        async with AsyncDirectClient(profile, sandbox.url) as client:
            for _ in range(6):
                exchange = await client.lookup(lookup_payload(Identifiers(urn="389")))
                assert exchange.answer["responseCode"] == "00"
                assert client._stream is not None
                seen.add(id(client._stream[1]))
        return seen

    assert len(asyncio.run(run())) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced(sandbox: Sandbox) -> None:
    """A kept-alive connection the server has closed is not used again: the next
    lookup connects anew, with no failed attempt (the answer is the first attempt's)."""
    import asyncio

    from wibmo_cli.direct import AsyncDirectClient
    from wibmo_cli.messages import Identifiers, lookup_payload

    profile = resolve("p", {**PROFILE, "base_url": sandbox.url, "retries": 0}, {}, source="t")

    async def run() -> int:
        async with AsyncDirectClient(profile, sandbox.url) as client:
            await client.lookup(lookup_payload(Identifiers(urn="389")))
            assert client._stream is not None
            first = client._stream[1]
            first.transport.abort()  # as if the server had closed it
            await asyncio.sleep(0.05)
            exchange = await client.lookup(lookup_payload(Identifiers(urn="389")))
            assert client._stream is not None and client._stream[1] is not first
            return exchange.attempts

    assert asyncio.run(run()) == 1


class _Talkative:
    """A keep-alive server that answers each lookup rightly, then sends an answer nobody
    asked for (for urn 999999): in the same packet, or a moment later."""

    def __init__(self, later: bool) -> None:
        self.later = later
        self.heads: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:  # the client may close first
            self._answer_all(conn)

    def _request(self, conn: socket.socket, data: bytes) -> tuple[dict[str, Any], bytes] | None:
        """The next request's decrypted payload and the bytes after it; None at EOF."""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        self.heads.append(head)
        found = re.search(rb"(?i)content-length: *(\d+)", head)
        assert found is not None
        length = int(found.group(1))
        while len(data) < length:
            data += conn.recv(65536)
        payload = codec().decrypt_json(json.loads(data[:length])["token"])
        return payload, data[length:]

    def _answer_all(self, conn: socket.socket) -> None:
        data = b""
        while (request := self._request(conn, data)) is not None:
            payload, data = request
            right = self._answer(payload["clientTxnId"], payload["urn"])
            extra = self._answer("WEXTRA00000000", "999999")
            if self.later:
                conn.sendall(right)
                time.sleep(0.05)
                conn.sendall(extra)
            else:
                conn.sendall(right + extra)

    @staticmethod
    def _answer(txn: str, urn: str) -> bytes:
        answer = {"responseCode": "00", "clientTxnId": txn, "cardList": [{"urn": int(urn)}]}
        body = json.dumps({"token": codec().encrypt_json(answer)}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        return head.encode() + b"\r\n\r\n" + body

    def close(self) -> None:
        self.listener.close()


@pytest.mark.parametrize("transport", ["direct", "httpx"])
@pytest.mark.parametrize(
    "later", [False, pytest.param(True, marks=SLOW)], ids=["same-packet", "a-moment-later"]
)
def test_an_answer_nobody_asked_for_is_never_the_next_rows(
    wibmo: Invoke, tmp_path: Path, later: bool, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that sends a second answer after each one. An answer for another
    clientTxnId is never taken as a row's (the rules check it); the connection it came
    on is replaced and the lookup tried again, so every row gets its own answer."""
    urns = [str(5000 + n) for n in range(4)]
    (tmp_path / "urns.txt").write_text("urn\n" + "\n".join(urns) + "\n")
    if transport == "httpx":
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "*")
    server = _Talkative(later)
    try:
        write_profiles(server.url, retries=2)
        result = wibmo("lookup", "--file", str(tmp_path / "urns.txt"), "--concurrency", "1")
    finally:
        server.close()
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [str(r["answer"]["cardList"][0]["urn"]) for r in rows] == urns, result.stderr


class _ClosesIdle(_Talkative):
    """Answers each request rightly (kept alive, as HTTP/1.1 allows), then closes the
    connection a moment later: a keep-alive timeout."""

    def _answer_all(self, conn: socket.socket) -> None:
        request = self._request(conn, b"")
        if request is not None:
            payload, _ = request
            conn.sendall(self._answer(payload["clientTxnId"], payload["urn"]))
            time.sleep(0.05)


def test_a_connection_closed_while_the_console_waits_is_not_used_again() -> None:
    """The console runs its event loop only during a lookup: a connection the server
    closed in between is noticed before it is used, so the next lookup is one attempt,
    with no backoff (it used to wait 0.5 s for a retry)."""
    import asyncio

    from wibmo_cli.direct import AsyncDirectClient
    from wibmo_cli.messages import Identifiers, lookup_payload

    server = _ClosesIdle(later=False)
    profile = resolve("p", {**PROFILE, "base_url": server.url, "retries": 1}, {}, source="t")
    try:
        with asyncio.Runner() as runner:
            client = AsyncDirectClient(profile, server.url)
            runner.run(client.lookup(lookup_payload(Identifiers(urn="5000"))))
            time.sleep(0.2)  # the server closes the idle connection; no loop runs
            started = time.monotonic()
            exchange = runner.run(client.lookup(lookup_payload(Identifiers(urn="5001"))))
            runner.run(client.aclose())
    finally:
        server.close()
    assert exchange.attempts == 1
    assert time.monotonic() - started < 0.3
    assert exchange.answer["cardList"][0]["urn"] == 5001


def test_credentials_in_the_base_url_are_sent_alike_by_both_transports(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`https://user:pass@host` (a gateway's Basic credentials): both transports send
    the same Authorization header, the password URL-decoded."""
    server = _Talkative(later=False)
    try:
        url = server.url.replace("http://", "http://alice:s%40cret@")
        _both(wibmo, monkeypatch, url, "--urn", "5000", command=("lookup", "-o", "json"))
    finally:
        server.close()
    auth = [re.search(rb"(?im)^authorization: *(.*)$", head) for head in server.heads]
    sent = [found.group(1).strip() for found in auth if found]
    assert sent == [b"Basic YWxpY2U6c0BjcmV0"] * 2  # base64 of "alice:s@cret"


class _ResetsAfterHeaders(_Talkative):
    """Sends an answer's headers, then resets the connection (RST, not FIN)."""

    def _answer_all(self, conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n{")  # fmt: skip
        time.sleep(0.05)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_reset_after_the_headers_is_said_alike_by_both_transports(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _ResetsAfterHeaders(later=False)
    try:
        results = _both(wibmo, monkeypatch, server.url, retries=0)
    finally:
        server.close()
    assert _said(results["direct"]) == _said(results["httpx"])
    assert_one_line_error(results["direct"], 5, "failed: Connection reset by peer")


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("update-profile", "--urn", "389", "--city", "Pune", "--yes",
                      "--card-profile-id", "150"), id="update"),
        pytest.param(("lookup", "--urn", "389"), id="lookup-through-httpx"),
    ],
)  # fmt: skip
def test_a_hanging_name_lookup_ends_httpx_commands_on_time(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """httpx resolves names through the event loop: its lookups run in daemon threads
    (eventloop.py), so the command ends at `timeout`, not when the resolver gives up."""

    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(5)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    if command[0] == "lookup":  # the httpx transport, without a proxy in the way
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("NO_PROXY", "*")
    write_profiles("http://platform.invalid", retries=0, timeout=1, allow_insecure_http=True)
    started = time.monotonic()
    result = wibmo(*command)
    assert time.monotonic() - started < 3
    assert result.exit_code == 5, result.stderr
    assert "timed out connecting to platform.invalid" in result.stderr

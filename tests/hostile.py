"""A hostile HTTP server on loopback: one fault per mode, for the wire tests.

It speaks just enough HTTP/1.1 by hand (one request per connection, then close) to send
what a well-behaved server never would: headers or a body dripped a byte at a time,
bodies too big for memory, a gzip bomb, JSON nested thousands deep (as the body, or
inside a valid token), a `Retry-After` that is not a number, an update answer for
another clientTxnId, bytes that are not UTF-8, HTML where a token should be.

Answers are encrypted with the hardening profile's key (iv zero), so a profile from
`hardening.write_profiles(server.url)` decrypts them.

    with Hostile("drip-body") as server:                 # every request gets this fault
    with Hostile("ok", by_urn={"389": "deep-body"}):     # one fault for one URN (batches)

Bounded: it listens on 127.0.0.1 on a free port, each connection's socket has a
timeout, every drip stops after `lifetime` seconds, and leaving the `with` stops all.
"""

from __future__ import annotations

import functools
import gzip
import json
import random
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from support import codec

MODES = (
    "ok",  # a success answer for the clientTxnId sent
    "drip-headers",  # the status line, then a header one byte per `drip` seconds
    "drip-body",  # headers (Content-Length 1 MB), then one body byte per `drip` seconds
    "huge",  # `size` bytes of body, no Content-Length (read until close), fast
    "huge-length",  # the same with its Content-Length
    "gzip-bomb",  # Content-Encoding: gzip, ~1 KB on the wire per MiB inflated
    "bad-gzip",  # Content-Encoding: gzip over bytes that are not gzip
    "brotli",  # Content-Encoding: br (never asked for)
    "deep-body",  # the body is JSON nested `depth` deep
    "deep-token",  # a valid token whose plaintext nests `depth` deep inside the answer
    "retry-after",  # `status` (429) with Retry-After: `retry_after`, then "ok" after that
    "wrong-txn",  # a success answer for another clientTxnId
    "5xx",  # 502 with an HTML page
    "garbage",  # 200 with bytes that are not UTF-8
    "html",  # 200 with an HTML login page
    "titles",  # 503 with an HTML page of `size` bytes of unclosed <title> tags
    "random",  # `random_answer` drawn from Random(`seed`): status, headers, body, encoding
    "canned",  # `reply` as it is: (status, content type, body); set it before each request
)
OTHER_TXN = "WOTHERTXN00000"
BOMB_MIB = 128  # the gzip bomb inflates to 128 MiB (about 130 KB on the wire)


@functools.cache
def gzip_bomb(mib: int = BOMB_MIB) -> bytes:
    """gzip of `mib` MiB of zeros, made in milliseconds: after a full flush, each MiB
    of zeros compresses to the same bytes, so one is repeated. The trailer's CRC is
    not that of the whole (a reader that stops at its cap never gets there)."""
    zeros = bytes(1 << 20)
    gz = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = gz.compress(zeros) + gz.flush(zlib.Z_FULL_FLUSH)
    again = gz.compress(zeros) + gz.flush(zlib.Z_FULL_FLUSH)
    assert gz.compress(zeros) + gz.flush(zlib.Z_FULL_FLUSH) == again
    return first + again * (mib - 1) + gz.flush()


@contextmanager
def unanswered() -> Iterator[str]:
    """The URL of a listener whose backlog is full: a connection to it never completes."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass
class Seen:
    """One request as the server got it."""

    method: str
    path: str
    payload: dict[str, Any]
    mode: str


@dataclass
class Hostile:
    mode: str = "ok"
    by_urn: dict[str, str] = field(default_factory=dict)
    drip: float = 0.2  # seconds between dripped bytes (below any timeout in the tests)
    size: int = 64 * 1024 * 1024  # "huge"
    depth: int = 3000  # "deep-body", "deep-token"
    status: int = 429  # "retry-after"
    retry_after: str = "²"
    lifetime: float = 20.0
    seed: int = 0  # "random"
    reply: tuple[int, str, bytes] = (200, "application/json", b"{}")  # "canned"
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        for mode in (self.mode, *self.by_urn.values()):
            assert mode in MODES, mode
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._until = time.monotonic() + self.lifetime
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        """Draw the next "random" answers from Random(`seed`) (one server, many examples)."""
        with self._lock:
            self._rng = random.Random(seed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Hostile:
        accept = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    # -- serving -----------------------------------------------------------------------

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._until

    def _accept(self) -> None:
        while self._running():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with conn:
                request = self._read_request(conn)
                if request is not None:
                    self._answer(conn, *request)
        except OSError:  # the client went away (what a bounded client does): done
            pass

    def _read_request(self, conn: socket.socket) -> tuple[str, str, dict[str, Any]] | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            body += chunk
        data = json.loads(body)
        token = data.get("token")  # none: the plaintext body of a helper (`profiles check`)
        payload = codec().decrypt_json(token) if isinstance(token, str) else data
        return method, path, payload

    def _answer(self, conn: socket.socket, method: str, path: str, payload: dict[str, Any]) -> None:
        urn = str(payload.get("urn", ""))
        mode = self.by_urn.get(urn, self.mode)
        with self._lock:
            earlier = sum(1 for s in self.seen if s.mode == mode)
            self.seen.append(Seen(method, path, payload, mode))
        txn = str(payload.get("clientTxnId"))
        if mode == "retry-after" and earlier:  # the retry is answered
            mode = "ok"
        if mode == "ok":
            self._send(conn, 200, self._token(success(txn, urn)))
        elif mode == "canned":
            status, content_type, body = self.reply
            self._send(conn, status, body, content_type=content_type)
        elif mode == "drip-headers":
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            self._drip(conn)
        elif mode == "drip-body":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000000\r\nConnection: close\r\n\r\n{"
            )
            self._drip(conn)
        elif mode in ("huge", "huge-length"):
            length = {"Content-Length": str(self.size)} if mode == "huge-length" else {}
            self._head(conn, 200, {"Content-Type": "application/json", **length})
            block = b" " * 65536
            left = self.size
            while left > 0 and self._running():
                conn.sendall(block[:left])
                left -= len(block)
        elif mode == "gzip-bomb":
            self._send(conn, 200, gzip_bomb(), encoding="gzip")
        elif mode == "bad-gzip":
            self._send(conn, 200, b"this is not gzip at all" * 100, encoding="gzip")
        elif mode == "brotli":
            self._send(conn, 200, b"\x0b\x02\x80{}\x03", encoding="br")
        elif mode == "deep-body":
            self._send(conn, 200, nested(self.depth).encode())
        elif mode == "deep-token":
            answer = json.dumps(success(txn, urn))[:-1] + f', "deep": {nested(self.depth)}}}'
            self._send(conn, 200, self._token_text(answer))
        elif mode == "retry-after":
            headers = {"Retry-After": self.retry_after}
            self._send(conn, self.status, b'{"message": "slow down"}', headers=headers)
        elif mode == "wrong-txn":
            self._send(conn, 200, self._token(success(OTHER_TXN, urn)))
        elif mode == "5xx":
            page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            self._send(conn, 502, page, content_type="text/html")
        elif mode == "garbage":
            self._send(conn, 200, b"\xff\xfe\x00\x80garbage\xc3\x28 not utf-8 \x9f")
        elif mode == "titles":
            page = b"<html>" + b"<title>" * (self.size // 7)
            self._send(conn, 503, page, content_type="text/html")
        elif mode == "random":
            with self._lock:
                conn.sendall(random_answer(self._rng, txn))
        elif mode == "html":
            page = b"<!DOCTYPE html><html><title>Sign in</title><body>login</body></html>"
            self._send(conn, 200, page, content_type="text/html")

    def _drip(self, conn: socket.socket) -> None:
        while self._running():
            conn.sendall(b"a")
            time.sleep(self.drip)

    @staticmethod
    def _token(answer: dict[str, Any]) -> bytes:
        return json.dumps({"token": codec().encrypt_json(answer)}).encode()

    @staticmethod
    def _token_text(plaintext: str) -> bytes:
        return json.dumps({"token": codec().encrypt(plaintext.encode())}).encode()

    @staticmethod
    def _head(conn: socket.socket, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} Whatever"]
        lines += [f"{name}: {value}" for name, value in {**headers, "Connection": "close"}.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))

    def _send(
        self,
        conn: socket.socket,
        status: int,
        body: bytes,
        *,
        encoding: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        extra = {"Content-Encoding": encoding} if encoding else {}
        self._head(
            conn,
            status,
            {
                "Content-Type": content_type,
                "Content-Length": str(len(body)),
                **extra,
                **(headers or {}),
            },
        )
        conn.sendall(body)


def success(txn: str, urn: str) -> dict[str, Any]:
    """A small success answer, lookup- and update-shaped at once."""
    return {
        "responseCode": "00",
        "responseMessage": "SUCCESS",
        "clientTxnId": txn,
        "accosaTransactionId": "7443",
        "cardList": [
            {
                "urn": int(urn) if urn.isdigit() else 389,
                "firstName": "Hostile",
                "lastName": "Server",
                "mobile": "919897123456",
                "profileId": 30,
                "docList": [{"docNumber": "ABCDE1234A", "docType": "Pancard"}],
            }
        ],
    }


_STATUSES = (200, 200, 200, 201, 204, 301, 302, 400, 401, 404, 429, 500, 502, 503, 504, 599)
_RETRY_AFTERS = ("²", "1", "0", "-1", "abc", "Wed, 21 Oct 2015 07:28:00 GMT", "Mon, 32 Foo 2015")
_ENCODINGS = (None, None, "gzip", "deflate", "raw-deflate", "br", "gzip, gzip", "identity")


def random_answer(rng: random.Random, txn: str) -> bytes:
    """A whole HTTP answer, anything from a good token answer to broken bytes."""
    status = rng.choice(_STATUSES)
    body = _random_body(rng, txn)
    headers: list[tuple[str, str]] = []
    encoding = rng.choice(_ENCODINGS)
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    elif encoding == "raw-deflate":
        raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, encoding = raw.compress(body) + raw.flush(), "deflate"
    if encoding:
        headers.append(("Content-Encoding", encoding))
    if rng.random() < 0.2:
        body = body[: rng.randrange(len(body) + 1)]  # truncated
    length = rng.choice(("right", "right", "none", "more", "less", "junk"))
    if length == "right":
        headers.append(("Content-Length", str(len(body))))
    elif length == "more":
        headers.append(("Content-Length", str(len(body) + rng.randrange(1, 100))))
    elif length == "less":
        headers.append(("Content-Length", str(max(0, len(body) - 3))))
    elif length == "junk":
        headers.append(("Content-Length", rng.choice(("abc", "²", "-1", "9" * 30))))
    if rng.random() < 0.5:
        headers.append(("Retry-After", rng.choice(_RETRY_AFTERS)))
    head = f"HTTP/1.1 {status} {rng.choice(('OK', '', 'x' * 100))}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "Connection: close\r\n\r\n").encode() + body


def _random_body(rng: random.Random, txn: str) -> bytes:
    answer = {
        "responseCode": rng.choice(["00", "1054", 0, None, [], "x"]),
        "clientTxnId": rng.choice([txn, txn, OTHER_TXN, 5, None, {"a": 1}]),
    }
    kind = rng.randrange(12)
    if kind == 0:
        return b""
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if kind == 2:
        return nested(rng.randrange(1, 5000)).encode()
    if kind == 3:
        return Hostile._token(answer)
    if kind == 4:
        return Hostile._token_text(nested(rng.randrange(1, 3000)))
    if kind == 5:
        return json.dumps({"token": rng.choice(["", "abc", "%%%", "A" * 17, 5, None])}).encode()
    if kind == 6:
        return json.dumps({"message": "x " * rng.randrange(10000)}).encode()
    if kind == 7:
        return b"<html><title>" + bytes(rng.randrange(256) for _ in range(50)) + b"</title>"
    if kind == 8:
        return json.dumps({"token": codec().encrypt(rng.randbytes(40))}).encode()
    if kind == 9:
        return Hostile._token([1, 2])  # type: ignore[arg-type]
    if kind == 10:
        return json.dumps({"token": codec().encrypt_json(answer)}).encode("utf-16")
    return Hostile._token({**answer, "deep": json.loads(nested(rng.randrange(50, 70)))})

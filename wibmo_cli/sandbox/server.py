"""A small HTTP/1.1 server on asyncio, and the two ways to run it.

`Sandbox` runs it in a background thread with its own event loop (tests, the embedded
profile); `serve` runs it in the foreground until Ctrl-C or SIGTERM (`wibmo sandbox`).

HTTP handled: request line and headers (names case-insensitive), ``Content-Length``
bodies up to 1 MiB (413 beyond; chunked bodies 411; a bad request line 400), keep-alive
by default on HTTP/1.1 and on request on HTTP/1.0, ``Connection: close`` honoured,
pipelined requests answered in order. All SQLite work happens on the loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import threading
from collections.abc import Callable
from typing import Final

from wibmo_cli.sandbox.gateway import Gateway
from wibmo_cli.sandbox.protocol import Reply, Request, json_reply, phrase
from wibmo_cli.sandbox.settings import RequestRecord, SandboxSettings
from wibmo_cli.sandbox.store import Store

MAX_BODY: Final = 1024 * 1024
MAX_HEAD: Final = 64 * 1024
MAX_RECORDS: Final = 100_000  # beyond, the oldest tenth is forgotten (long load runs)
_VERSIONS: Final = ("HTTP/1.1", "HTTP/1.0")
_log = logging.getLogger(__name__)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class HttpServer:
    """The listener, its connections, the store and the gateway; all on one event loop."""

    def __init__(self, settings: SandboxSettings, records: list[RequestRecord]) -> None:
        self.settings = settings
        self.records = records
        self.url = ""
        self._server: asyncio.Server | None = None
        self._store: Store | None = None
        self._gateway: Gateway | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> str:
        self._store = Store.open(self.settings.db_path)
        self._gateway = Gateway(self.settings, self._store, self.records)
        try:
            self._server = await asyncio.start_server(self._connection, host, port, limit=MAX_HEAD)
        except BaseException:
            self._store.close()
            raise
        bound = self._server.sockets[0].getsockname()
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the closed transports finish closing
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._store is not None:
            self._store.close()
            self._store = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._gateway is not None
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed the connection
            except asyncio.LimitOverrunError:
                writer.write(_render(json_reply(431, {"message": "headers too large"}), False))
                return
            try:
                request, keep_alive = _parse_head(head)
                length = _content_length(request.headers)
            except _BadRequest as exc:
                self._keep(RequestRecord("", "", "other", exc.status))
                writer.write(_render(json_reply(exc.status, {"message": exc.message}), False))
                return
            if length:
                request.body = await reader.readexactly(length)
            reply, record = self._dispatch(request)
            if record is not None:
                self._keep(record)
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
            if reply.action == "drop":
                return
            if reply.action == "hang":
                await asyncio.sleep(reply.hang)
                return
            writer.write(_render(reply, keep_alive))
            if writer.transport.get_write_buffer_size() > MAX_HEAD:
                await writer.drain()
            if not keep_alive:
                await writer.drain()
                return

    def _keep(self, record: RequestRecord) -> None:
        self.records.append(record)
        if len(self.records) > MAX_RECORDS:
            del self.records[: MAX_RECORDS // 10]

    def _dispatch(self, request: Request) -> tuple[Reply, RequestRecord | None]:
        assert self._gateway is not None
        try:
            return self._gateway.handle(request)
        except Exception as exc:  # noqa: BLE001 - a bug must cost one answer, not the server
            if _unavailable(exc):
                _log.warning("sandbox: database unavailable answering %s: %s", request.path, exc)
                record = RequestRecord(request.method, request.path, "other", 503)
                reply = json_reply(503, {"message": f"sandbox database unavailable: {exc}"})
                return reply, record
            _log.exception(
                "sandbox: unexpected error answering %s %s", request.method, request.path
            )
            record = RequestRecord(request.method, request.path, "other", 500)
            return json_reply(500, {"message": "sandbox internal error"}), record


_UNAVAILABLE: Final = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
)


def _unavailable(exc: Exception) -> bool:
    """The database cannot serve now (locked by another process too long, disk full,
    read-only, I/O error), as opposed to a bug in the sandbox."""
    name = getattr(exc, "sqlite_errorname", "")
    return isinstance(exc, sqlite3.OperationalError) and str(name).startswith(_UNAVAILABLE)


def _parse_head(head: bytes) -> tuple[Request, bool]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1].startswith("/"):
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    if version not in _VERSIONS:
        raise _BadRequest(400, f"unsupported protocol version {version[:20]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _BadRequest(400, "malformed header line")
        headers[name.decode("latin-1").lower()] = value.strip().decode("latin-1")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    path = target.split("?", 1)[0]
    return Request(method, path, headers, b""), keep_alive


def _content_length(headers: dict[str, str]) -> int:
    if "transfer-encoding" in headers:
        raise _BadRequest(411, "chunked bodies are not accepted: send Content-Length")
    raw = headers.get("content-length")
    if raw is None:
        return 0
    if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is true, int("²") fails
        raise _BadRequest(400, "malformed Content-Length")
    length = int(raw)
    if length > MAX_BODY:
        raise _BadRequest(413, f"body over {MAX_BODY} bytes")
    return length


def _render(reply: Reply, keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {reply.status} {phrase(reply.status)}",
        "Server: wibmo-sandbox",
        f"Content-Type: {reply.content_type}",
        f"Content-Length: {len(reply.body)}",
    ]
    lines.extend(f"{name}: {value}" for name, value in reply.headers)
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body


class Sandbox:
    """The sandbox server in a background thread with its own event loop.

    >>> with Sandbox(settings) as sandbox:      # doctest: +SKIP
    ...     httpx.post(sandbox.url + "/api/v2/customer/retrieveCustRecord", ...)
    """

    def __init__(self, settings: SandboxSettings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.url = ""
        self.requests: list[RequestRecord] = []  # appended on the loop thread (atomic)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def start(self) -> str:
        """Start listening; the base URL, once connections are accepted."""
        if self._thread is not None:
            return self.url
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="wibmo-sandbox", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self.url

    def stop(self) -> None:
        """Close the listener and every connection, and wait for the thread; idempotent."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = self._loop = self._stop = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready, failure))
        finally:
            loop.close()

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        server = HttpServer(self.settings, self.requests)
        try:
            self.url = await server.start(self.host, self.port)
        except BaseException as exc:  # noqa: BLE001 - handed to start()'s caller, re-raised
            failure.append(exc)
            ready.set()
            return
        self._stop = asyncio.Event()
        ready.set()
        try:
            await self._stop.wait()
        finally:
            await server.close()


def serve(
    settings: SandboxSettings,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then shut down cleanly and return."""

    async def main() -> None:
        server = HttpServer(settings, [])
        url = await server.start(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        try:
            if on_ready is not None:
                on_ready(url)
            await stop.wait()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())

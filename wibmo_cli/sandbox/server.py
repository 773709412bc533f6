"""The sandbox's HTTP server on asyncio, and the two ways to run it.

`Sandbox` runs it in a background thread with its own event loop (tests, the embedded
profile); `serve` runs it in the foreground until Ctrl-C or SIGTERM (`wibmo sandbox`).

Each connection speaks HTTP/1.1 through h11 (`connection.HttpConnection`: limits,
keep-alive, pipelining, chunked bodies); every request is answered by the `Gateway`,
and all SQLite work happens on the loop thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Final

from wibmo_cli.sandbox.connection import HttpConnection
from wibmo_cli.sandbox.gateway import Gateway
from wibmo_cli.sandbox.protocol import Reply, Request, json_reply
from wibmo_cli.sandbox.settings import RequestLog, RequestRecord, SandboxSettings
from wibmo_cli.sandbox.store import Store
from wibmo_cli.sandbox_port import DEFAULT_PORT

_log = logging.getLogger(__name__)
LISTEN_BACKLOG: Final = 128  # connections a worker's socket queues before it accepts them


class HttpServer:
    """The listener, its connections, the store and the gateway; all on one event loop."""

    def __init__(self, settings: SandboxSettings, records: RequestLog) -> None:
        self.settings = settings
        self.records = records
        self.url = ""
        self._server: asyncio.Server | None = None
        self._store: Store | None = None
        self._gateway: Gateway | None = None
        self._connections: set[HttpConnection] = set()

    async def start(self, host: str, port: int, sock: socket.socket | None = None) -> str:
        """Listen on ``host``:``port``, or on ``sock`` (bound; it listens from here)."""
        self._store = Store.open(self.settings.db_path, self.settings.customers)
        self._gateway = Gateway(self.settings, self._store, self.records)
        loop = asyncio.get_running_loop()
        try:
            if sock is not None:  # bound, and made to listen here, once the store is open
                self._server = await loop.create_server(
                    self._connection, sock=sock, backlog=LISTEN_BACKLOG
                )
            else:
                self._server = await loop.create_server(self._connection, host, port)
        except BaseException:
            self._store.close()
            raise
        bound = self._server.sockets[0].getsockname()
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        pending = [c.pending for c in self._connections if c.pending is not None]
        for connection in list(self._connections):
            connection.close()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.sleep(0)  # let the closed transports finish closing
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def _connection(self) -> HttpConnection:
        connection = HttpConnection(
            self,
            self._connections.discard,
            request_timeout=self.settings.request_timeout,
            idle_timeout=self.settings.idle_timeout,
        )
        self._connections.add(connection)
        return connection

    def answer(self, request: Request) -> Reply:
        """The gateway's reply to ``request``, recorded (a bug costs one answer, a 500)."""
        assert self._gateway is not None
        try:
            reply, record = self._gateway.handle(request)
        except Exception as exc:  # noqa: BLE001 - a bug must cost one answer, not the server
            if _unavailable(exc):
                _log.warning("sandbox: database unavailable answering %s: %s", request.path, exc)
                reply = json_reply(503, {"message": f"sandbox database unavailable: {exc}"})
            else:
                _log.exception(
                    "sandbox: unexpected error answering %s %s", request.method, request.path
                )
                reply = json_reply(500, {"message": "sandbox internal error"})
            record = RequestRecord(request.method, request.path, "other", reply.status)
        if record is not None:
            self.records.keep(record)
        return reply

    def refused(self, status: int) -> None:
        self.records.keep(RequestRecord("", "", "other", status))


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
        self.requests = RequestLog()  # appended on the loop thread (atomic)
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
    port: int = DEFAULT_PORT,
    *,
    on_ready: Callable[[str], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM, then shut down cleanly and return;
    in ``settings.workers`` processes when more than one (`Workers`)."""
    if settings.workers > 1:
        Workers(settings, host, port, on_notice or _log.warning).run(on_ready)
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, host, port, on_ready=on_ready))


async def _serve(
    settings: SandboxSettings,
    host: str,
    port: int,
    *,
    sock: socket.socket | None = None,
    on_ready: Callable[[str], None] | None = None,
    watched: int | None = None,
) -> None:
    """One server until SIGINT or SIGTERM, or until ``watched`` (a pipe's end) is
    readable: the supervisor of a worker has ended."""
    server = HttpServer(settings, RequestLog())
    url = await server.start(host, port, sock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in _STOPPING:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    if watched is not None:
        loop.add_reader(watched, stop.set)
    try:
        if on_ready is not None:
            on_ready(url)
        await stop.wait()
    finally:
        if watched is not None:  # a worker, stopping: the next signal (Ctrl-C reaches it
            for signum in _STOPPING:  # and the supervisor's SIGTERM) changes nothing, and
                loop.remove_signal_handler(signum)  # must not meet a loop half closed
                signal.signal(signum, signal.SIG_IGN)
        await server.close()


class Workers:
    """The sandbox in several processes on one port (``settings.workers``; Linux).

    Each worker is a forked process with its own event loop, listening socket and
    SQLite connection; SO_REUSEPORT has the kernel share the incoming connections among
    their sockets, and the database is shared as any processes share it (`store`). A
    worker opens the database before its socket listens, so no connection is routed to
    a worker that cannot serve it.

    This process supervises. It holds the port for the sandbox's life (a bound socket
    that never listens), so no other sandbox can join its workers there. SIGINT or
    SIGTERM stops every worker (Ctrl-C at a terminal reaches them too); both are held
    back around each fork, so one that comes while a worker starts is not lost, the
    supervisor looks at its workers every `_POLL` seconds rather than block in a wait a
    signal might not interrupt, and a worker slow to stop (or stopped: SIGSTOP) is
    killed after `STOP_WAIT` seconds. A worker that ends otherwise (killed, out of
    memory, the database unusable) is started again after a second, then after twice
    as long each time it ends within `SHORT_LIFE` seconds (at most `LONGEST_RESTART`).
    A worker stops by itself when this process is gone (it watches a pipe whose writing
    end only this process holds).

    What a worker keeps in memory is its own: its request records and fault draws
    (`control` refuses what would show or change one worker's for the whole sandbox).
    """

    STOP_WAIT: Final = 10.0
    SHORT_LIFE: Final = 10.0
    LONGEST_RESTART: Final = 30.0

    def __init__(
        self, settings: SandboxSettings, host: str, port: int, notice: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.notice = notice
        self.started: dict[int, tuple[int, float]] = {}  # pid -> (worker number, when)
        self._stopping = False
        self._restart_waits: dict[int, float] = {}  # worker number -> seconds

    def run(self, on_ready: Callable[[str], None] | None) -> None:
        previous = {signum: signal.signal(signum, self._stop) for signum in _STOPPING}
        held = None
        watched, self._alive = os.pipe()  # the workers' EOF when this process is gone
        try:
            if self.port:  # SO_REUSEPORT would share a port another sandbox's workers hold
                _bound(self.host, self.port, reuse_port=False).close()
            held = _bound(self.host, self.port, reuse_address=False)
            self.port = held.getsockname()[1]
            for number in range(self.settings.workers):
                if self._stopping or not self._start(number, held, watched, wait=True):
                    return
            if on_ready is not None:
                on_ready(f"http://{self.host}:{self.port}")
            self._supervise(held, watched)
        finally:
            os.close(self._alive)  # the workers stop, seeing it close, if not signalled
            self._stop_all()
            os.close(watched)
            if held is not None:
                held.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _stop(self, signum: int, frame: object) -> None:
        self._stopping = True
        self._signal_all()  # the supervising loop or `_stop_all` waits for them

    def _start(self, number: int, held: socket.socket, watched: int, *, wait: bool) -> bool:
        """Fork worker ``number``; with ``wait``, until it listens: False when a stop came
        meanwhile, `NotServing` when it could not start."""
        sock = _bound(self.host, self.port)
        told, tell = os.pipe()  # the worker's word: listening, or why not
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)  # until handled below
        try:
            if self._stopping:  # a stop came before the block: no worker to miss it
                for fd in (told, tell):
                    os.close(fd)
                sock.close()
                return False
            pid = os.fork()
            if pid == 0:
                os.close(told)
                self._work(number, sock, held, watched, mask, tell, quiet=wait)  # no return
            self.started[pid] = (number, time.monotonic())  # before a stop is let in
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        sock.close()  # the worker's own now
        os.close(tell)
        try:
            word = os.read(told, 1024) if wait else b"+"
        finally:
            os.close(told)
        if word.startswith(b"+") or self._stopping:
            return not self._stopping
        reason = word[1:].decode(errors="replace") or "it ended"
        raise NotServing(f"sandbox worker {number + 1} could not start: {reason}")

    def _work(
        self,
        number: int,
        sock: socket.socket,
        held: socket.socket,
        watched: int,
        mask: set[int | signal.Signals],
        tell: int,
        *,
        quiet: bool,
    ) -> None:
        """The worker's life; it ends with os._exit, as a forked child must: returning
        would run this command to its end, its atexit handlers and buffers included.
        Why it could not serve goes to ``tell``, and to the log unless ``quiet`` (the
        supervisor waits for the word, and says it)."""

        told = False

        def say(word: bytes) -> None:
            """The one word to the supervisor (after it the descriptor is closed, and its
            number may be another file's)."""
            nonlocal told
            if told:
                return
            told = True
            with contextlib.suppress(OSError):  # nobody waits for a worker started again
                os.write(tell, word)
            os.close(tell)

        code = 0
        try:
            os.close(self._alive)
            held.close()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a stop held back: now
            serving = _serve(
                self.settings,
                self.host,
                self.port,
                sock=sock,
                watched=watched,
                on_ready=lambda url: say(b"+"),
            )
            asyncio.run(serving)
        except KeyboardInterrupt:
            pass
        except BaseException as exc:  # noqa: BLE001 - one line, then this worker ends
            reason = _reason(exc)
            if not quiet:
                _log.warning("sandbox worker %d could not serve: %s", number + 1, reason)
            say(b"-" + reason.encode()[:1000])
            code = 1
        finally:
            os._exit(code)

    def _supervise(self, held: socket.socket, watched: int) -> None:
        """Start again each worker that ends, until a stop (then `_stop_all`). Waits in
        short sleeps, not a blocking waitpid: a signal handled just before that call
        would only be acted on once some worker ended by itself."""
        while self.started and not self._stopping:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                time.sleep(_POLL)
                continue
            number, when = self.started.pop(pid, (-1, 0.0))
            if number < 0 or self._stopping:
                continue
            short = time.monotonic() - when < self.SHORT_LIFE
            wait = min(2 * self._restart_waits.get(number, 0.5), self.LONGEST_RESTART)
            wait = self._restart_waits[number] = wait if short else 1.0
            self.notice(
                f"sandbox worker {number + 1} (pid {pid}) {_ended(status)}; "
                f"starting it again in {wait:g} s"
            )
            deadline = time.monotonic() + wait
            while not self._stopping and time.monotonic() < deadline:
                time.sleep(min(_POLL, max(0.0, deadline - time.monotonic())))
            self._start(number, held, watched, wait=False)  # unless stopping

    def _stop_all(self) -> None:
        """SIGTERM to every worker, and wait for each to end; SIGKILL after `STOP_WAIT`."""
        self._signal_all()
        deadline = time.monotonic() + self.STOP_WAIT
        while self.started:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.started.clear()
                return
            if pid:
                self.started.pop(pid, None)
                continue
            if time.monotonic() > deadline:
                self._signal_all(signal.SIGKILL)
                deadline = math.inf
            time.sleep(_POLL / 5)

    def _signal_all(self, signum: int = signal.SIGTERM) -> None:
        for pid in list(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


_STOPPING: Final = {signal.SIGINT, signal.SIGTERM}
_POLL: Final = 0.05  # seconds between the supervisor's looks at its workers


class NotServing(Exception):
    """A worker could not start serving (the database unusable since it was checked)."""


def _bound(
    host: str, port: int, *, reuse_port: bool = True, reuse_address: bool = True
) -> socket.socket:
    """A TCP socket bound to ``host``:``port``, not listening yet (a worker listens once
    it can serve); with SO_REUSEPORT (``reuse_port``) shared with the others bound there
    so, and SO_REUSEADDR (``reuse_address``) as asyncio's servers have it. Without the
    latter it keeps the port from any socket that is not in the group."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _reason(exc: BaseException) -> str:
    """An exception in one line: its text, or its type's name when it has none."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _ended(status: int) -> str:
    """How a child process ended, from its wait status: "exited with 1", "was killed by
    SIGKILL"."""
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with {os.waitstatus_to_exitcode(status)}"

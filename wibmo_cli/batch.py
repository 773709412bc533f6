"""Batch lookups: every row of a file answered, in input order, fast, and nothing lost.

    rows ─> reader ─> at most --concurrency requests in flight, paced to --rate/s
         ─> reorder buffer ─> one JSON line per row, written and flushed in row order

- Bounded memory: at most `window` rows are read but not yet written, so a slow row
  holds the reader back rather than filling memory (backpressure).
- Each line is written and flushed as soon as every row before it is written.
- A row that fails is answered with its error; the run goes on. Lookups are retried
  by the client (DESIGN.md, Reliability); `--rate` paces the rows' first requests, the
  client's retries (after their backoff) come on top.
- Ctrl-C or SIGTERM: no new requests, the ones in flight are cancelled, and every
  finished row is written (in row order, past any gap: each line carries its row
  number, and `--resume` fills the gaps). Exit 130.
- Exit code: the highest of the rows' (DESIGN.md's table), 130 if interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, TypeVar

from wibmo_cli import interrupts
from wibmo_cli.batchio import (
    Row,
    RowReader,
    aiter_rows,
    answered_line,
    count_lines,
    error_line,
    opened_input,
    outcome,
    sniff_kind,
    threaded,
)
from wibmo_cli.batchresume import Answered, appends_to, resumed, writing
from wibmo_cli.codes import DEFAULT_SUCCESS_CODES, explain, is_success
from wibmo_cli.errors import ExitStatus, InputError, OutputError, WibmoError
from wibmo_cli.masking import mask
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.streams import is_regular_file
from wibmo_cli.textsafe import json_text

if TYPE_CHECKING:
    from wibmo_cli.exchange import Exchange, LookupClient

Lookup = Callable[[dict[str, Any]], Awaitable["Exchange"]]
Write = Callable[[str], object]
OnRow = Callable[[str], object]  # called with each finished row's outcome

_FIELDS: Final = {"mobile": "mobile", "urn": "urn", "customerId": "customer_id", "email": "email"}
MAX_CONCURRENCY: Final = 256


@dataclass(frozen=True)
class BatchSettings:
    concurrency: int = 8
    rate: float | None = None  # requests per second; None: as fast as answers come
    reveal: bool = False
    mobile_prefix: str = "91"
    message_code: int = 1930
    success_codes: tuple[str, ...] = DEFAULT_SUCCESS_CODES  # the profile's

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise InputError(f"--concurrency {self.concurrency}: must be 1-{MAX_CONCURRENCY}")
        if self.rate is not None and not self.rate > 0:
            raise InputError(f"--rate {self.rate:g}: must be more than 0 requests a second")

    @property
    def window(self) -> int:
        """Rows read ahead of the first unwritten one (in flight or done, waiting)."""
        return max(64, 8 * self.concurrency)


_PER: Final = {"s": 1.0, "m": 60.0, "h": 3600.0}  # --rate's units: seconds in each


def parse_rate(text: str) -> float:
    """`--rate 50`, `50/s`, `2.5/s`, `50/m`, `3000/h` -> requests per second (a bare
    number is per second)."""
    number, slash, unit = text.strip().lower().partition("/")
    seconds = _PER.get(unit.strip()) if slash else 1.0
    try:
        rate = float(number)
    except ValueError:
        seconds = None
    if seconds is None:
        raise InputError(
            f"--rate {text}: give requests per second, minute or hour, e.g. 50, 50/s, 50/m, 3000/h"
        )
    if not rate > 0 or rate == float("inf"):
        raise InputError(f"--rate {text}: must be more than 0 (and finite)")
    return rate / seconds


@dataclass
class Summary:
    """What a run did: rows answered now, skipped (answered before), and how they went."""

    counts: dict[str, int] = field(default_factory=dict)  # found / not found / failed
    skipped: int = 0
    plain: int = 0  # answers that came as plain JSON, not encrypted
    revealed: list[str] = field(default_factory=list)  # --reveal: each answered row's
    # identifier, masked (`Identifiers.describe`), for the audit log
    worst: int = 0
    interrupted: bool = False
    elapsed: float = 0.0
    earlier: Answered | None = None

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return int(ExitStatus.INTERRUPTED)
        earlier = self.earlier.worst if self.earlier else 0
        return max(self.worst, earlier)


class Pace:
    """At most `rate` starts a second, evenly spaced (no bursts)."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class _InOrder:
    """Writes each finished row's line as soon as every row before it is written."""

    def __init__(self, write: Write, window: int) -> None:
        self._write = write
        self._ready: dict[int, str] = {}
        self._next = 0
        self.room = asyncio.Semaphore(window)

    def done(self, seq: int, line: str) -> None:
        self._ready[seq] = line
        while self._next in self._ready:
            self._write(self._ready.pop(self._next))
            self._next += 1
            self.room.release()

    def flush_all(self) -> None:
        """On interruption: every finished row, in order, past the gaps."""
        for seq in sorted(self._ready):
            self._write(self._ready.pop(seq))


class Batch:
    """Answers rows with `lookups` (`Client.lookup`s: one per request in flight at once),
    writing one JSON line each."""

    def __init__(
        self,
        lookups: Sequence[Lookup],
        write: Write,
        settings: BatchSettings,
        on_row: OnRow | None = None,
    ) -> None:
        if not lookups:
            raise ValueError("a batch needs at least one lookup")
        self._lookups = lookups
        self._write = write
        self.settings = settings
        self._on_row = on_row
        self._pace = Pace(settings.rate)
        self.summary = Summary()

    async def run(
        self, rows: Iterable[Row] | AsyncIterator[Row], answered: Answered | None = None
    ) -> Summary:
        """Answer every row not already `answered`; on cancellation, stop cleanly."""
        summary = self.summary
        summary.earlier = answered
        started = time.perf_counter()
        order = _InOrder(self._write, self.settings.window)
        free: asyncio.Queue[Lookup] = asyncio.Queue()  # one per request in flight
        for lookup in self._lookups[: self.settings.concurrency]:
            free.put_nowait(lookup)
        running: set[asyncio.Task[None]] = set()
        bugs: list[BaseException] = []  # an exception that is not a row's answer
        run_task = asyncio.current_task()
        assert run_task is not None

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            failure = None if task.cancelled() else task.exception()
            if failure is not None and not bugs:
                bugs.append(failure)
                run_task.cancel()

        try:
            seq = 0
            async for row in aiter_rows(rows):
                if answered is not None and answered.check(row):
                    summary.skipped += 1
                    continue
                await order.room.acquire()
                lookup = await free.get()
                task = asyncio.create_task(self._one(seq, row, order, lookup, free))
                running.add(task)
                task.add_done_callback(finished)
                seq += 1
            while running:
                await asyncio.wait(set(running))
        except asyncio.CancelledError:
            summary.interrupted = not bugs
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            order.flush_all()
            summary.elapsed = time.perf_counter() - started
        if bugs:
            raise bugs[0]
        return summary

    async def _one(
        self, seq: int, row: Row, order: _InOrder, lookup: Lookup, free: asyncio.Queue[Lookup]
    ) -> None:
        try:
            record = await self._answer(row, lookup)
        finally:
            free.put_nowait(lookup)
        kind, status = outcome(record)
        self.summary.counts[kind] = self.summary.counts.get(kind, 0) + 1
        self.summary.worst = max(self.summary.worst, status)
        order.done(seq, json_text(record) + "\n")
        if self._on_row is not None:
            self._on_row(kind)

    async def _answer(self, row: Row, lookup: Lookup) -> dict[str, Any]:
        if row.problem is not None:
            return error_line(row, row.kind, row.problem, ExitStatus.USAGE)
        kind = row.kind or sniff_kind(row.value)
        settings = self.settings
        try:
            identifiers = Identifiers.parse(
                **{_FIELDS[kind]: row.value},
                mobile_prefix=settings.mobile_prefix,
                as_options=False,
            )
        except InputError as exc:
            return error_line(row, kind, str(exc), exc.exit_status)
        payload = lookup_payload(identifiers, message_code=settings.message_code)
        await self._pace.wait()
        try:
            exchange = await lookup(payload)
        except WibmoError as exc:
            return error_line(row, kind, str(exc), exc.exit_status)
        if settings.reveal:
            self.summary.revealed.append(identifiers.describe())
        answer = exchange.answer if settings.reveal else mask(exchange.answer)
        code = answer.get("responseCode")
        if is_success(code, settings.success_codes):
            line = answered_line(row, kind, answer)
        else:
            text = None if code is None else str(code)
            message = _explained(text, answer)
            txn = exchange.client_txn_id
            line = error_line(row, kind, message, ExitStatus.API_ERROR, text, client_txn_id=txn)
        if exchange.plain:  # said per row and in the summary: it proves nothing of the key
            self.summary.plain += 1
            line["encrypted"] = False
        return line


def _explained(code: str | None, answer: dict[str, Any]) -> str:
    """`NAME: what it means`, and the platform's own words when they say more."""
    said = str(answer.get("responseMessage") or "").strip()
    known = explain(code) if code is not None else None
    if known is None:
        return said or f"responseCode {code}"
    message = f"{known.name}: {known.meaning}"
    if said and said.replace(" ", "_").upper() != known.name:
        message += f" (platform: {said})"
    return message


T = TypeVar("T")


def run_interruptible(main: Awaitable[T]) -> T:
    """Run `main` with Ctrl-C and SIGTERM cancelling it (it stops cleanly on that).

    A second Ctrl-C while it winds down falls back to the default: stop at once.
    """

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main)

        def interrupt(signum: int) -> None:
            task.cancel()
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)  # a second one stops at once

        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, interrupt, signum)
        try:
            return await task
        except asyncio.CancelledError:  # cancelled before it could start
            raise KeyboardInterrupt from None
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(signum)

    with interrupts.restored():  # SIGTERM stays handled after the run (the summary)
        from wibmo_cli import eventloop

        return eventloop.run(guarded())


# -- a whole file ------------------------------------------------------------------------


class Progress(Protocol):
    """What shows progress (a bar on a terminal); `advance` is called once per row."""

    def __enter__(self) -> Progress: ...
    def __exit__(self, *exc: object) -> None: ...
    def advance(self, outcome: str) -> None: ...
    def aside(self) -> AbstractContextManager[None]:
        """Data is written to stdout inside this (the display steps out of its way)."""
        ...


Connect = Callable[[int], AbstractAsyncContextManager[Sequence["LookupClient"]]]


@dataclass(frozen=True)
class FileJob:
    """`--file PATH` (`-` for stdin), `--column`, `--resume OUT.jsonl`."""

    path: str
    column: str | None = None
    resume: Path | None = None


def lookup_file(
    job: FileJob,
    settings: BatchSettings,
    connect: Connect,
    *,
    write: Write,
    notice: Callable[[str], object],
    warn: Callable[[str], object],
    progress: Callable[[int | None], Progress] | None = None,
    stdout: IO[Any] | None = None,
) -> Summary:
    """Look up every row of `job.path`, writing one JSON line per row with `write`.

    `connect(count)` opens `count` clients; `notice` and `warn` tell the user;
    `progress(total)` makes the progress display (None: none); `stdout` is checked
    against `--resume`'s file. The
    `--resume` file is locked for the whole run: a second run on it is refused.
    """
    with contextlib.ExitStack() as held:
        answered = None
        same = None if stdout is None or job.resume is None else appends_to(stdout, job.resume)
        if job.resume is not None:
            if same is False:
                warn(
                    f"stdout is {job.resume} opened with > (not >>): the rows answered "
                    "before are gone; answering every row again"
                )
            answered = held.enter_context(resumed(job.resume))  # locked until the run ends
            if answered.repaired:
                notice(f"--resume {job.resume}: {answered.repaired} (left by an interrupted run)")
        if stdout is not None and same is None:  # stdout is not the --resume file
            held.enter_context(writing(stdout))  # no --resume run on it meanwhile
        return _lookup_rows(job, settings, connect, answered, write, progress)


def _aside(shown: Progress, write: Write) -> Write:
    def written(line: str) -> object:
        with shown.aside():
            return write(line)

    return written


def _lookup_rows(
    job: FileJob,
    settings: BatchSettings,
    connect: Connect,
    answered: Answered | None,
    write: Write,
    progress: Callable[[int | None], Progress] | None,
) -> Summary:
    name = "stdin" if job.path == "-" else job.path
    with opened_input(job.path) as stream:
        reader = RowReader(stream, column=job.column, name=name)
        regular = is_regular_file(stream)
        total = None
        if progress is not None and regular:
            total = max(0, count_lines(job.path) - (1 if reader.column else 0))
            total = max(0, total - (len(answered.rows) if answered else 0))
        shown = progress(total) if progress is not None else None
        batch: Batch | None = None
        out = write if shown is None else _aside(shown, write)

        async def main() -> Summary:
            nonlocal batch
            async with connect(settings.concurrency) as clients:
                on_row = shown.advance if shown is not None else None
                batch = Batch([client.lookup for client in clients], out, settings, on_row)
                rows = iter(reader)
                return await batch.run(rows if regular else threaded(rows), answered)

        with shown if shown is not None else contextlib.nullcontext():
            try:
                return run_interruptible(main())
            except (KeyboardInterrupt, OutputError):  # stdout unwritable: stop as on Ctrl-C
                summary = batch.summary if batch is not None else Summary(earlier=answered)
                summary.interrupted = True
                return summary

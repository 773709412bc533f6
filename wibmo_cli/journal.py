"""The journal of updates: what was about to be sent and what became of it, one JSON line
per event, each on disk (written and fsynced) before the step after it.

    {"journal": 1, "profile": "uat", "plan": "/abs/plan.jsonl", "planSha256": "..."}
    {"event": "sending", "row": 7, "clientTxnId": "...", "profile": "uat",
     "identifiers": {"urn": "1000104854"}, "cardProfileId": 150,
     "fields": {"emailId": {"now": "a@example.com", "new": "b@example.com"}}}
    {"event": "outcome", "row": 7, "clientTxnId": "...", "result": "answered",
     "responseCode": "00", "status": 0}
    {"event": "reconciled", "row": 7, "clientTxnId": "...", "verdict": "applied"}
    {"event": "stale", "row": 9, "clientTxnId": "...", "why": "changed since the plan: ..."}

Every event carries "at" (UTC, ISO 8601). The first line is the header: which plan (and
its SHA-256) the journal applies, so `--resume` refuses another plan's journal. `update-
profile` for one customer journals too, in the user data dir (`row` is null there): it is
where `reconcile --audit` finds what an update whose outcome is unknown meant to change.

The rule that makes a bulk update at most once: a row's "sending" is on disk before its
request is handed to the network, so a row is sent only when the journal holds no
"sending" for it, or its last outcome is "not sent" (refused before it left: a refused
connection). Every other row is either done (answered, refused by the gateway, skipped as
changed since the plan, reconciled) or unknown, and is never sent again.

The file is private (0600), holds personal values (the fields now and as planned: what
reconcile compares), and is locked (flock) by the run writing it: two applies of one
journal are refused. A line cut short by a crash (the last one) is ignored on reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from wibmo_cli.errors import ConfigError, InputError, OutputError

VERSION: Final = 1
SINGLE_UPDATES: Final = "updates.journal"  # in the user data dir
MAX_LINE: Final = 1 << 20  # a journal line is a row's fields: more is not ours

# Outcomes after which the row is never sent again, and those that are unknown.
DONE: Final = frozenset({"answered", "refused", "stale"})
UNKNOWN: Final = frozenset({"outcome unknown", "interrupted"})
NOT_SENT: Final = "not sent"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class RowState:
    """What the journal says of one update (a row of a plan, or one update-profile)."""

    sending: dict[str, Any]  # the last "sending" event
    outcome: dict[str, Any] | None = None  # the last "outcome" after it
    verdict: dict[str, Any] | None = None  # the last "reconciled" after it

    @property
    def result(self) -> str | None:
        return None if self.outcome is None else str(self.outcome.get("result"))

    @property
    def unknown(self) -> bool:
        """Sent, and nobody knows whether it was applied (and reconcile has not said)."""
        return self.verdict is None and (self.result is None or self.result in UNKNOWN)

    @property
    def may_send(self) -> bool:
        """Only a request that never left may be sent again."""
        return self.result == NOT_SENT and self.verdict is None


@dataclass
class JournalState:
    header: dict[str, Any]
    rows: dict[Any, RowState] = field(default_factory=dict)  # row (or clientTxnId) -> state
    cut: bool = False  # the last line was cut short (a crash while writing it)
    stale: set[Any] = field(default_factory=set)  # rows never to send (changed since the plan)

    def unknown(self) -> list[RowState]:
        return [state for state in self.rows.values() if state.unknown]

    def by_txn(self) -> dict[str, RowState]:
        return {str(s.sending.get("clientTxnId")): s for s in self.rows.values()}


def _key(event: Mapping[str, Any]) -> Any:
    """A plan's row number, or for a journal of single updates its clientTxnId."""
    row = event.get("row")
    return row if isinstance(row, int) and not isinstance(row, bool) else event.get("clientTxnId")


def read_journal(path: Path) -> JournalState:
    """The journal at `path`, event by event (InputError: not a journal)."""
    from wibmo_cli.paths import open_regular

    with open_regular(path, "journal") as handle:
        return _read(handle, path)


def _read(handle: Any, path: Path) -> JournalState:
    state: JournalState | None = None
    lines = handle.read().split(b"\n")
    last = len(lines) - 1
    for number, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw[:MAX_LINE])
        except ValueError:
            if number == last and state is not None:  # the crash's half line: no line end
                state.cut = True
                continue
            raise InputError(f"journal {path}: line {number + 1} is not JSON") from None
        if not isinstance(event, dict):
            raise InputError(f"journal {path}: line {number + 1} is not a JSON object")
        if state is None:
            if event.get("plan") is not None and "journal" not in event:
                raise InputError(f"{path} is a plan, not its journal: give {path}.journal")
            if event.get("journal") != VERSION:
                raise InputError(f"{path} is not a wibmo journal (its first line says otherwise)")
            state = JournalState(event)
            continue
        _apply(state, event)
    if state is None:
        raise InputError(f"{path} is empty: not a wibmo journal")
    return state


def _apply(state: JournalState, event: dict[str, Any]) -> None:
    key = _key(event)
    kind = event.get("event")
    if kind == "stale":
        state.stale.add(key)
        return
    if kind == "sending":
        state.rows[key] = RowState(event)
        return
    known = state.rows.get(key)
    if known is None or known.sending.get("clientTxnId") != event.get("clientTxnId"):
        return  # an outcome of nothing journaled as sent: not ours to count
    if kind == "outcome":
        known.outcome = event
    elif kind == "reconciled":
        known.verdict = event


class Events:
    """The events a journal takes; `_write` puts one on disk."""

    path: Path

    def sending(self, row: int | None, txn: str, **details: Any) -> None:
        self._write({"event": "sending", "row": row, "clientTxnId": txn, **details})

    def outcome(self, row: int | None, txn: str, result: str, **details: Any) -> None:
        self._write(
            {"event": "outcome", "row": row, "clientTxnId": txn, "result": result, **details}
        )

    def reconciled(self, row: int | None, txn: str, verdict: str, **details: Any) -> None:
        self._write(
            {"event": "reconciled", "row": row, "clientTxnId": txn, "verdict": verdict, **details}
        )

    def skipped(self, row: int | None, txn: str, why: str) -> None:
        """Never sent from this plan: the customer changed since it (--if-unchanged)."""
        self._write({"event": "stale", "row": row, "clientTxnId": txn, "why": why})

    def _write(self, event: dict[str, Any]) -> None:
        raise NotImplementedError


class Journal(Events):
    """A journal open for writing: appended to, locked while open. An event is written at
    once and on disk after `await durable()`: one fsync (in a thread, off the event loop)
    covers every event written before it started, so rows in flight share their fsyncs
    (group commit) instead of queueing one each behind the loop."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._written = 0  # events written so far
        self._synced = 0  # events on disk (the fsync that ended last covered these)
        self._syncing: asyncio.Future[None] | None = None
        self.repaired = False  # a half-written last line was cut off when it was opened
        self.ident = ""  # the id its header gives it (claims.db knows it by that)

    @classmethod
    @contextlib.contextmanager
    def opened(
        cls, path: Path, header: Mapping[str, Any], *, wait: bool = False
    ) -> Iterator[Journal]:
        """The journal at `path`, created with `header` when new (0600), locked until the
        block ends: a second writer is refused (ConfigError naming the file), or with
        `wait` (single updates, a moment each) waits its turn."""
        fd = open_private(path, os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ConfigError(
                    f"journal {path} is in use by another run; wait for it to end"
                ) from None
            journal = cls(path, fd)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    size = _cut_off(fd, size)  # a line a crash left half: never happened
                    journal.repaired = True
                if size == 0:
                    _append(fd, _header(header), path)
                journal.ident = str(_header_of(fd).get("id") or path.resolve())
            except OSError as exc:
                raise OutputError(f"journal {path}: cannot write it ({exc.strerror})") from None
            yield journal
        finally:
            with contextlib.suppress(OSError):
                os.fsync(fd)  # what was written last (an interruption's outcomes) kept
            os.close(fd)

    def restart(self, header: Mapping[str, Any]) -> None:
        """Empty the journal and write `header`: only for one that holds no event (an
        apply declined at its question), now given another plan."""
        if self.state().rows:
            raise ValueError("a journal with events is never emptied")
        try:
            os.ftruncate(self._fd, 0)
            _append(self._fd, _header(header), self.path)
            self.ident = str(_header_of(self._fd)["id"])
        except OSError as exc:
            raise OutputError(f"journal {self.path}: cannot write it ({exc.strerror})") from None

    def state(self) -> JournalState:
        """What the journal holds (read under this run's lock: no writer meanwhile)."""
        return read_journal(self.path)

    def _write(self, event: dict[str, Any]) -> None:
        _append(self._fd, event, self.path, sync=False)
        self._written += 1

    async def durable(self) -> None:
        """Every event written so far is on disk (OutputError: it cannot be)."""
        wanted = self._written
        while self._synced < wanted:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        covered = self._written
        try:
            await asyncio.to_thread(os.fsync, self._fd)
        except OSError as exc:
            raise OutputError(f"journal {self.path}: cannot write it ({exc.strerror})") from None
        finally:
            self._syncing = None
        self._synced = max(self._synced, covered)


class SingleUpdates(Events):
    """The journal of single updates (`update-profile` for one customer), in the user
    data dir: opened for each event and closed (no lock: each event is one append, and
    two terminals may update at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, event: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise OutputError(f"journal {self.path}: cannot open it ({exc.strerror})") from None
        fd = open_private(self.path, os.O_WRONLY)
        try:
            if os.fstat(fd).st_size == 0:
                _append(fd, {"journal": VERSION, "profile": None, "plan": None}, self.path)
            _append(fd, event, self.path)
        finally:
            os.close(fd)


def open_private(path: Path, mode: int) -> int:
    """A journal opened to append (paths.open_private: created 0600, never a link, a FIFO
    or a device; it holds customers' values). OutputError in one line otherwise."""
    from wibmo_cli.paths import open_private as opened

    try:
        return opened(path, mode)
    except OSError as exc:
        raise OutputError(f"journal {path}: cannot open it ({exc.strerror})") from None


def _header(given: Mapping[str, Any]) -> dict[str, Any]:
    """A new journal's first line: `given`, and an id of its own (what claims.db knows it
    by: a journal moved keeps it, a journal deleted and begun again does not)."""
    import uuid

    return {"journal": VERSION, **given, "id": uuid.uuid4().hex, "created": now_iso()}


def _header_of(fd: int) -> dict[str, Any]:
    """The journal's first line (its header), read alone: not every event after it."""
    first = os.pread(fd, MAX_LINE, 0).partition(b"\n")[0]
    try:
        header = json.loads(first)
    except ValueError:
        return {}
    return header if isinstance(header, dict) else {}


def _cut_off(fd: int, size: int) -> int:
    """Truncate the journal after its last whole line. The half line was never on disk
    whole, so its step never happened: a "sending" not durable was not sent (`durable`
    returns first), an outcome lost leaves its row unknown (reconcile tells)."""
    start = max(0, size - MAX_LINE)
    tail = os.pread(fd, size - start, start)
    end = tail.rfind(b"\n")
    kept = start + end + 1 if end >= 0 else 0
    os.ftruncate(fd, kept)
    os.fsync(fd)
    return kept


def _append(fd: int, event: dict[str, Any], path: Path, *, sync: bool = True) -> None:
    """One event as one line; on disk before this returns unless not `sync`."""
    event.setdefault("at", now_iso())
    data = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    try:
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it whole; be sure
            written += os.write(fd, data[written:])
        if sync:
            os.fsync(fd)
    except OSError as exc:
        raise OutputError(f"journal {path}: cannot write it ({exc.strerror})") from None

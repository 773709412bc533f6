"""Batch lookup input and output: rows of a CSV or plain list (read in a thread when
they come from a pipe), the JSON line of each answered row, and what an earlier
(interrupted) run already answered.

Rows are numbered as a spreadsheet numbers them: the position of the record in the
file, a header row included, so `"row": 7` is row 7 of the file. A blank record is
not a row (it yields no output line); a record whose identifier cell is empty, or that
cannot be read, is a row, answered with an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import threading
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from wibmo_cli import validate
from wibmo_cli.errors import ExitStatus, InputError
from wibmo_cli.paths import user_path

KINDS: Final = ("mobile", "urn", "customerId", "email")
# Header names (lower case, without spaces, _ and -) that name an identifier column.
_ALIASES: Final[Mapping[str, str]] = {
    "mobile": "mobile",
    "customermobile": "mobile",
    "urn": "urn",
    "customerid": "customerId",
    "email": "email",
    "emailid": "email",
}
# The responseCodes that mean "no such customer" in the summary's count.
NOT_FOUND_CODES: Final = frozenset({"1303", "1001"})


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "").replace(" ", "")


def _one_line(text: str, limit: int = 200) -> str:
    """Text from the input as part of a one-line message: whitespace runs as one space."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def kind_of_name(name: str) -> str | None:
    """The identifier kind a column or `--column` name stands for, if any."""
    return _ALIASES.get(_normal(name))


def sniff_kind(value: str) -> str:
    """The kind of a bare identifier: email has @, a valid Indian mobile (10 digits from
    6-9, or with 91 / +91 / 0 in front) is a mobile, other digits a URN, the rest a
    customer id. A 10-digit URN starting 6-9 reads as a mobile: say `--column urn`."""
    if "@" in value:
        return "email"
    try:
        validate.mobile(value)
    except InputError:
        digits = value.strip()
        return "urn" if digits.isascii() and digits.isdigit() else "customerId"
    return "mobile"


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: its number in the file, the identifier, and its kind if known."""

    number: int
    value: str
    kind: str | None = None  # None: sniffed from the value
    problem: str | None = None  # why the row cannot be looked up at all


class RowReader:
    """The rows of one input, streamed; the header (if any) is read when this is made.

    A first record with a cell naming an identifier column (mobile, urn, customerId,
    email, customer_id, emailId, ...) or the `--column` name is a header. With a
    header, `--column` picks the column (default: the first identifier column); without
    one, each record's first cell is the identifier and `--column` (a kind) says what
    it is, else each row's kind is sniffed. Several columns with neither a header naming
    one nor `--column` is refused: a header like "name,phone" would otherwise be looked
    up as a customer id.
    """

    def __init__(self, stream: IO[str], *, column: str | None, name: str) -> None:
        self.name = name
        self.column: str | None = None  # the header's name of the identifier column
        self._reader = csv.reader(stream)
        self._count = 0
        self._index = 0
        self._kind: str | None = None
        self._first = self._next_record()
        if self._first is None or self._first[1] is None:
            return
        cells = self._first[1]
        names = [_normal(cell) for cell in cells]
        wanted = _normal(column) if column else None
        if (wanted and wanted in names) or any(n in _ALIASES for n in names):
            self._header(cells, names, column, wanted)
            self._first = None  # the header is not a row
        elif not column and len(cells) > 1:
            shown = _one_line(", ".join(cell.strip() for cell in cells))
            raise InputError(
                f"{name} has several columns but no header naming an identifier column "
                f"({', '.join(KINDS)}); first record: {shown}. Name the column in a header "
                "row, or say what the first column holds with --column"
            )
        elif column:
            self._kind = kind_of_name(column)
            if self._kind is None:
                raise InputError(
                    f"--column {_one_line(column)}: {name} has no header row naming it; without a "
                    f"header, --column says what the identifiers are: {', '.join(KINDS)}"
                )

    def _header(
        self, cells: list[str], names: list[str], column: str | None, wanted: str | None
    ) -> None:
        if wanted is not None:
            if wanted not in names:
                shown = _one_line(", ".join(cell.strip() for cell in cells))
                raise InputError(
                    f"--column {_one_line(str(column))}: {self.name} has no such column ({shown})"
                )
            self._index = names.index(wanted)
        else:
            self._index = next(i for i, n in enumerate(names) if n in _ALIASES)
        self._kind = _ALIASES.get(names[self._index])
        self.column = cells[self._index].strip()

    def _next_record(self) -> tuple[int, list[str] | None, str] | None:
        """(number, cells, "") of the next non-blank record; cells None if unreadable."""
        while True:
            self._count += 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                return self._count, None, str(exc)
            if any(cell.strip() for cell in cells):
                return self._count, cells, ""

    def __iter__(self) -> Iterator[Row]:
        record = self._first
        if record is None:
            record = self._next_record()
        while record is not None:
            yield self._row(*record)
            record = self._next_record()

    def _row(self, number: int, cells: list[str] | None, problem: str) -> Row:
        if cells is None:
            return Row(number, "", self._kind, problem=f"cannot read this row: {problem}")
        value = cells[self._index].strip() if self._index < len(cells) else ""
        if not value:
            return Row(number, "", self._kind, problem="no identifier in this row")
        return Row(number, value, self._kind)


@contextmanager
def opened_input(path: str) -> Iterator[IO[str]]:
    """The input as text: a file, or stdin for `-` (a UTF-8 BOM is dropped)."""
    if path == "-":
        import io
        import sys

        stdin = io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8-sig", errors="replace", newline=""
        )
        try:
            yield stdin
        finally:
            stdin.detach()  # leave sys.stdin open
        return
    try:
        handle = user_path(path).open(encoding="utf-8-sig", errors="replace", newline="")
    except FileNotFoundError:
        raise InputError(f"--file {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"--file {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"--file {path}: cannot read it ({exc.strerror})") from None
    with handle:
        yield handle


def is_regular_file(stream: IO[Any]) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


# -- reading in the background -----------------------------------------------------------


async def aiter_rows(rows: Iterable[Row] | AsyncIterator[Row]) -> AsyncIterator[Row]:
    if isinstance(rows, AsyncIterator):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


async def threaded(rows: Iterator[Row], ahead: int = 64) -> AsyncIterator[Row]:
    """`rows` read in a daemon thread: a pipe that blocks never stalls the requests (nor
    Ctrl-C), and an interrupted run does not wait for input that may never come."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Row | BaseException | None] = asyncio.Queue()
    room = threading.Semaphore(ahead)

    def hand(item: Row | BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: the run ended
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        try:
            for row in rows:
                room.acquire()
                hand(row)
        except BaseException as exc:  # noqa: BLE001 - handed over and raised in the loop
            hand(exc)
        else:
            hand(None)

    threading.Thread(target=read, name="wibmo-batch-input", daemon=True).start()
    while True:
        item = await queue.get()
        room.release()
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def count_lines(path: str) -> int:
    """Lines in a file, counted fast (for the progress bar's total and ETA)."""
    count = 0
    last = b""
    with user_path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk
    return count + (1 if last and not last.endswith(b"\n") else 0)


# -- output lines ------------------------------------------------------------------------


def answered_line(row: Row, kind: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "row": row.number,
        "input": row.value,
        "kind": kind,
        "ok": True,
        "responseCode": answer.get("responseCode"),
        "answer": answer,
    }


def error_line(
    row: Row, kind: str | None, message: str, status: ExitStatus, code: str | None = None
) -> dict[str, Any]:
    return {
        "row": row.number,
        "input": row.value,
        "kind": kind,
        "ok": False,
        "error": {"code": code, "message": message, "exit_code": int(status)},
    }


def outcome(record: Mapping[str, Any]) -> tuple[str, int]:
    """("found" | "not found" | "failed", exit code) of one output line."""
    if record.get("ok") is True:
        return "found", 0
    error = record.get("error")
    error = error if isinstance(error, Mapping) else {}
    status = error.get("exit_code")
    status = status if isinstance(status, int) and not isinstance(status, bool) else 1
    if error.get("code") in NOT_FOUND_CODES:
        return "not found", status
    return "failed", status


def fingerprint(value: str) -> int:
    return zlib.crc32(value.encode("utf-8", "replace"))


# -- resume ------------------------------------------------------------------------------


@dataclass
class Answered:
    """The rows an earlier run wrote to the output file: row -> fingerprint of its input."""

    rows: dict[int, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    worst: int = 0
    repaired: str | None = None  # what was done to a torn last line, if anything

    def add(self, record: Mapping[str, Any]) -> None:
        number = record.get("row")
        if not isinstance(number, int) or isinstance(number, bool) or number in self.rows:
            return
        self.rows[number] = fingerprint(str(record.get("input", "")))
        kind, status = outcome(record)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.worst = max(self.worst, status)

    def check(self, row: Row) -> bool:
        """True if `row` was answered; `InputError` if it was, for another identifier."""
        seen = self.rows.get(row.number)
        if seen is None:
            return False
        if seen != fingerprint(row.value):
            raise InputError(
                f"--resume: row {row.number} was answered for another identifier than the "
                f"input has now: not the same input file? (use a fresh output file)"
            )
        return True


def read_answered(path: Path) -> Answered:
    """What `path` (an earlier run's output) answered; a torn last line is repaired.

    A run killed mid-write can leave a last line without its newline: if it is a whole
    record the newline is added, else the fragment is cut off, so the lines appended
    next start on a line of their own and every line of the file stays valid JSON.
    """
    answered = Answered()
    handle: IO[bytes]
    try:
        handle = path.open("r+b")
    except FileNotFoundError:
        return answered  # nothing answered yet: the first run can use --resume too
    except PermissionError:
        handle = _read_only(path)  # read-only: read it, leave a torn line where it is
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot open it ({exc.strerror})") from None
    with handle:
        good = 0  # offset just past the last complete line
        tail = b""
        others = 0  # complete lines that are not records
        for line in handle:
            if not line.endswith(b"\n"):
                tail = line
                break
            good += len(line)
            if not _add_line(answered, line) and line.strip():
                others += 1
        if others and not answered.rows:
            raise InputError(
                f"--resume {path}: not the output of a `wibmo lookup --file` run (no line "
                "of it is a row's JSON line); nothing was changed"
            )
        if tail:
            whole = _add_line(answered, tail)
            if not whole and not tail.lstrip().startswith(b"{"):
                # Not a torn record: cutting it would destroy data of some other file.
                raise InputError(
                    f"--resume {path}: its last line is not a row's JSON line: not the "
                    "output of a `wibmo lookup --file` run? nothing was changed"
                )
            if not handle.writable():
                answered.repaired = "its last line is torn (the file is read-only: left as is)"
            elif whole:
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
                answered.repaired = "ended its last line"
            else:
                handle.truncate(good)
                answered.repaired = f"cut a torn last line ({len(tail)} bytes)"
    return answered


def _read_only(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot read it ({exc.strerror})") from None


def _add_line(answered: Answered, line: bytes) -> bool:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return False
    if not isinstance(record, dict) or "row" not in record:
        return False
    answered.add(record)
    return True


def appends_to(stream: IO[Any], path: Path) -> bool | None:
    """Whether `stream` writes to `path`: True appending, False truncating, None: another file."""
    try:
        mine = os.fstat(stream.fileno())
        theirs = path.stat()
    except (OSError, ValueError, AttributeError):
        return None
    if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
        return None
    try:
        import fcntl

        return bool(fcntl.fcntl(stream.fileno(), fcntl.F_GETFL) & os.O_APPEND)
    except (ImportError, OSError):
        return True

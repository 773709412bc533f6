"""Batch lookup input and output: rows of a CSV or plain list (read in a thread when
they come from a pipe), the JSON line of each answered row, and what an earlier
(interrupted) run already answered is in `batchresume`.

One line of the input is one row, numbered as a spreadsheet numbers it: its line
number in the file, a header line included, so `"row": 7` is line 7 of the file. A
blank line (or a CSV line of empty cells) is not a row and yields no output line;
every other line is a row: answered, or answered with an error when it has no
identifier, is too long or is not valid CSV. So the output has one line per
non-blank input line (after the header), whatever the input holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import threading
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Final

from wibmo_cli import validate
from wibmo_cli.errors import ExitStatus, InputError
from wibmo_cli.paths import user_path
from wibmo_cli.streams import is_regular_file

KINDS: Final = ("mobile", "urn", "customerId", "email")
MAX_ROW_CHARS: Final = 64 << 10  # a longer input line is no row of identifiers
# Header names (lower case, without spaces, _ and -) that name an identifier column: the
# one table read for a header row, a one-column file's heading and `--column`.
_ALIASES: Final[Mapping[str, str]] = {
    "mobile": "mobile",
    "mobileno": "mobile",
    "mobilenumber": "mobile",
    "customermobile": "mobile",
    "phone": "mobile",
    "phoneno": "mobile",
    "phonenumber": "mobile",
    "msisdn": "mobile",
    "urn": "urn",
    "cardurn": "urn",
    "walleturn": "urn",
    "customerid": "customerId",
    "custid": "customerId",
    "email": "email",
    "emailid": "email",
    "emailaddress": "email",
}
# What separates a CSV's cells: the one of these that splits the first line into the most
# cells (a tie: the first), so Excel's semicolons and tab-separated exports read as CSV.
DELIMITERS: Final = (",", ";", "\t")
# The responseCodes that mean "no such customer" in the summary's count.
NOT_FOUND_CODES: Final = frozenset({"1303", "1001"})


def _normal(name: str) -> str:
    """A column name as `_ALIASES` keys it: letters and digits only ("Mobile No." and
    "mobile_no" are "mobileno")."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


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

    The input is read one physical line at a time, and each line is one row: a line
    is never joined to the next (a quoted cell holding a line break is not supported),
    so a stray `"` spoils its own row only, and a row's number is its line's number.
    A line longer than `MAX_ROW_CHARS` is that row's error; the rest of it is read
    and dropped, so memory stays bounded whatever the input.

    The first line also decides the cells' separator (`DELIMITERS`): comma, semicolon
    or tab, whichever splits it into the most cells.

    A first line with a cell naming an identifier column (mobile, phone, urn, customerId,
    email, customer_id, emailId, ...: `_ALIASES`) or the `--column` name is a header; a
    one-column file headed so is read by its heading. A first
    line of one cell (a header or an identifier) makes the input a plain list: each
    line, stripped, is the identifier, and is never parsed as CSV. A first line of
    several cells makes it a CSV: each line is parsed on its own, and a line that is
    not valid CSV (a quote not closed on its line, text after a closing quote) is
    that row's error. With a header, `--column` picks the column (default: the first
    identifier column); without one, each line's first cell is the identifier and
    `--column` (a kind) says what it is, else each row's kind is sniffed. Several
    columns with neither a header naming one nor `--column` is refused: a header like
    "name,phone" would otherwise be looked up as a customer id.
    """

    def __init__(self, stream: IO[str], *, column: str | None, name: str) -> None:
        self.name = name
        self.column: str | None = None  # the header's name of the identifier column
        self._lines = physical_lines(stream)
        self._count = 0
        self._index = 0
        self._kind: str | None = None
        self._csv = False  # True: each line is parsed as CSV; False: a plain list
        self._delimiter = ","
        self._first = self._next_line()
        if self._first is None:
            return
        if self._first[1] is not None:
            self._delimiter = delimiter_of(self._first[1])
        cells = [] if self._first[1] is None else _cells(self._first[1], self._delimiter)
        self._csv = len(cells) > 1
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

    def _next_line(self) -> tuple[int, str | None] | None:
        """(number, text) of the next non-blank line; text None if it is over-long."""
        for text in self._lines:
            self._count += 1
            if text is None or text.strip():
                return self._count, text
        return None

    def __iter__(self) -> Iterator[Row]:
        record = self._first
        if record is None:
            record = self._next_line()
        while record is not None:
            row = self._row(*record)
            if row is not None:
                yield row
            record = self._next_line()

    def _row(self, number: int, text: str | None) -> Row | None:
        """The row of one non-blank line; None for a CSV line of empty cells (`,,`)."""
        if text is None:
            return self._problem(
                number, f"the line is longer than {MAX_ROW_CHARS >> 10} KiB: not a row"
            )
        if not self._csv:
            return Row(number, text.strip(), self._kind)
        try:
            cells = next(csv.reader([text], strict=True, delimiter=self._delimiter))
        except csv.Error as exc:
            reason = str(exc)
            if reason == "unexpected end of data":
                reason = 'a quoted cell (") is not closed on its line; a cell cannot span lines'
            return self._problem(
                number, f"cannot read this row as CSV: {reason}", shown=_one_line(text)
            )
        if not any(cell.strip() for cell in cells):
            return None  # an empty row of a spreadsheet, as blank as a blank line
        value = cells[self._index].strip() if self._index < len(cells) else ""
        if not value:
            return self._problem(number, "no identifier in this row")
        return Row(number, value, self._kind)

    def _problem(self, number: int, problem: str, *, shown: str = "") -> Row:
        """A row that cannot be looked up; `shown` as its input: what the line held."""
        return Row(number, shown, self._kind, problem=problem)


def _cells(text: str, delimiter: str) -> list[str]:
    """A header's (or first line's) cells, read leniently: only to find the columns."""
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return [text]


def delimiter_of(first: str) -> str:
    """The separator of `DELIMITERS` that splits the first line into cells naming an
    identifier column (a header), else into the most cells (a comma on a tie): a quoted
    header cell holding a comma ("Address, line 1") does not make a semicolon file a
    comma one."""

    def score(candidate: str) -> tuple[bool, int]:
        cells = _cells(first, candidate)
        return any(kind_of_name(cell) for cell in cells), len(cells)

    return max(DELIMITERS, key=score)


def physical_lines(stream: IO[str]) -> Iterator[str | None]:
    """Each line of `stream` without its line end, None for one over `MAX_ROW_CHARS`.

    Reads at most `MAX_ROW_CHARS` at a time: the rest of an over-long line is read and
    dropped after its None is yielded (a line that never ends, as `/dev/zero` gives,
    is read for as long as the run goes on, in constant memory).
    """
    while True:
        line = stream.readline(MAX_ROW_CHARS + 1)
        if not line:
            return
        if line.endswith(("\n", "\r")):
            yield line.rstrip("\r\n")
        elif len(line) <= MAX_ROW_CHARS:
            yield line  # the last line, without a line end
        else:
            yield None
            while line and not line.endswith(("\n", "\r")):
                line = stream.readline(MAX_ROW_CHARS)


@contextmanager
def opened_input(path: str) -> Iterator[IO[str]]:
    """The input as text: a file, or stdin for `-` (a UTF-8 BOM is dropped).

    Stdin is read through a file of its own (a duplicate of its descriptor), never
    through `sys.stdin`: a reader thread still blocked in it when the run ends must
    not hold a lock the interpreter needs at exit. A pipe, FIFO or device is closed
    in the background for the same reason: leaving never waits for input that may
    never come.
    """
    handle: io.TextIOWrapper
    borrowed = False
    if path == "-":
        handle, borrowed = _stdin()
    else:
        try:
            handle = user_path(path).open(encoding="utf-8-sig", errors="replace")
        except FileNotFoundError:
            raise InputError(f"--file {path}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"--file {path}: is a directory, not a file") from None
        except OSError as exc:
            raise InputError(f"--file {path}: cannot read it ({exc.strerror})") from None
    try:
        yield handle
    finally:
        if borrowed:
            handle.detach()  # leave sys.stdin open
        elif is_regular_file(handle):
            handle.close()
        else:  # a reader thread may be blocked in it: closing would wait for it
            threading.Thread(target=_close, args=(handle,), daemon=True).start()


def _stdin() -> tuple[io.TextIOWrapper, bool]:
    """(stdin as text, borrowed): borrowed when it has no descriptor (replaced in-process)."""
    import sys

    if sys.stdin is None:  # closed (`<&-`)
        raise InputError("--file -: there is no stdin to read")
    try:
        descriptor = os.dup(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):
        buffer = sys.stdin.buffer
        return io.TextIOWrapper(buffer, encoding="utf-8-sig", errors="replace"), True
    return open(descriptor, encoding="utf-8-sig", errors="replace"), False  # noqa: PTH123


def _close(handle: IO[str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        handle.close()


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
    """Lines in a file, counted fast (for the progress bar's total and ETA); a line ends
    at \\n, \\r\\n or \\r, as `physical_lines` reads them."""
    count = 0
    last = b""
    with user_path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if last.endswith(b"\r") and chunk.startswith(b"\n"):
                count -= 1  # a \\r\\n split between two reads
            last = chunk
    return count + (1 if last and not last.endswith((b"\n", b"\r")) else 0)


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
    row: Row,
    kind: str | None,
    message: str,
    status: ExitStatus,
    code: str | None = None,
    client_txn_id: str | None = None,
) -> dict[str, Any]:
    """A row that failed. `client_txn_id`: the one sent, when the platform answered (the
    reference its support asks for), as the error's `clientTxnId`."""
    error: dict[str, Any] = {"code": code, "message": message, "exit_code": int(status)}
    if client_txn_id:
        error["clientTxnId"] = client_txn_id
    return {"row": row.number, "input": row.value, "kind": kind, "ok": False, "error": error}


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

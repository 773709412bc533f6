"""`lookup --file --resume OUT.jsonl`: what an earlier (interrupted) run's output answered.

The output file is read one line at a time in bounded memory (at most `RESUME_LINE`
bytes of a line: a longer line, a row with a big answer, is known by its start), only
if it is a regular file, and locked for the whole run, so a second run on it is
refused instead of answering every missing row a second time. A torn last line (a run
killed mid-write) is repaired.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from wibmo_cli.batchio import Row, fingerprint, outcome
from wibmo_cli.errors import InputError
from wibmo_cli.streams import is_regular_file

RESUME_LINE: Final = 1 << 20  # of a longer line, only the start is read


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
    """What `path` (an earlier run's output) answered; see `resumed`."""
    with resumed(path) as answered:
        return answered


@contextmanager
def resumed(path: Path) -> Iterator[Answered]:
    """What `path` (an earlier run's output) answered, the file locked while this is open.

    The lock (`flock`, exclusive) keeps a second run on the same `--resume` file out:
    two runs would both answer every row not yet in it, and write it twice. Only a
    regular file is read (a FIFO or a device is no earlier run's output), one line at
    a time, at most `RESUME_LINE` bytes of each.

    A run killed mid-write can leave a last line without its newline: if it is a whole
    record the newline is added, else the fragment is cut off, so the lines appended
    next start on a line of their own and every line of the file stays valid JSON.
    """
    handle = _open_resume(path)
    if handle is None:
        yield Answered()  # nothing answered yet: the first run can use --resume too
        return
    with handle:
        _lock(handle, path)
        yield _read_answered(handle, path)


def _open_resume(path: Path) -> IO[bytes] | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot open it ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"--resume {path}: cannot open it (Is a directory)")
    if not stat.S_ISREG(mode):  # a FIFO would block, a device never end
        raise InputError(
            f"--resume {path}: not a regular file; give the output file of an earlier run"
        )
    handle: IO[bytes]
    try:
        handle = path.open("r+b", buffering=RESUME_LINE)
    except FileNotFoundError:
        return None
    except PermissionError:
        handle = _read_only(path)  # read-only: read it, leave a torn line where it is
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot open it ({exc.strerror})") from None
    if not is_regular_file(handle):  # replaced since the stat
        handle.close()
        raise InputError(f"--resume {path}: not a regular file")
    return handle


@contextmanager
def writing(stream: IO[Any]) -> Iterator[None]:
    """While a run writes the regular file `stream` (stdout) goes to, hold a shared lock
    on it, or refuse: a `--resume` run holds it (exclusively, `resumed`). A `--resume`
    run beside one still writing the file would answer every row that one has yet to
    write, and both would write them; plain runs may share a file (their rows are theirs).

    The lock is taken on a descriptor of this process's own (the file opened again), not
    on stdout's, which the shell may share (`exec >> out`, a subshell) and keep open after
    this run ends, even after a `kill -9`: the lock ends with this process.
    """
    own = _reopen(stream)
    if own is None:  # not a regular file (a pipe, a terminal, a test's capture), or no /proc
        yield
        return
    try:
        import fcntl

        try:
            fcntl.flock(own, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                "stdout: a wibmo --resume run is finishing this file; wait for it to end "
                "(it answers the rows missing from it)"
            ) from None
        except OSError:
            pass  # a file system without locks: go on unlocked
        yield
    finally:
        os.close(own)


def _reopen(stream: IO[Any]) -> int | None:
    """A new descriptor of the regular file `stream` writes to (read-only), or None."""
    try:
        fd = stream.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ValueError, AttributeError):
        return None


def _lock(handle: IO[bytes], path: Path) -> None:
    """Lock `path` for this run, or refuse: another run holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise InputError(
            f"--resume {path}: another wibmo run is using it; wait for that run to end (two "
            "runs on one output file would both answer the rows missing from it)"
        ) from None
    except OSError:
        return  # a file system without locks (some network ones): go on unlocked


def _read_answered(handle: IO[bytes], path: Path) -> Answered:
    answered = Answered()
    good = 0  # offset just past the last complete line
    tail = b""  # the last line, if it has no line end
    tail_cut = False  # ... and is longer than RESUME_LINE (only its start is in `tail`)
    others = 0  # complete lines that are not records
    for line, size, ended in _resume_lines(handle):
        if not ended:
            tail, tail_cut = line, size > len(line)
            break
        good += size
        if not _add_line(answered, line, whole=size == len(line)) and line.strip():
            others += 1
    if others and not answered.rows:
        raise InputError(
            f"--resume {path}: not the output of a `wibmo lookup --file` run (no line "
            "of it is a row's JSON line); nothing was changed"
        )
    if tail:
        whole = not tail_cut and _add_line(answered, tail, whole=True)
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
            answered.repaired = f"cut a torn last line ({size} bytes)"
    return answered


def _resume_lines(handle: IO[bytes]) -> Iterator[tuple[bytes, int, bool]]:
    """(line, size, ended) for each line: at most its first `RESUME_LINE` bytes, its
    whole size, and whether it has its line end; memory stays bounded."""
    while line := handle.readline(RESUME_LINE + 1):
        if line.endswith(b"\n") or len(line) <= RESUME_LINE:
            yield line, len(line), line.endswith(b"\n")
            continue
        size = len(line)
        rest = line
        while rest and not rest.endswith(b"\n"):
            rest = handle.readline(RESUME_LINE)
            size += len(rest)
        yield line, size, rest.endswith(b"\n")


def _read_only(path: Path) -> IO[bytes]:
    try:
        return path.open("rb", buffering=RESUME_LINE)
    except OSError as exc:
        raise InputError(f"--resume {path}: cannot read it ({exc.strerror})") from None


# The start of a row's line as `answered_line` writes it (an answer makes a line long).
_ANSWERED_HEAD: Final = re.compile(
    rb'\{"row":(\d{1,18}),"input":("(?:[^"\\]|\\.)*"),"kind":(?:null|"[^"\\]*"),"ok":true,'
)


def _add_line(answered: Answered, line: bytes, *, whole: bool) -> bool:
    """Count the record `line` holds; `whole` False: only the line's start is there."""
    if not whole:
        match = _ANSWERED_HEAD.match(line)
        if match is None:
            return False
        record = {"row": int(match[1]), "input": json.loads(match[2]), "ok": True}
        answered.add(record)
        return True
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

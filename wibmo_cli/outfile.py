"""A file written where the user said (`decrypt --har F --out CLEAN.har`): only ever a
new file or a regular file replaced (`--force`), never the input, a directory, a device,
a FIFO, a socket or a symbolic link; atomically, mode 0600.

    check_target  refuse a target before any work is done (exit 2)
    write         the data to a temporary file beside the target, renamed over it
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Final

from wibmo_cli.errors import InputError, OutputError


def check_target(path: Path, *, source: Path | None, force: bool) -> None:
    """Refuse an `--out` that would overwrite the input (`source`; None: stdin), a
    directory, anything that is not a regular file (a device, a FIFO, a socket, a
    symbolic link: `--force` replaces files, never what a name leads elsewhere), or
    (without `force`) any existing file; and one whose directory does not exist."""
    same = source is not None and (path.resolve() == source.resolve() or _same(path, source))
    if path.exists() and same:
        raise InputError(f"--out {path} is the capture being read: give another file")
    _check_replaceable(path, force=force)
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: no such directory {path.parent}")


def _check_replaceable(path: Path, *, force: bool) -> None:
    """`path` is absent, or (with `force`) a regular file: what the rename in `write`
    may replace. Read with lstat: a symbolic link is judged itself, not what it names."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise InputError(f"cannot check --out {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"--out {path} is a directory: give a file name")
    if stat.S_ISLNK(mode):
        raise InputError(
            f"--out {path} is a symbolic link: give the file itself, or a new file name"
        )
    if not stat.S_ISREG(mode):
        raise InputError(
            f"--out {path} is {_KINDS.get(stat.S_IFMT(mode), 'not a file')}, not a regular "
            "file: give a new file name"
        )
    if not force:
        raise InputError(f"--out {path} exists: give --force to replace it")


_KINDS: Final = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def write(path: Path, data: bytes, *, source: Path | None, force: bool) -> None:
    """`data` written to `path` atomically, mode 0600 (a cleaned capture still holds
    customers' data, masked). `check_target` first; the data goes to a new temporary
    file beside `path` (created exclusively: nothing else is written through), renamed
    over `path` only if `path` is still absent or a regular file: a rename replaces the
    name, never writes into a device or through a link, and this second look closes the
    window since the first check to anyone who cannot already write the directory."""
    check_target(path, source=source, force=force)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:  # e.g. a directory the user may not write
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    renamed = False
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        _check_replaceable(path, force=force)
        Path(temporary).replace(path)
        renamed = True
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if not renamed:
            Path(temporary).unlink(missing_ok=True)


def _same(path: Path, source: Path) -> bool:
    try:
        return path.samefile(source)
    except OSError:
        return False

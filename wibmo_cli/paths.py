"""Paths as the user typed them."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from wibmo_cli.errors import InputError


def user_path(text: str) -> Path:
    """`text` as a path, `~` and `~user` expanded.

    `Path.expanduser` raises RuntimeError for a user that does not exist (or `~` with
    no HOME); that is bad input, said in one line, not an internal error. So is a NUL
    character, which no path can hold (every file call would raise ValueError).
    """
    if "\x00" in text:
        raise InputError(f"{text!r}: a path cannot contain a NUL character")
    try:
        return Path(text).expanduser()
    except RuntimeError:
        head = text.split("/", 1)[0]
        raise InputError(
            f"{text}: cannot expand {head}: no such user (or HOME is not set)"
        ) from None


def blocked_by(path: Path) -> str | None:
    """What, among `path`'s parents, keeps it from being created: the nearest one that is
    there but is a file ("... is a file, not a directory"), or a symbolic link to nothing.
    None when the nearest parent that is there is a directory.

    The system's own words for these ("Not a directory", or "File exists" for a link to
    nothing, from `mkdir`) do not say which parent is wrong.
    """
    for parent in path.parents:
        if parent.is_symlink() and not parent.exists():
            return f"{parent} is a symbolic link to nothing ({parent.readlink()} is missing)"
        if parent.exists():
            if parent.is_dir():
                return None
            return f"{parent} is a file, not a directory"
    return None


def open_regular(path: Path, option: str) -> BinaryIO:
    """The regular file an option names, open to read; InputError in one line naming the
    option for one that is not there, a directory, unreadable, or not a regular file (a
    FIFO or a device: opened without waiting for a writer, then refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(f"{option} {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "is a directory" if stat.S_ISDIR(mode) else "is not a regular file"
        raise InputError(f"{option} {path}: {what}, not a file to read")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_capped(path: Path, option: str, limit: int, too_big: str) -> bytes:
    """The bytes of the file an option names, at most `limit` (`open_regular`'s refusals,
    and one for a larger file: `too_big` says what to do, e.g. "split the file")."""
    with open_regular(path, option) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise InputError(f"{option} {path}: larger than {limit >> 20} MiB; {too_big}")
    return data


class NotPrivate(OSError):
    """`open_private` refused the path itself: a symbolic link, or not a regular file."""


def open_private(path: Path, mode: int) -> int:
    """`path` opened to append (`mode`: O_WRONLY or O_RDWR), created 0600, for a file
    holding secrets or customers' values: never through a symbolic link, never a FIFO
    or a device (O_NONBLOCK: no wait for a reader), made 0600 whoever made it, then
    blocking as files are. OSError otherwise: NotPrivate, whose strerror says why
    ("a symbolic link", "not a regular file"), for the path itself."""
    import errno

    flags = mode | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotPrivate(exc.errno, "a symbolic link") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotPrivate(errno.EINVAL, "not a regular file")
        os.fchmod(fd, 0o600)
        os.set_blocking(fd, True)
    except OSError:
        os.close(fd)
        raise
    return fd

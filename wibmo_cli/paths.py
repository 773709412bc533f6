"""Paths as the user typed them."""

from __future__ import annotations

from pathlib import Path

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


def read_capped(path: Path, option: str, limit: int, too_big: str) -> bytes:
    """The bytes of the file an option names, at most `limit`; InputError in one line
    naming the option for a file that is not there, a directory, unreadable, or larger
    (`too_big`: what to say then, e.g. "split the file")."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{option} {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{option} {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    if len(data) > limit:
        raise InputError(f"{option} {path}: larger than {limit >> 20} MiB; {too_big}")
    return data

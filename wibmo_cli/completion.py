"""Shell completion's candidates: profile names, `--column` names, response codes.

Completing runs wibmo once per Tab press, so this module imports little (tomllib and csv
only when they are needed, never httpx, rich or the sandbox: tests/test_startup.py) and
never fails nor waits: a file it cannot read, or anything that is not a regular file (a
FIFO, a device), offers nothing rather than an error. A candidate read from a file (a
CSV header cell, a profile name) is offered only when it `is_safe`: the zsh script evals
what it is given, and a cell such as `\\$(touch x)` must reach no shell. The functions
taking a context are the `autocompletion=` callbacks the options name (typer hands them
click's context, by the parameter's name `ctx`: the core does not import click); the
rest is plain data in, candidates out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from wibmo_cli.errors import WibmoError

MAX_READ: Final = 1 << 20  # a profiles file (or a CSV's first line) larger is not read
# What `--column` may name without a file to read a header from: the identifier kinds
# (batchio.KINDS; batchio itself imports asyncio, too much for a Tab press).
COLUMN_KINDS: Final = ("mobile", "urn", "customerId", "email")
# Besides letters and digits, what a candidate from a file may hold: no quote, `$`,
# backslash, backtick, glob or control character, which a shell might act on.
SAFE_PUNCTUATION: Final = frozenset(" _.,:@+=/-")


def is_safe(candidate: str) -> bool:
    """Whether `candidate` (read from a file) is plain enough to hand to a shell."""
    return bool(candidate) and all(c.isalnum() or c in SAFE_PUNCTUATION for c in candidate)


def _read_regular(path: Path) -> bytes | None:
    """Up to MAX_READ bytes of `path`, or None when it is not a regular file or cannot
    be read: opened without waiting (a FIFO with no writer would block the Tab press)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read(MAX_READ)
    except OSError:
        return None
    finally:
        os.close(fd)


def profile_names(explicit: str | None, env: Mapping[str, str], cwd: Path) -> list[str]:
    """The profiles of the file wibmo would read (`--profiles-file`, $WIBMO_PROFILES,
    ./profiles.toml, the user config dir), and the built-in demo."""
    from wibmo_cli.profiles import DEMO_NAME, profiles_file_places

    names: list[str] = []
    try:
        places = profiles_file_places(explicit, env, cwd)
    except WibmoError:  # a path no file can have (`~nobody/x`): nothing to offer
        places = []
    for place in places:
        if place.is_file():
            names = _table_names(place)
            break
    return [*names, DEMO_NAME] if DEMO_NAME not in names else names


def _table_names(path: Path) -> list[str]:
    import tomllib

    data = _read_regular(path)
    try:
        table = tomllib.loads(data.decode("utf-8")) if data is not None else {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    profiles = table.get("profiles")
    names = [str(name) for name in profiles] if isinstance(profiles, dict) else []
    return [name for name in names if is_safe(name)]


def column_names(file: str | None) -> list[str]:
    """`--column` candidates: the header cells of the `--file` given (when it can be
    read), then the identifier kinds."""
    header = _header(file) if file and file != "-" else []
    return [*header, *(kind for kind in COLUMN_KINDS if kind not in header)]


def _header(file: str) -> list[str]:
    import csv

    from wibmo_cli.paths import user_path

    try:
        data = _read_regular(user_path(file))
    except WibmoError:
        return []
    if data is None:
        return []
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    first = text.split("\n", 1)[0].strip("\r\n")
    delimiter = max((",", ";", "\t"), key=first.count)  # as batchio picks it
    try:
        cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:  # a cell beyond csv's field limit (128 KiB): no header to offer
        return []
    return [cell.strip() for cell in cells if is_safe(cell.strip())]


def response_codes(incomplete: str) -> list[tuple[str, str]]:
    """`wibmo codes` candidates: each responseCode with its name as help; once a letter is
    typed, the names (in lower case when that is how the typing started: any case works)."""
    from wibmo_cli.codes import CATALOGUE, in_code_order

    entries = in_code_order(CATALOGUE)
    if not incomplete[:1].isalpha():
        return [(entry.code, entry.name) for entry in entries]
    lower = incomplete.islower()
    return [(entry.name.lower() if lower else entry.name, entry.code) for entry in entries]


# -- the callbacks the options name (typer calls them with the context) ----------------


class Context(Protocol):
    """What a callback reads of click's context: the values parsed so far, per command."""

    @property
    def params(self) -> dict[str, Any]: ...

    @property
    def parent(self) -> Context | None: ...


def complete_profile(ctx: Context, incomplete: str) -> list[str]:
    """`--profile`: the names in the profiles file given earlier on the line, or found."""
    return profile_names(_given(ctx, "profiles_file"), os.environ, Path.cwd())


def complete_written_profile(ctx: Context, incomplete: str) -> list[str]:
    """`profiles edit | remove NAME`: the profiles the file holds (not the built-in demo,
    which no command changes)."""
    from wibmo_cli.profiles import DEMO_NAME

    return [name for name in complete_profile(ctx, incomplete) if name != DEMO_NAME]


def complete_column(ctx: Context, incomplete: str) -> list[str]:
    """`--column`: the header of `--file`, when given before it, and the kinds."""
    return column_names(_given(ctx, "file"))


def complete_code(ctx: Context, incomplete: str) -> list[tuple[str, str]]:
    """`wibmo codes CODE`: the catalogue."""
    return response_codes(incomplete)


def _given(ctx: Context | None, name: str) -> Any:
    """An option's value as given on the line so far: the command's, else a parent's
    (a global option may come before the command name)."""
    while ctx is not None:
        value = ctx.params.get(name)
        if isinstance(value, str) and value:
            return value
        ctx = ctx.parent
    return None

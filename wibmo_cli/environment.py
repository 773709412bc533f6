"""Where wibmo's own files live and the variables `${VAR}` reads.

config dir     $WIBMO_CONFIG_DIR, else the platform's (profiles.toml may be there)
data dir       $WIBMO_DATA_DIR, else the platform's (audit log, sandbox database)
environment    the process environment over `.env` in the working directory over
               `.env` beside the profiles file over `secrets.env` beside it (where
               secrets go when there is no keyring): the environment wins, then the
               working directory's file (python-dotenv parses them; a '...' value is
               taken as written, ${VAR} in it not expanded, as a shell takes it)
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, NamedTuple

from wibmo_cli.errors import ConfigError

_ON_LINUX: Final[bool] = os.name == "posix" and sys.platform.startswith("linux")


def config_dir(env: Mapping[str, str]) -> Path:
    """$WIBMO_CONFIG_DIR, else the platform's user config dir for wibmo."""
    return _user_dir(env, "WIBMO_CONFIG_DIR", "XDG_CONFIG_HOME", "~/.config", "user_config_dir")


def data_dir(env: Mapping[str, str]) -> Path:
    """$WIBMO_DATA_DIR, else the platform's user data dir for wibmo (audit log, sandbox db)."""
    return _user_dir(env, "WIBMO_DATA_DIR", "XDG_DATA_HOME", "~/.local/share", "user_data_dir")


def _user_dir(
    env: Mapping[str, str], own: str, xdg_name: str, xdg_default: str, platformdirs_name: str
) -> Path:
    """`env[own]`, else on Linux the XDG rule platformdirs applies there (without its
    import cost), else platformdirs' own answer."""
    if env.get(own):
        return Path(env[own])
    if _ON_LINUX:
        xdg = os.environ.get(xdg_name, "").strip()
        return (Path(xdg) if xdg else Path(xdg_default).expanduser()) / "wibmo"
    import platformdirs

    return Path(getattr(platformdirs, platformdirs_name)("wibmo", appauthor=False))


class DotEnv(NamedTuple):
    """A `.env` file looked at for `${VAR}`, and whether it was there to read."""

    path: Path
    found: bool


@dataclass(frozen=True)
class Environment:
    """The variables `${VAR}` reads (the process environment over the `.env` files) and
    the `.env` files looked at, the working directory's first (it wins)."""

    values: dict[str, str] = field(repr=False)
    dotenv: tuple[DotEnv, ...] = ()


def not_set(var: str, dotenv: tuple[DotEnv, ...]) -> str:
    """Why `var` has no value, naming the .env files looked at (when known)."""
    said = f"needs environment variable {var}, which is not set (nor in .env)"
    if not dotenv:
        return said
    looked = ", ".join(f"{d.path}{'' if d.found else ' (no such file)'}" for d in dotenv)
    return f"{said}; .env files looked at: {looked}"


SECRETS_ENV: Final = "secrets.env"


def dotenv_places(cwd: Path, profiles_file: Path | None) -> list[Path]:
    """The `.env` files to read: the working directory's, then the one beside the
    profiles file (when that is another directory), then `secrets.env` beside the
    profiles file when there is one (named only then: it is the fallback a user chose)."""
    places = [cwd / ".env"]
    if profiles_file is not None:
        beside = profiles_file.parent / ".env"
        with contextlib.suppress(OSError):
            if beside.resolve() != places[0].resolve():
                places.append(beside)
        secrets = profiles_file.parent / SECRETS_ENV
        if secrets.is_file():
            places.append(secrets)
    return places


def environment(cwd: Path | None = None, profiles_file: Path | None = None) -> Environment:
    """The process environment over `.env` in the working directory over `.env` beside
    `profiles_file`: a profile kept in the config dir with its secrets beside it works
    from any directory, and a project's own .env still wins."""
    places = dotenv_places(cwd or Path.cwd(), profiles_file)
    merged: dict[str, str] = {}
    for place in reversed(places):  # the working directory's last: it wins
        merged.update(_read_dotenv(place))
    merged.update(os.environ)
    return Environment(merged, tuple(DotEnv(p, p.is_file()) for p in places))


def load_environment(cwd: Path | None = None) -> dict[str, str]:
    """The process environment over `.env` in the working directory."""
    return environment(cwd).values


MAX_DOTENV_BYTES: Final = 1 << 20  # a .env holds a few variables (as a profiles file)


def read_capped(dotenv: Path) -> bytes:
    """The bytes of a `.env` file, refused (one line) beyond MAX_DOTENV_BYTES: a file of
    gigabytes would be read whole and parsed for tens of seconds before every command."""
    try:
        with dotenv.open("rb") as fh:
            data = fh.read(MAX_DOTENV_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {dotenv}: {exc.strerror}") from None
    if len(data) > MAX_DOTENV_BYTES:
        raise ConfigError(f"{dotenv} is larger than 1 MiB: not a file of variables")
    return data


def _read_dotenv(dotenv: Path) -> dict[str, str]:
    if not dotenv.is_file():
        return {}
    import io

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    data = read_capped(dotenv)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # its text names a byte of what may be a secret
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{dotenv}: line {line} is not UTF-8 text") from None
    # python-dotenv skips a line it cannot parse with a log warning on stderr; a
    # garbled .env may hold a garbled secret: say which line, once, and stop.
    bindings = list(parse_stream(io.StringIO(text)))
    bad = next((b.original.line for b in bindings if b.error), None)
    if bad is not None:
        raise ConfigError(f"{dotenv}: line {bad} is not NAME=value")
    values = dotenv_values(stream=io.StringIO(text))
    # python-dotenv expands ${VAR} inside '...' too; a shell does not, and a secret
    # written there (`profiles add --secrets-file`) must come back as it was written
    literal = {b.key: _single_quoted(b.original.string) for b in bindings if b.key}
    if any(literal.values()):
        raw = dotenv_values(stream=io.StringIO(text), interpolate=False)
        values.update({key: raw[key] for key, quoted in literal.items() if quoted})
    return {k: v for k, v in values.items() if v is not None}


def _single_quoted(line: str) -> bool:
    """Whether the .env line `NAME='value'` (or `export NAME='value'`) quotes its
    value with single quotes."""
    return line.partition("=")[2].lstrip().startswith("'")

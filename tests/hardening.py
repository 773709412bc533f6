"""Shared by the hardening tests (bad input, faults, secrets, transport, privacy).

Known secret values, every form in which one could leak, a profiles file pointing at a
sandbox that accepts them, and the checks every failing command must pass.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox_fixtures import make_settings
from typer.testing import Result

from wibmo_cli.app import INTERNAL_ERROR
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.sandbox import Sandbox, SandboxSettings

API_KEY = "hk-ApiKey-9rT2wQ7zLmX4"
SECURE_CODE = "HK-SecureCode-4xV8pN"
ENCRYPTION_KEY = "Hk24ByteTextKeyForTest!!"  # 24 characters: key_encoding auto reads it as text
KEY = ENCRYPTION_KEY.encode()
CLIENT_ID = "FintechA"
BANK_ID = "2010"
PROFILE = "hard"
ENV_VARS = {
    "HARD_API_KEY": API_KEY,
    "HARD_SECURE_CODE": SECURE_CODE,
    "HARD_KEY": ENCRYPTION_KEY,
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Every spelling of a secret that must never be written anywhere by the tool.
SECRET_FORMS: dict[str, str] = {
    "api_key": API_KEY,
    "api_key base64": _b64(API_KEY),
    "secure_code": SECURE_CODE,
    "secure_code base64": _b64(SECURE_CODE),
    "encryption_key": ENCRYPTION_KEY,
    "encryption_key hex": KEY.hex(),
    "encryption_key HEX": KEY.hex().upper(),
    "encryption_key base64": base64.b64encode(KEY).decode(),
    "encryption_key base64url": base64.urlsafe_b64encode(KEY).decode(),
}

Invoke = Callable[..., Result]


def codec(iv: str = "zero") -> TokenCodec:
    return TokenCodec(KEY, IvScheme.parse(iv))


def settings(db_path: Path, **extra: Any) -> SandboxSettings:
    """A sandbox that accepts exactly the hardening profile's credentials."""
    credentials = {
        "key": KEY,
        "api_key": API_KEY,
        "client_id": CLIENT_ID,
        "bank_id": BANK_ID,
        "secure_code": SECURE_CODE,
    }
    return make_settings(db_path, **{**credentials, **extra})


@contextmanager
def running(db_path: Path, **extra: Any) -> Iterator[Sandbox]:
    with Sandbox(settings(db_path, **extra)) as sandbox:
        yield sandbox


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def profile_values(url: str, *, literal: bool = False, **override: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "base_url": url,
        "client_id": CLIENT_ID,
        "bank_id": BANK_ID,
        "api_key": API_KEY if literal else "${HARD_API_KEY}",
        "secure_code": SECURE_CODE if literal else "${HARD_SECURE_CODE}",
        "encryption_key": ENCRYPTION_KEY if literal else "${HARD_KEY}",
        "timeout": 5,
        "retries": 0,
    }
    values.update(override)
    return {k: v for k, v in values.items() if v is not None}


def write_profiles(
    url: str,
    *,
    literal: bool = False,
    path: Path | None = None,
    extra_profiles: dict[str, dict[str, Any]] | None = None,
    **override: Any,
) -> Path:
    """profiles.toml (in the working directory unless `path`), default profile `hard`."""
    tables = {PROFILE: profile_values(url, literal=literal, **override)}
    tables.update(extra_profiles or {})
    lines = [f'default_profile = "{PROFILE}"']
    for name, values in tables.items():
        lines += ["", f"[profiles.{name}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = path or Path.cwd() / "profiles.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def assert_one_line_error(result: Result, code: int, fragment: str) -> None:
    """Exit `code`, no traceback, and the message as exactly one line on stderr."""
    assert result.exit_code != INTERNAL_ERROR, result.stderr
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert fragment in lines[0], (fragment, lines[0])


def assert_usage_error(result: Result, fragment: str) -> None:
    """Exit 2 from click's own parsing, as one line naming the help to read."""
    assert_one_line_error(result, 2, fragment)
    assert "--help')" in result.stderr, result.stderr


def leaks(text: str) -> list[str]:
    """The names of the secret forms found in `text`."""
    return [name for name, form in SECRET_FORMS.items() if form in text]


def leaks_in_bytes(data: bytes) -> list[str]:
    found = [name for name, form in SECRET_FORMS.items() if form.encode() in data]
    # SQLite and other writers may store text as UTF-16.
    found += [
        f"{name} (utf-16)"
        for name, form in SECRET_FORMS.items()
        if form.encode("utf-16-le") in data
    ]
    return found

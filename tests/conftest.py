"""Shared fixtures: every test runs with config, data, audit log, .env and HOME in a temp dir."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from wibmo_cli.app import app

# Fixtures shared by the sandbox tests (`platform` uses each module's own `sandbox`).
pytest_plugins = ("sandbox_fixtures",)

_CLEARED = (
    "WIBMO_PROFILE",
    "WIBMO_PROFILES",
    "WIBMO_AUDIT_LOG",
    "NO_COLOR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME, config dir, data dir and working directory for each test."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WIBMO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WIBMO_DATA_DIR", str(tmp_path / "data"))
    for var in _CLEARED:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(work)
    yield work


@pytest.fixture(autouse=True)
def signals_restored() -> Iterator[None]:
    """Ctrl-C's and SIGTERM's handlers as they were before each test. A command run
    in-process may leave them ignored (`interrupts.ignore`, as it exits); processes this
    worker starts later would inherit that, and a signal sent to them would be lost."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        if handler is not None:
            signal.signal(signum, handler)


Invoke = Callable[..., Result]


@pytest.fixture
def wibmo() -> Invoke:
    """Run the CLI in-process: `wibmo("decrypt", token, input="...")` -> Result.

    The result has `.exit_code`, `.stdout` and `.stderr` kept apart.
    """
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke

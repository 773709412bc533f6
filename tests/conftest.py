"""Shared fixtures: every test runs with config, data, audit log, .env and HOME in a temp dir
and the test credentials' environment variables set; sandboxes start on a copy of a database
seeded once per session (per xdist worker); the CLI runs in-process through `wibmo`.

Plain helpers (credentials, profiles files, processes, checks) are in support.py.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from support import ENV_VARS, Invoke, Platform, StartSandbox, settings, write_profiles
from typer.testing import CliRunner, Result

from wibmo_cli.app import INTERNAL_ERROR, app
from wibmo_cli.sandbox import Sandbox
from wibmo_cli.sandbox.store import Store

# Hypothesis: WIBMO_HYPOTHESIS=dev (the default: a quick look), ci (CI's full run: each
# test's own number of examples, `support.budget`) or fuzz (a campaign,
# bench/fuzz_campaign.py: thirty times as many).
for _name, _examples in (("dev", 25), ("ci", 100), ("fuzz", 3_000)):
    hypothesis_settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
hypothesis_settings.load_profile(os.environ.get("WIBMO_HYPOTHESIS", "dev"))

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


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers a core. Many tests spend their time waiting (a subprocess
    starting, a server's timeout, a signal's delivery), so one worker a core leaves the
    cores idle: on 2 cores the default run took 47-53 s with 2 workers, 42 s with 4."""
    return 2 * (os.cpu_count() or 1)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private HOME, config dir, data dir and working directory for each test, and the
    test credentials in the environment (`${HARD_API_KEY}`, ...)."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WIBMO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WIBMO_DATA_DIR", str(tmp_path / "data"))
    for var in _CLEARED:
        monkeypatch.delenv(var, raising=False)
    for name, value in ENV_VARS.items():
        monkeypatch.setenv(name, value)
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


@pytest.fixture
def wibmo() -> Invoke:
    """Run the CLI in-process: `wibmo("decrypt", token, input="...")` -> Result.

    The result has `.exit_code`, `.stdout` and `.stderr` kept apart.
    """
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def cli(wibmo: Invoke) -> Invoke:
    """`wibmo`, checking that no run ends in a traceback or an internal error (exit 70)."""

    def run(*args: str, input: str | bytes | None = None) -> Result:
        result = wibmo(*args, input=input)
        assert "Traceback" not in result.stderr
        assert "internal error" not in result.stderr
        assert result.exit_code != INTERNAL_ERROR, result.stderr
        return result

    return run


# -- the sandbox -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox database seeded once per session (per xdist worker), to be copied: seeding
    is most of a sandbox's start-up, and hundreds of tests start one."""
    path = tmp_path_factory.mktemp("seeded") / "sandbox.db"
    Store.open(path).close()
    return path


@pytest.fixture
def db_path(seeded_database: Path, tmp_path: Path) -> Path:
    """This test's own sandbox database, seeded (a copy of `seeded_database`, mode 0600)."""
    return Path(shutil.copy(seeded_database, tmp_path / "sandbox.db"))


@pytest.fixture
def start_sandbox(db_path: Path) -> Iterator[StartSandbox]:
    """`start_sandbox(profile={...}, iv="key", faults=Faults(...), ...)`: a sandbox on
    loopback accepting the test credentials, on this test's database, started, and stopped
    after the test (or at the end of a `with start_sandbox() as sandbox:` block). With
    `profile` (overrides, maybe none: `{}`), ./profiles.toml's default profile `hard`
    points at it."""
    started: list[Sandbox] = []

    def start(profile: dict[str, Any] | None = None, **extra: Any) -> Sandbox:
        sandbox = Sandbox(settings(db_path, **extra))
        started.append(sandbox)
        sandbox.start()
        if profile is not None:
            write_profiles(sandbox.url, **profile)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """A sandbox accepting the test credentials (no profiles file)."""
    return start_sandbox()


@pytest.fixture
def platform(sandbox: Sandbox) -> Iterator[Platform]:
    """A client of the `sandbox` fixture."""
    client = Platform(sandbox.url)
    yield client
    client.close()

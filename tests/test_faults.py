"""Faults: the CLI against the sandbox's fault knobs, served for real on loopback.

A timeout is a timeout, however many retries are allowed; an update is never sent twice,
whatever goes wrong after it left; and the lookup before an update is retried through
the whole CLI path. Which failures a lookup retries, how often and how long it waits are
unit tests with an injected sleep (test_client.py, test_wire_retry.py): no real backoff
is slept here but the one retry that proves the CLI path.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ENV_VARS, Invoke, settings, write_profiles

from wibmo_cli.sandbox import Faults, RequestRecord, Sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV_VARS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


def start(db: Path, *, port: int = 0, **faults: Any) -> Sandbox:
    sandbox = Sandbox(settings(db, faults=Faults(**faults)), port=port)
    sandbox.start()
    return sandbox


@pytest.fixture
def sandbox_with(db: Path) -> Iterator[Any]:
    """`sandbox_with(queue=[...], retries=2)`: a sandbox with those faults, the profile
    pointing at it with those settings."""
    started: list[Sandbox] = []

    def make(profile: dict[str, Any] | None = None, **faults: Any) -> Sandbox:
        sandbox = start(db, **faults)
        started.append(sandbox)
        write_profiles(sandbox.url, **(profile or {}))
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


def api(sandbox: Sandbox, kind: str) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.api == kind]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timed(wibmo: Invoke, *args: str) -> tuple[Any, float]:
    started = time.monotonic()
    result = wibmo(*args)
    return result, time.monotonic() - started


# -- retries: within the budget --------------------------------------------------------------


def test_no_retries_means_one_request(wibmo: Invoke, sandbox_with: Any) -> None:
    sandbox = sandbox_with({"retries": 0}, queue=["503", "ok"])
    result = wibmo("lookup", "--urn", "389")
    assert result.exit_code == 6
    assert len(api(sandbox, "lookup")) == 1


# -- timeouts --------------------------------------------------------------------------------


def test_a_hang_ends_at_the_timeout_and_is_not_retried(wibmo: Invoke, sandbox_with: Any) -> None:
    sandbox = sandbox_with({"timeout": 0.5, "retries": 2}, hang_rate=1.0, hang_seconds=10)
    result, elapsed = timed(wibmo, "lookup", "--urn", "389")
    assert result.exit_code == 5
    assert "within 0.5s (timeout)" in result.stderr
    assert elapsed < 3
    assert [r.fault for r in api(sandbox, "lookup")] == ["hang"]


def test_a_slow_answer_beyond_the_timeout_is_a_timeout(wibmo: Invoke, sandbox_with: Any) -> None:
    sandbox_with({"timeout": 0.5}, latency_ms=5000)
    result, elapsed = timed(wibmo, "lookup", "--urn", "389")
    assert result.exit_code == 5
    assert "(timeout)" in result.stderr
    assert elapsed < 3


def test_a_slow_answer_within_the_timeout_is_an_answer(wibmo: Invoke, sandbox_with: Any) -> None:
    sandbox_with({"timeout": 2}, latency_ms=200)
    result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr


# -- an update is sent at most once ----------------------------------------------------------

UPDATE = ("update-profile", "--urn", "389", "--email", "fault@example.com", "--yes")
NO_LOOKUP = ("--card-profile-id", "150")


def audit_results() -> list[str]:
    path = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    return [json.loads(line)["result"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_update_answered_503_is_not_retried(wibmo: Invoke, sandbox_with: Any) -> None:
    sandbox = sandbox_with({"retries": 5}, queue=["503"])
    result = wibmo(*UPDATE, *NO_LOOKUP)
    assert result.exit_code == 5  # a 5xx may have been applied: outcome unknown
    assert "may or may not have been applied" in result.stderr
    assert [r.fault for r in api(sandbox, "update")] == ["503"]
    assert audit_results() == ["sending", "outcome unknown"]


def test_an_update_that_hangs_is_outcome_unknown_after_one_request(
    wibmo: Invoke, sandbox_with: Any
) -> None:
    sandbox = sandbox_with({"retries": 5, "timeout": 0.5}, queue=["hang"], hang_seconds=10)
    result, elapsed = timed(wibmo, *UPDATE, *NO_LOOKUP)
    assert result.exit_code == 5
    assert "the update may or may not have been applied" in result.stderr
    assert "wibmo -p hard lookup --urn 389" in result.stderr
    assert elapsed < 3
    assert [r.fault for r in api(sandbox, "update")] == ["hang"]
    assert audit_results() == ["sending", "outcome unknown"]


def test_an_update_whose_connection_drops_is_outcome_unknown_after_one_request(
    wibmo: Invoke, sandbox_with: Any
) -> None:
    sandbox = sandbox_with({"retries": 5}, queue=["drop"])
    result = wibmo(*UPDATE, *NO_LOOKUP)
    assert result.exit_code == 5
    assert "may or may not have been applied" in result.stderr
    assert [r.fault for r in api(sandbox, "update")] == ["drop"]


def test_an_update_to_a_refused_port_says_nothing_was_sent(wibmo: Invoke) -> None:
    write_profiles(f"http://127.0.0.1:{free_port()}", retries=5)
    result = wibmo(*UPDATE, *NO_LOOKUP)
    assert result.exit_code == 5
    assert "nothing was sent" in result.stderr
    assert audit_results() == ["sending", "not sent"]


def test_the_lookup_before_an_update_is_retried_but_the_update_is_not(
    wibmo: Invoke, sandbox_with: Any
) -> None:
    sandbox = sandbox_with({"retries": 2}, queue=["503", "ok", "503"])
    result = wibmo(*UPDATE)
    assert result.exit_code == 5
    assert [r.status for r in api(sandbox, "lookup")] == [503, 200]
    assert [r.status for r in api(sandbox, "update")] == [503]

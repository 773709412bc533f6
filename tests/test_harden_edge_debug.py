"""Issue 9, item 15: `--debug` adds the traceback and never changes the exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Invoke, served, write_profiles

pytestmark = pytest.mark.e2e


def _debugged(result: object, code: int, fragment: str) -> None:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == code, stderr  # type: ignore[attr-defined]
    assert "Traceback (most recent call last)" in stderr
    assert stderr.splitlines()[-1].startswith("error: ") and fragment in stderr.splitlines()[-1]


def test_bad_input_with_debug_is_still_exit_2(wibmo: Invoke) -> None:
    _debugged(wibmo("--debug", "lookup", "--mobile", "12"), 2, "--mobile '12'")


def test_a_usage_error_with_debug_is_still_exit_2(wibmo: Invoke) -> None:
    result = wibmo("--debug", "lookup", "--bogus")
    assert result.exit_code == 2
    assert "No such option: --bogus" in result.stderr.splitlines()[-1]


def test_a_refused_connection_with_debug_is_still_exit_5(wibmo: Invoke) -> None:
    write_profiles("http://127.0.0.1:9", retries=0)
    _debugged(wibmo("lookup", "--urn", "389", "--debug"), 5, "")


def test_an_outcome_unknown_with_debug_is_still_exit_5(wibmo: Invoke, db_path: Path) -> None:
    with served(db_path, profile={"timeout": 0.5}, queue=["hang"], hang_seconds=5):
        result = wibmo("--debug", "update-profile", "--urn", "389", "--city", "Pune",
                       "--card-profile-id", "150", "--yes")  # fmt: skip
    _debugged(result, 5, "may or may not have been applied")


def test_a_configuration_error_with_debug_is_still_exit_3(wibmo: Invoke) -> None:
    _debugged(wibmo("--debug", "-p", "nowhere", "lookup", "--urn", "389"), 3, "nowhere")


def test_an_internal_error_with_debug_is_still_exit_70(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(code: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("wibmo_cli.codes.explain", broken)
    _debugged(wibmo("--debug", "codes", "1303"), 70, "internal error: RuntimeError: a bug")

"""The edge (app.py): a command returns its exit status and the edge exits with it;
`--debug` is read from the arguments the CLI was given, never from the process's argv."""

from __future__ import annotations

import sys
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner, Result

from wibmo_cli.app import COMMANDS, INTERNAL_ERROR, WibmoGroup, app
from wibmo_cli.commands.options import command_options
from wibmo_cli.errors import ExitStatus
from wibmo_cli.runtime import Runtime


@command_options
def answering(rt: Runtime, status: Annotated[str, typer.Option("--status")] = "none") -> int | None:
    """A command that says something, then returns the status it is told to."""
    rt.render.line("said")
    if status == "none":
        return None
    if status == "text":
        return "4"  # type: ignore[return-value]  # a bug: not an exit status
    return int(status)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(WibmoGroup, "targets", {**COMMANDS, "answering": f"{__name__}:answering"})
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("given", "code"),
    [("none", 0), ("0", 0), ("1", 1), (str(int(ExitStatus.CRYPTO)), 4), ("130", 130)],
)
def test_what_a_command_returns_is_its_exit_code(run: CliRunner, given: str, code: int) -> None:
    result = invoke(run, "answering", "--status", given)
    assert result.exit_code == code, result.stderr
    assert result.stdout == "said\n"
    assert result.stderr == ""


def test_a_command_returning_something_else_is_a_bug(run: CliRunner) -> None:
    result = invoke(run, "answering", "--status", "text")
    assert result.exit_code == INTERNAL_ERROR
    assert "internal error: TypeError: a command returned '4', not an exit status" in (
        result.stderr
    )


@pytest.mark.parametrize(
    "args",
    [
        ("lookup", "--no-such-option", "--debug"),  # after the command: never parsed
        ("--debug", "lookup", "--no-such-option"),  # before it: parsed by the root
        ("--no-such-option", "--debug"),  # the root's own usage error
    ],
)
def test_debug_as_given_shows_the_traceback_of_a_usage_error(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setattr(sys, "argv", ["wibmo"])
    result = invoke(run, *args)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "No such option: --no-such-option" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("lookup", "--no-such-option"),
        ("decrypt", "--no-such-option", "--", "--debug"),  # after --: an argument
    ],
)
def test_the_processs_argv_does_not_turn_debug_on(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setattr(sys, "argv", ["wibmo", "--debug"])
    result = invoke(run, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: No such option: --no-such-option")

"""`wibmo --help` lists each command's summary without building the command (typer
reading every signature was most of its time): the summary must be the one the built
command gives, for every command, at any width."""

from __future__ import annotations

import pytest
from support import Invoke

from wibmo_cli.app import COMMANDS
from wibmo_cli.typer_glue import build_command, summary_of


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_summary_read_without_building_is_the_built_commands(name: str) -> None:
    from typer._click.utils import make_default_short_help

    built = build_command(name, COMMANDS[name])
    for limit in (20, 45, 120):
        text = summary_of(COMMANDS[name]).split("\f", 1)[0]
        assert make_default_short_help(text, limit) == built.get_short_help_str(limit)


def test_help_lists_every_command_with_its_summary(wibmo: Invoke) -> None:
    shown = wibmo("--help")
    assert shown.exit_code == 0
    for name in COMMANDS:
        first = summary_of(COMMANDS[name]).split("\n", 1)[0].split(".")[0][:20]
        line = next(line for line in shown.stdout.splitlines() if line.startswith(f"  {name} "))
        assert first in line, (name, line)

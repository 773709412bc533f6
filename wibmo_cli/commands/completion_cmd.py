"""`wibmo completion SHELL`: the script that makes SHELL complete wibmo's command lines."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from wibmo_cli.commands.options import command_options
from wibmo_cli.runtime import OutputFormat, Runtime


class Shell(StrEnum):
    """The shells typer has completion scripts for that wibmo supports."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


@command_options(formats=(OutputFormat.table,))  # a script, no JSON form
def completion(
    rt: Runtime,
    shell: Annotated[
        Shell,
        typer.Argument(
            help="bash, zsh or fish (named: detection fails in containers and IDEs).",
            show_default=False,
        ),
    ],
) -> None:
    """Print the shell completion script for bash, zsh or fish.

    It completes commands, options, profile names (from the profiles file wibmo would
    read, or the --profiles-file given earlier on the line), -o formats, --column names
    (the --file's header) and response codes. Install it once:
    bash: eval "$(wibmo completion bash)" in ~/.bashrc; zsh: the same with zsh in
    ~/.zshrc; fish: wibmo completion fish > ~/.config/fish/completions/wibmo.fish

    \\b
    Examples:
      wibmo completion bash
      wibmo completion zsh > wibmo.zsh
    """
    from wibmo_cli.typer_glue import completion_script

    rt.render.line(completion_script(shell.value, "wibmo"))

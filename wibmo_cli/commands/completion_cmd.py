"""`wibmo completion SHELL`: the script that makes SHELL complete wibmo's command lines."""

from __future__ import annotations

from typing import Annotated, Final

import typer

from wibmo_cli.commands.options import command_options
from wibmo_cli.errors import InputError
from wibmo_cli.runtime import OutputFormat, Runtime

# The shells typer has completion scripts for that wibmo supports. A plain string, checked
# here: click words a missing choice over several lines ("Choose from:\n\tbash,...").
SHELLS: Final = ("bash", "zsh", "fish")


def _shells() -> list[str]:
    return list(SHELLS)


@command_options(formats=(OutputFormat.table,))  # a script, no JSON form
def completion(
    rt: Runtime,
    shell: Annotated[
        str,
        typer.Argument(
            autocompletion=_shells,
            help="bash, zsh or fish (named: detection fails in containers and IDEs).",
            show_default=False,
        ),
    ],
) -> None:
    """Print the shell completion script for bash, zsh or fish.

    It completes commands, options, profile names (from the profiles file wibmo would
    read, or the --profiles-file given earlier on the line), -o formats, --column names
    (the --file's header) and response codes. Install it once:

    \b
      bash: eval "$(wibmo completion bash)"   in ~/.bashrc
      zsh:  eval "$(wibmo completion zsh)"    in ~/.zshrc
      fish: wibmo completion fish > ~/.config/fish/completions/wibmo.fish

    \b
    Examples:
      wibmo completion bash
      wibmo completion zsh > wibmo.zsh
    """
    from wibmo_cli.typer_glue import completion_script

    if shell not in SHELLS:
        raise InputError(f"{shell!r}: must be bash, zsh or fish")
    rt.render.line(completion_script(shell, "wibmo"))

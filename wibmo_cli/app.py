"""The root command, and the one place that turns errors into exit codes."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from typer._click import Context as ClickContext
from typer.core import TyperGroup

from wibmo_cli import __version__
from wibmo_cli.commands import (
    audit_cmd,
    codes,
    lookup,
    profiles_cmd,
    sandbox_cmd,
    tokens,
    update_cmd,
)
from wibmo_cli.errors import ExitStatus, WibmoError
from wibmo_cli.runtime import GlobalOptions, OutputFormat, root_options

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in wibmo itself


class WibmoGroup(TyperGroup):
    """Root group: `WibmoError` -> one line on stderr and its exit code."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except WibmoError as exc:
            if _debug(ctx):
                raise
            from wibmo_cli.render import error_line

            error_line(str(exc))
            raise typer.Exit(exc.exit_status) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except typer.BadParameter:
            raise
        except Exception as exc:
            if _debug(ctx) or _is_click_exception(exc):
                raise
            from wibmo_cli.render import error_line

            error_line(
                f"internal error: {type(exc).__name__}: {exc} "
                "(a bug in wibmo; rerun with --debug for the traceback and report it)",
            )
            raise typer.Exit(INTERNAL_ERROR) from None


def _debug(ctx: ClickContext) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, GlobalOptions) and obj.debug) or "--debug" in sys.argv


def _is_click_exception(exc: Exception) -> bool:
    from typer._click.exceptions import ClickException

    return isinstance(exc, ClickException)


app = typer.Typer(
    cls=WibmoGroup,
    name="wibmo",
    help=(
        "Operations tool for the Wibmo Prepaid platform: look customers up, update "
        "profiles, encrypt and decrypt tokens, explain response codes, run a local sandbox."
        "\n\n\b\nExamples:\n"
        "  wibmo lookup --mobile 9897123456\n"
        "  wibmo -p uat lookup --urn 389 -o json\n"
        "  wibmo decrypt --detect captured-token.txt\n"
        "  wibmo codes 1303"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wibmo {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Profile to use.", show_default=False),
    ] = None,
    profiles_file: Annotated[
        str | None, typer.Option("--profiles-file", help="Profiles file.", show_default=False)
    ] = None,
    output: Annotated[
        OutputFormat | None,
        typer.Option("--output", "-o", help="table (default) or json.", show_default=False),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Trace requests on stderr.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    root_options(
        ctx,
        {
            "profile": profile,
            "profiles_file": profiles_file,
            "output": output,
            "verbose": verbose,
            "debug": debug,
        },
    )


app.command("lookup")(lookup.lookup)
app.command("update-profile")(update_cmd.update_profile)
app.command("audit")(audit_cmd.audit)
app.command("encrypt")(tokens.encrypt)
app.command("decrypt")(tokens.decrypt)
app.command("codes")(codes.codes)
app.add_typer(profiles_cmd.profiles_app, name="profiles")
app.command("sandbox")(sandbox_cmd.sandbox)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["ExitStatus", "app", "main"]

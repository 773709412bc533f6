"""The root command, and the one place that exits: a command's returned status, an error's code."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Final, NoReturn

import typer

from wibmo_cli import __version__, interrupts
from wibmo_cli.commands.options import root_options
from wibmo_cli.errors import ExitStatus, OutputError, WibmoError
from wibmo_cli.runtime import GlobalOptions
from wibmo_cli.typer_glue import (
    ClickContext,
    ClickException,
    LazyGroup,
    NoArgsIsHelpError,
    UsageError,
)

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in wibmo itself
PIPE_CLOSED = 141  # 128 + SIGPIPE: the reader of stdout went away, as a shell reports it

# The commands, in the order help lists them: "module:attribute", a command function or
# a Typer (a group). A command's module is imported, and its click command built, only
# when it runs or help lists it: `wibmo decrypt` pays for none of the others.
COMMANDS: Final[Mapping[str, str]] = {
    "lookup": "wibmo_cli.commands.lookup:lookup",
    "shell": "wibmo_cli.commands.shell_cmd:shell",
    "update-profile": "wibmo_cli.commands.update_profile:update_profile",
    "reconcile": "wibmo_cli.commands.reconcile_cmd:reconcile",
    "call": "wibmo_cli.commands.call:call",
    "audit": "wibmo_cli.commands.audit_cmd:audit",
    "encrypt": "wibmo_cli.commands.tokens:encrypt",
    "decrypt": "wibmo_cli.commands.tokens:decrypt",
    "mitm-addon": "wibmo_cli.commands.mitm_cmd:mitm_addon",
    "codes": "wibmo_cli.commands.codes:codes",
    "sandbox": "wibmo_cli.commands.sandbox_cmd:sandbox_app",
    "profiles": "wibmo_cli.commands.profiles_cmd:profiles_app",
    "completion": "wibmo_cli.commands.completion_cmd:completion",
}
_ARGV: Final = "wibmo.argv"  # the root's arguments, in the context's shared `meta`


class WibmoGroup(LazyGroup):
    """Root group: commands loaded when used (`LazyGroup`); the edge: what a command
    returns becomes the exit status, a `WibmoError` one line and its exit code."""

    targets = COMMANDS

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = tuple(args)  # for --debug before the options could be parsed
        return super().parse_args(ctx, args)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        try:
            try:
                return super().make_context(info_name, args, parent=parent, **extra)
            except NoArgsIsHelpError as exc:  # a bare `wibmo`: the help is the answer
                typer.echo(exc.format_message())
                raise typer.Exit(0) from None
        except UsageError as exc:
            _usage_error(exc)
        except BrokenPipeError:  # --help or --version into `| head`
            _stdout_gone()
            raise typer.Exit(PIPE_CLOSED) from None
        except OutputError as exc:  # --help or --version into a full disk
            _stdout_gone()
            from wibmo_cli.render import error_line

            error_line(str(exc))
            raise typer.Exit(exc.exit_status) from None

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            status = _exit_status(super().invoke(ctx))
            _flush_stdout()  # a write error surfaces here, not in Python's exit
        except UsageError as exc:
            _usage_error(exc, debug=_debug(ctx))
        except WibmoError as exc:
            if _debug(ctx):
                _traceback()
            if isinstance(exc, OutputError):
                _stdout_gone()  # what stdout still holds is lost: do not fail again at exit
            from wibmo_cli.render import error_line

            error_line(str(exc))
            raise typer.Exit(exc.exit_status) from None
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM that no command said more about
            from wibmo_cli.render import Renderer

            Renderer().info("interrupted")
            raise typer.Exit(ExitStatus.INTERRUPTED) from None
        except EOFError:  # Ctrl-D at a question no command said more about: as Ctrl-C
            from wibmo_cli.render import Renderer

            Renderer().info("no answer (end of input): nothing done")
            raise typer.Exit(ExitStatus.INTERRUPTED) from None
        except BrokenPipeError:
            _stdout_gone()
            raise typer.Exit(PIPE_CLOSED) from None
        except Exception as exc:
            if isinstance(exc, ClickException):
                raise
            if interrupts.interrupted(exc):
                raise typer.Exit(ExitStatus.INTERRUPTED) from None
            if _debug(ctx):
                _traceback()
            from wibmo_cli.render import error_line

            error_line(
                f"internal error: {type(exc).__name__}: {exc} "
                "(a bug in wibmo; rerun with --debug for the traceback and report it)",
            )
            raise typer.Exit(INTERNAL_ERROR) from None
        if status:
            raise typer.Exit(status)


def _exit_status(result: object) -> int:
    """What a command returned, as its exit status: None (or 0) for success."""
    if result is None:
        return 0
    if isinstance(result, int) and not isinstance(result, bool):
        return int(result)
    raise TypeError(f"a command returned {result!r}, not an exit status")


def _usage_error(exc: UsageError, *, debug: bool = False) -> NoReturn:
    """Click's usage errors as one line, like every other error (exit 2).

    `no_args_is_help` on a group (a bare `wibmo profiles`) keeps click's own handling:
    help, exit 2; a bare `wibmo` is answered by `WibmoGroup.make_context` (help, exit 0).
    """
    if isinstance(exc, NoArgsIsHelpError):
        raise exc
    if debug or (exc.ctx is not None and _debug(exc.ctx)):
        _traceback()
    from wibmo_cli.render import error_line

    where = exc.ctx.command_path if exc.ctx is not None else "wibmo"
    error_line(f"{exc.format_message()} (see '{where} --help')")
    raise typer.Exit(exc.exit_code) from None


def _traceback() -> None:
    """`--debug`: the traceback of the exception being handled, on stderr; the exit code
    stays the documented one."""
    import traceback

    from wibmo_cli.render import MessageStream
    from wibmo_cli.textsafe import visible

    # An exception's text may quote what a server sent: control characters made visible.
    MessageStream().write(visible(traceback.format_exc(), lines=True))


def _flush_stdout() -> None:
    from wibmo_cli.render import OutputStream

    if sys.stdout is not None:
        OutputStream().flush()


def _stdout_gone() -> None:
    """Whoever read stdout went away (`wibmo decrypt big.txt | head`), or it cannot be
    written: stop quietly, as `cat` does (see `render.drop_stdout`)."""
    from wibmo_cli.render import drop_stdout

    drop_stdout()


def _debug(ctx: ClickContext) -> bool:
    """--debug, as parsed; else (when parsing failed before reaching it) as given."""
    root = ctx.find_root()
    if isinstance(root.obj, GlobalOptions) and root.obj.debug:
        return True
    argv: tuple[str, ...] = root.meta.get(_ARGV, ())
    return "--debug" in (argv[: argv.index("--")] if "--" in argv else argv)


app = typer.Typer(
    cls=WibmoGroup,
    name="wibmo",
    help=(
        "Operations tool for the Wibmo Prepaid platform: look customers up, update "
        "profiles, encrypt and decrypt tokens, explain response codes, run a local sandbox."
        "\n\n\b\nExamples:\n"
        "  wibmo lookup --mobile 9897123456\n"
        "  wibmo lookup --urn 389 -o json\n"
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
        from wibmo_cli.render import Renderer

        Renderer().line(f"wibmo {__version__}")  # a closed stdout is an error here too
        raise typer.Exit()


@app.callback()
@root_options
def root(
    *,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    pass  # the global options are kept for the command (commands/options.py)


def main() -> NoReturn:
    """Console-script entry point: signals handled, stdout's last flush checked.

    Ctrl-C or SIGTERM before typer takes over (or after it lets go) ends quietly with 130;
    once the exit code is decided, a late signal cannot turn it into a traceback.
    """
    code: int
    try:
        interrupts.starting()  # until the command runs (runtime.command_options)
        _guard_streams()
        try:
            app()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        code = flush_at_exit(code)
    except KeyboardInterrupt:
        code = int(ExitStatus.INTERRUPTED)
    interrupts.settle(code)
    leave(code)


def leave(code: int) -> NoReturn:
    """Exit with `code`, skipping the interpreter's teardown when nothing needs it.

    Tearing down the ~400 modules a lookup loads takes 20-25 ms, a sixth of a cold
    lookup, and does nothing a finished command needs: the atexit functions are run
    here, stdout is flushed already (`flush_at_exit`) and stderr is flushed now. Only
    when a thread other than daemons is still running (its work may not be done) does
    Python's own exit run, which waits for it.
    """
    import atexit
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate()
           if t is not threading.main_thread()):  # fmt: skip
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):  # a failed stdout is said already; stderr
            if stream is not None:  # gone: nothing more can be said
                stream.flush()
    os._exit(code)


def _guard_streams() -> None:
    """Every writer (click's help, version and prompts, logging, tracebacks), not only the
    renderer: a failed stdout write is an OutputError, a failed stderr write is dropped."""
    from wibmo_cli.render import MessageStream, OutputStream, closed_stream

    if sys.stdout is None:  # started with stdout closed (`>&-`): click would write nothing
        sys.stdout = OutputStream(closed_stream())  # and exit 0; every write fails instead
    elif not isinstance(sys.stdout, OutputStream):
        sys.stdout = OutputStream(sys.stdout)
    if sys.stderr is not None and not isinstance(sys.stderr, MessageStream):
        sys.stderr = MessageStream(sys.stderr)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    return int(value) if isinstance(value, int) else 1


def flush_at_exit(code: int) -> int:
    """stdout flushed before Python's own exit does it (and fails with exit 120): a
    failure is reported like any other write error, keeping a more specific code."""
    from wibmo_cli.render import OutputStream, error_line

    if sys.stdout is None or code in (ExitStatus.OUTPUT, PIPE_CLOSED):
        return code  # nothing to flush, or its failure is said already
    try:
        OutputStream().flush()
    except BrokenPipeError:
        _stdout_gone()
        return code or PIPE_CLOSED
    except OutputError as exc:
        _stdout_gone()
        error_line(str(exc))
        return code or int(exc.exit_status)
    return code


__all__ = ["app", "main"]

"""What commands share: the global options, declared once, and `--audit-log`.

The global options (`--profile/-p`, `--profiles-file`, `--output/-o`, `--verbose/-v`,
`--jq`, `--fields`, `--debug`) are accepted before the command name (`root_options`, on
the root callback) and after it (`command_options`, on every command); a value given
after the command wins. Both read the one declaration below, so help says the same in
both places. Each command declares the `-o` formats it prints (`command_options(formats=
...)`, table and json unless said): any other is refused before it runs
(`Runtime.__post_init__`), so a new command needs nothing to refuse csv.

Not a command: commands import it, and no command imports another.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Final, overload

import typer

from wibmo_cli.errors import ExitStatus
from wibmo_cli.runtime import DEFAULT_FORMATS, GlobalOptions, OutputFormat, Runtime
from wibmo_cli.typer_glue import ClickContext, add_parameters


def completing(name: str) -> Callable[[Any, str], Any]:
    """The `autocompletion=` callback `completion.NAME`, imported only for a Tab press:
    options and arguments are declared on every run, and most runs complete nothing."""

    def complete(ctx: Any, incomplete: str) -> Any:
        from wibmo_cli import completion

        return getattr(completion, name)(ctx, incomplete)

    complete.__name__ = name
    return complete


def _global(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


GLOBAL_OPTIONS: Final = (
    _global(
        "profile",
        Annotated[
            str | None,
            typer.Option(
                "--profile",
                "-p",
                help="Profile to use (else $WIBMO_PROFILE, else the file's default_profile).",
                show_default=False,
                autocompletion=completing("complete_profile"),
            ),
        ],
        None,
    ),
    _global(
        "profiles_file",
        Annotated[
            str | None,
            typer.Option(
                "--profiles-file",
                help="Profiles file (else $WIBMO_PROFILES, ./profiles.toml, the user config dir).",
                show_default=False,
            ),
        ],
        None,
    ),
    _global(
        "output",
        Annotated[
            OutputFormat | None,
            typer.Option(
                "--output",
                "-o",
                help="table (default) or json; csv/tsv (lookup --file, audit, codes); "
                "md (one lookup). Any case.",
                case_sensitive=False,
                show_default=False,
            ),
        ],
        None,
    ),
    _global(
        "verbose",
        Annotated[
            bool, typer.Option("--verbose", "-v", help="Trace requests and answers on stderr.")
        ],
        False,
    ),
    _global(
        "jq",
        Annotated[
            str | None,
            typer.Option(
                "--jq",
                metavar="EXPR",
                help="Filter the JSON output with a jq expression (implies -o json; "
                "strings print raw).",
                show_default=False,
            ),
        ],
        None,
    ),
    _global(
        "fields",
        Annotated[
            str | None,
            typer.Option(
                "--fields",
                metavar="A,B",
                help="Keep only these keys of the JSON output (dotted paths: cardList.urn).",
                show_default=False,
            ),
        ],
        None,
    ),
    _global("debug", Annotated[bool, typer.Option("--debug", help="Show tracebacks.")], False),
)

# The options of every write (update-profile, call): one declaration, one help text.
DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Print the payload, token and a curl command; send nothing."),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (scripts).")]
ProductionOk = Annotated[
    bool,
    typer.Option("--production-ok", help="With --yes: send to a production profile unasked."),
]

AuditLogPath = Annotated[
    str | None,
    typer.Option(
        "--audit-log",
        metavar="PATH",
        help="Audit log file (else $WIBMO_AUDIT_LOG, else the user data dir).",
        show_default=False,
    ),
]


def _given(ctx: ClickContext, values: Mapping[str, Any]) -> GlobalOptions:
    """The invocation's global options (kept on the root context), with `values` merged."""
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    root.obj.merge(values)
    return root.obj


def root_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The root callback, given the global options: those before the command name."""

    def call(ctx: ClickContext, values: dict[str, Any], own: dict[str, Any]) -> Any:
        _given(ctx, values)
        return func(**own)

    return add_parameters(func, GLOBAL_OPTIONS, call, shared_first=True)


Command = Callable[..., Any]


@overload
def command_options(func: Command) -> Command: ...
@overload
def command_options(
    *, formats: Iterable[OutputFormat] = ..., writes: bool = ..., names_profile: bool = ...
) -> Callable[[Command], Command]: ...
def command_options(
    func: Command | None = None,
    *,
    formats: Iterable[OutputFormat] = DEFAULT_FORMATS,
    writes: bool = False,
    names_profile: bool = False,
) -> Command | Callable[[Command], Command]:
    """A command, given the global options, and called with a `Runtime` as `rt`.

    What it returns (an exit status, or None for 0) is the edge's to act on (app.py).
    `formats`: the `-o` values it prints (table and json unless said); any other is
    refused in one line, exit 2, before it runs. A `--jq` program that failed on some
    of its output makes a success exit 2; a command that `writes` keeps its own status
    (the write's outcome, which the filter must not hide). A command that `names_profile`
    as its argument (`profiles add NAME`) still takes `--profile`, but its help leaves it
    out: there it means nothing.

        @command_options
        def show(rt: Runtime, ...): ...

        @command_options(formats=(OutputFormat.table, OutputFormat.json, OutputFormat.csv))
        def listing(rt: Runtime, ...): ...
    """
    offered = frozenset(formats)

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        def call(ctx: ClickContext, values: dict[str, Any], own: dict[str, Any]) -> Any:
            from wibmo_cli import interrupts

            interrupts.running()  # Ctrl-C and SIGTERM now reach the command's own handling
            rt = Runtime(_given(ctx, values), command=ctx.command_path, formats=offered)
            status = command(rt=rt, **own)
            if rt.filter_failed:
                return _filtered_status(rt, status, writes=writes)
            return status

        shared = WITHOUT_PROFILE if names_profile else GLOBAL_OPTIONS
        return add_parameters(command, shared, call, hidden=("rt",))

    return decorate if func is None else decorate(func)


def _out_of_help(parameter: inspect.Parameter) -> inspect.Parameter:
    """`parameter`, accepted as before but not listed by --help."""
    import copy

    annotation, info = parameter.annotation.__origin__, parameter.annotation.__metadata__[0]
    info = copy.copy(info)
    info.hidden = True
    return parameter.replace(annotation=Annotated[annotation, info])


WITHOUT_PROFILE: Final = tuple(
    _out_of_help(p) if p.name == "profile" else p for p in GLOBAL_OPTIONS
)


def _filtered_status(rt: Runtime, status: int | None, *, writes: bool) -> int | None:
    """A success whose output --jq failed on is exit 2 (a script must not take the
    missing output for an answer); any other status says more and stays. A write keeps
    its own, said once more on stderr after the filter's messages."""
    if writes:
        rt.render.info(
            f"--jq failed on the answer only: the exit status is the answer's ({int(status or 0)})"
        )
        return status
    return status or ExitStatus.USAGE

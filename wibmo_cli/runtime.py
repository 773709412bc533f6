"""What every command is handed: the global options, the chosen profile, the renderer.

Global options (`--profile/-p`, `--profiles-file`, `--output/-o`, `--verbose/-v`,
`--debug`) are accepted before the command name (the root callback) and after it (added
to each command by `command_options`); a value given after the command wins.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from wibmo_cli.profiles import Profile, ProfileChoice
    from wibmo_cli.render import Renderer


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


@dataclass
class GlobalOptions:
    profile: str | None = None
    profiles_file: str | None = None
    output: OutputFormat = OutputFormat.table
    verbose: bool = False
    debug: bool = False

    def merge(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if value is not None and value is not False:
                setattr(self, key, value)


@dataclass
class Runtime:
    """Built once per invocation; commands ask it for what they need, when they need it."""

    options: GlobalOptions
    cwd: Path = field(default_factory=Path.cwd)
    _env: dict[str, str] | None = None
    _choice: ProfileChoice | None = None
    _renderer: Renderer | None = None

    @property
    def env(self) -> dict[str, str]:
        if self._env is None:
            from wibmo_cli import profiles  # not at start-up: --help and codes need none

            self._env = profiles.load_environment(self.cwd)
        return self._env

    def choice(self) -> ProfileChoice:
        if self._choice is None:
            from wibmo_cli import profiles

            self._choice = profiles.choose(
                self.options.profile, self.options.profiles_file, env=self.env, cwd=self.cwd
            )
        return self._choice

    def profile(self, name: str | None = None) -> Profile:
        from wibmo_cli import profiles

        return profiles.load(self.choice(), name)

    @property
    def json(self) -> bool:
        return self.options.output is OutputFormat.json

    @property
    def render(self) -> Renderer:
        if self._renderer is None:
            from wibmo_cli.render import Renderer

            self._renderer = Renderer(json_output=self.json, verbose=self.options.verbose)
        return self._renderer

    def data_dir(self) -> Path:
        from wibmo_cli import profiles

        return profiles.data_dir(self.env)


_PROFILE_HELP = "Profile to use (else $WIBMO_PROFILE, else the file's default_profile)."
_FILE_HELP = "Profiles file (else $WIBMO_PROFILES, ./profiles.toml, the user config dir)."

_GLOBAL_PARAMETERS = (
    inspect.Parameter(
        "profile",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option("--profile", "-p", help=_PROFILE_HELP, show_default=False),
        ],
    ),
    inspect.Parameter(
        "profiles_file",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None,
            typer.Option("--profiles-file", help=_FILE_HELP, show_default=False),
        ],
    ),
    inspect.Parameter(
        "output",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            OutputFormat | None,
            typer.Option("--output", "-o", help="table (default) or json.", show_default=False),
        ],
    ),
    inspect.Parameter(
        "verbose",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[
            bool,
            typer.Option("--verbose", "-v", help="Trace requests and answers on stderr."),
        ],
    ),
    inspect.Parameter(
        "debug",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[bool, typer.Option("--debug", help="Show tracebacks.")],
    ),
)
GLOBAL_NAMES = tuple(p.name for p in _GLOBAL_PARAMETERS)
_CTX = "wibmo_ctx"

F = TypeVar("F", bound=Callable[..., Any])


def root_options(ctx: typer.Context, values: Mapping[str, Any]) -> None:
    """Called by the root callback: the options given before the command name."""
    options = GlobalOptions()
    options.merge(values)
    ctx.obj = options


def command_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the global options to a command and hand it a `Runtime` as `rt`."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "rt"]
    ctx_param = inspect.Parameter(_CTX, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    parameters = [*own, ctx_param, *_GLOBAL_PARAMETERS]
    parameters.sort(key=lambda p: p.kind)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from wibmo_cli import interrupts

        interrupts.running()  # Ctrl-C and SIGTERM now reach the command's own handling
        ctx: typer.Context = kwargs.pop(_CTX)
        given = {name: kwargs.pop(name) for name in GLOBAL_NAMES}
        root = ctx.find_root()
        if not isinstance(root.obj, GlobalOptions):
            root.obj = GlobalOptions()
        root.obj.merge(given)
        return func(*args, rt=Runtime(root.obj), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    hints = dict(inspect.get_annotations(func, eval_str=True))
    hints.pop("rt", None)
    hints.pop("return", None)
    hints[_CTX] = typer.Context
    hints.update({p.name: p.annotation for p in _GLOBAL_PARAMETERS})
    wrapper.__annotations__ = hints
    return wrapper


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def no_color(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return "NO_COLOR" in env

"""Every hook wibmo takes into typer's internals, in one place, checked when imported.

typer 0.29 (pyproject pins `<0.30`) bundles click as its private `typer._click` and
converts option values through pydantic. wibmo keeps typer's way of declaring commands
(annotated function signatures) and leans on four things typer does not promise:

1. Click's names (`ClickCommand`, `ClickContext`, `UsageError`, `NoArgsIsHelpError`,
   `ClickException`), from `typer._click`: the edge (app.py) catches click's usage
   errors to print them as one line, like every other error. No other module imports
   `typer._click`.
2. Commands built when first used (`LazyGroup`): a `MutableMapping` swapped in for
   `TyperGroup.commands`, where typer looks commands up. Start-up: `wibmo decrypt`
   imports and builds no other command (tests/test_startup.py). Shell completion
   (`enable_completion`, `completion_script`): typer's completion classes and scripts,
   which it sets up only for an app that adds its own --install-completion options.
3. Option values converted without pydantic (`install_converters`): typer 0.29 gives
   each parameter a converter on first use (`_TyperParameter._runtime_param`, built by
   `typer._coercion.build_runtime_param`), and every one of them imports pydantic,
   which costs more than the rest of a `wibmo decrypt` run together. wibmo's parameters
   are str, int, float, bool or string enums; a one-line converter takes what is
   plainly of the type and hands anything else to typer's own conversion, so errors
   and edge cases stay typer's. Except for enums: a value that is no member (in any
   case, where the option says `case_sensitive=False`) is refused here in one plain
   line (click's `BadParameter`), never in pydantic's words ("Value error, ...").
4. Parameters added to a function (`add_parameters`): typer reads a command's options
   from `inspect.signature` and its annotations; the wrapper made here shows typer the
   function's own parameters plus shared ones (the five global options, declared once
   in commands/options.py for the root and every command) and the click context.

A typer without any of these stops at import with a `GlueError` naming what is gone,
rather than running on without it (slower, or with options missing).
tests/test_edge_glue_contract.py pins what each hook relies on.

(rich's `Console.on_broken_pipe` is overridden in render.py by subclassing, as rich's
own docstring invites: an extension point, not a private hook; the contract test pins
it too.)
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from enum import Enum
from typing import Any, ClassVar, Final

import typer
import typer.core


class GlueError(RuntimeError):
    """typer changed under one of wibmo's hooks: a bug to fix here, never a user error."""


def missing_hooks() -> list[str]:
    """What of typer's internals this module uses is not there (empty: all is)."""
    wanted = {
        "typer._click": ("Command", "Context"),
        "typer._click.exceptions": (
            "BadParameter",
            "ClickException",
            "NoArgsIsHelpError",
            "UsageError",
        ),
        "typer._coercion": ("build_runtime_param",),
        "typer.core": ("TyperGroup", "_TyperParameter"),
        "typer._completion_classes": ("completion_init",),
        "typer._completion_shared": ("get_completion_script",),
    }
    missing: list[str] = []
    for module_name, names in wanted.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.append(module_name)
            continue
        missing.extend(f"{module_name}.{n}" for n in names if not hasattr(module, n))
    core = typer.core
    parameter = getattr(core, "_TyperParameter", None)
    if parameter is not None:  # the conversion hook, declared on the class
        declared = getattr(parameter, "__annotations__", {})
        missing.extend(
            f"typer.core._TyperParameter.{name}"
            for name in ("_runtime_param", "type_descriptor")
            if name not in declared
        )
    group = getattr(core, "TyperGroup", None)
    if group is not None and "commands" not in inspect.signature(group).parameters:
        missing.append("typer.core.TyperGroup(commands=...)")
    if group is not None and not hasattr(group, "_main_shell_completion"):
        missing.append("typer.core.TyperGroup._main_shell_completion")
    return missing


def check_hooks() -> None:
    """Raise `GlueError` when typer lacks a hook this module relies on."""
    missing = missing_hooks()
    if missing:
        raise GlueError(
            f"typer {typer.__version__} lacks what wibmo_cli/typer_glue.py relies on: "
            f"{', '.join(missing)} (wibmo is built for typer 0.29)"
        )


check_hooks()  # a few attribute look-ups: every run checks, so no run goes on without

# -- 1. click's names (the edge catches its usage errors) -----------------------------

from typer._click import Command as ClickCommand  # noqa: E402
from typer._click import Context as ClickContext  # noqa: E402
from typer._click.exceptions import (  # noqa: E402
    BadParameter,
    ClickException,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperGroup, _TyperParameter  # noqa: E402

# -- 2. commands built when first used -----------------------------------------------


class LazyGroup(TyperGroup):
    """A group whose commands are all named up front and each built when first used.

    `targets` (set by a subclass): name -> "module:attribute", a command function or a
    `typer.Typer` (a group). Listing the names imports nothing; help, which shows each
    command's summary, builds them all.
    """

    targets: ClassVar[Mapping[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(self.commands, self.targets)

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(self.commands)  # names only: nothing imported

    def format_commands(self, ctx: ClickContext, formatter: Any) -> None:
        """Help's list of commands, each summary read from its function's docstring (or
        its group's help) without building the command: building every command's
        options (typer reading each signature) was most of `wibmo --help`'s time. A
        command built already says its own."""
        from typer._click.utils import make_default_short_help

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            built = self.commands.built(name) if isinstance(self.commands, LazyCommands) else None
            if built is not None:
                if not built.hidden:
                    rows.append((name, built.get_short_help_str(limit)))
                continue
            text = summary_of(self.targets[name]).split("\f", 1)[0]
            rows.append((name, make_default_short_help(text, limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        install_converters(self, ctx)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: ClickContext, cmd_name: str) -> ClickCommand | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            install_converters(command, ctx)
        return command

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        """A Tab press ($_WIBMO_COMPLETE set) is answered by typer; the variable is named
        after the app, not after how it was started (`python -m wibmo_cli` too). Any other
        run pays nothing for completion: its classes are loaded only for a Tab press."""
        import os

        var = complete_var or complete_var_for(self.name or prog_name)
        if not os.environ.get(var):
            return
        enable_completion()
        super()._main_shell_completion(ctx_args, prog_name, var)


class LazyCommands(MutableMapping[str, ClickCommand]):
    """A group's commands: every name known up front, each built when first looked up."""

    def __init__(self, built: Mapping[str, ClickCommand], targets: Mapping[str, str]) -> None:
        self._built = dict(built)
        self._targets = targets

    def __getitem__(self, name: str) -> ClickCommand:
        if name not in self._built:
            if name not in self._targets:
                raise KeyError(name)
            self._built[name] = build_command(name, self._targets[name])
        return self._built[name]

    def built(self, name: str) -> ClickCommand | None:
        """The command if it was built already (nothing is built to answer)."""
        return self._built.get(name)

    def __setitem__(self, name: str, command: ClickCommand) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._targets, *self._built]))

    def __len__(self) -> int:
        return len(set(self._targets) | set(self._built))


def build_command(name: str, target: str) -> ClickCommand:
    """The click command for `target` ("module:attribute"), built as registering it on a
    root app would (typer's public API, one command at a time)."""
    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    holder.callback()(_nothing)  # a group, as the root is, whatever it holds
    if isinstance(found, typer.Typer):
        holder.add_typer(found, name=name)
    else:
        holder.command(name)(found)
    group = typer.main.get_command(holder)
    if not isinstance(group, TyperGroup) or name not in group.commands:
        raise GlueError(f"typer built no command {name!r} from {target}")
    return group.commands[name]


def summary_of(target: str) -> str:
    """The help text the command `target` would have, without building it: its
    function's docstring, or its group's help."""
    import inspect

    from typer.models import DefaultPlaceholder

    def given(value: Any) -> Any:
        return None if isinstance(value, DefaultPlaceholder) else value

    module, _, attribute = target.partition(":")
    found = getattr(importlib.import_module(module), attribute)
    if not isinstance(found, typer.Typer):
        return inspect.getdoc(found) or ""
    callback = found.registered_callback  # typer's order: the group's help, the
    # callback's help, the callback's docstring
    return str(
        given(found.info.help)
        or (callback and given(callback.help))
        or (callback and callback.callback and inspect.getdoc(callback.callback))
        or ""
    )


def _nothing() -> None:
    pass


# -- 2b. shell completion -------------------------------------------------------------


def enable_completion() -> None:
    """Typer's completion classes for bash, zsh and fish, registered with click.

    Typer registers them only for an app with `add_completion=True` (its
    --install-completion options, which detect the shell: `wibmo completion SHELL` names
    it instead). Registering twice is harmless: click keeps one class per shell.
    """
    import shlex

    from typer._click.shell_completion import CompletionItem, add_completion_class
    from typer._completion_classes import BashComplete, ZshComplete, completion_init

    class QuotingBashComplete(BashComplete):
        """bash puts a candidate on the line as it is given: one with a space (a csv
        header cell such as "Mobile No") or a quote must come quoted, or it becomes two
        words. zsh and fish quote candidates themselves."""

        def format_completion(self, item: CompletionItem) -> str:
            value = str(item.value)
            return value if value == shlex.quote(value) else shlex.quote(value)

    def backslashes_escaped(item: CompletionItem) -> CompletionItem:
        """`item` with each backslash doubled, for zsh, which reads them as escapes (fish
        takes each line as it is: nothing to do). Candidates from files are already
        limited to plain characters (completion.is_safe): this is the second wall."""
        value = str(item.value).replace("\\", "\\\\")
        said = item.help.replace("\\", "\\\\") if item.help else item.help
        return CompletionItem(value, type=item.type, help=said)

    class BackslashZshComplete(ZshComplete):
        """zsh's script evals the `_arguments` line built here. Typer escapes `$` and a
        backtick with a backslash but leaves a backslash as it is, so `\\$(cmd)` came out
        as `\\\\$(cmd)`: an escaped backslash, then a live `$(cmd)`. A backslash escaped
        first keeps every escape typer adds whole."""

        def format_completion(self, item: CompletionItem) -> str:
            return super().format_completion(backslashes_escaped(item))

    completion_init()
    add_completion_class(QuotingBashComplete, "bash")
    add_completion_class(BackslashZshComplete, "zsh")


def completion_script(shell: str, prog_name: str) -> str:
    """The script `shell` sources to complete `prog_name` (typer's templates: they call
    `prog_name` with `_{PROG_NAME}_COMPLETE=complete_{shell}` on each Tab press)."""
    from typer._completion_shared import get_completion_script

    var = complete_var_for(prog_name)
    return get_completion_script(prog_name=prog_name, complete_var=var, shell=shell)


def complete_var_for(prog_name: str) -> str:
    """The environment variable that asks `prog_name` for completions, as click names it."""
    return f"_{prog_name}_COMPLETE".replace("-", "_").upper()


# -- 3. option values converted without pydantic --------------------------------------

Convert = Callable[[Any], Any]


def install_converters(command: Any, ctx: ClickContext) -> None:
    """Give every plain parameter of `command` (and of its built subcommands) a converter.

    `ctx` is the root context: it names the help options, which every command of this
    app shares, so each command's own `--help` option can be made (and converted) now.
    Subcommands not built yet are left alone (a `LazyGroup` installs when it builds).
    """
    params = list(getattr(command, "params", ()))
    get_help_option = getattr(command, "get_help_option", None)
    if get_help_option is not None:
        params.append(get_help_option(ctx))
    for param in params:
        if not isinstance(param, _TyperParameter):
            continue  # None (no help option), or click's own: click converts it
        if param._runtime_param is not None or param.multiple or param.nargs != 1:
            continue  # converted already, or not one plain value
        descriptor = param.type_descriptor
        convert = _converter_for(descriptor.annotation, descriptor.parameter_info)
        if convert is not None:
            param._runtime_param = Converter(convert)  # type: ignore[assignment]
    commands = getattr(command, "commands", None)
    if type(commands) is dict:  # a plain group's: all built already
        for sub in commands.values():
            install_converters(sub, ctx)


class Converter:
    """Stands in for typer's conversion of one parameter (its `RuntimeParam`)."""

    __slots__ = ("_convert",)

    def __init__(self, convert: Convert) -> None:
        self._convert = convert

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return None
        try:
            return self._convert(value)
        except Refused as exc:  # said here, in one plain line
            raise BadParameter(str(exc), ctx=ctx, param=param) from None
        except ValueError:  # not plainly of the type: typer decides (and words the error)
            from typer._coercion import build_runtime_param

            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own.coerce(value, param=param, ctx=ctx)


def _converter_for(annotation: Any, parameter_info: Any) -> Convert | None:
    if any(getattr(parameter_info, name, None) is not None for name in ("parser", "min", "max")):
        return None
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation is int:
        return _integer
    if annotation is float:
        return _number
    if (
        isinstance(annotation, type)
        and issubclass(annotation, Enum)
        and all(isinstance(member.value, str) for member in annotation)
    ):
        return _member(annotation, getattr(parameter_info, "case_sensitive", True))
    return None


class Refused(Exception):
    """A value no conversion would accept, and why (click's BadParameter is raised with it)."""


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    raise ValueError(value)


def _flag(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise ValueError(value)


def _integer(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isascii() and value.isdigit():  # else typer decides
        return int(value)
    raise ValueError(value)


def _number(value: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    if type(value) is str and value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    raise ValueError(value)


def _member(enum: type[Enum], case_sensitive: bool) -> Convert:
    def key(text: str) -> str:
        return text if case_sensitive else text.casefold()

    members = {key(member.value): member for member in enum}
    values = [str(member.value) for member in enum]
    allowed = ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]

    def convert(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        if type(value) is str and key(value) in members:
            return members[key(value)]
        if type(value) is str:
            raise Refused(f"{value!r}: must be {allowed}")
        raise ValueError(value)

    return convert


# -- 4. parameters added to a function -------------------------------------------------

_CONTEXT: Final = "_wibmo_click_context"

Call = Callable[[ClickContext, dict[str, Any], dict[str, Any]], Any]


def add_parameters(
    func: Callable[..., Any],
    shared: Sequence[inspect.Parameter],
    call: Call,
    *,
    hidden: Collection[str] = (),
    shared_first: bool = False,
) -> Callable[..., Any]:
    """`func` as typer should read it: its own parameters (less `hidden`, which `call`
    supplies), then `shared` (before its keyword-only ones with `shared_first`: the order
    help lists them in), and the click context (the function's own `typer.Context`
    parameter, when it has one: it gets the context too). Typer calls the result with keyword
    arguments; it calls `call(ctx, shared_values, own_values)` and returns its result."""
    signature = inspect.signature(func, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name not in hidden]
    # typer hands the context to one parameter only: the function's own, when it takes it
    asked = next((p.name for p in own if p.annotation is typer.Context), None)
    context = inspect.Parameter(_CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    extra = [] if asked else [context]
    listed = [*shared, *extra, *own] if shared_first else [*own, *extra, *shared]
    parameters = sorted(listed, key=lambda p: p.kind)  # positional ones first
    names = [p.name for p in shared]

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        ctx = kwargs[asked] if asked else kwargs.pop(_CONTEXT)
        return call(ctx, {name: kwargs.pop(name) for name in names}, kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    # typer reads the annotations too (typing.get_type_hints), not only the signature
    wrapper.__annotations__ = {
        p.name: p.annotation for p in parameters if p.annotation is not p.empty
    }
    return wrapper


__all__ = [
    "ClickCommand",
    "ClickContext",
    "ClickException",
    "GlueError",
    "LazyGroup",
    "NoArgsIsHelpError",
    "UsageError",
    "add_parameters",
    "build_command",
    "check_hooks",
    "complete_var_for",
    "completion_script",
    "enable_completion",
    "install_converters",
]

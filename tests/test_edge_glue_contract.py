"""The contract with typer's internals (wibmo_cli/typer_glue.py): each hook is there and
does what the glue relies on, and a missing one stops wibmo with a `GlueError` naming it.

When typer is upgraded and one of these fails, the glue needs mending: read
typer_glue.py's docstring for why each hook exists.
"""

from __future__ import annotations

import inspect
import io
import sys
from typing import Annotated, Any

import pytest
import typer
import typer.core
from typer import _coercion

from wibmo_cli import typer_glue
from wibmo_cli.app import COMMANDS, WibmoGroup, app
from wibmo_cli.commands.options import GLOBAL_OPTIONS, command_options
from wibmo_cli.render import Renderer
from wibmo_cli.runtime import Runtime

GLOBAL_NAMES = [p.name for p in GLOBAL_OPTIONS]


def _click_command(func: Any) -> Any:
    holder = typer.Typer(add_completion=False, rich_markup_mode=None)
    holder.command()(func)
    return typer.main.get_command(holder)


# -- every hook there, or a GlueError that names it ----------------------------------


def test_the_installed_typer_has_every_hook() -> None:
    assert typer_glue.missing_hooks() == []
    typer_glue.check_hooks()


@pytest.mark.parametrize(
    ("module", "name", "named"),
    [
        (_coercion, "build_runtime_param", "typer._coercion.build_runtime_param"),
        (typer.core, "_TyperParameter", "typer.core._TyperParameter"),
        (typer.core, "TyperGroup", "typer.core.TyperGroup"),
    ],
)
def test_a_missing_hook_is_a_glue_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, named: str
) -> None:
    monkeypatch.delattr(module, name)
    with pytest.raises(typer_glue.GlueError, match=f"lacks .*{named}"):
        typer_glue.check_hooks()


def test_a_parameter_without_its_conversion_hook_is_a_glue_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declared = dict(typer.core._TyperParameter.__annotations__)
    del declared["_runtime_param"]
    monkeypatch.setattr(typer.core._TyperParameter, "__annotations__", declared)
    with pytest.raises(typer_glue.GlueError, match=r"_TyperParameter\._runtime_param"):
        typer_glue.check_hooks()


# -- 1. click's names ----------------------------------------------------------------


def test_clicks_names_are_the_ones_typer_raises_and_passes() -> None:
    assert issubclass(typer_glue.UsageError, typer_glue.ClickException)
    assert issubclass(typer_glue.NoArgsIsHelpError, typer_glue.UsageError)
    group = typer.main.get_command(app)
    assert isinstance(group, typer_glue.ClickCommand)
    assert isinstance(typer.Context(group), typer_glue.ClickContext)
    with pytest.raises(typer_glue.UsageError):  # what the edge catches (app.WibmoGroup)
        _click_command(lambda: None).main(["--no-such-option"], standalone_mode=False)


# -- 2. commands built when first used -----------------------------------------------


def test_typer_looks_commands_up_in_the_groups_commands_mapping() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, WibmoGroup)
    assert isinstance(group.commands, typer_glue.LazyCommands)  # swapped in by LazyGroup
    ctx = typer.Context(group)
    assert group.list_commands(ctx) == list(COMMANDS)
    found = typer.core.TyperGroup.get_command(group, ctx, "codes")  # typer's own lookup
    assert found is not None
    assert found.name == "codes"
    assert typer.core.TyperGroup.get_command(group, ctx, "no-such-command") is None


def test_typer_passes_commands_to_the_group_it_makes() -> None:
    assert "commands" in inspect.signature(typer.core.TyperGroup).parameters
    codes = typer_glue.build_command("codes", COMMANDS["codes"])
    made = typer.core.TyperGroup(name="g", commands={"codes": codes})
    assert made.commands == {"codes": codes}


def test_a_typer_that_builds_commands_otherwise_is_a_glue_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(typer.main, "get_command", lambda _: typer.core.TyperGroup(name="g"))
    with pytest.raises(typer_glue.GlueError, match="no command 'codes'"):
        typer_glue.build_command("codes", COMMANDS["codes"])


# -- 3. option values converted without pydantic --------------------------------------


def test_typer_converts_through_the_parameters_runtime_param(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[object] = []

    def count(
        number: Annotated[int, typer.Option("--number")] = 0,
        name: Annotated[str, typer.Option("--name")] = "",
    ) -> None:
        seen.append((number, name))

    command = _click_command(count)
    ctx = typer.Context(command, help_option_names=["--help"])
    typer_glue.install_converters(command, ctx)
    params = {p.name: p for p in command.params}
    assert all(isinstance(p, typer.core._TyperParameter) for p in params.values())
    assert isinstance(params["number"]._runtime_param, typer_glue.Converter)

    converted: list[object] = []
    plain = typer_glue.Converter.coerce
    monkeypatch.setattr(
        typer_glue.Converter,
        "coerce",
        lambda self, value, param, ctx: converted.append(value) or plain(self, value, param, ctx),
    )
    command.main(["--number", "7", "--name", "x"], standalone_mode=False)
    assert seen == [(7, "x")]
    assert "7" in converted  # typer asked our converter, not its own (pydantic)


def test_what_the_converter_does_not_take_is_typers_to_word() -> None:
    def count(number: Annotated[int, typer.Option("--number")] = 0) -> None:
        pass

    command = _click_command(count)
    typer_glue.install_converters(command, typer.Context(command))
    with pytest.raises(typer_glue.UsageError, match="valid integer"):
        command.main(["--number", "seven"], standalone_mode=False)


def test_typer_builds_its_own_conversion_from_a_descriptor() -> None:
    assert list(inspect.signature(_coercion.build_runtime_param).parameters) == ["descriptor"]
    parameter = typer.core._TyperParameter
    assert callable(parameter.get_runtime_param)
    command = _click_command(lambda n: None)  # an argument: a TyperArgument
    (param,) = command.params
    assert param._runtime_param is None  # typer builds it lazily: the hook is free
    param._runtime_param = marker = object()
    assert param.get_runtime_param() is marker


# -- 4. parameters added to a function -------------------------------------------------


def test_typer_reads_the_added_parameters() -> None:
    @command_options
    def shown(rt: Runtime, own: Annotated[str, typer.Option("--own")] = "") -> None:
        pass

    command = _click_command(shown)
    names = [p.name for p in command.params]
    assert names == ["own", *GLOBAL_NAMES]  # the context and `rt` are not options


def test_the_root_and_every_command_share_one_declaration_of_the_global_options() -> None:
    group = typer.main.get_command(app)
    ctx = typer.Context(group)

    def described(command: Any) -> dict[str, tuple[object, ...]]:
        return {
            p.name: (tuple(p.opts), p.help, p.default)
            for p in command.params
            if p.name in GLOBAL_NAMES
        }

    declared = described(group)
    assert list(declared) == GLOBAL_NAMES
    for name in COMMANDS:
        command = group.get_command(ctx, name)
        subcommands = getattr(command, "commands", {"": command})
        for sub in subcommands.values():
            assert described(sub) == declared, f"{name} {sub.name}"


# -- rich: a closed pipe is the edge's to end -----------------------------------------


class _ReaderGone(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError

    def isatty(self) -> bool:
        return False


def test_rich_hands_a_closed_pipe_to_on_broken_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    assert "on_broken_pipe" in vars(Console)
    monkeypatch.setattr(sys, "stdout", _ReaderGone())
    with pytest.raises(BrokenPipeError):  # rich's own would exit 1
        Renderer().print("a table")

"""Option values converted without pydantic, to keep it off the start-up path.

Recent typer converts every parameter's value through a pydantic `TypeAdapter`, and
importing pydantic costs more than the rest of a `wibmo decrypt` run together. All of
wibmo's parameters are str, int, float, bool or string enums, whose conversion
from command-line text is a one-liner; `install` gives each such parameter a
converter that does it, and hands any value it does not take as it stands (and every
other type) to typer's own conversion, so errors and edge cases stay typer's.

It uses typer's per-parameter conversion hook (`_runtime_param`, read by
`get_runtime_param`); with a typer that has no such hook it does nothing.
`tests/test_startup.py` checks that pydantic stays unimported.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

Convert = Callable[[Any], Any]


class _Converter:
    """Stands in for typer's conversion of one parameter."""

    __slots__ = ("_convert",)

    def __init__(self, convert: Convert) -> None:
        self._convert = convert

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return None
        try:
            return self._convert(value)
        except ValueError:  # not plainly of the type: typer decides (and words the error)
            from typer._coercion import build_runtime_param

            typer_own = build_runtime_param(param.type_descriptor)
            return typer_own.coerce(value, param=param, ctx=ctx)


def _text(value: Any) -> str:
    if type(value) is str:
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


def _member(enum: type[Enum]) -> Convert:
    members = {member.value: member for member in enum}

    def convert(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        if type(value) is str and value in members:
            return members[value]
        raise ValueError(value)

    return convert


def _flag(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise ValueError(value)


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
        return _member(annotation)
    return None


def install(command: Any, ctx: Any) -> None:
    """Give every plain parameter of `command` (and of its built subcommands) a converter.

    `ctx` is the root context: it names the help options, which every command of this
    app shares, so each command's own `--help` option can be made (and converted) now.
    Subcommands not built yet are left alone (the root group builds them when used, and
    installs then).
    """
    params = list(getattr(command, "params", ()))
    get_help_option = getattr(command, "get_help_option", None)
    if get_help_option is not None:
        params.append(get_help_option(ctx))
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue  # not a typer parameter with the hook, or already converted
        if param.multiple or param.nargs != 1:
            continue
        convert = _converter_for(descriptor.annotation, descriptor.parameter_info)
        if convert is not None:
            param._runtime_param = _Converter(convert)
    commands = getattr(command, "commands", None)
    if type(commands) is dict:  # a plain group's: all built already
        for sub in commands.values():
            install(sub, ctx)

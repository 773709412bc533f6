"""`--jq EXPR` and `--fields a,b`: what every command that prints JSON does to it.

One filter per invocation, applied where JSON reaches stdout (`Renderer.json` for one
document, `FilteredLines` for JSON lines), so no command filters for itself.

- `--jq` is jq's own language, run by the `jq` binding (imported only when the flag is
  used). Each result is one output: a string is written raw (as `gh --jq` does, so
  `--jq .urn` gives `389` for a shell), anything else as JSON.
- `--fields a,b.c` keeps those keys: dotted paths into objects, mapped over lists, so
  `--fields urn,cards.cardStatus` works on a lookup. The result is one object keyed by
  the paths as given; a path the value lacks is null (a column stays a column).

Text reaching the terminal has its control characters made visible (`textsafe`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from wibmo_cli.errors import InputError
from wibmo_cli.textsafe import json_text, visible


class FilterError(InputError):
    """A `--jq` program failed on one value (the program itself compiled)."""


@dataclass(frozen=True)
class JsonFilter:
    """What `--jq` / `--fields` asked for; `results(value)` runs it on one value."""

    jq: str | None = None
    fields: tuple[str, ...] = ()

    @classmethod
    def parse(cls, jq: str | None, fields: str | None) -> JsonFilter | None:
        """The filter the options ask for (None: none); a bad one is an `InputError`."""
        if jq is not None and fields is not None:
            raise InputError("--jq and --fields cannot be used together", hint="use one")
        if fields is not None:
            paths = tuple(part.strip() for part in fields.split(",") if part.strip())
            if not paths or any(not all(step for step in p.split(".")) for p in paths):
                raise InputError(
                    f"--fields {fields!r} is not a list of names",
                    hint="give names separated by commas, e.g. --fields urn,mobileNumber",
                )
            return cls(fields=paths)
        if jq is not None:
            if not jq.strip():
                raise InputError("--jq needs an expression", hint="e.g. --jq .urn")
            made = cls(jq=jq)
            made._program()  # a syntax error is usage, before anything is sent
            return made
        return None

    def _program(self) -> Any:
        program = _COMPILED.get(self.jq or "")
        if program is None:
            try:
                import jq as jq_binding
            except ImportError as exc:  # pragma: no cover - a dependency of the package
                raise InputError(
                    "--jq needs the jq package", hint="pip install jq (or reinstall wibmo-cli)"
                ) from exc
            try:
                program = jq_binding.compile(self.jq)
            except ValueError as exc:
                raise InputError(f"--jq: {_first_line(exc)}", hint="see jq's manual") from exc
            _COMPILED[self.jq or ""] = program
        return program

    def results(self, value: Any) -> list[Any]:
        """What the filter makes of one value: any number of results."""
        if self.fields:
            if isinstance(value, list):  # rows: each one picked
                return [[self._picked(each) for each in value]]
            return [self._picked(value)]
        try:
            return list(self._program().input_text(json_text(value)).all())
        except ValueError as exc:
            raise FilterError(f"--jq: {_first_line(exc)}") from exc

    def _picked(self, value: Any) -> dict[str, Any]:
        return {path: _pick(value, path.split(".")) for path in self.fields}

    def text(self, value: Any, *, pretty: bool) -> Iterator[str]:
        """The lines to write for one value (each without its line feed)."""
        for result in self.results(value):
            if isinstance(result, str) and self.jq is not None:
                yield visible(result)
            else:
                yield json_text(result, pretty=pretty)


_COMPILED: dict[str, Any] = {}


def _pick(value: Any, steps: Sequence[str]) -> Any:
    if not steps:
        return value
    if isinstance(value, list):
        return [_pick(each, steps) for each in value]
    if isinstance(value, dict):
        step = steps[0]
        if step in value:
            return _pick(value[step], steps[1:])
        return None
    return None


def _first_line(exc: BaseException) -> str:
    """jq's message, one line: "jq: error: syntax error, ... column 2:" -> "syntax
    error, ... column 2"."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    line = lines[0] if lines else type(exc).__name__
    for prefix in ("jq: error: ", "jq: error ", "jq: "):
        line = line.removeprefix(prefix)
    return visible(line.rstrip(":"))


def filter_line(flt: JsonFilter, line: str) -> Iterator[str]:
    """One JSON line of a stream, filtered; a line that is not JSON passes unchanged."""
    try:
        value = json.loads(line)
    except ValueError:
        yield line
        return
    yield from flt.text(value, pretty=False)

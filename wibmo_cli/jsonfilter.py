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

A `--jq` program that fails on a value (`tonumber` on a string: a `FilterError`) is said
on stderr in one line by whoever writes (the renderer, `FilteredLines`); the results it
gave before failing are written, and the next value is filtered as usual.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import InputError
from wibmo_cli.render import Wrapped

if TYPE_CHECKING:
    from wibmo_cli.render import OutputStream

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
                jq_binding.compile(self.jq)  # its errors name the user's line and column
                program = jq_binding.compile(f"{_NO_ENVIRONMENT}({self.jq}\n)")
            except ValueError as exc:
                raise InputError(f"--jq: {_first_line(exc)}", hint="see jq's manual") from exc
            _COMPILED[self.jq or ""] = program
        return program

    def results(self, value: Any, *, rows: Sequence[str] = ()) -> Iterator[Any]:
        """What the filter makes of one value: any number of results, as they come (a
        `FilterError` after the ones before it). `rows`: the keys of `value` that hold
        its rows (`codes`' {"codes": [...], "http": [...]}): --fields picks in each row
        and keeps those keys; --jq sees the whole value."""
        if self.fields:
            if isinstance(value, list):  # rows: each one picked
                yield [self._picked(each) for each in value]
            elif rows and isinstance(value, dict):
                yield {key: self._picked_rows(value.get(key)) for key in rows}
            else:
                yield self._picked(value)
            return
        found = iter(self._program().input_text(json_text(value)))
        while True:
            try:
                with _signals_end_the_process():
                    result = next(found)
            except StopIteration:
                return
            except ValueError as exc:
                raise FilterError(f"--jq: {_first_line(exc)}") from exc
            yield result

    def _picked_rows(self, rows: Any) -> Any:
        return [self._picked(each) for each in rows] if isinstance(rows, list) else rows

    def _picked(self, value: Any) -> dict[str, Any]:
        return {path: _pick(value, path.split(".")) for path in self.fields}

    def text(self, value: Any, *, pretty: bool, rows: Sequence[str] = ()) -> Iterator[str]:
        """The lines to write for one value (each without its line feed)."""
        for result in self.results(value, rows=rows):
            if isinstance(result, str) and self.jq is not None:
                yield visible(result, lines=True, tabs=True)  # as jq -r: @tsv, "a\nb"
            else:
                yield json_text(result, pretty=pretty)


_COMPILED: dict[str, Any] = {}


@contextmanager
def _signals_end_the_process() -> Iterator[None]:
    """While jq computes a result it holds the interpreter (a C loop: `last(range(1e10))`
    never returns to Python), so Python's handlers for Ctrl-C and SIGTERM could never run:
    for that time the signals do what they do by default, end the process (the shell
    says 130 for Ctrl-C). Only the main thread may change them; elsewhere nothing to do."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {signum: signal.signal(signum, signal.SIG_DFL) for signum in _ENDING}
    try:
        yield
    finally:
        for signum, handler in kept.items():
            signal.signal(signum, handler)


_ENDING: Final = (signal.SIGINT, signal.SIGTERM)

# jq reads the process environment (`$ENV`, `env`), where secrets live (${VAR} in the
# profiles file): a filter sees the JSON it is given and nothing else. The program runs
# inside this prefix (its own `def`s included); a comment at its end is closed by "\n".
_NO_ENVIRONMENT: Final = "{} as $ENV | def env: $ENV; "


def _pick(value: Any, steps: Sequence[str]) -> Any:
    """The value at a dotted path: a list met is mapped, unless the step is a number (an
    index: `cardList.0.urn`, the first card's) or `#` (its length), as csv's columns
    read them (`tabular.values_at`); what the value lacks is null."""
    if not steps:
        return value
    if isinstance(value, list):
        step = steps[0]
        if step == "#":
            return _pick(len(value), steps[1:])
        if step.isascii() and step.isdigit():
            index = int(step)
            return _pick(value[index], steps[1:]) if index < len(value) else None
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


Failed = Callable[[FilterError, int], object]  # told each failure and its JSON line


_BATCH: Final = 1024  # results written at once


class FilteredLines(Wrapped):
    """stdout for JSON lines with `--jq` / `--fields`: each complete line written here
    is filtered on its way to `inner`; text or bytes as `inner` takes them. Streamed
    outputs (lookup --file, decrypt of many tokens, the audit log) write through this,
    so no command filters for itself. A line the program fails on is told to `failed`
    (with its number) and the stream goes on; a line that is not JSON passes unchanged."""

    def __init__(
        self, inner: OutputStream, flt: JsonFilter, failed: Failed, *, binary: bool = False
    ) -> None:
        super().__init__(inner)
        self._filter = flt
        self._failed = failed
        self._binary = binary
        self._partial = ""
        self._lines = 0

    def write(self, data: Any) -> int:
        text = data.decode("utf-8", "replace") if self._binary else data
        *complete, self._partial = (self._partial + text).split("\n")
        out: list[str] = []
        for line in complete:
            self._lines += 1
            try:
                for shown in self._shown(line):
                    out.append(shown)
                    if len(out) >= _BATCH:  # a program with many results: memory bounded
                        self._send(out)
                        out = []
            except FilterError as exc:
                self._send(out)  # what came before, in order, before the message
                out = []
                self._failed(exc, self._lines)
        self._send(out)
        return len(data)

    def _shown(self, line: str) -> Iterator[str]:
        try:
            value = json.loads(line)
        except ValueError:
            yield line
            return
        yield from self._filter.text(value, pretty=False)

    def _send(self, lines: list[str]) -> None:
        if lines:
            joined = "\n".join(lines) + "\n"
            self._inner.write(joined.encode() if self._binary else joined)

"""`-o csv` and `-o tsv`: rows of JSON flattened into columns a spreadsheet opens.

Each command that has these formats names its columns (`Column`: a stable name, and
where in a row its value is), documented in README ("Filters and formats"); `--fields`
chooses among them, or names any dotted path of the JSON row as a column of its own.

One rule reads a value, for the documented columns and `--fields` alike:

- `answer.mobile`: keys, step by step; a step that is a number indexes a list
  (`answer.cardList.1.urn`: the second card's); `#` counts a list (`answer.cardList.#`).
- A list met without an index (or at the end of the path) is read in each of its
  items: the values, in order, joined with "; " (a customer's two cards: `389; 390`).
  A column of the customer's (`Column.per_item` false: a name the platform repeats in
  each card) shows each distinct value once; a column of the cards' shows one value per
  card, so the cells of one row line up card by card. A column lists several paths when the
  platform sends a field in several places (flat, or in each card): the first path a
  row has wins.

Cells are text: null empty, true/false, numbers as JSON writes them, objects and lists
left whole as compact JSON. Control characters are made visible (`textsafe.visible`),
so no cell holds a tab or a line break and a TSV line is one row. A cell of text that
starts with = + - or @ gets a leading ' so that a spreadsheet shows it rather than runs
it as a formula (CSV injection); a number never does (-5 is a number, not a formula).
Lines end with a line feed; the csv module quotes what needs it, so both formats read
back with `csv.reader` (TSV: `delimiter="\\t"`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.textsafe import json_text, visible

if TYPE_CHECKING:
    from wibmo_cli.render import OutputStream

JOIN: Final = "; "  # a list's values in one cell
COUNT: Final = "#"  # a step that counts a list
FORMULA_START: Final = ("=", "+", "-", "@")
GUARD: Final = "'"


@dataclass(frozen=True)
class Column:
    """A column: its header, and the paths its value may be at (the first a row has)."""

    name: str
    paths: tuple[str, ...] = ()
    missing: str = ""  # the cell when no path has a value
    per_item: bool = True  # every value of a list (False: each distinct value once)

    @classmethod
    def at(cls, name: str, *paths: str, missing: str = "") -> Column:
        return cls(name, paths or (name,), missing)


def chosen(columns: Sequence[Column], asked: Sequence[str]) -> tuple[Column, ...]:
    """The columns `--fields` asks for (a documented column by its name, else a dotted
    path of the row as a column of that name); none asked: all of `columns`."""
    if not asked:
        return tuple(columns)
    by_name = {column.name: column for column in columns}
    return tuple(by_name.get(name) or Column.at(name) for name in asked)


_ABSENT: Final = object()


def values_at(value: Any, path: str) -> list[Any]:
    """The values at a dotted `path` of `value` (none: it has none there)."""
    found: list[Any] = []
    _collect(value, path.split("."), found)
    return found


def _collect(value: Any, steps: Sequence[str], found: list[Any]) -> None:
    if not steps:
        found.extend(value if isinstance(value, list) else [value])
        return
    step, rest = steps[0], steps[1:]
    if isinstance(value, list):
        if step == COUNT:
            _collect(len(value), rest, found)
        elif step.isascii() and step.isdigit():
            if int(step) < len(value):
                _collect(value[int(step)], rest, found)
        else:
            for item in value:
                _collect(item, steps, found)
    elif isinstance(value, Mapping):
        item = value.get(step, _ABSENT)
        if item is not _ABSENT:
            _collect(item, rest, found)


def cell(values: Sequence[Any], missing: str = "", *, per_item: bool = True) -> str:
    """One cell's text from the values found (see the module's docstring)."""
    if not values:
        return missing
    texts = [_text(value) for value in values]
    if not per_item:
        texts = list(dict.fromkeys(texts))
    text = JOIN.join(texts)
    numbers = all(_is_number(value) for value in values)
    if not numbers and text.startswith(FORMULA_START):
        return GUARD + text
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return visible(value)
    if _is_number(value):
        return json.dumps(value)
    return visible(json_text(value))


def row(record: Any, columns: Iterable[Column]) -> list[str]:
    """One row's cells."""
    cells = []
    for column in columns:
        values: list[Any] = []
        for path in column.paths:
            values = values_at(record, path)
            if values:
                break
        cells.append(cell(values, column.missing, per_item=column.per_item))
    return cells


class Rows:
    """Rows written as CSV or TSV text to `out`: the header before the first row (or at
    `finish`, when there was none). `write` takes JSON lines (a stream: lookup --file,
    the audit log), `record` one row as a value; a line that is not JSON is dropped (a
    command writes only JSON lines here)."""

    def __init__(self, out: OutputStream, columns: Sequence[Column], *, tsv: bool) -> None:
        self._out = out
        self.columns = tuple(columns)
        self._buffer = io.StringIO()
        delimiter = "\t" if tsv else ","
        self._csv = csv.writer(self._buffer, delimiter=delimiter, lineterminator="\n")
        self._headed = False
        self._partial = ""

    def write(self, data: str) -> int:
        *complete, self._partial = (self._partial + data).split("\n")
        for line in complete:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            self._add(value)
        self._send()
        return len(data)

    def record(self, value: Any) -> None:
        self._add(value)
        self._send()

    def finish(self) -> None:
        """The header, if no row came; everything flushed."""
        if not self._headed:
            self._head()
            self._send()
        self._out.flush()

    def flush(self) -> None:
        self._out.flush()

    def _head(self) -> None:
        self._csv.writerow([cell([column.name]) for column in self.columns])
        self._headed = True

    def _add(self, value: Any) -> None:
        if not self._headed:
            self._head()
        self._csv.writerow(row(value, self.columns))

    def _send(self) -> None:
        text = self._buffer.getvalue()
        if text:
            self._buffer.seek(0)
            self._buffer.truncate()
            self._out.write(text)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno ... (the --resume checks)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._out, name)

"""Tables for `wibmo codes` and the explanation block lookup/update show on failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from wibmo_cli.codes import HttpStatus
from wibmo_cli.tabular import Column

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

    from wibmo_cli.codes import Code


# -o csv / tsv: the columns of `code_record` and `http_record` (README, "Filters and
# formats"); a code's apis joined with "; ".
CODE_COLUMNS: Final = tuple(Column.at(n) for n in ("code", "name", "apis", "meaning", "action"))
HTTP_COLUMNS: Final = tuple(Column.at(n) for n in ("http_status", "name", "meaning", "action"))


def code_record(code: Code) -> dict[str, Any]:
    return {
        "code": code.code,
        "name": code.name,
        "apis": list(code.apis),
        "meaning": code.meaning,
        "action": code.action,
    }


def http_record(status: HttpStatus) -> dict[str, Any]:
    return {
        "http_status": status.status,
        "name": status.name,
        "meaning": status.meaning,
        "action": status.action,
    }


def catalogue_table(codes: tuple[Code, ...]) -> CatalogueTable:
    return CatalogueTable(codes)


class CatalogueTable:
    """The catalogue as a table that breaks no word: laid out when the width is known.

    Where a row fits (the longest name whole, the meaning at least `MEANING_MIN` wide),
    one column each; where not (80 columns: the longest name is 48 characters), each
    name goes above its meaning in one cell, so neither is cut mid-word.
    """

    MEANING_MIN: ClassVar[int] = 30

    def __init__(self, codes: tuple[Code, ...]) -> None:
        self.codes = codes

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def table(self, width: int) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="Response codes", title_justify="left", show_lines=False)
        table.add_column("code", style="bold", no_wrap=True)
        names = max((len(code.name) for code in self.codes), default=0)
        apis = max((len(", ".join(code.apis)) for code in self.codes), default=3)
        code_width = max((len(code.code) for code in self.codes), default=4)
        borders = 4 * 3 + 1  # four columns: a border and a space either side of each
        if code_width + names + apis + self.MEANING_MIN + borders <= width:
            table.add_column("name", no_wrap=True)
            table.add_column("api", no_wrap=True)
            table.add_column("meaning", overflow="fold")
            for code in self.codes:
                table.add_row(code.code, code.name, ", ".join(code.apis), code.meaning)
            return table
        table.add_column("name, meaning", overflow="fold")
        table.add_column("api", no_wrap=True)
        for code in self.codes:
            cell = Text(code.name, style="bold")
            cell.append("\n" + code.meaning, style="")
            table.add_row(code.code, cell, ", ".join(code.apis))
        return table


def http_table(statuses: tuple[HttpStatus, ...]) -> Table:
    from rich.table import Table

    table = Table(title="HTTP statuses", title_justify="left")
    table.add_column("status", style="bold", no_wrap=True)
    table.add_column("name", no_wrap=True)
    table.add_column("meaning")
    for status in statuses:
        table.add_row(str(status.status), status.name, status.meaning)
    return table


def record(found: Code | HttpStatus) -> dict[str, Any]:
    """A code's or an HTTP status's -o json record (`code_record`, `http_record`)."""
    return http_record(found) if isinstance(found, HttpStatus) else code_record(found)


def record_columns(found: Code | HttpStatus) -> tuple[Column, ...]:
    return HTTP_COLUMNS if isinstance(found, HttpStatus) else CODE_COLUMNS


def explained(found: Code | HttpStatus) -> Table:
    """One code (`wibmo codes 1303`, `explain 1303` in `wibmo shell`) or HTTP status."""
    if isinstance(found, HttpStatus):
        return explanation(f"HTTP {found.status}", found.name, found.meaning, found.action)
    return explanation(
        found.code, found.name, found.meaning, found.action, apis=", ".join(found.apis)
    )


def explanation(code: str, name: str, meaning: str, action: str, *, apis: str = "") -> Table:
    """A two-column block: code, name, (api), meaning, what to do.

    The code and name may be an answer's (a code not in the catalogue): each value goes
    in through `textsafe.cell`, never as markup, control characters shown escaped.
    """
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("code", cell(code))
    table.add_row("name", cell(name))
    if apis:
        table.add_row("api", cell(apis))
    table.add_row("meaning", cell(meaning))
    table.add_row("what to do", cell(action))
    return table

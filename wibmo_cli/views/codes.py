"""Tables for `wibmo codes` and the explanation block lookup/update show on failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from wibmo_cli.codes import Code, HttpStatus


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


def catalogue_table(codes: tuple[Code, ...]) -> Table:
    from rich.table import Table

    table = Table(title="Response codes", title_justify="left", show_lines=False)
    table.add_column("code", style="bold", no_wrap=True)
    # On a narrow terminal or a pipe (80 columns) long names fold rather than squeeze
    # the meaning column down to an ellipsis.
    table.add_column("name", overflow="fold", ratio=1)
    table.add_column("api", no_wrap=True)
    table.add_column("meaning", ratio=2)
    for code in codes:
        table.add_row(code.code, code.name, ", ".join(code.apis), code.meaning)
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

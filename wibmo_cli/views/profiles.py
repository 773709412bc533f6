"""Tables for `wibmo profiles`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from wibmo_cli.profile_check import Check

_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def list_table(rows: Sequence[Mapping[str, Any]], where: str) -> Table:
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title=f"Profiles ({where})", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("base_url")
    table.add_column("production", no_wrap=True)
    table.add_column("source")
    for row in rows:
        table.add_row(
            "*" if row["default"] else "",
            cell(row["name"]),
            cell(row["base_url"]),
            "yes" if row["production"] else "",
            cell(row["source"]),
        )
    return table


def show_table(record: Mapping[str, Any]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from wibmo_cli.textsafe import visible

    table = Table(title=f"Profile {record['name']} ({record['source']})", title_justify="left")
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value")
    missing = record["missing"]
    for key, value in record["values"].items():
        if key in missing:
            shown = f"[red]missing[/]: {escape(visible(missing[key]))}"
        else:
            text = (
                str(value).lower()
                if isinstance(value, bool)
                else ", ".join(value)
                if isinstance(value, tuple)
                else str(value)
            )
            shown = escape(visible(text))
        table.add_row(key, shown)
    return table


def check_table(name: str, checks: Sequence[Check]) -> Table:
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title=f"Checking profile {name}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("check", style="bold", no_wrap=True)
    table.add_column("detail")
    for check in checks:  # a detail may quote what the endpoint answered
        table.add_row(_MARK[check.status], cell(check.name), cell(check.detail))
    return table

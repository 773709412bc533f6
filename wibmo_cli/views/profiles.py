"""Tables for `wibmo profiles`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

    from wibmo_cli.profile_check import Check

_MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def list_table(rows: Sequence[Mapping[str, Any]], where: str) -> Table:
    """The profiles: the file is named once, in the title (every row but the built-in
    demo's comes from it), so base_url gets the width and is folded, never cut."""
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    title = cell(f"Profiles ({where})")  # as wide as the table may be: never wrapped
    table = Table(title=title, title_justify="left", min_width=len(title))
    table.add_column("", no_wrap=True)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("base_url", overflow="fold")
    table.add_column("production", no_wrap=True)
    for row in rows:
        builtin = row["source"] == "built-in"
        table.add_row(
            "*" if row["default"] else "",
            cell(f"{row['name']} (built-in)" if builtin else row["name"]),
            cell(row["base_url"]),
            "yes" if row["production"] else "",
        )
    return table


def where_table(record: Mapping[str, Any]) -> Table:
    """`profiles where`: one line per file wibmo uses, and whether it is there."""
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title="Where wibmo looks", title_justify="left", show_header=False)
    table.add_column("what", style="bold", no_wrap=True)
    table.add_column("path", overflow="fold")
    looked = ", ".join(record["looked_for"])
    table.add_row("profiles file", cell(record["profiles_file"] or f"none (looked for {looked})"))
    if record["problem"]:
        table.add_row("problem", cell(record["problem"]))
    elif record["profile"]:
        by = f" ({record['chosen_by']})" if record["chosen_by"] else ""
        table.add_row("profile", cell(f"{record['profile']}{by}"))
    else:
        table.add_row("profile", "none chosen: pass --profile or set WIBMO_PROFILE")
    for dotenv in record["dotenv"]:
        state = "read" if dotenv["found"] else "no such file"
        table.add_row(".env", cell(f"{dotenv['path']} ({state})"))
    table.add_row("audit log", cell(record["audit_log"]))
    table.add_row("sandbox database", cell(record["sandbox_database"]))
    return table


def show_table(record: Mapping[str, Any]) -> Table:
    from rich.markup import escape
    from rich.table import Table

    from wibmo_cli.textsafe import cell, visible

    # the name and the path come from the profiles file: shown, never obeyed or parsed
    title = cell(f"Profile {record['name']} ({record['source']})")
    table = Table(title=title, title_justify="left")
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
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

    table = Table(title=cell(f"Checking profile {name}"), title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("check", style="bold", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for check in checks:  # a detail may quote what the endpoint answered
        table.add_row(_MARK[check.status], cell(check.name), cell(check.detail))
    return table

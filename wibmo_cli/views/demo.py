"""`wibmo sandbox customers`: the demo customers worth trying, identifiers to paste."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from wibmo_cli.sandbox.demo import Found


def customers_table(found: list[Found]) -> Table:
    """One row per customer: the kind and what it shows (wrapped at words), then the
    customer's name and one identifier a line (never wrapped: each is pasted whole)."""
    from rich.table import Table
    from rich.text import Text

    from wibmo_cli.textsafe import cell

    table = Table(title="Demo customers worth trying", title_justify="left", show_lines=True)
    table.add_column("kind", ratio=1)
    table.add_column("customer", no_wrap=True)
    for each in found:
        record = each.to_json()
        kind = Text(each.kind.name, style="bold")
        kind.append("\n" + each.kind.about, style="")
        who = cell(record["name"], "bold")
        lines = [f"--mobile {record['mobile']}"]
        for card in record["cards"]:
            status = "" if card["status"] == "Active" else f" ({card['status']})"
            lines.append(f"--urn {card['urn']}{status}")
        lines += [f"--customer-id {record['customerId']}", f"--email {record['email']}"]
        who.append_text(cell("\n" + "\n".join(lines), lines=True))
        table.add_row(kind, who)
    return table

"""`wibmo reconcile` for people: one row per update, and the summary line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from wibmo_cli.reconcile import CANNOT_TELL, VERDICTS, Verdict

if TYPE_CHECKING:
    from rich.table import Table

COLUMNS = ("update", "customer", "fields compared", "verdict", "why")
_STYLES = {"applied": "green", "not applied": "yellow", "changed differently": "red"}


def reconcile_table(verdicts: Sequence[Verdict], title: str) -> Table:
    """Each update: its row (or clientTxnId), who (masked), each field's state (never a
    value), the verdict and why."""
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title=title, title_justify="left")
    for column in COLUMNS:
        table.add_column(column, overflow="fold", no_wrap=column == "verdict")
    for verdict in verdicts:
        update = verdict.update
        where = f"row {update.row}" if update.row is not None else update.txn
        fields = "\n".join(f"{name}: {check.state}" for name, check in verdict.fields.items())
        table.add_row(
            cell(where),
            cell(update.described()),
            cell(fields, lines=True),
            cell(verdict.verdict, _STYLES.get(verdict.verdict, "bold")),
            cell(verdict.why),
        )
    return table


def summary_line(found: Mapping[str, int], *, left: int = 0, elsewhere: str = "") -> str:
    """`reconcile: 2 applied, 1 not applied, 0 changed differently, 1 cannot tell`, and
    what is still unknown: updates not looked up (`left`: interrupted), or of other
    profiles (`elsewhere`)."""
    line = "reconcile: " + ", ".join(f"{found.get(name, 0)} {name}" for name in VERDICTS)
    if left:
        line += f"; interrupted, {left} not looked up: run it again"
    if found.get(CANNOT_TELL):
        line += "; for each that cannot tell, look the customer up (wibmo lookup) and decide"
    if elsewhere:
        line += f"; {elsewhere}"
    return line

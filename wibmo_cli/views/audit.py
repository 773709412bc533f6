"""The audit log as a table: one row per action, an update's result in its row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.tabular import Column

if TYPE_CHECKING:
    from rich.table import Table

COLUMNS = ("when", "customer", "change", "result")

# -o csv / tsv: one row per entry as stored (README, "Filters and formats").
CSV_COLUMNS: Final = tuple(
    Column.at(name)
    for name in (
        "time",
        "user",
        "profile",
        "command",
        "action",
        "identifiers",
        "fields",
        "kycProfile",
        "clientTxnId",
        "accosaTransactionId",
        "responseCode",
        "result",
        "error",
        "file",
        "rows",
        # `wibmo call`'s: which API it hit (after the rest, so earlier columns keep their place)
        "messageCode",
        "method",
        "path",
    )
)


def audit_table(rows: Sequence[Mapping[str, str]], path: Path) -> Table:
    """`table_rows` drawn, under the log's path."""
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title=f"Audit log ({path})", title_justify="left")
    for column in COLUMNS:
        table.add_column(column, no_wrap=column == "when", overflow="fold")
    for row in rows:
        table.add_row(*(cell(row[c], lines=True) for c in COLUMNS))  # errors quote answers
    return table


def table_rows(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row per action: an update's "sending" entry is replaced by its result entry.

    A "sending" entry with no result after it (the process died while waiting) shows
    as "sent; no result recorded".
    """
    rows: list[dict[str, str]] = []
    pending: dict[str, int] = {}  # clientTxnId -> index of its "sending" row
    for entry in entries:
        txn = str(entry.get("clientTxnId", ""))
        sending = entry.get("result") == "sending"
        if txn and txn in pending and not sending:
            rows[pending.pop(txn)] = _row(entry)
            continue
        if sending and txn:
            pending[txn] = len(rows)
            entry = {**entry, "result": "sent; no result recorded"}
        rows.append(_row(entry))
    return rows


def _row(entry: Mapping[str, Any]) -> dict[str, str]:
    command = str(entry.get("command", ""))
    action = str(entry.get("action", ""))
    fields = entry.get("fields")
    shown_fields = ", ".join(map(str, fields)) if isinstance(fields, list) else ""
    if entry.get("kycProfile"):
        shown_fields += f" (KYC {entry['kycProfile']})"
    result = str(entry.get("result", ""))
    code = entry.get("responseCode")
    if code is not None:
        result = f"responseCode {code}" if result in ("", "answered") else f"{result} {code}"
    if entry.get("accosaTransactionId"):
        result += f" · accosa {entry['accosaTransactionId']}"
    if entry.get("error"):
        result += f": {entry['error']}"
    what = f"{command} {action}".strip() if action not in ("", "update", command) else command
    if entry.get("path"):  # `wibmo call`: which API it hit, and with which message code
        what += "".join(f" {entry[k]}" for k in ("method", "path") if entry.get(k))
        if entry.get("messageCode") is not None:
            what += f" · messageCode {entry['messageCode']}"
    txn = entry.get("clientTxnId")
    by = " · ".join(str(entry[k]) for k in ("user", "profile") if entry.get(k))
    who = entry.get("identifiers", "")  # a list for a batch's --reveal
    return {
        "when": _local_time(str(entry.get("time", ""))) + (f"\n{by}" if by else ""),
        "customer": ", ".join(map(str, who)) if isinstance(who, list) else str(who),
        "change": f"{what}: {shown_fields}" if shown_fields else what,
        "result": result + (f"\nclientTxnId {txn}" if txn else ""),
    }


def _local_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp

"""How bulk updates look: the plan's rows that will not be sent and why, the summary
lines, and the rows of an apply that were not applied. Values are masked as lookups show
them; the plan file itself holds them whole for the reviewer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from wibmo_cli.messages import Identifiers
from wibmo_cli.textsafe import visible

if TYPE_CHECKING:
    from wibmo_cli.bulkapply import ApplySummary, RowResult


def who(identifiers: Mapping[str, Any]) -> str:
    """The customer, masked (`Identifiers.describe`)."""
    known = {k: str(v) for k, v in identifiers.items() if k in ("urn", "mobile", "customer_id")}
    return Identifiers(**known).describe() if known else "?"


def plan_problems(lines: Sequence[Mapping[str, Any]]) -> Table | None:
    """The rows that will not be sent, each with every reason; None when there are none."""
    shown = [line for line in lines if line["status"] != "change"]
    if not shown:
        return None
    table = Table(title="Rows that will not be sent", title_justify="left")
    for name in ("row", "customer", "status", "why"):
        table.add_column(name, overflow="fold")
    for line in shown:
        why = "; ".join([*line.get("errors", []), *([line["why"]] if line.get("why") else [])])
        table.add_row(str(line["row"]), who(line["identifiers"]), line["status"], visible(why))
    return table


def plan_summary(counts: Mapping[str, int], target: str, profile: str) -> str:
    """`plan: 120 rows: 100 to change, 10 unchanged, 7 invalid, 3 not found, 0 failed ->
    plan.jsonl; review it, then: ...`."""
    rows = sum(counts.values())
    parts = ", ".join(
        f"{counts.get(status, 0)} {label}"
        for status, label in (
            ("change", "to change"),
            ("unchanged", "unchanged"),
            ("invalid", "invalid"),
            ("not found", "not found"),
            ("failed", "failed to look up"),
        )
    )
    line = f"plan: {rows} rows: {parts}; written to {target}"
    if counts.get("change"):
        line += f"; review it, then: wibmo -p {profile} update-profile --apply {target}"
    return line


def apply_problems(results: Sequence[RowResult]) -> Table | None:
    shown = [r for r in results if r.result != "applied"]
    if not shown:
        return None
    table = Table(title="Rows not applied", title_justify="left")
    for name in ("row", "customer", "result", "clientTxnId", "detail"):
        table.add_column(name, overflow="fold")
    for r in sorted(shown, key=lambda r: r.row):
        detail = r.response_code or r.message or ""
        table.add_row(str(r.row), who(r.identifiers), r.result, r.client_txn_id, visible(detail))
    return table


def result_line(r: RowResult) -> dict[str, Any]:
    """One row's outcome as a JSON line (`-o json`)."""
    line: dict[str, Any] = {
        "row": r.row,
        "clientTxnId": r.client_txn_id,
        "customer": who(r.identifiers),
        "result": r.result,
        "status": r.status,
    }
    if r.response_code is not None:
        line["responseCode"] = r.response_code
    if r.message:
        line["message"] = r.message
    return line


def apply_summary(summary: ApplySummary, elapsed: float, journal: str) -> str:
    done = len(summary.results)
    rate = f", {done / elapsed:,.0f}/s" if elapsed > 0 and done else ""
    parts = [
        f"{summary.count(result)} {label}"
        for result, label in (
            ("applied", "applied"),
            ("answered", "answered another code"),
            ("refused", "refused"),
            ("stale", "changed since the plan"),
            ("invalid", "invalid"),
            ("not sent", "not sent"),
            ("outcome unknown", "outcome unknown"),
        )
        if summary.count(result) or result == "applied"
    ]
    noun = "row" if done == 1 else "rows"
    line = f"apply: {done} {noun} in {elapsed:.1f} s{rate}: {', '.join(parts)}"
    if summary.done_before:
        line += f"; {summary.done_before} done by an earlier run"
    if summary.unknown_before:
        line += f"; {len(summary.unknown_before)} unknown from an earlier run (not resent)"
    if summary.interrupted:
        line += f"; interrupted: go on with --resume (journal {journal})"
    if summary.stopped:
        line += f"; stopped: {summary.stopped}"
    return line

"""How bulk updates look: the plan's rows that will not be sent and why, the summary
lines, and the rows of an apply that were not applied. Values are masked as lookups show
them; the plan file itself holds them whole for the reviewer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from wibmo_cli.messages import Identifiers
from wibmo_cli.textsafe import cell

if TYPE_CHECKING:
    from wibmo_cli.bulkapply import ApplySummary, RowResult


def who(identifiers: Mapping[str, Any]) -> str:
    """The customer, masked (`Identifiers.describe`)."""
    known = Identifiers.of_given(identifiers)
    return known.describe() if known is not None else "?"


def plan_problems(lines: Sequence[Mapping[str, Any]], limit: int = 200) -> Table | None:
    """The rows that will not be sent (the first `limit`), each with every reason; None
    when there are none."""
    problems = [line for line in lines if line["status"] != "change"]
    if not problems:
        return None
    shown = problems[:limit]
    more = len(problems) - len(shown)
    title = "Rows that will not be sent" + (
        f" (the first {limit}; {more} more in the plan)" if more > 0 else ""
    )
    table = Table(title=title, title_justify="left")
    for name in ("row", "customer", "status", "why"):
        table.add_column(name, overflow="fold")
    for line in shown:
        why = "; ".join([*line.get("errors", []), *([line["why"]] if line.get("why") else [])])
        table.add_row(
            cell(line["row"]), cell(who(line["identifiers"])), cell(line["status"]), cell(why)
        )
    return table


def plan_changes(lines: Sequence[Mapping[str, Any]], limit: int = 20) -> Table | None:
    """The first `limit` changes, each field "now -> new" as a lookup shows values
    (document numbers masked): what a reviewer reads first; the plan file has them all."""
    from wibmo_cli.masking import mask

    changes = [line for line in lines if line["status"] == "change"]
    if not changes:
        return None
    more = len(changes) - limit
    title = "Changes" + (f" (the first {limit}; {more} more in the plan)" if more > 0 else "")
    table = Table(title=title, title_justify="left")
    for name in ("row", "customer", "field", "now", "new"):
        table.add_column(name, overflow="fold")
    for line in changes[:limit]:
        for index, (name, value) in enumerate(line.get("fields", {}).items()):
            shown = mask({name: value.get("now"), f"{name} ": value.get("new")})
            now, new = shown[name], shown[f"{name} "]
            table.add_row(
                cell(line["row"] if index == 0 else ""),
                cell(who(line["identifiers"]) if index == 0 else ""),
                cell(name),
                cell("" if now is None else _text(now)),
                cell(_text(new)),
            )
    return table


def _text(value: Any) -> str:
    if isinstance(value, list):  # documents
        return "; ".join(
            ":".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
            for item in value
        )
    return str(value)


def apply_question(plan: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """What is about to be sent, for the one question: how many rows, which fields, and
    what the plan leaves out."""
    fields: dict[str, int] = {}
    for row in rows:
        for name in row.get("fields", {}):
            fields[name] = fields.get(name, 0) + 1
    noun = "update" if len(rows) == 1 else "updates"
    changed = ", ".join(f"{name} {count}" for name, count in fields.items())
    counts = plan.get("counts") or {}
    left = {status: n for status, n in counts.items() if status != "change" and n}
    line = f"{len(rows)} {noun} to send ({changed})"
    if left:
        line += "; not in it: " + ", ".join(f"{n} {status}" for status, n in left.items())
    return line


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
    line = f"plan: {rows} {'row' if rows == 1 else 'rows'}: {parts}; written to {target}"
    if counts.get("change"):
        line += f"; review it, then: wibmo -p {profile} update-profile --apply {target}"
    return line


UNKNOWN_RESULTS = frozenset({"outcome unknown", "interrupted"})


def apply_problems(results: Sequence[RowResult]) -> Table | None:
    """The rows not applied for a known reason (the unknown ones are listed apart, each
    with the lookup that checks it)."""
    shown = [r for r in results if r.result != "applied" and r.result not in UNKNOWN_RESULTS]
    if not shown:
        return None
    table = Table(title="Rows not applied", title_justify="left")
    for name in ("row", "customer", "result", "clientTxnId", "detail"):
        table.add_column(name, overflow="fold")
    for r in sorted(shown, key=lambda r: r.row):
        detail = _code(r.response_code) if r.response_code else r.message or ""
        table.add_row(
            cell(r.row), cell(who(r.identifiers)), cell(r.result), cell(r.client_txn_id),
            cell(detail),
        )  # fmt: skip
    return table


def _code(code: str) -> str:
    from wibmo_cli.codes import explain, normalise_code

    known = explain(normalise_code(code))
    return f"{code} {known.name}" if known else code


def result_line(r: RowResult) -> dict[str, Any]:
    """One row's outcome as a JSON line (`-o json`); `identifiers` masked as reconcile's."""
    line: dict[str, Any] = {
        "row": r.row,
        "clientTxnId": r.client_txn_id,
        "identifiers": who(r.identifiers),
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
            ("elsewhere", "sent by another apply"),
            ("invalid", "invalid"),
            ("not sent", "not sent"),
            ("outcome unknown", "outcome unknown"),
            ("interrupted", "cut off by the interruption (outcome unknown)"),
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

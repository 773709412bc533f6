"""What `decrypt --har` shows: the capture's exchanges as a timeline, one row each."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from wibmo_cli.har import Exchange, Timeline

COLUMNS = ("time", "request", "HTTP", "messageCode", "responseCode", "clientTxnId", "ms")
FOLDED = frozenset({"request", "responseCode"})  # the rest never wrap: ids stay whole


def timeline_table(result: Timeline, title: str) -> Table:
    """One row per exchange, in start order. A token that did not decrypt shows its
    error in the responseCode column; a mismatched pair names the entry it answers."""
    from rich import box
    from rich.table import Table

    from wibmo_cli.textsafe import cell

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for column in COLUMNS:
        table.add_column(
            column,
            justify="right" if column in ("HTTP", "ms") else "left",
            overflow="fold",
            no_wrap=column not in FOLDED,
        )
    for exchange in result.exchanges:
        table.add_row(
            cell(clock(exchange.started)),
            cell(f"{exchange.method} {exchange.path}"),
            cell(exchange.status or "-"),
            cell(message_codes(exchange)),
            cell(outcome(exchange), _style(exchange)),
            cell(txn_shown(exchange)),
            cell("" if exchange.time_ms is None else f"{exchange.time_ms:,.0f}"),
        )
    return table


def clock(started: str) -> str:
    """The time of day as the capture wrote it (its own clock, not converted), to the
    millisecond; the text as it is when it is not an ISO time."""
    try:
        return datetime.fromisoformat(started).strftime("%H:%M:%S.%f")[:-3]
    except ValueError:
        return started


def message_codes(exchange: Exchange) -> str:
    sent, answered = exchange.message_codes
    if sent and answered:
        return f"{sent} → {answered}"
    return sent or answered


def outcome(exchange: Exchange) -> str:
    """The answer's responseCode and its name (codes.py), the gateway's reading of an
    HTTP status when there is no code, or why a token did not decrypt."""
    from wibmo_cli.codes import explain, explain_http

    errors = [
        f"{side}: {part.error}"
        for side, part in (("request", exchange.request), ("answer", exchange.response))
        if part and part.error
    ]
    code = exchange.response_code
    if code:
        known = explain(code)
        said = f"{code} {known.name}" if known else code
    elif exchange.status and exchange.status >= 400 and (http := explain_http(exchange.status)):
        said = f"HTTP {http.name}"
    else:
        said = ""
    if exchange.response and exchange.response.plain:
        said += " (plain JSON)"
    return "\n".join(filter(None, [said, *errors]))


def txn_shown(exchange: Exchange) -> str:
    txn = exchange.client_txn_id
    if exchange.paired != "mismatch":
        return txn
    answered = exchange.response.fields.get("clientTxnId") if exchange.response else ""
    other = f" (entry {exchange.answers_entry})" if exchange.answers_entry is not None else ""
    return f"{txn}\n≠ answer's {answered}{other}"


def _style(exchange: Exchange) -> str:
    from wibmo_cli.codes import is_success

    if exchange.failed or exchange.paired == "mismatch":
        return "red"
    code = exchange.response_code
    return "green" if code and is_success(code) else ("yellow" if code else "")


def summary(result: Timeline) -> str:
    """The line under the table (stderr): what was shown, and what was not."""
    shown = len(result.exchanges)
    said = f"{shown} of {result.entries} entries carried the platform's bodies"
    if result.without_token:
        said += f"; {result.without_token} without a token not shown"
    if result.failed:
        said += f"; {result.failed} token(s) could not be decrypted"
    return said

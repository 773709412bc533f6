"""What `decrypt --har` shows: the capture's exchanges as a timeline, one row each.

Every column is always shown, and an id is never cut: the table is drawn as it is when
it fits the terminal; else compact: a code's name under the code, and each path
shortened in the middle as far as needed (its last segment, the API's name, kept: a
browser's network panel names a request by it); else, when not even that fits, as one
block of label and value per exchange, as `lookup` shows cards on a narrow terminal.
`-o json` has every path whole.

Cells hold the network's text made visible (`textsafe.visible`: a line feed in an id
shows as ``\\n``) and the tool's own line breaks as line breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

    from wibmo_cli.har import Exchange, Timeline

COLUMNS: Final = (
    "#",
    "time",
    "request",
    "HTTP",
    "messageCode",
    "responseCode",
    "clientTxnId",
    "ms",
)
RIGHT: Final = frozenset({"#", "HTTP", "ms"})
WRAPPED: Final = frozenset({"request", "responseCode"})  # the rest never wrap: ids stay whole
OUTCOME_WIDTH: Final = 40  # an error longer than this wraps inside its cell
MIN_PATH: Final = 20  # "…/retrieveCustRecord": the API's name, as a network panel shows it
ELLIPSIS: Final = "…"


def timeline_view(result: Timeline, title: str, width: int) -> list[RenderableType]:
    """The timeline for a console `width` columns wide: the table if it fits; else the
    compact table (codes' names under their codes, paths shortened to no less than
    MIN_PATH) if it fits; else the title and one block per exchange."""
    table = timeline_table(result, title)
    if _natural_width(table) <= width:
        return [table]
    room = max((len(exchange.path) for exchange in result.exchanges), default=0)
    while room >= MIN_PATH:
        table = timeline_table(result, title, path_width=room, compact=True)
        excess = _natural_width(table) - width
        if excess <= 0:
            return [table]
        room -= excess
    shown: list[RenderableType] = [_lines(title, style="table.title")]
    for exchange in result.exchanges:
        shown += [_lines(" "), timeline_block(exchange)]
    return shown


def timeline_table(
    result: Timeline, title: str, *, path_width: int | None = None, compact: bool = False
) -> Table:
    """One row per exchange, in start order. A token that did not decrypt shows its
    error in the responseCode column; a mismatched pair names the entry it answers.
    `path_width`: paths shortened to it; `compact`: each code's name on a line of its own."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),  # columns two apart (with the box's blank divider)
    )
    for column in COLUMNS:
        table.add_column(
            column,
            justify="right" if column in RIGHT else "left",
            overflow="fold",
            no_wrap=column not in WRAPPED,
            max_width=OUTCOME_WIDTH if column == "responseCode" else None,
        )
    for exchange in result.exchanges:
        shown = _shown(exchange, path_width=path_width)
        table.add_row(
            _lines(str(exchange.entry)),
            _lines(shown.time),
            _lines(shown.request),
            _lines(shown.status),
            _lines(shown.message_codes),
            _lines(*outcome(exchange, compact=compact), style=_style(exchange)),
            _lines(*txn_shown(exchange, compact=compact)),
            _lines(shown.ms),
        )
    return table


def timeline_block(exchange: Exchange) -> Table:
    """One exchange as label and value (a terminal too narrow for the table)."""
    from rich.table import Table

    shown = _shown(exchange, path_width=None)
    grid = Table(
        title=_lines(f"entry {exchange.entry} · {shown.time}", style="table.title"),
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2, 0, 0),
    )
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows = (
        ("request", _lines(shown.request)),
        ("HTTP", _lines(shown.status)),
        ("messageCode", _lines(shown.message_codes)),
        ("responseCode", _lines(*outcome(exchange, compact=False), style=_style(exchange))),
        ("clientTxnId", _lines(*txn_shown(exchange, compact=False))),
        ("ms", _lines(shown.ms)),
    )
    for label, value in rows:
        if value.plain:
            grid.add_row(label, value)
    return grid


@dataclass(frozen=True)
class _Shown:
    time: str
    request: str
    status: str
    message_codes: str
    ms: str


def _shown(exchange: Exchange, *, path_width: int | None) -> _Shown:
    path = exchange.path if path_width is None else shortened(exchange.path, path_width)
    return _Shown(
        time=clock(exchange.started),
        request=f"{exchange.method} {path}",
        status=str(exchange.status or "-"),
        message_codes=message_codes(exchange),
        ms="" if exchange.time_ms is None else f"{exchange.time_ms:,.0f}",
    )


def _lines(*lines: str, style: str = "") -> Text:
    """A cell of the tool's own lines, each line's text made visible (text from the
    network included: its own line feeds are shown, never obeyed)."""
    from rich.text import Text

    from wibmo_cli.textsafe import visible

    return Text("\n".join(visible(line) for line in lines if line), style=style)


def _natural_width(renderable: RenderableType) -> int:
    """The width `renderable` takes with nothing wrapped that need not be (rich's
    Measurement maximum, on a console too wide to constrain it)."""
    import io

    from rich.console import Console
    from rich.measure import Measurement

    console = Console(width=10_000, file=io.StringIO())
    return Measurement.get(console, console.options, renderable).maximum


def shortened(path: str, width: int) -> str:
    """`path` in at most `width` characters: its start, "…", and its last segment (it
    names the API: `/uat/…/retrieveCustRecord`), or as much of its end as fits."""
    if len(path) <= width:
        return path
    last = path[path.rfind("/") :]
    tail = last if len(last) + 2 <= width else path[len(path) - (width - 1) :]
    return f"{path[: width - 1 - len(tail)]}{ELLIPSIS}{tail}"


def clock(started: str) -> str:
    """The time of day as the capture wrote it (its own clock, not converted), to the
    millisecond; the text as it is when it is not an ISO time."""
    try:
        return datetime.fromisoformat(started).strftime("%H:%M:%S.%f")[:-3]
    except ValueError:
        return started


def message_codes(exchange: Exchange) -> str:
    """`1930 → 1931`; an answer's code alone as `? → 0`, never read as the request's."""
    sent, answered = exchange.message_codes
    if answered:
        return f"{sent or '?'} → {answered}"
    return sent


def outcome(exchange: Exchange, *, compact: bool) -> list[str]:
    """The answer's responseCode and its name (codes.py; `compact`: the name on a line
    of its own), the gateway's reading of an HTTP status when there is no code, and why
    a token did not decrypt: one line each."""
    from wibmo_cli.codes import explain, explain_http

    said: list[str] = []
    code = exchange.response_code
    if code:
        known = explain(code)
        said = [code, known.name] if known else [code]
    elif exchange.status and exchange.status >= 400 and (http := explain_http(exchange.status)):
        said = [f"HTTP {http.name}"]
    if exchange.response and exchange.response.plain:
        said.append("(plain JSON)")
    errors = [
        f"{side}: {part.error}"
        for side, part in (("request", exchange.request), ("answer", exchange.response))
        if part and part.error
    ]
    return [*(said if compact else [" ".join(said)]), *errors]


def txn_shown(exchange: Exchange, *, compact: bool) -> list[str]:
    """The exchange's clientTxnId; for a mismatch, the answer's too and the entry whose
    request carries it (`compact`: on a line of its own)."""
    txn = exchange.client_txn_id
    if exchange.paired != "mismatch":
        return [txn]
    answered = exchange.response.fields.get("clientTxnId") if exchange.response else ""
    other = f"(entry {exchange.answers_entry})" if exchange.answers_entry is not None else ""
    mismatch = [txn, f"≠ answer's {answered}"]
    return [*mismatch, other] if compact else [txn, f"{mismatch[1]} {other}".rstrip()]


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
        tokens = "1 token" if result.failed == 1 else f"{result.failed} tokens"
        said += f"; {tokens} could not be decrypted"
    return said

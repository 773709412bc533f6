"""Batch lookups for people: a progress bar on stderr, and the closing summary line."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.streams import is_terminal
from wibmo_cli.tabular import Column

if TYPE_CHECKING:
    from wibmo_cli.batch import Summary


def _answered(name: str, *also: str, per_card: bool = True) -> Column:
    """A field of the answer: flat, or in each of its cards (`tabular`: joined with "; ",
    one value per card; a customer's field, which the platform repeats in each card,
    once per distinct value: `per_card=False`)."""
    names = (name, *also)
    paths = [f"answer.{n}" for n in names] + [f"answer.cardList.{n}" for n in names]
    return Column(name, tuple(paths), per_item=per_card)


# -o csv / tsv: one row per input row, these columns (README, "Filters and formats").
CSV_COLUMNS: Final = (
    Column.at("row"),
    Column.at("input"),
    Column.at("kind"),
    Column.at("ok"),
    Column.at("responseCode", "responseCode", "error.code"),
    Column.at("error", "error.message"),
    Column.at("exit_code", "error.exit_code", missing="0"),
    Column.at("clientTxnId", "answer.clientTxnId", "error.clientTxnId"),
    Column.at("cards", "answer.cardList.#"),
    _answered("customerId", per_card=False),
    _answered("firstName", per_card=False),
    _answered("lastName", per_card=False),
    _answered("mobile", per_card=False),
    _answered("email", "emailId", per_card=False),
    _answered("kycName"),
    _answered("profileId"),
    _answered("urn"),
    _answered("cardNumber"),
    _answered("cardType"),
    _answered("cardStatus"),
    _answered("statusDescription"),
    _answered("availableBalance", "availBal"),
)


class ProgressBar:
    """Rows done, rows a second and time left: one line on stderr (a terminal: see
    `wanted`), redrawn ten times a second by a thread of its own.

    rich's Progress only renders the line; this class draws it, so stdout's data never
    passes through rich (whose redirection wraps each line at the terminal's width and
    sends it to the bar's stream). Data lines are written inside `aside()`: when stdout
    is a terminal too, the bar's line is cleared first and the data written as is, and
    the bar comes back under it at the next redraw.
    """

    REFRESH = 0.1  # seconds between redraws

    def __init__(self, total: int | None, label: str = "lookup") -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        from wibmo_cli.render import MessageStream

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} rows/s" if speed else "", style="progress.data.speed")

        columns = [
            SpinnerColumn() if total is None else BarColumn(),
            MofNCompleteColumn() if total is not None else TextColumn("{task.completed} rows"),
            Rate(),
            TimeRemainingColumn() if total is not None else TimeElapsedColumn(),
        ]
        self._stderr = MessageStream()  # never fails
        self._console = Console(file=self._stderr)  # type: ignore[arg-type]
        # disable: rich's own live display never starts; `_draw` shows its renderable
        self._progress = Progress(TextColumn(label), *columns, console=self._console, disable=True)
        self._task = self._progress.add_task(label, total=total)
        self._shares_terminal = is_terminal(sys.stdout)
        self._lock = threading.Lock()  # the line on the terminal: drawn, or cleared
        self._drawn = False
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="wibmo-progress", daemon=True)

    @staticmethod
    def wanted() -> bool:
        return is_terminal(sys.stderr)

    def __enter__(self) -> ProgressBar:
        self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._ticker.join()
        with self._lock:
            self._clear()  # transient: the summary line takes its place

    def advance(self, outcome: str) -> None:
        self._progress.advance(self._task)

    @contextmanager
    def aside(self) -> Iterator[None]:
        """Write stdout's data inside this: the bar's line is not left under it."""
        if not self._shares_terminal:
            yield  # stdout is a file or a pipe: the bar stays where it is
            return
        with self._lock:
            self._clear()
            yield

    def _tick(self) -> None:
        while not self._stop.wait(self.REFRESH):
            line = self._line()
            with self._lock:
                self._stderr.write(f"\r{line}\x1b[K")
                self._stderr.flush()
                self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self._stderr.write("\r\x1b[K")
            self._stderr.flush()
            self._drawn = False

    def _line(self) -> str:
        """The bar as one line of text (with its colours), narrower than the terminal."""
        console = self._console
        with console.capture() as captured:
            console.print(
                self._progress.get_renderable(),
                width=max(1, console.width - 1),
                no_wrap=True,
                overflow="crop",
                end="",
            )
        return captured.get().split("\n", 1)[0]


def summary_line(summary: Summary, *, resume_hint: str | None = None) -> str:
    """`lookup: 5000 rows in 10.2 s (490/s): 4200 found, 600 not found, 200 failed`."""
    done = summary.done
    rate = f", {done / summary.elapsed:,.0f}/s" if summary.elapsed > 0 and done else ""
    parts = [
        f"{summary.count('found')} found",
        f"{summary.count('not found')} not found",
        f"{summary.count('failed')} failed",
    ]
    noun = "row" if done == 1 else "rows"
    line = f"lookup: {done} {noun} in {summary.elapsed:.1f} s{rate}: {', '.join(parts)}"
    if summary.skipped:
        line += f"; {summary.skipped} skipped (answered before)"
    if summary.plain:
        line += f"; {summary.plain} answered in plain JSON, not encrypted"
    if summary.interrupted:
        line += "; interrupted"
        if resume_hint:
            line += f": {resume_hint}"
    return line

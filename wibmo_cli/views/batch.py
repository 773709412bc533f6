"""Batch lookups for people: a progress bar on stderr, and the closing summary line."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from wibmo_cli.streams import is_terminal

if TYPE_CHECKING:
    from wibmo_cli.batch import Summary


class ProgressBar:
    """Rows done, rows a second and time left, on stderr (a terminal: see `wanted`).

    When stdout is the same terminal, lines written to `sys.stdout` while the bar runs
    are printed above it; otherwise stdout is left alone (it is data).
    """

    def __init__(self, total: int | None) -> None:
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

        stdout_terminal = is_terminal(sys.stdout)
        columns = [
            SpinnerColumn() if total is None else BarColumn(),
            MofNCompleteColumn() if total is not None else TextColumn("{task.completed} rows"),
            Rate(),
            TimeRemainingColumn() if total is not None else TimeElapsedColumn(),
        ]
        self._progress = Progress(
            TextColumn("lookup"),
            *columns,
            console=Console(file=MessageStream()),  # type: ignore[arg-type]  # never fails
            redirect_stdout=stdout_terminal,
            redirect_stderr=False,
            transient=True,
        )
        self._task = self._progress.add_task("lookup", total=total)

    @staticmethod
    def wanted() -> bool:
        return is_terminal(sys.stderr)

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def advance(self, outcome: str) -> None:
        self._progress.advance(self._task)


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

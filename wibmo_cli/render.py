"""The only place that writes to the terminal.

Data on stdout (JSON, or rich tables for people); every message, warning, progress
and trace on stderr, with control characters made visible (`textsafe.visible`: they
may quote what a server sent) and URL passwords redacted (`masking.redact_url`).
No colour when the stream is not a terminal or NO_COLOR is set. Rich is imported
only when a table is actually drawn.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from wibmo_cli.masking import redact_url
from wibmo_cli.textsafe import visible

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


def dumps(value: Any, *, pretty: bool = False) -> str:
    """JSON text: compact one line, or indented for people."""
    if pretty:
        return json.dumps(value, indent=2, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _colour_allowed(stream: IO[str]) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Renderer:
    """Turns results into text on stdout and messages on stderr."""

    def __init__(self, *, json_output: bool = False, verbose: bool = False) -> None:
        self.json_output = json_output
        self.verbose = verbose
        self._console: Console | None = None
        self._err_console: Console | None = None

    # -- stdout -----------------------------------------------------------------

    @property
    def stdout(self) -> IO[str]:
        return sys.stdout

    @property
    def stdout_is_terminal(self) -> bool:
        try:
            return sys.stdout.isatty()
        except (AttributeError, ValueError):
            return False

    def json(self, value: Any, *, pretty: bool | None = None) -> None:
        """One JSON document on stdout: indented on a terminal, one line otherwise."""
        if pretty is None:
            pretty = self.stdout_is_terminal
        self.stdout.write(dumps(value, pretty=pretty) + "\n")
        self.stdout.flush()

    def line(self, text: str) -> None:
        self.stdout.write(text + "\n")

    def print(self, *renderables: RenderableType) -> None:
        """Rich renderables (tables, panels) on stdout."""
        self.console.print(*renderables)

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=sys.stdout,
                no_color=not _colour_allowed(sys.stdout),
                highlight=False,
                soft_wrap=False,
            )
            # rich exits 1 when stdout's reader goes away (`| head`), which scripts read
            # as "the platform said no"; let the edge end it as a closed pipe instead.
            self._console.on_broken_pipe = _raise_broken_pipe  # type: ignore[method-assign]
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(
                file=sys.stderr,
                no_color=not _colour_allowed(sys.stderr),
                highlight=False,
            )
        return self._err_console

    # -- stderr -----------------------------------------------------------------

    def info(self, message: str) -> None:
        sys.stderr.write(_shown(message) + "\n")
        sys.stderr.flush()

    def warn(self, message: str) -> None:
        self._tagged("warning", "yellow", message)

    def error(self, message: str) -> None:
        self._tagged("error", "red", message)

    def trace(self, message: str) -> None:
        """A `-v` trace line on stderr (callers redact secrets before they get here)."""
        if self.verbose:
            sys.stderr.write(_shown(message, lines=False) + "\n")
            sys.stderr.flush()

    def _tagged(self, tag: str, colour: str, message: str) -> None:
        message = _shown(message)
        if _colour_allowed(sys.stderr):
            code = {"red": "31", "yellow": "33"}[colour]
            sys.stderr.write(f"\x1b[{code};1m{tag}:\x1b[0m {message}\n")
        else:
            sys.stderr.write(f"{tag}: {message}\n")
        sys.stderr.flush()


def _shown(message: str, *, lines: bool = True) -> str:
    """A message as written to stderr: control characters visible, URL passwords redacted."""
    return visible(redact_url(message), lines=lines)


def _raise_broken_pipe() -> None:
    raise BrokenPipeError


def error_line(message: str) -> None:
    """The edge's one-line error (used before a Renderer exists)."""
    Renderer().error(message)

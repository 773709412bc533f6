"""The only place that writes to the terminal.

Data on stdout (JSON, or rich tables for people); every message, warning, progress
and trace on stderr, with control characters made visible (`textsafe.visible`: they
may quote what a server sent) and URL passwords redacted (`masking.redact_url`).
No colour when the stream is not a terminal or NO_COLOR is set. Rich is imported
only when a table is actually drawn.

Streams fail (DESIGN.md, Exit codes). Everything here writes through two adapters that
find `sys.stdout` / `sys.stderr` at each write (the progress bar swaps them, and so may
whoever runs the CLI in-process):

- `OutputStream` (stdout, data): a write that fails is an `OutputError` (exit 74, "cannot
  write the output: No space left on device"); a reader that went away stays a
  `BrokenPipeError` (the edge's quiet exit 141); a closed stdout (`>&-`) is an error too,
  never a silent success.
- `MessageStream` (stderr, messages, traces, progress): a write that fails is dropped and
  the stream is pointed at /dev/null, so losing the trace never loses the answer, an audit
  entry or a row.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import re
import sys
from typing import IO, TYPE_CHECKING, Any, Final, cast

from wibmo_cli import streams
from wibmo_cli.errors import OutputError
from wibmo_cli.masking import redact_url
from wibmo_cli.textsafe import json_text, visible

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from wibmo_cli.jsonfilter import FilteredLines, FilterError, JsonFilter


def dumps(value: Any, *, pretty: bool = False) -> str:
    """JSON text: compact one line, or indented for people (`textsafe.json_text`)."""
    return json_text(value, pretty=pretty)


def _colour_allowed(stream: IO[str]) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    return streams.is_terminal(stream)


class OutputStream:
    """stdout (text, or its bytes with `binary`) as found at each write; failures typed.

    `stream`: a fixed stream to guard (the edge installs one as `sys.stdout`, so click's
    help and version text are covered too); by default `sys.stdout` at each write.
    """

    def __init__(self, stream: IO[str] | None = None, *, binary: bool = False) -> None:
        self._stream = stream
        self._binary = binary

    def _target(self) -> Any:
        stream: Any = self._stream if self._stream is not None else sys.stdout
        if stream is None:  # started with stdout closed (`>&-`)
            raise OutputError("cannot write the output: stdout is closed")
        return stream.buffer if self._binary else stream

    def write(self, data: Any) -> int:
        target = self._target()
        try:
            raw = target if self._binary else getattr(target, "buffer", None)
            if isinstance(raw, io.RawIOBase):  # unbuffered (PYTHONUNBUFFERED, -u)
                # a short write (`ulimit -f`, a full disk) would be dropped silently
                count = len(data)
                if not self._binary:
                    target.flush()
                    data = data.encode(target.encoding, target.errors or "strict")
                _write_all(raw, data)
                return count
            return int(target.write(data) or 0)
        except UnicodeError:
            raise
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            raise output_error(exc) from None

    def flush(self) -> None:
        target = self._target()
        try:
            target.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            raise output_error(exc) from None

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._stream if self._stream is not None else sys.stdout, name)


class Wrapped:
    """A stream over stdout's `inner` that changes what passes (`write`); the rest of a
    stream (flush, isatty, fileno ...) is `inner`'s."""

    def __init__(self, inner: OutputStream) -> None:
        self._inner = inner

    def flush(self) -> None:
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)


class _Redacting(Wrapped):
    """A stdout stream that redacts each secret (as typed and as JSON writes it) in what
    passes: the secret's own bytes never reach the output."""

    def __init__(self, inner: OutputStream, secrets: tuple[str, ...], binary: bool) -> None:
        super().__init__(inner)
        from wibmo_cli.masking import secret_byte_forms

        forms = secret_byte_forms(secrets)
        self._forms: list[tuple[Any, Any]] = [
            (a, b) if binary else (a.decode(), b.decode()) for a, b in forms
        ]

    def write(self, data: Any) -> int:
        from wibmo_cli.masking import without_secret_bytes

        self._inner.write(without_secret_bytes(data, self._forms))
        return len(data)


_CLOSED: Final = "cannot write the output: stdout is closed"


class _Closed(io.BufferedIOBase):
    """Bytes written here fail as on a closed file; flushing nothing succeeds."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OutputError(_CLOSED)


class _ClosedText(io.TextIOBase):
    """stdout when the process started without one (`>&-`): text written here fails as
    on a closed file (exit 74 at the edge); flushing nothing succeeds, so a command
    that wrote nothing to stdout (an error, exit 3) reports only its own error."""

    buffer = _Closed()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OutputError(_CLOSED)


def closed_stream() -> IO[str]:
    return cast("IO[str]", _ClosedText())


def _write_all(raw: io.RawIOBase, data: bytes) -> None:
    """All of `data`, however many writes it takes; a write that cannot proceed fails."""
    view = memoryview(data)
    while view:
        written = raw.write(view)
        if not written:  # None: it would block; 0: nothing more can be written
            raise OSError(errno.EAGAIN if written is None else errno.EIO, "short write")
        view = view[written:]


def output_error(exc: OSError | ValueError) -> OutputError:
    """A failed write to stdout as the one-line error the edge prints (exit 74)."""
    closed = "stdout is closed"  # a ValueError: "I/O operation on closed file"
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else closed
    return OutputError(f"cannot write the output: {reason}")


def drop_stdout() -> None:
    """stdout's reader went away, or it cannot be written: point it at /dev/null, so that
    Python's own flush at exit does not fail (exit 120) on what it still holds."""
    if sys.stdout is not None:
        _silence(sys.stdout)


class MessageStream:
    """stderr that never fails: a write it cannot make is dropped, and the stream is
    pointed at /dev/null so later writes (and Python's own flush at exit) succeed.

    `stream`: a fixed stream to guard (the edge installs one as `sys.stderr`); by default
    `sys.stderr` as found at each write.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream

    def _target(self) -> IO[str] | None:
        return self._stream if self._stream is not None else sys.stderr

    def write(self, text: str) -> int:
        target = self._target()
        if target is not None:
            try:
                target.write(text)
            except UnicodeError:
                raise
            except (OSError, ValueError):  # ValueError: the stream was closed
                _silence(target)
        return len(text)

    def flush(self) -> None:
        target = self._target()
        if target is not None:
            try:
                target.flush()
            except (OSError, ValueError):
                _silence(target)

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._target(), name)


def _silence(stream: IO[str]) -> None:
    """Point a stream that failed at /dev/null, and drop what it still holds."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
        stream.flush()  # what was buffered goes to /dev/null now
    except (OSError, ValueError, AttributeError, OutputError):  # not a real file, or closed
        pass


class Renderer:
    """Turns results into text on stdout and messages on stderr."""

    def __init__(
        self,
        *,
        json_output: bool = False,
        verbose: bool = False,
        json_filter: JsonFilter | None = None,
    ) -> None:
        self.json_output = json_output
        self.verbose = verbose
        self.json_filter = json_filter  # --jq / --fields, applied to every JSON written
        self._filtered: dict[bool, FilteredLines] = {}  # one per stream: partial lines kept
        self._hidden: tuple[str, ...] = ()  # secrets redacted in stdout (`hide`)
        self.filter_failures = 0  # values a --jq program failed on (each said on stderr)
        self._console: Console | None = None
        self._err_console: Console | None = None
        self._stderr = MessageStream()

    # -- stdout -----------------------------------------------------------------

    @property
    def stdout(self) -> OutputStream:
        """stdout for data: a failed write is an `OutputError`. With `--jq` / `--fields`,
        each JSON line written is filtered on its way."""
        if self.json_filter is not None:
            return cast("OutputStream", self._filtered_stream(binary=False))
        return self._out(binary=False)

    @property
    def stdout_bytes(self) -> OutputStream:
        """stdout's bytes (streamed output), failures typed and lines filtered as
        `stdout`'s."""
        if self.json_filter is not None:
            return cast("OutputStream", self._filtered_stream(binary=True))
        return self._out(binary=True)

    def hide(self, secrets: tuple[str, ...]) -> None:
        """From now on, each of `secrets` (the profile's) is redacted in whatever stdout
        gets: a decrypted request may carry them (v3 puts credentials in the body)."""
        self._hidden = tuple(s for s in secrets if s)

    def _out(self, *, binary: bool) -> OutputStream:
        """stdout (text or bytes), the hidden secrets redacted on the way."""
        if not self._hidden:
            return OutputStream(binary=binary)
        return cast("OutputStream", _Redacting(OutputStream(binary=binary), self._hidden, binary))

    def _filtered_stream(self, *, binary: bool) -> FilteredLines:
        from wibmo_cli.jsonfilter import FilteredLines

        assert self.json_filter is not None
        if binary not in self._filtered:
            inner = self._out(binary=binary)
            flt = self.json_filter
            made = FilteredLines(inner, flt, self._filter_failed, binary=binary)
            self._filtered[binary] = made
        return self._filtered[binary]

    def _filter_failed(self, exc: FilterError, line: int | None = None) -> None:
        """A `--jq` program failed on one value: one line on stderr, and on we go (the
        command's exit status says it: `commands.options`)."""
        self.filter_failures += 1
        self.error(f"{exc.message} (JSON line {line})" if line else exc.message)

    @property
    def stdout_is_terminal(self) -> bool:
        return streams.is_terminal(sys.stdout)

    def json(self, value: Any, *, pretty: bool | None = None, rows: tuple[str, ...] = ()) -> None:
        """One JSON document on stdout: indented on a terminal, one line otherwise.
        `rows`: the keys holding its rows, for --fields (`JsonFilter.results`)."""
        if pretty is None:
            pretty = self.stdout_is_terminal
        out = self._out(binary=False)
        if self._hidden:
            from wibmo_cli.masking import secrets_hidden

            value = secrets_hidden(value, self._hidden)
        if self.json_filter is None:
            out.write(dumps(value, pretty=pretty) + "\n")
        else:
            from wibmo_cli.jsonfilter import FilterError  # only with --jq / --fields

            try:
                for text in self.json_filter.text(value, pretty=pretty, rows=rows):
                    out.write(text + "\n")
            except FilterError as exc:
                out.flush()
                self._filter_failed(exc)
        out.flush()

    def line(self, text: str) -> None:
        out = self.stdout
        out.write(text + "\n")
        out.flush()

    def print(self, *renderables: RenderableType) -> None:
        """Rich renderables (tables, panels, lines) on stdout, each on its own lines."""
        _print(self.console, stacked(renderables), self.stdout)

    def print_err(self, *renderables: RenderableType) -> None:
        """Rich renderables on stderr (a preview, a report), each on its own lines."""
        _print(self.err_console, stacked(renderables), self._stderr)

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = _output_console()(
                file=OutputStream(),  # type: ignore[arg-type]
                no_color=not _colour_allowed(sys.stdout),
                highlight=False,
                emoji=False,  # ":name:" stays text (and rich's emoji table, 5 ms, unloaded)
                soft_wrap=False,
            )
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(
                file=self._stderr,  # type: ignore[arg-type]
                no_color=not _colour_allowed(sys.stderr),
                highlight=False,
                emoji=False,
            )
        return self._err_console

    # -- stderr -----------------------------------------------------------------

    def info(self, message: str) -> None:
        self._stderr.write(_shown(message) + "\n")
        self._stderr.flush()

    def warn(self, message: str) -> None:
        self._tagged("warning", "yellow", message)

    def error(self, message: str) -> None:
        self._tagged("error", "red", message)

    def trace(self, message: str) -> None:
        """A `-v` trace line on stderr (callers redact secrets before they get here)."""
        if self.verbose:
            self._stderr.write(_shown(message, lines=False) + "\n")
            self._stderr.flush()

    def _tagged(self, tag: str, colour: str, message: str) -> None:
        message = _shown(message)
        if _colour_allowed(sys.stderr):
            code = {"red": "31", "yellow": "33"}[colour]
            self._stderr.write(f"\x1b[{code};1m{tag}:\x1b[0m {message}\n")
        else:
            self._stderr.write(f"{tag}: {message}\n")
        self._stderr.flush()


def _print(
    console: Console, renderable: RenderableType, stream: OutputStream | MessageStream
) -> None:
    """`renderable` drawn on `console`. To a terminal as rich writes it; elsewhere (a
    pipe, a file) without the spaces rich pads each line with to the table's width,
    which `grep`, `diff` and editors show as trailing whitespace."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    stream.write(_TRAILING_SPACES.sub("", captured.get()))
    stream.flush()


_TRAILING_SPACES: Final = re.compile(r" +$", re.MULTILINE)


def _shown(message: str, *, lines: bool = True) -> str:
    """A message as written to stderr: control characters visible, URL passwords redacted."""
    return visible(redact_url(message), lines=lines)


@functools.cache
def _output_console() -> type[Console]:
    """rich's Console for stdout, but for what a closed pipe does. rich exits 1 when
    stdout's reader goes away (`| head`), which scripts read as "the platform said no";
    the edge ends it as a closed pipe instead (141). rich's docstring of
    `on_broken_pipe` invites overriding it in a subclass; made when first drawn, as
    rich is imported only then."""
    from rich.console import Console

    class OutputConsole(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return OutputConsole


def error_line(message: str) -> None:
    """The edge's one-line error (used before a Renderer exists)."""
    Renderer().error(message)


def stacked(renderables: tuple[RenderableType, ...]) -> RenderableType:
    """Renderables one under the other. `Console.print(a, b)` joins texts on one line
    with a space: two notes, or a note and a "sent as" line, would run together."""
    from rich.console import Group

    return Group(*renderables)

"""Signals, handled once for every command at the edge (DESIGN.md, Exit codes: 130).

    starting()   until a command runs: Ctrl-C or SIGTERM ends the process at once with
                 130 (nothing has been sent, written or shown yet: nothing to undo)
    running()    the command runs: Ctrl-C raises KeyboardInterrupt (inside asyncio.run,
                 asyncio cancels the running task), and SIGTERM does exactly what Ctrl-C
                 does, so each command's own Ctrl-C path runs for both: an update in
                 flight is audited "interrupted: outcome unknown" and reported with its
                 clientTxnId; a batch writes its finished rows
    prompting()  a prompt inside the event loop: a signal interrupts it at once
    restored()   handlers put back as they were (after asyncio's add/remove_signal_handler)
    settle(code) the exit code is decided: a late signal ends the process at once with it

SIGXFSZ (`ulimit -f`) is ignored, so a write past the limit fails with EFBIG and is
reported like any other write error instead of killing the process with a core dump.

Only the standard library's `signal` is imported here: this runs before the slow imports.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    os._exit(130)


def starting() -> None:
    """Start-up: a signal ends the process at once, quietly, with 130."""
    for signum in _SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # a background job keeps ignoring
            signal.signal(signum, _exit_now)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.unraisablehook = _unraisable
    # A Ctrl-C inside asyncio.run's clean-up leaves its own coroutines unawaited.
    warnings.filterwarnings(
        "ignore", r"coroutine 'BaseEventLoop\.\w+' was never awaited", RuntimeWarning
    )


def _unraisable(unraisable: UnraisableHookArgs) -> None:
    """A Ctrl-C that lands in a `__del__` cannot be raised, and one that cut an event
    loop's closing short makes the loop's `__del__` fail later; Python would print
    "Exception ignored in ..." and a traceback for either: say nothing."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    if getattr(unraisable.object, "__qualname__", "") == "BaseEventLoop.__del__":
        return
    sys.__unraisablehook__(unraisable)


def running() -> None:
    """A command runs: Ctrl-C as Python handles it, SIGTERM as Ctrl-C. Only replaces the
    start-up handlers (a process that never called `starting`, a test, is left alone)."""
    if signal.getsignal(signal.SIGINT) is _exit_now:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is _exit_now:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: run the current Ctrl-C handler (asyncio's while a loop runs)."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _terminate:
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt  # Ctrl-C ignored (a background job): SIGTERM still stops it


@contextmanager
def prompting() -> Iterator[None]:
    """A blocking prompt inside a running event loop: Ctrl-C and SIGTERM raise
    KeyboardInterrupt at once (click's prompt turns it into Abort). asyncio's own Ctrl-C
    handler only cancels the task, which cannot run until the prompt returns: without
    this, a prompt waited for Enter whatever signal came."""
    with restored():
        for signum in _SIGNALS:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, signal.default_int_handler)
        yield


@contextmanager
def restored() -> Iterator[None]:
    """Ctrl-C's and SIGTERM's handlers put back as they were (asyncio's
    `remove_signal_handler` leaves SIGTERM at the default: killed, exit 143)."""
    saved = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:  # None: set from outside Python, left alone
                signal.signal(signum, handler)


def settle(code: int) -> None:
    """From now on Ctrl-C and SIGTERM end the process at once with `code`."""

    def leave(signum: int, frame: FrameType | None) -> None:
        os._exit(code)

    for signum in _SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, leave)
    # Python's exit turns signal handling off (`leave` can no longer run) and puts the
    # default back: a signal then kills the process (exit 143) after the work is done.
    # Its last moments ignore them instead; atexit runs just before that.
    atexit.register(ignore)
    # CPython notes a KeyboardInterrupt that passed through code run by exec(str)
    # (dataclasses and typing build functions so) as unhandled, even when it was caught
    # later, and then kills itself with SIGINT at exit instead of exiting with `code`.
    # Each exec(str) starts by clearing that note: run an empty one.
    exec("")  # noqa: S102


def ignore() -> None:
    """Ctrl-C and SIGTERM ignored from now on (`settle` takes over at the exit): what is
    being said about an interrupted write must not be cut short by a second signal."""
    for signum in _SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def interrupted(exc: BaseException) -> bool:
    """An exception caused by a Ctrl-C: Python 3.11 wraps one raised while a class is
    being created (in `__set_name__`, e.g. during an import) in a RuntimeError."""
    cause: BaseException | None = exc
    for _ in range(8):
        if cause is None:
            return False
        if isinstance(cause, KeyboardInterrupt):
            return True
        cause = cause.__cause__
    return False

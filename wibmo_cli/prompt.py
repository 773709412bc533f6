"""A question at the terminal that Ctrl-C and SIGTERM end at once.

click's prompt blocks in `input()`. A signal that lands while `input()` is still in C
code, just before its read starts, only sets CPython's flag; the read then waits, and
the flag with it, until Enter is pressed. (Inside the event loop asyncio's own Ctrl-C
handler would only cancel a task that cannot run until then anyway.) Here the answer is
awaited with select() in `POLL` steps, with Python's own handlers
(`interrupts.prompting`): whenever a signal lands, KeyboardInterrupt follows within a step.
"""

from __future__ import annotations

import os
import select
import sys
from typing import IO, Any, Final

from wibmo_cli import interrupts

POLL: Final = 0.1  # seconds: the longest a signal waits to be acted on


def ask(question: str) -> str:
    """The line typed after `question` (written to stderr), without its line end.

    EOFError at the end of input (Ctrl-D); KeyboardInterrupt on Ctrl-C or SIGTERM.
    """
    from wibmo_cli.render import MessageStream

    with interrupts.prompting():
        MessageStream().write(question)
        MessageStream().flush()
        return _read_line(sys.stdin)


def ask_hidden(question: str) -> str:
    """As `ask`, with the typed answer not echoed (a secret: not on the screen, not in a
    terminal's scrollback); on a stdin that is no terminal, the line read as it is."""
    import termios

    from wibmo_cli.render import MessageStream

    try:
        fd = sys.stdin.fileno()
        before = termios.tcgetattr(fd)
    except (AttributeError, ValueError, OSError, termios.error):
        return ask(question)
    quiet = list(before)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        return ask(question)
    except KeyboardInterrupt:
        # what was typed of the secret, not ended by Enter, would be read by the shell
        # as its next command line (and shown there): thrown away with the question
        termios.tcflush(fd, termios.TCIFLUSH)
        raise
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, before)
        MessageStream().write("\n")  # the Enter typed was not echoed either


def confirm(question: str) -> bool:
    """yes or no, no by default, asked again until one of them is given."""
    from wibmo_cli.render import MessageStream

    while True:
        answer = ask(f"{question} [y/N]: ").strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("", "n", "no"):
            return False
        MessageStream().write("Error: invalid input\n")


def _read_line(stream: IO[Any]) -> str:
    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file: nothing to wait on
        line = stream.readline()
    else:
        while not select.select([fd], [], [], POLL)[0]:
            pass
        # A terminal in canonical mode hands over one line per read.
        line = os.read(fd, 4096).decode("utf-8", "replace")
    if not line:
        raise EOFError
    return line.splitlines()[0] if line.strip("\r\n") else ""

"""`wibmo shell` on a real terminal (issue 16, "How it must be shown"): the child makes a
pseudo-terminal its controlling terminal, so readline edits the lines, ^C is the
terminal's own SIGINT and ^D its end of input, as in an agent's shell."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time

import pytest
from support import WIBMO, StartSandbox, child_env, codec

from wibmo_cli.sandbox import Faults

PROMPT = b"wibmo:hard> "
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # bold and italic: NO_COLOR keeps them
TOKEN = codec().encrypt_json({"messageCode": 1930, "urn": "389", "docNumber": "Z1234567"})
# The child's terminal becomes the pty: ^C there is a SIGINT to it, as in a user's shell.
_ON_TERMINAL = (
    "import fcntl, os, sys, termios\n"
    "os.setsid()\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)


class Terminal:
    """wibmo shell on a pty of its own: type lines, read what the terminal shows."""

    def __init__(self, *args: str) -> None:
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, b"\x28\x00\xc8\x00\x00\x00\x00\x00")  # 40x200
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ON_TERMINAL, *WIBMO[1:], *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=child_env(NO_COLOR="1", COLUMNS="200"),
        )
        os.close(follower)
        self.shown = b""
        self.read_to = 0  # what `until` has already matched

    def until(self, text: bytes, seconds: float = 30) -> str:
        """Everything shown from the last match up to `text` (which must show)."""
        deadline = time.monotonic() + seconds
        while text not in self.shown[self.read_to :] and time.monotonic() < deadline:
            if not select.select([self.leader], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            self.shown += chunk
        at = self.shown.find(text, self.read_to)
        assert at >= 0, self.shown[self.read_to :].decode(errors="replace")
        part = self.shown[self.read_to : at]
        self.read_to = at + len(text)
        return ANSI.sub("", part.decode(errors="replace"))

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def ask(self, line: str) -> str:
        """Type `line` and Enter; what it showed before the next prompt."""
        self.type(line.encode() + b"\r")
        return self.until(PROMPT)

    def close(self) -> int:
        """Its exit status, once it ended (killed after 20 s: the test then fails)."""
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            os.close(self.leader)


@pytest.mark.e2e
def test_an_agent_session_on_a_terminal(start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    term = Terminal("shell")
    try:
        term.until(PROMPT)
        found = term.ask("9897123456")
        assert "Customer (mobile 919897123456)" in found
        assert "responseCode 00 SUCCESS" in found
        assert "******3456" in found  # document numbers masked, as lookup masks them
        by_urn = term.ask("389")
        assert "Customer (urn 389)" in by_urn and "TRAVEL CARD" in by_urn
        decrypted = term.ask(TOKEN)
        assert '"messageCode": 1930' in decrypted  # pretty JSON on a terminal
        assert "Z1234567" not in decrypted and "4567" in decrypted  # masked
        explained = term.ask("explain 1303")
        assert "CUSTOMER_DETAILS_NOT_PRESENT" in explained
        error = term.ask("99999")  # an unknown URN: 1303, and the console goes on
        assert "The platform answered with an error (searched: --urn 99999)" in error
        again = term.ask("again")
        assert "searched: --urn 99999" in again and "responseCode 1303" in again
        as_json = term.ask("json")
        assert '"responseCode": "1303"' in as_json and '"clientTxnIdSent"' in as_json
        recalled = term.ask("\x1b[A")  # up-arrow: the session's last line, json
        assert '"responseCode": "1303"' in recalled
        history = term.ask("hist\t")  # Tab completes the command word
        assert " 1  mobile ********3456: responseCode 00" in history
        assert " 4  urn *9999: responseCode 1303" in history
        assert "919897123456" not in history.split("history", 1)[1]
        term.type(b"half a line\x03")  # Ctrl-C at the prompt: a fresh one, not the end
        term.until(PROMPT)
        assert term.process.poll() is None
        assert "Customer (urn 389)" in term.ask("389")  # the line before ^C was dropped
        term.type(b"\x04")  # Ctrl-D: the end
        code = term.close()
    finally:
        if term.process.poll() is None:
            term.process.kill()
            term.close()
    assert code == 0, term.shown.decode(errors="replace")
    assert b"Traceback" not in term.shown


@pytest.mark.e2e
def test_ctrl_c_during_a_lookup_cancels_it_and_the_console_goes_on(
    start_sandbox: StartSandbox,
) -> None:
    start_sandbox(profile={"timeout": 30}, faults=Faults(queue=["hang"], hang_seconds=20))
    term = Terminal("shell")
    try:
        term.until(PROMPT)
        term.type(b"389\r")
        time.sleep(1.0)  # the request is in flight: the sandbox holds it
        started = time.monotonic()
        term.type(b"\x03")
        cancelled = term.until(PROMPT, seconds=10)
        assert time.monotonic() - started < 5
        assert "interrupted: that lookup was cancelled" in cancelled
        assert "Customer (urn 389)" in term.ask("389")  # the same client, still usable
        term.type(b"quit\r")
        code = term.close()
    finally:
        if term.process.poll() is None:
            term.process.kill()
            term.close()
    assert code == 0
    assert b"Traceback" not in term.shown


@pytest.mark.e2e
@pytest.mark.slow
def test_sigterm_ends_the_console_with_130(start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    term = Terminal("shell")
    try:
        term.until(PROMPT)
        # At the idle prompt: readline prints the prompt before it waits for a key, and
        # a signal that lands in between is only seen at the next key (CPython's
        # readline checks signals when its select() is interrupted, not before it).
        time.sleep(0.5)
        term.process.send_signal(signal.SIGTERM)
        code = term.close()
    finally:
        if term.process.poll() is None:
            term.process.kill()
            term.close()
    assert code == 130
    assert b"Traceback" not in term.shown


@pytest.mark.e2e
@pytest.mark.slow
def test_piped_lines_to_a_process_one_answer_each(start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    lines = "".join(f"{urn}\n" for urn in ["389", "99999", "389"])
    done = subprocess.run(
        [*WIBMO, "-o", "json", "shell"],
        input=lines.encode(),
        capture_output=True,
        env=child_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert PROMPT not in done.stderr

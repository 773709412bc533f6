"""Issue 16: a finished command leaves without the interpreter's teardown (20-25 ms of
a cold lookup), yet with everything a normal exit gives: its exit code, its output
flushed, the atexit functions run, and a non-daemon thread still at work waited for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=30
    )


def test_leave_keeps_the_code_the_output_and_atexit_but_skips_the_teardown(
    tmp_path: Path,
) -> None:
    done = _run(
        "import atexit, sys\n"
        "from wibmo_cli.app import leave\n"
        "class Noisy:\n"
        "    def __del__(self): print('teardown ran')\n"
        "kept = Noisy()\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "print('the answer', end='; ')\n"
        "sys.stderr.write('a warning')\n"
        "leave(3)\n",
        tmp_path,
    )
    assert done.returncode == 3
    assert done.stdout == "the answer; atexit ran\n"  # flushed, and no teardown
    assert done.stderr == "a warning"


def test_leave_waits_for_a_thread_still_at_work(tmp_path: Path) -> None:
    """A non-daemon thread may be finishing a write: Python's own exit waits for it."""
    done = _run(
        "import threading, time\n"
        "from pathlib import Path\n"
        "from wibmo_cli.app import leave\n"
        "def work():\n"
        "    time.sleep(0.3)\n"
        "    Path('written').write_text('done')\n"
        "threading.Thread(target=work).start()\n"
        "leave(0)\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "written").read_text() == "done"

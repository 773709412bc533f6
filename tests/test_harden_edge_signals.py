"""Issue 9, item 3: SIGTERM is handled as Ctrl-C is, for every command (exit 130, the
same messages and audit entry), and a signal in the first moments of start-up never
prints a traceback. Real processes, real signals."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support import audit_entries, no_traceback, served, signal_and_wait, spawn, wait_for

import wibmo_cli

pytestmark = pytest.mark.e2e

UPDATE = ("update-profile", "--urn", "389", "--email", "term@example.com", "--yes")


@pytest.mark.parametrize("ignore_ctrl_c", [False, True], ids=["foreground", "sigint-ignored"])
def test_sigterm_on_an_update_in_flight_is_reported_and_audited_as_ctrl_c_is(
    db_path: Path, ignore_ctrl_c: bool
) -> None:
    with served(db_path, profile={"timeout": 30}, queue=["hang"], hang_seconds=20):
        process = spawn(*UPDATE, "--card-profile-id", "150", ignore_ctrl_c=ignore_ctrl_c)
        try:
            wait_for(lambda: [e["result"] for e in audit_entries()] == ["sending"], what="sending")
            time.sleep(0.3)  # the request is on the wire, held by the sandbox
        finally:
            _, err_bytes = signal_and_wait(process, signal.SIGTERM, timeout=10)
    err = err_bytes.decode()
    assert process.returncode == 130, err
    assert no_traceback(err_bytes), err
    entries = audit_entries()
    txn = entries[0]["clientTxnId"]
    assert [e["result"] for e in entries] == ["sending", "interrupted: outcome unknown"]
    assert {e["clientTxnId"] for e in entries} == {txn}
    assert "interrupted after sending" in err
    assert f"clientTxnId {txn}" in err
    assert "check with: wibmo -p hard lookup --urn 389" in err


def test_sigterm_before_an_update_is_sent_says_nothing_was_sent(db_path: Path) -> None:
    # the lookup before the update hangs: SIGTERM arrives before anything is sent
    with served(db_path, profile={"timeout": 30}, queue=["hang"], hang_seconds=20) as sb:
        process = spawn(*UPDATE)
        try:
            wait_for(lambda: sb.settings.faults.queue == [], what="the lookup to arrive")
        finally:
            _, err = signal_and_wait(process, signal.SIGTERM, timeout=10)
    assert process.returncode == 130, err.decode()
    assert "interrupted: nothing was sent" in err.decode()
    assert no_traceback(err)
    assert audit_entries() == []


def test_sigterm_on_a_lookup_exits_130(db_path: Path) -> None:
    with served(db_path, profile={"timeout": 30}, queue=["hang"], hang_seconds=20) as sb:
        process = spawn("lookup", "--urn", "389")
        try:
            wait_for(lambda: sb.settings.faults.queue == [], what="the lookup to arrive")
        finally:
            out, err = signal_and_wait(process, signal.SIGTERM, timeout=10)
    assert process.returncode == 130, err.decode()
    assert no_traceback(err), err.decode()
    assert out == b""
    assert err.decode().splitlines()[-1] == "interrupted"  # it was silent (a new user)


PACKAGE = str(Path(wibmo_cli.__file__).parent).encode()


def _before_wibmo(err: bytes) -> bool:
    """A traceback with no frame of wibmo's: the signal came while the interpreter was
    still starting (site, runpy, the package finder), before any code of wibmo ran.
    Outside what the tool can handle, and not promised."""
    if err.startswith(b"Fatal Python error: init_"):  # e.g. init_import_site
        return True
    files = re.findall(rb'File "([^"]+)"', err)
    return bool(files) and not any(name.startswith(PACKAGE) for name in files)


@pytest.mark.slow  # statistical or many processes: CI runs it (pytest -m slow)
def test_a_signal_right_after_start_never_prints_a_traceback() -> None:
    rng = random.Random(9)
    runs = [
        (rng.choice((signal.SIGINT, signal.SIGINT, signal.SIGTERM)), rng.uniform(0, 0.35))
        for _ in range(36)
    ]
    seen: list[tuple[int, int | None]] = []
    for start in range(0, len(runs), 12):
        batch = runs[start : start + 12]
        processes: list[subprocess.Popen[bytes]] = []
        began = time.monotonic()
        for _ in batch:
            processes.append(spawn("codes", "1303"))
        try:
            for (signum, delay), process in sorted(
                zip(batch, processes, strict=True), key=lambda pair: pair[0][1]
            ):
                time.sleep(max(0.0, began + delay - time.monotonic()))
                if process.poll() is None:
                    process.send_signal(signum)
            for (signum, delay), process in zip(batch, processes, strict=True):
                _, err = process.communicate(timeout=30)
                if _before_wibmo(err):
                    continue
                assert no_traceback(err), (signum, delay, err.decode())
                # 130: handled; 0: it had finished; -signum: before Python's own handlers
                assert process.returncode in (0, 130, -signum), (signum, delay, err.decode())
                seen.append((signum, process.returncode))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    assert any(code == 130 for _, code in seen)

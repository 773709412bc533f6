"""Issue 15: `update-profile --apply` killed with SIGKILL at random moments and resumed
until done never sends a row twice, and its journal accounts for every row.

The apply runs as a process (a kill -9 must not be a Python exception); the sandbox runs
in this process, slowed a little (`latency_ms`) so kills land while requests are in
flight, and its own record (`sandbox.requests`) is what proves at most once: every update
it received carries a planned clientTxnId, none twice, and none a row the journal does
not show as sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support import StartSandbox, run_text, spawn
from test_bulk import plan_lines, urns, write_changes

from wibmo_cli.journal import read_journal
from wibmo_cli.sandbox import Faults, Sandbox

pytestmark = pytest.mark.e2e


def kill_and_resume(
    sandbox: Sandbox, rows: int, kills: int, seed: int, *extra: str
) -> tuple[list[Any], dict[str, Any]]:
    """Apply the plan, SIGKILLed `kills` times at random moments, resumed until it ends;
    (the updates the sandbox received, the last run's exit)."""
    rng = random.Random(seed)
    args = ["update-profile", "--apply", "plan.jsonl", "--yes", "--concurrency", "4", *extra]
    for attempt in range(kills):
        process = spawn(
            *args,
            *(["--resume"] if attempt else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.2))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    last = run_text(*args, "--resume", timeout=120)
    return [r for r in sandbox.requests if r.api == "update"], {
        "code": last.returncode,
        "stderr": last.stderr,
    }


def check_at_most_once(received: list[Any], journal: Path) -> dict[int, Any]:
    planned = {row["clientTxnId"]: row["row"] for row in plan_lines()[1:] if "clientTxnId" in row}
    state = read_journal(journal)
    sent = [r.client_txn_id for r in received if r.client_txn_id]
    assert len(sent) == len(set(sent)), "an update was received twice"
    assert set(sent) <= set(planned)
    journaled = {s.sending["clientTxnId"] for s in state.rows.values()}
    assert set(sent) <= journaled, "an update was sent that the journal never showed"
    return state.rows


@pytest.mark.slow  # three processes killed, four runs (~10 s)
def test_kill_9_at_random_moments_never_sends_a_row_twice(
    start_sandbox: StartSandbox, db_path: Path
) -> None:
    sandbox = start_sandbox(profile={"timeout": 5}, faults=Faults(latency_ms=40))
    chosen = urns(db_path, 60)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert (
        run_text("update-profile", "--file", "changes.csv", "--plan", "plan.jsonl").returncode == 0
    )
    received, last = kill_and_resume(sandbox, len(chosen), kills=3, seed=os.getpid())
    rows = check_at_most_once(received, Path("plan.jsonl.journal"))
    changes = [row for row in plan_lines()[1:] if row["status"] == "change"]
    assert len(changes) > 40
    assert len(rows) == len(changes), "the last run did not finish every row"
    unknown = [row for row, state in rows.items() if state.unknown]
    answered = [row for row, state in rows.items() if state.result == "answered"]
    assert len(unknown) + len(answered) == len(changes)
    # a row cut off by a kill is unknown: said, never resent; the others all applied
    assert last["code"] == (5 if unknown else 0), last["stderr"]
    if unknown:
        assert f"{len(unknown)} unknown from an earlier run (not resent)" in last["stderr"]
    # each unknown row was received at most once (0: killed before it left)
    sent_rows = {r.client_txn_id for r in received}
    assert len([r for r in answered if rows[r].sending["clientTxnId"] in sent_rows]) == len(
        answered
    )


@pytest.mark.slow  # four processes (~5 s)
def test_a_journal_line_cut_by_a_crash_is_ignored(
    start_sandbox: StartSandbox, db_path: Path
) -> None:
    sandbox = start_sandbox(profile={"timeout": 5})
    chosen = urns(db_path, 3)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert (
        run_text("update-profile", "--file", "changes.csv", "--plan", "plan.jsonl").returncode == 0
    )
    first = plan_lines()[1]
    journal = Path("plan.jsonl.journal")
    header = {"journal": 1, "profile": "hard", "plan": str(Path("plan.jsonl").resolve())}
    header["planSha256"] = hashlib.sha256(Path("plan.jsonl").read_bytes()).hexdigest()
    sending = {"event": "sending", "row": first["row"], "clientTxnId": first["clientTxnId"]}
    journal.write_text(
        json.dumps(header) + "\n" + json.dumps(sending) + '\n{"event": "outc', encoding="utf-8"
    )
    done = run_text("update-profile", "--apply", "plan.jsonl", "--yes", "--resume")
    assert done.returncode == 5, done.stderr  # the cut row: sent, outcome unknown
    assert "its last line was cut short" in done.stderr
    assert len([r for r in sandbox.requests if r.api == "update"]) == 2
    again = run_text("update-profile", "--apply", "plan.jsonl", "--yes", "--resume")
    assert again.returncode == 5, again.stderr  # still readable after more events
    told = run_text("reconcile", "plan.jsonl.journal", "-o", "json")
    assert told.returncode in (0, 5), told.stderr
    assert json.loads(told.stdout)["clientTxnId"] == first["clientTxnId"]


@pytest.mark.slow  # a process interrupted, a resume (~5 s)
def test_ctrl_c_ends_apply_cleanly_and_resume_does_not_resend_what_was_in_flight(
    start_sandbox: StartSandbox, db_path: Path
) -> None:
    sandbox = start_sandbox(profile={"timeout": 5}, faults=Faults(latency_ms=300))
    chosen = urns(db_path, 16)
    write_changes([f"{urn},Kohima" for urn in chosen])
    assert (
        run_text("update-profile", "--file", "changes.csv", "--plan", "plan.jsonl").returncode == 0
    )
    args = ["update-profile", "--apply", "plan.jsonl", "--yes", "--concurrency", "4"]
    process = spawn(*args)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert b"interrupted: go on with --resume" in err and b"Traceback" not in err
    state = read_journal(Path("plan.jsonl.journal"))
    cut = [row for row, s in state.rows.items() if s.result == "interrupted"]
    assert cut, "no request was in flight at Ctrl-C: the test proves nothing"
    resumed = run_text(*args, "--resume", timeout=120)
    assert resumed.returncode == 5, resumed.stderr  # the rows cut off: unknown, not resent
    received = [r for r in sandbox.requests if r.api == "update"]
    check_at_most_once(received, Path("plan.jsonl.journal"))
    assert f"{len(cut)} unknown from an earlier run (not resent)" in resumed.stderr

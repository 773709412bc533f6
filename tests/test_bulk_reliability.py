"""Issue 15's reliability target: 5,000 rows against the sandbox with 20% injected faults
(503 and a hang before the platform acts; a dropped connection and a hang after it
applied the update), the apply SIGKILLed at random moments and resumed until done.

Proved from the sandbox's own record, not from wibmo's word:
- every update the sandbox received carries a planned clientTxnId, journaled as sent
  before it arrived, and none arrived twice (nor any customer's update twice);
- the journal accounts for every row: answered (00, or refused with a code) or unknown;
- `wibmo reconcile JOURNAL` classifies every unknown row as the record says it went:
  applied (the platform answered 00, the answer was lost) or not applied (faulted before
  the platform acted, or killed before it left).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from support import run_text, settings, spawn, write_profiles

from wibmo_cli.journal import read_journal
from wibmo_cli.sandbox import Faults, Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 5_000
AFTER = frozenset({"drop_after", "hang_after"})  # applied, then unanswered


def test_5000_rows_with_faults_and_kill_9_are_sent_at_most_once_and_reconciled(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261201)
    db = tmp_path / "big.db"
    with Sandbox(settings(db, customers=ROWS, faults=Faults(hang_seconds=2))) as sandbox:
        write_profiles(sandbox.url, timeout=1)
        people = [p for p in _urns(sandbox) if p != "389"][:ROWS]
        assert len(people) == ROWS
        Path("changes.csv").write_text("urn,city\n" + "".join(f"{u},Kohima\n" for u in people))
        planned = run_text(
            "update-profile", "--file", "changes.csv", "--plan", "plan.jsonl", "-c", "16",
            timeout=300,
        )  # fmt: skip
        assert planned.returncode == 0, planned.stderr
        plan = [json.loads(line) for line in Path("plan.jsonl").read_text().splitlines()[1:]]
        txn_of = {row["clientTxnId"]: row for row in plan if row["status"] == "change"}
        assert len(txn_of) == ROWS
        sandbox.settings.faults.set_from_json(
            {"fail_rate": 0.07, "hang_rate": 0.03, "drop_after_rate": 0.07,
             "hang_after_rate": 0.03, "seed": 7}
        )  # fmt: skip
        apply = ["update-profile", "--apply", "plan.jsonl", "--yes", "-c", "16"]
        for attempt in range(4):  # killed at random moments, resumed
            process = spawn(*apply, *(["--resume"] if attempt else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(1.0, 4.0))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        last = run_text(*apply, "--resume", timeout=600)
        assert last.returncode in (0, 1, 5), last.stderr

        updates = [r for r in sandbox.requests if r.api == "update"]
        sent = Counter(r.client_txn_id for r in updates)
        assert None not in sent, "an update the sandbox could not tie to a clientTxnId"
        assert max(sent.values()) == 1, "an update was received twice"
        assert set(sent) <= set(txn_of), "an update that was never planned"
        per_customer = Counter(json.dumps(r.identifiers, sort_keys=True) for r in updates)
        assert max(per_customer.values()) == 1, "a customer's update was received twice"

        state = read_journal(Path("plan.jsonl.journal"))
        journaled = {s.sending["clientTxnId"]: s for s in state.rows.values()}
        assert set(sent) <= set(journaled), "sent without a journaled intent"
        assert len(journaled) == ROWS, "a row the journal does not account for"
        unknown = {txn for txn, s in journaled.items() if s.unknown}
        for txn, s in journaled.items():
            assert s.unknown or s.result == "answered", (txn, s.result)
        assert unknown, "no fault led to an unknown outcome: the test proves nothing"

        sandbox.settings.faults.reset()
        reconciled = run_text("reconcile", "plan.jsonl.journal", "-o", "json", timeout=300)
        assert reconciled.returncode == 0, reconciled.stderr
        verdicts = {
            line["clientTxnId"]: line["verdict"]
            for line in map(json.loads, reconciled.stdout.splitlines())
        }
        assert set(verdicts) == unknown
        by_txn = {r.client_txn_id: r for r in updates}
        for txn in unknown:
            record = by_txn.get(txn)
            applied = (
                record is not None
                and record.response_code in ("00", "0")
                and (record.fault is None or record.fault in AFTER)
            )
            assert verdicts[txn] == ("applied" if applied else "not applied"), (txn, record)
        assert not read_journal(Path("plan.jsonl.journal")).unknown()


def _urns(sandbox: Sandbox) -> list[str]:
    from urllib.request import urlopen

    with urlopen(f"{sandbox.url}/__sandbox/urns") as answer:  # noqa: S310 (loopback)
        return [str(p["urn"]) for p in json.load(answer)]

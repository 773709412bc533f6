"""`wibmo reconcile` end to end: the CLI in-process against the sandbox served on loopback.

A journal is written by hand as an apply leaves it (its "sending" with the fields now and
as planned, no outcome); the sandbox's database is what the platform holds. --audit reads
what `update-profile` itself left when its outcome was unknown (a queued fault).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from support import (
    PROFILE,
    Invoke,
    StartSandbox,
    assert_one_line_error,
    audit_entries,
    data_dir,
    no_traceback,
    profile_values,
    query,
    records,
    signal_and_wait,
    spawn,
    wait_for_lines,
    write_profiles,
)

from wibmo_cli.journal import SINGLE_UPDATES, Journal, read_journal
from wibmo_cli.masking import mask_identifier
from wibmo_cli.sandbox import Sandbox

pytestmark = pytest.mark.e2e

NOBODY = "99999999"  # a URN no customer has


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """The `hard` profile (and `other`, at the same sandbox) pointing at a sandbox."""
    started = start_sandbox(profile={})
    write_profiles(started.url, extra_profiles={"other": profile_values(started.url)})
    return started


def customers(db_path: Path, count: int) -> list[dict[str, str]]:
    """Customers with one active card each: their URN, email and city."""
    rows = query(
        db_path,
        "SELECT c.urn, u.email, u.city FROM cards c JOIN customers u ON u.id = c.customer "
        "WHERE c.status = 0 AND (SELECT COUNT(*) FROM cards d WHERE d.customer = u.id) = 1 "
        "ORDER BY c.urn DESC LIMIT 3",  # long URNs: their masked form is not the whole
    )
    return [{"urn": str(urn), "email": email, "city": city} for urn, email, city in rows][:count]


def write_journal(path: Path, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """An apply's journal: each row's "sending" (urn, fields), and no outcome."""
    with Journal.opened(path, {"profile": PROFILE, "plan": "plan.jsonl"}) as journal:
        for number, (urn, fields) in enumerate(rows, start=1):
            journal.sending(
                number,
                f"TXN{number}",
                profile=PROFILE,
                identifiers={"urn": urn},
                cardProfileId=150,
                fields=fields,
            )


def change(now: str, new: str) -> dict[str, str]:
    return {"now": now, "new": new}


def test_each_verdict_from_a_journal(
    cli: Invoke, sandbox: Sandbox, db_path: Path, tmp_path: Path
) -> None:
    applied, untouched, other = customers(db_path, 3)
    sent = cli("update-profile", "--urn", applied["urn"], "--email", "done@example.com", "--yes")
    assert sent.exit_code == 0, sent.stderr
    sent = cli("update-profile", "--urn", other["urn"], "--city", "Elsewhere", "--yes")
    assert sent.exit_code == 0, sent.stderr
    path = tmp_path / "journal.jsonl"
    write_journal(
        path,
        [
            (applied["urn"], {"emailId": change(applied["email"], "done@example.com")}),
            (untouched["urn"], {"emailId": change(untouched["email"], "never@example.com")}),
            (other["urn"], {"cardholderCity": change(other["city"], "Planned City")}),
            (NOBODY, {"emailId": change("x@example.com", "y@example.com")}),
        ],
    )
    before = len(audit_entries())

    result = cli("reconcile", str(path), "-o", "json")

    assert result.exit_code == 5, result.stderr  # one still cannot tell
    lines = records(result.stdout)
    assert [(line["row"], line["verdict"]) for line in lines] == [
        (1, "applied"),
        (2, "not applied"),
        (3, "changed differently"),
        (4, "cannot tell"),
    ]
    assert "1303" in lines[3]["why"]
    assert lines[2]["fields"]["cardholderCity"] == {
        "planned": "Planned City",
        "was": other["city"],
        "now": "Elsewhere",
    }
    assert lines[0]["identifiers"] == f"urn {mask_identifier('urn', applied['urn'])}"
    assert "1 cannot tell" in result.stderr and "1 applied" in result.stderr
    # the journal: a verdict for each but the one that cannot tell
    state = read_journal(path)
    verdicts = {row: s.verdict["verdict"] for row, s in state.rows.items() if s.verdict}
    assert verdicts == {1: "applied", 2: "not applied", 3: "changed differently"}
    # the audit log: one entry each (as each verdict came), who masked, never a value
    entries = audit_entries()[before:]
    assert sorted((e["command"], e["clientTxnId"], e["result"]) for e in entries) == [
        ("reconcile", f"TXN{n}", verdict)
        for n, verdict in enumerate(
            ("applied", "not applied", "changed differently", "cannot tell"), start=1
        )
    ]
    text = json.dumps(entries)
    for value in ("done@example.com", "never@example.com", "Planned City", applied["urn"]):
        assert value not in text

    again = cli("reconcile", str(path))  # only the one that cannot tell is left
    assert again.exit_code == 5, again.stderr
    assert "row 4" in again.stdout and "row 1" not in again.stdout
    assert "0 applied" in again.stderr


def test_all_told_is_exit_0_then_nothing_to_reconcile(
    cli: Invoke, sandbox: Sandbox, db_path: Path, tmp_path: Path
) -> None:
    (customer,) = customers(db_path, 1)
    path = tmp_path / "journal.jsonl"
    write_journal(path, [(customer["urn"], {"emailId": change(customer["email"], "n@x.com")})])
    first = cli("reconcile", str(path), "--fields", "row,verdict")
    assert first.exit_code == 0, first.stderr
    assert records(first.stdout) == [{"row": 1, "verdict": "not applied"}]
    second = cli("reconcile", str(path))
    assert second.exit_code == 0, second.stderr
    assert "nothing to reconcile" in second.stderr
    assert second.stdout == ""


def test_a_running_apply_of_the_journal_is_refused(
    cli: Invoke, sandbox: Sandbox, db_path: Path, tmp_path: Path
) -> None:
    (customer,) = customers(db_path, 1)
    path = tmp_path / "journal.jsonl"
    write_journal(path, [(customer["urn"], {"emailId": change(customer["email"], "n@x.com")})])
    with Journal.opened(path, {}):  # as an apply holds it
        result = cli("reconcile", str(path))
    assert_one_line_error(result, 3, "in use by another run")
    assert sandbox.requests == []


def test_another_profile_than_the_journals_is_refused(
    cli: Invoke, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    write_journal(path, [("389", {"emailId": change("a@x.com", "b@x.com")})])
    result = cli("-p", "other", "reconcile", str(path))
    assert_one_line_error(result, 2, f"-p other: {path} journals updates to profile {PROFILE}")
    assert cli("-p", PROFILE, "reconcile", str(path)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "give JOURNAL"),
        (("j.jsonl", "--audit"), "not both"),
        (("--audit", "--concurrency", "0"), "--concurrency 0"),
        (("missing.jsonl",), "no such file"),
    ],
)
def test_bad_usage(cli: Invoke, args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(cli("reconcile", *args), 2, fragment)


# -- single updates, from the audit log ---------------------------------------------------------


def unknown_update(cli: Invoke, sandbox: Sandbox) -> str:
    """A single update whose outcome is unknown (a 502 before the platform's logic: it
    was not applied); its clientTxnId."""
    sandbox.settings.faults.queue = ["502"]
    result = cli("update-profile", "--urn", "389", "--email", "maybe@example.com",
                 "--card-profile-id", "150", "--yes")  # fmt: skip
    assert result.exit_code == 5, result.stderr
    txn = audit_entries()[-1]["clientTxnId"]
    assert isinstance(txn, str)
    return txn


def test_audit_reconciles_a_single_update(cli: Invoke, sandbox: Sandbox) -> None:
    txn = unknown_update(cli, sandbox)

    result = cli("reconcile", "--audit", "-o", "json")

    assert result.exit_code == 0, result.stderr
    (line,) = records(result.stdout)
    assert (line["clientTxnId"], line["row"], line["verdict"]) == (txn, None, "not applied")
    assert line["fields"]["emailId"]["planned"] == "maybe@example.com"
    state = read_journal(data_dir() / SINGLE_UPDATES)
    verdict = state.by_txn()[txn].verdict
    assert verdict is not None and verdict["verdict"] == "not applied"
    last = audit_entries()[-1]
    assert (last["command"], last["clientTxnId"], last["result"]) == (
        "reconcile",
        txn,
        "not applied",
    )
    assert last["profile"] == PROFILE

    again = cli("reconcile", "--audit")
    assert again.exit_code == 0, again.stderr
    assert "nothing to reconcile" in again.stderr


def test_audit_without_a_journal_entry_cannot_tell(cli: Invoke, sandbox: Sandbox) -> None:
    txn = unknown_update(cli, sandbox)
    (data_dir() / SINGLE_UPDATES).unlink()
    result = cli("reconcile", "--audit", "-o", "json")
    assert result.exit_code == 5, result.stderr
    (line,) = records(result.stdout)
    assert (line["clientTxnId"], line["verdict"], line["why"]) == (
        txn,
        "cannot tell",
        "no journal entry",
    )
    assert line["identifiers"] == "urn ***"
    assert cli("reconcile", "--audit").exit_code == 5  # still unknown


def test_ctrl_c_keeps_the_verdicts_so_far(sandbox: Sandbox, db_path: Path, tmp_path: Path) -> None:
    first, second = customers(db_path, 2)
    path = tmp_path / "journal.jsonl"
    write_journal(
        path,
        [
            (first["urn"], {"emailId": change(first["email"], "n@x.com")}),
            (second["urn"], {"emailId": change(second["email"], "n@x.com")}),
        ],
    )
    write_profiles(sandbox.url, timeout=30)
    sandbox.settings.faults.queue = ["ok", "hang"]  # the second lookup is never answered
    process = spawn("reconcile", str(path), "--concurrency", "1")
    wait_for_lines(path, 4, process)  # the header, two "sending", the first verdict
    out, err = signal_and_wait(process, signal.SIGINT)
    assert process.returncode == 130, err
    assert no_traceback(err)
    assert "row 1" in out.decode() and "row 2" not in out.decode()
    assert "interrupted, 1 not looked up" in err.decode()
    state = read_journal(path)
    assert [row for row, s in state.rows.items() if s.verdict] == [1]
    assert [e["clientTxnId"] for e in audit_entries() if e["command"] == "reconcile"] == ["TXN1"]

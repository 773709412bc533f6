"""Issue 15: `update-profile --file F --plan P`, then `--apply P`: every row checked and
planned with nothing sent, then each row sent at most once, journaled, resumable.

End to end: the CLI in-process (`wibmo`) against the sandbox served on loopback; the
sandbox's own record (`sandbox.requests`) says what reached it.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest
from support import PROFILE, Invoke, StartSandbox, assert_one_line_error, query, write_profiles

from wibmo_cli.sandbox import Faults, Sandbox
from wibmo_cli.sandbox.seed import SAMPLE_URN

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox(profile={"timeout": 2}, faults=Faults(hang_seconds=3))


def urns(db_path: Path, count: int) -> list[str]:
    """URNs of `count` different customers with one card each (one KYC profile each)."""
    found = query(
        db_path,
        "SELECT min(urn) FROM cards GROUP BY customer "
        "HAVING count(*) = 1 AND min(status_description) = 'Active' ORDER BY 1",
    )
    picked = [str(row[0]) for row in found if row[0] != SAMPLE_URN][:count]  # it has no city
    assert len(picked) == count
    return picked


def write_changes(rows: list[str], header: str = "urn,city") -> Path:
    path = Path.cwd() / "changes.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def plan_lines(path: Path = Path("plan.jsonl")) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def journal_events(path: Path = Path("plan.jsonl.journal")) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][1:]


def updates(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.api == "update"]


def city_of(wibmo: Invoke, urn: str) -> str:
    shown = wibmo("lookup", "--urn", urn, "-o", "json", "--reveal")
    assert shown.exit_code == 0, shown.stderr
    card = next(c for c in json.loads(shown.stdout)["cardList"] if str(c["urn"]) == urn)
    return str(card.get("city"))


def plan(wibmo: Invoke, *extra: str) -> Any:
    return wibmo("update-profile", "--file", "changes.csv", "--plan", "plan.jsonl", *extra)


def apply(wibmo: Invoke, *extra: str) -> Any:
    return wibmo("update-profile", "--apply", "plan.jsonl", "--yes", *extra)


# -- plan --------------------------------------------------------------------------------------


def test_plan_checks_every_row_looks_each_up_and_sends_nothing(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    a, b, c = urns(db_path, 3)
    city = city_of(wibmo, c)
    write_changes(
        [
            f"{a},Pune",  # 2: a change
            f"{b},Pune,not-an-email",  # 3: a value that is no email
            f"{c},{city}",  # 4: already so
            "99999,Agra",  # 5: nobody
            f"{a},Delhi",  # 6: the same customer as row 2
            ",Goa",  # 7: who?
        ],
        header="urn,city,emailId",
    )
    result = plan(wibmo)
    lines = plan_lines()
    header, rows = lines[0], {line["row"]: line for line in lines[1:]}
    assert header["profile"] == PROFILE and header["rows"] == 6
    assert rows[4]["status"] == "unchanged"
    assert rows[5]["status"] == "not found"
    assert rows[2]["status"] == rows[6]["status"] == "invalid"  # a customer twice: both
    assert "the same customer as row 6" in rows[2]["errors"][0]
    assert rows[7]["errors"] == ["no urn: say who"]
    assert result.exit_code == 2, result.stderr  # invalid rows: fix the file
    assert not updates(sandbox)
    assert Path("plan.jsonl").stat().st_mode & 0o077 == 0
    assert "Rows that will not be sent" in result.stdout


def test_a_change_row_holds_the_fields_now_and_new(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    before = city_of(wibmo, a)
    write_changes([f"{a},Pune,new.{a}@example.com"], header="URN,cardholderCity,email")
    result = plan(wibmo)
    assert result.exit_code == 0, result.stderr
    (row,) = plan_lines()[1:]
    assert row["status"] == "change" and row["identifiers"] == {"urn": a}
    assert row["fields"]["cardholderCity"] == {"now": before, "new": "Pune"}
    assert row["fields"]["emailId"]["new"] == f"new.{a}@example.com"
    assert isinstance(row["cardProfileId"], int) and row["clientTxnId"]
    assert "update-profile --apply plan.jsonl" in result.stderr


def test_every_fault_of_the_header_at_once(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_changes(["1,2,3"], header="name,colour,email")
    result = plan(wibmo)
    assert_one_line_error(result, 2, "no identifier column")
    assert "unknown field 'name'" in result.stderr and "unknown field 'colour'" in result.stderr
    assert not Path("plan.jsonl").exists()


def test_every_fault_of_a_row_at_once(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_changes(["12ab,not-an-email,1990-13-45"], header="urn,emailId,dateOfBirth")
    assert plan(wibmo).exit_code == 2
    (row,) = plan_lines()[1:]
    assert len(row["errors"]) == 3, row["errors"]


def test_the_plan_with_json_output_is_its_rows(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    result = plan(wibmo, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == plan_lines()[1:]


# -- apply ------------------------------------------------------------------------------------


def test_apply_sends_each_row_once_journaled_and_resume_sends_nothing_again(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    chosen = urns(db_path, 5)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    applied = apply(wibmo)
    assert applied.exit_code == 0, applied.stderr
    assert "5 applied" in applied.stderr
    assert len(updates(sandbox)) == 5
    assert all(city_of(wibmo, urn) == "Pune" for urn in chosen)
    events = journal_events()
    assert [e["event"] for e in events].count("sending") == 5
    assert {e["result"] for e in events if e["event"] == "outcome"} == {"answered"}
    again = apply(wibmo)
    assert_one_line_error(again, 2, "go on with --resume")
    resumed = apply(wibmo, "--resume")
    assert resumed.exit_code == 0 and "5 done by an earlier run" in resumed.stderr
    assert len(updates(sandbox)) == 5


@pytest.mark.parametrize("fault", ["503", "hang", "drop"])
def test_an_unknown_outcome_is_never_sent_again(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path, fault: str
) -> None:
    chosen = urns(db_path, 3)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    sandbox.settings.faults.queue = [fault]  # the first update
    first = apply(wibmo, "--concurrency", "1")
    assert first.exit_code == 5, first.stderr
    assert "1 outcome unknown" in first.stderr
    assert f"reconcile {Path('plan.jsonl.journal')}" in first.stderr
    resumed = apply(wibmo, "--resume")
    assert resumed.exit_code == 5  # still unknown until reconciled
    assert "1 unknown from an earlier run (not resent)" in resumed.stderr
    planned = {row["clientTxnId"] for row in plan_lines()[1:]}
    sent = [r.client_txn_id for r in updates(sandbox) if r.client_txn_id]
    assert set(sent) <= planned and len(sent) == len(set(sent))
    assert len(updates(sandbox)) == 3  # each row once, the faulted one included


def test_a_row_that_never_left_is_sent_on_resume(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    chosen = urns(db_path, 2)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    write_profiles("http://127.0.0.1:9")  # the same profile, nothing listening
    refused = apply(wibmo)
    assert refused.exit_code == 5 and "2 not sent" in refused.stderr
    write_profiles(sandbox.url, timeout=2)
    resumed = apply(wibmo, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert len(updates(sandbox)) == 2


def test_if_unchanged_sends_no_row_whose_customer_changed_since(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    a, b = urns(db_path, 2)
    write_changes([f"{a},Pune", f"{b},Pune"])
    assert plan(wibmo).exit_code == 0
    moved = wibmo("update-profile", "--urn", b, "--city", "Chennai", "--yes")
    assert moved.exit_code == 0, moved.stderr
    result = apply(wibmo, "--if-unchanged")
    assert result.exit_code == 1, result.stderr
    assert "1 changed since the plan" in result.stderr
    assert city_of(wibmo, b) == "Chennai" and city_of(wibmo, a) == "Pune"
    assert apply(wibmo, "--resume", "--if-unchanged").exit_code == 0
    assert len(updates(sandbox)) == 2  # the single update and row a


def test_apply_refuses_another_profiles_plan_an_edited_plan_and_a_busy_journal(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    assert plan(wibmo).exit_code == 0
    write_profiles(sandbox.url, extra_profiles={"other": {}})
    assert_one_line_error(apply(wibmo, "-p", "other"), 2, "planned for profile 'hard'")
    elsewhere = write_profiles(sandbox.url, extra_profiles={"other": {}})
    text = elsewhere.read_text().replace('default_profile = "hard"', 'default_profile = "other"')
    elsewhere.write_text(text)  # the default is another profile: the plan's is used
    journal = Path("plan.jsonl.journal")
    with journal.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert_one_line_error(apply(wibmo), 3, "in use by another run")
    assert apply(wibmo).exit_code == 0
    lines = Path("plan.jsonl").read_text().replace("Pune", "Agra")
    Path("plan.jsonl").write_text(lines)
    refused = apply(wibmo, "--resume")
    assert_one_line_error(refused, 2, "another plan's (or the plan changed since)")
    assert len(updates(sandbox)) == 1
    audit = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    sent = [json.loads(line) for line in audit.read_text().splitlines()]
    assert {entry["profile"] for entry in sent if entry.get("action") == "bulk update"} == {PROFILE}


def test_options_of_one_customer_are_refused_with_a_file(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_changes(["1,Pune"])
    for extra, fragment in (
        (("--urn", "389"), "--urn: not with --file/--apply"),
        (("--city", "Pune"), "--city: not with --file/--apply"),
    ):
        assert_one_line_error(plan(wibmo, *extra), 2, fragment)
    assert_one_line_error(
        wibmo("update-profile", "--file", "changes.csv"), 2, "--file needs --plan"
    )
    assert_one_line_error(
        wibmo("update-profile", "--urn", "389", "--city", "X", "--resume"), 2, "--resume: only"
    )


def test_a_copied_plan_or_another_journal_never_sends_a_row_again(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    chosen = urns(db_path, 3)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    assert apply(wibmo).exit_code == 0
    Path("copy.jsonl").write_bytes(Path("plan.jsonl").read_bytes())
    for again in (
        wibmo("update-profile", "--apply", "copy.jsonl", "--yes"),
        apply(wibmo, "--journal", "other.journal"),
    ):
        assert again.exit_code == 1, again.stderr
        assert "3 sent by another apply" in again.stderr
    assert len(updates(sandbox)) == 3


def test_a_customer_twice_is_refused_even_when_one_row_has_another_fault(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},not-an-email", f"{a},x.{a}@example.com"], header="urn,emailId")
    assert plan(wibmo).exit_code == 2
    rows = plan_lines()[1:]
    assert [row["status"] for row in rows] == ["invalid", "invalid"]
    assert "the same customer as row 2" in rows[1]["errors"][0]


def test_spreadsheet_headers_and_the_review_table(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a};x.{a}@example.com"], header="\ufeffURN;Email Id")
    shown = plan(wibmo)
    assert shown.exit_code == 0, shown.stderr
    (row,) = plan_lines()[1:]
    assert row["fields"]["emailId"]["new"] == f"x.{a}@example.com"
    assert "Changes" in shown.stdout and "emailId" in shown.stdout


def test_reconcile_given_the_plan_names_its_journal(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_changes(["1,Pune"])
    plan(wibmo)
    assert_one_line_error(wibmo("reconcile", "plan.jsonl"), 2, "give plan.jsonl.journal")


def test_markup_in_cells_is_shown_as_text(wibmo: Invoke, sandbox: Sandbox, db_path: Path) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"[/x]{a},Pune", f"{a}9,[red]Goa"])
    shown = plan(wibmo)
    assert shown.exit_code == 2, shown.stderr  # invalid rows, and no crash on the markup
    assert "[/x]" in shown.stdout and "internal error" not in shown.stderr


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda rows: rows[0].update(row=str(rows[0]["row"])), "is not a whole number"),
        (lambda rows: rows[1].update(row=rows[0]["row"]), "row number 2 is on two rows"),
        (lambda rows: rows[1].update(clientTxnId=rows[0]["clientTxnId"]), "clientTxnId"),
        (lambda rows: rows[1].update(identifiers=rows[0]["identifiers"]), "customer"),
    ],
)
def test_a_plan_edited_to_confuse_its_rows_is_refused(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path, edit: Any, fragment: str
) -> None:
    chosen = urns(db_path, 2)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    header, *rows = plan_lines()
    edit(rows)
    Path("plan.jsonl").write_text("".join(json.dumps(x) + "\n" for x in [header, *rows]))
    assert_one_line_error(apply(wibmo), 2, fragment)
    assert not updates(sandbox)


def test_the_journal_is_private_and_never_a_link(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    assert plan(wibmo).exit_code == 0
    Path("target").write_text("")
    Path("plan.jsonl.journal").symlink_to("target")
    assert_one_line_error(apply(wibmo), 74, "a symbolic link")
    Path("plan.jsonl.journal").unlink()
    Path("plan.jsonl.journal").touch(mode=0o644)
    assert apply(wibmo).exit_code == 0
    assert Path("plan.jsonl.journal").stat().st_mode & 0o077 == 0
    assert len(updates(sandbox)) == 1


def test_a_journal_of_a_declined_apply_does_not_block_planning_again(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    assert plan(wibmo).exit_code == 0
    header = {"journal": 1, "profile": PROFILE, "plan": "x", "planSha256": "y"}
    Path("plan.jsonl.journal").write_text(json.dumps(header) + "\n")  # only its header
    assert plan(wibmo).exit_code == 0
    assert apply(wibmo).exit_code == 0
    assert_one_line_error(plan(wibmo), 2, "it was applied")


def test_a_journal_deleted_or_moved_is_still_known_by_its_id(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    chosen = urns(db_path, 2)
    write_changes([f"{urn},Pune" for urn in chosen])
    assert plan(wibmo).exit_code == 0
    write_profiles("http://127.0.0.1:9")  # nothing listens: both rows never leave
    assert apply(wibmo).exit_code == 5
    Path("plan.jsonl.journal").rename("moved.journal")
    write_profiles(sandbox.url, timeout=2)
    moved = apply(wibmo, "--resume", "--journal", "moved.journal")  # the same journal
    assert moved.exit_code == 0, moved.stderr
    assert len(updates(sandbox)) == 2
    Path("moved.journal").unlink()  # gone: a new journal is another apply
    again = apply(wibmo)
    assert again.exit_code == 1 and "2 sent by another apply" in again.stderr
    assert len(updates(sandbox)) == 2


def test_a_customer_written_two_ways_in_an_edited_plan_is_refused(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    assert plan(wibmo).exit_code == 0
    header, row = plan_lines()
    twin = {**row, "row": 3, "clientTxnId": "WMXTWIN0000001", "identifiers": {"urn": f"0{a}"}}
    header["rows"] = 2
    Path("plan.jsonl").write_text("".join(json.dumps(x) + "\n" for x in [header, row, twin]))
    assert_one_line_error(apply(wibmo), 2, "is on two rows")
    assert not updates(sandbox)


def test_ctrl_d_at_the_question_is_an_interruption_not_a_bug(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    from support import run_on_terminal

    (a,) = urns(db_path, 1)
    write_changes([f"{a},Pune"])
    assert plan(wibmo).exit_code == 0
    code, _, err = run_on_terminal(["update-profile", "--apply", "plan.jsonl"], "[y/N]", "\x04")
    assert code == 130 and "internal error" not in err, err
    assert not updates(sandbox)


@pytest.mark.parametrize("kind", ["link", "fifo"])
def test_the_single_updates_journal_is_never_a_link_or_a_fifo(
    wibmo: Invoke, sandbox: Sandbox, kind: str
) -> None:
    journal = Path(os.environ["WIBMO_DATA_DIR"]) / "updates.journal"
    journal.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link":
        Path("elsewhere").write_text("")
        journal.symlink_to(Path("elsewhere").resolve())
    else:
        os.mkfifo(journal)
    sent = wibmo("update-profile", "--urn", "389", "--city", "Jaipur", "--yes")
    assert sent.exit_code == 74 and "nothing was sent" in sent.stderr, sent.stderr
    assert not updates(sandbox)
    if kind == "link":
        assert Path("elsewhere").read_text() == ""

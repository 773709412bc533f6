"""`wibmo audit` and the entries update-profile writes: one row per attempt, nothing secret."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from support import Invoke

from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.views.audit import table_rows


def entry(**fields: Any) -> dict[str, Any]:
    base = {
        "time": "2024-06-13T08:30:00+00:00",
        "user": "asha",
        "profile": "uat",
        "command": "update-profile",
        "action": "update",
        "identifiers": "urn 389",
        "clientTxnId": "W1",
        "fields": ["emailId"],
    }
    return base | fields


def write_log(path: Path, *entries: dict[str, Any], junk: str = "") -> Path:
    lines = [json.dumps(e) for e in entries]
    path.write_text("\n".join(lines) + "\n" + junk, encoding="utf-8")
    return path


# -- rows (pure) ---------------------------------------------------------------------------


def test_sending_and_result_become_one_row() -> None:
    rows = table_rows(
        [
            entry(result="sending"),
            entry(clientTxnId="W2", result="sending"),
            entry(result="answered", responseCode="00", accosaTransactionId=7443),
            entry(clientTxnId="W2", result="outcome unknown", error="no answer within 15s"),
        ]
    )
    assert len(rows) == 2
    assert rows[0]["result"] == "responseCode 00 · accosa 7443\nclientTxnId W1"
    assert rows[1]["result"].startswith("outcome unknown: no answer within 15s")
    assert rows[0]["customer"] == "urn 389"
    assert rows[0]["change"] == "update-profile: emailId"
    assert rows[0]["when"].endswith("\nasha · uat")


def test_sending_without_a_result_says_so() -> None:
    (row,) = table_rows([entry(result="sending")])
    assert row["result"].startswith("sent; no result recorded")


def test_reveal_dry_run_and_kyc_rows() -> None:
    reveal = entry(command="lookup", action="reveal", responseCode="00", fields=None)
    dry = entry(action="dry-run", result="not sent (dry run)", kycProfile="30->150")
    rows = table_rows([reveal, dry])
    assert rows[0]["change"] == "lookup reveal"
    assert rows[0]["result"].startswith("responseCode 00")
    assert rows[1]["change"] == "update-profile dry-run: emailId (KYC 30->150)"


def test_entries_missing_fields_still_show() -> None:
    (row,) = table_rows([{"time": "not a time"}])
    assert row["when"] == "not a time"


# -- the command ---------------------------------------------------------------------------


def test_audit_table_and_json(wibmo: Invoke, tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "a.jsonl",
        entry(result="sending"),
        entry(result="answered", responseCode="1309"),
        entry(clientTxnId="W3", action="dry-run", result="not sent (dry run)"),
        junk="not json\n[1]\n",
    )
    table = wibmo("audit", "--audit-log", str(log))
    assert table.exit_code == 0
    assert "1309" in table.stdout and "W3" in table.stdout
    assert table.stdout.count("W1") == 1
    lines = wibmo("audit", "--audit-log", str(log), "-o", "json").stdout.splitlines()
    assert [json.loads(line)["result"] for line in lines] == [
        "sending",
        "answered",
        "not sent (dry run)",
    ]
    last = wibmo("audit", "--audit-log", str(log), "-o", "json", "-n", "1").stdout
    assert json.loads(last)["clientTxnId"] == "W3"


def test_audit_limit_counts_rows(wibmo: Invoke, tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "a.jsonl",
        *(entry(clientTxnId=f"T{i}", result=r) for i in range(3) for r in ("sending", "answered")),
    )
    shown = wibmo("audit", "--audit-log", str(log), "--limit", "2").stdout
    assert "T0" not in shown and "T1" in shown and "T2" in shown


def test_empty_or_missing_log(wibmo: Invoke, tmp_path: Path) -> None:
    result = wibmo("audit", "--audit-log", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no entries in" in result.stderr
    assert wibmo("audit", "--limit", "0").exit_code == 2


def test_audit_log_from_environment(
    wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_log(tmp_path / "env.jsonl", entry(clientTxnId="ENV1", result="sending"))
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(log))
    assert "ENV1" in wibmo("audit").stdout


# -- with the embedded demo: what an update writes -----------------------------------------


def test_demo_update_is_audited_without_secrets(wibmo: Invoke) -> None:
    result = wibmo("update-profile", "--mobile", "9897123456", "--email", "new@x.com", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "new@x.com" in wibmo("lookup", "--urn", "389").stdout
    log = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    text = log.read_text(encoding="utf-8")
    for secret in ("api_key", "secure_code", "encryption_key"):
        assert str(DEMO_PROFILE[secret]) not in text
    assert "9897123456" not in text and "new@x.com" not in text
    sending, answered = (json.loads(line) for line in text.splitlines())
    assert sending["result"] == "sending"
    assert answered["profile"] == "demo"
    assert answered["identifiers"] == "mobile ********3456"
    assert answered["responseCode"] == "00"
    shown = wibmo("audit")
    assert shown.exit_code == 0
    assert answered["clientTxnId"] in shown.stdout

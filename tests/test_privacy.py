"""Privacy: identity document numbers are masked in every output, unless --reveal, which
is audited.

The sandbox's sample customer (URN 389) holds five documents; each output format a
command has is checked: no whole number anywhere on stdout or stderr, the masked form
where the document is shown. The audit log never holds a whole number either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import Invoke, StartSandbox, audit_entries, codec, running, write_profiles

from wibmo_cli.sandbox import SAMPLE_MOBILE, Sandbox

pytestmark = pytest.mark.e2e

# The sample customer's documents, whole and as wibmo shows them.
WHOLE = ("ABC0123456", "1234 5678 6015", "123456786015", "YCV0123456", "ABCDE1234A")
WHOLE += ("DL60 20211234567", "DL6020211234567")
MASKED = ("******234A", "**** **** 6015")
# Numbers typed on the command line (update-profile --doc) and in captured tokens.
TYPED = ("BNZPM2501F", "234567890124", "A1234567", "ZZZZZ9999")
ANSWER = {
    "responseCode": "00",
    "docList": [
        {"docType": "Pancard", "docNumber": "ABCDE1234A"},
        {"docType": "Aadhar", "docNumber": "1234 5678 6015"},
    ],
    "pan": "ABCDE1234A",
    "cKycNo": 12345678901234,
}
TOKEN = codec().encrypt_json(ANSWER)


@pytest.fixture(autouse=True)
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    (Path.cwd() / "in.csv").write_text("urn\n389\n", encoding="utf-8")
    return start_sandbox(profile={})


def shows_nothing_whole(text: str) -> None:
    for number in (*WHOLE, *TYPED, "12345678901234"):
        assert number not in text, number


UPDATE = ("update-profile", "--urn", "389", "--new-card-profile-id", "150")
UPDATE += ("--address", "12, MG Road, Pune", "--kyc-date-stamp", "20240501103000")
UPDATE += ("--doc", "PAN:BNZPM2501F", "--doc", "Aadhaar:234567890124", "--doc-consent")
UPDATE += ("--doc", "Passport:A1234567:India:20321231")


@pytest.mark.parametrize(
    ("args", "stdin", "shown"),
    [
        (("lookup", "--urn", "389"), None, MASKED),
        (("lookup", "--urn", "389", "-o", "json"), None, MASKED),
        (("lookup", "--mobile", SAMPLE_MOBILE, "-v"), None, MASKED),
        (("lookup", "--mobile", SAMPLE_MOBILE, "-v", "-o", "json"), None, MASKED),
        ((*UPDATE, "--dry-run", "--card-profile-id", "30"), None, ("******501F",)),
        ((*UPDATE, "--dry-run", "--card-profile-id", "30", "-o", "json"), None, ("******501F",)),
        ((*UPDATE, "--dry-run", "-v"), None, ("******501F",)),
        ((*UPDATE, "--yes", "-v"), None, ("******501F",)),
        ((*UPDATE, "--yes", "-o", "json"), None, ()),
        (("update-profile", "--urn", "389", "--doc", "PAN:ZZZZZ9999"), None, ("*****9999",)),
        (("decrypt", TOKEN), None, MASKED),
        (("decrypt", json.dumps({"token": TOKEN})), None, MASKED),
        (("decrypt", "-"), f"{TOKEN}\n{TOKEN}\n", MASKED),
        (("decrypt", "--detect", TOKEN), None, ()),
        (("decrypt", "--detect", TOKEN, "-o", "json"), None, MASKED),
        (("encrypt", json.dumps(ANSWER)), None, ()),
        (("lookup", "--file", "in.csv"), None, MASKED),
        (("lookup", "--file", "-", "--column", "urn", "-v"), "389\n", MASKED),
    ],
    ids=[
        "lookup-table",
        "lookup-json",
        "lookup-trace",
        "lookup-trace-json",
        "update-dry-run",
        "update-dry-run-json",
        "update-dry-run-trace",
        "update-sent-trace",
        "update-sent-json",
        "update-bad-pan-message",
        "decrypt-token",
        "decrypt-body",
        "decrypt-stream",
        "detect-table",
        "detect-json",
        "encrypt",
        "lookup-file",
        "lookup-file-trace",
    ],
)
def test_every_output_masks_document_numbers(
    wibmo: Invoke, args: tuple[str, ...], stdin: str | None, shown: tuple[str, ...]
) -> None:
    result = wibmo(*args, input=stdin)
    assert result.exit_code in (0, 2), result.stderr
    shows_nothing_whole(result.stdout + result.stderr)
    for masked in shown:
        assert masked in result.stdout + result.stderr, masked
    assert all(entry.get("action") != "reveal" for entry in audit_entries())
    shows_nothing_whole(json.dumps(audit_entries()))


def test_the_flat_answer_shape_is_masked_too(wibmo: Invoke, tmp_path: Path) -> None:
    with running(tmp_path / "flat.db", shape="flat") as flat:
        write_profiles(flat.url)
        table = wibmo("lookup", "--urn", "389")
        as_json = wibmo("lookup", "--urn", "389", "-o", "json", "-v")
    assert table.exit_code == as_json.exit_code == 0
    shows_nothing_whole(table.stdout + as_json.stdout + as_json.stderr)
    assert "******234A" in as_json.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "command"),
    [
        (("lookup", "--urn", "389", "--reveal"), None, "lookup"),
        (("lookup", "--mobile", SAMPLE_MOBILE, "--reveal", "-o", "json"), None, "lookup"),
        (("decrypt", "--reveal", TOKEN), None, "decrypt"),
        (("decrypt", "--reveal", "-"), f"{TOKEN}\n", "decrypt"),
        (("decrypt", "--detect", "--reveal", TOKEN, "-o", "json"), None, "decrypt"),
        (("lookup", "--file", "in.csv", "--reveal"), None, "lookup"),
    ],
    ids=["lookup-table", "lookup-json", "decrypt-token", "decrypt-stream", "detect", "file"],
)
def test_reveal_shows_whole_numbers_and_appends_an_audit_entry(
    wibmo: Invoke, args: tuple[str, ...], stdin: str | None, command: str
) -> None:
    before = len(audit_entries())
    result = wibmo(*args, input=stdin)
    assert result.exit_code == 0, result.stderr
    assert "ABCDE1234A" in result.stdout
    entries = audit_entries()
    assert len(entries) == before + (2 if "--file" in args else 1)  # --file: started, done
    assert entries[-1]["command"] == command
    assert entries[-1]["action"] == "reveal"
    assert entries[-1]["user"]
    assert entries[-1]["profile"] == "hard"
    shows_nothing_whole(json.dumps(entries))


def test_a_reveal_that_cannot_be_audited_shows_nothing(
    wibmo: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / "log-dir").mkdir()
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(isolated / "log-dir"))
    for args in (("decrypt", "--reveal", TOKEN), ("lookup", "--urn", "389", "--reveal")):
        result = wibmo(*args)
        assert result.exit_code == 3
        assert "cannot write the audit log" in result.stderr
        shows_nothing_whole(result.stdout + result.stderr)

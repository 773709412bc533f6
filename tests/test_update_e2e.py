"""`wibmo update-profile` end to end: the CLI against the sandbox served for real on loopback.

The sandbox runs in a thread (`Sandbox`); the CLI runs in-process through the `wibmo`
fixture (stdin is not a terminal there), or as `python -m wibmo_cli` on a pseudo-terminal
when a test answers the confirmation prompt. profiles.toml in the working directory
points at the sandbox, its secrets from `${VAR}`s. `sandbox.requests` tells what reached
the server.
"""

from __future__ import annotations

import json
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from support import (
    PROFILE,
    SECRET_FORMS,
    Invoke,
    StartSandbox,
    codec,
    run_on_terminal,
    write_profiles,
)

from wibmo_cli.codes import explain
from wibmo_cli.sandbox import (
    CARDLESS_CUSTOMER_ID,
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
    SAMPLE_MOBILE,
    Faults,
    RequestRecord,
    Sandbox,
)

pytestmark = pytest.mark.e2e

SECRETS = tuple(SECRET_FORMS.values())
AADHAAR = "234567890124"


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """A sandbox whose hangs last 3 s, and the `hard` profile pointing at it."""
    return start_sandbox(profile={}, faults=Faults(hang_seconds=3))


def api(sandbox: Sandbox, kind: str) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.api == kind]


def lookup(wibmo: Invoke, *args: str) -> dict[str, Any]:
    result = wibmo("lookup", *args, "-o", "json", "--reveal")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def card(answer: dict[str, Any]) -> dict[str, Any]:
    entry = answer["cardList"][0]
    assert isinstance(entry, dict)
    return entry


def no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def audit_entries(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- an update by each identifier, and a lookup that shows it ------------------------------


def test_update_by_urn_then_lookup(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--urn", "389", "--email", "new.mail@example.com", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "responseCode 00 SUCCESS" in result.stdout
    assert f"wibmo -p {PROFILE} lookup --urn 389" in result.stderr
    assert len(api(sandbox, "update")) == 1
    assert len(api(sandbox, "lookup")) == 1  # cardProfileId was looked up
    assert card(lookup(wibmo, "--urn", "389"))["email"] == "new.mail@example.com"
    no_secrets(result.stdout, result.stderr)


def test_update_by_mobile_then_lookup(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo(
        "update-profile", "--mobile", f"+91 {SAMPLE_MOBILE}", "--city", "Pune",
        "--zip-code", "411001", "--address-line1", "12, MG Road", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    entry = card(lookup(wibmo, "--mobile", SAMPLE_MOBILE))
    assert (entry["city"], entry["zipCode"], entry["addressLine1"]) == (
        "Pune",
        "411001",
        "12, MG Road",
    )


def test_update_by_customer_id_then_lookup(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo(
        "update-profile", "--customer-id", SAMPLE_CUSTOMER_ID, "--first-name", "Jacob",
        "--last-name", "James", "--dob", "1995-07-11", "--gender", "m",
        "--card-profile-id", "150", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert api(sandbox, "lookup") == []  # --card-profile-id and --yes: nothing to look up
    entry = card(lookup(wibmo, "--customer-id", SAMPLE_CUSTOMER_ID))
    assert (entry["firstName"], entry["lastName"], entry["dob"], entry["gender"]) == (
        "Jacob",
        "James",
        "11-Jul-1995",
        "Male",
    )


def test_new_mobile_then_lookup_by_it(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--urn", "389", "--new-mobile", "7012345678", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "mobile number" in result.stderr  # the compliance note
    assert card(lookup(wibmo, "--mobile", "7012345678"))["urn"] == 389


def test_json_output_is_the_decrypted_answer(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--urn", "389", "--state", "Goa", "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["responseCode"] == "00"
    assert answer["messageCode"] == 1281
    assert answer["customerId"] == SAMPLE_CUSTOMER_ID
    assert answer["clientTxnId"] == api(sandbox, "update")[0].client_txn_id


def test_kyc_upgrade_from_a_file_with_options(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        urn = conn.execute("SELECT min(urn) FROM cards WHERE profile_id = 30").fetchone()[0]
    Path("patch.json").write_text(
        json.dumps(
            {
                "newcardProfileId": 150,
                "cardholderAddress": "12, Lake View Road, Kochi",
                "docList": [{"docType": "Passport", "docNumber": "A1234567",
                             "docCountry": "India", "docExpiry": "20321231"}],
                "kycDateStamp": "20240501103000",
            }
        )
    )  # fmt: skip
    result = wibmo(
        "update-profile", "--urn", str(urn), "--from-file", "patch.json",
        "--doc", f"aadhaar:{AADHAAR}:India", "--doc-consent", "--yes",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    entries = lookup(wibmo, "--urn", str(urn))["cardList"]
    upgraded = next(e for e in entries if e["urn"] == urn)
    assert upgraded["profileId"] == 150
    docs = {d["docType"]: d["docNumber"] for d in upgraded["docList"]}
    assert docs["Aadhar"] == AADHAAR  # --doc replaced the file's docList
    entry = [e for e in audit_entries() if e["command"] == "update-profile"][-1]
    assert entry["kycProfile"] == "30->150"
    assert "docList:Aadhar" in entry["fields"]


# -- every validation error is caught before anything is sent ------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--urn", "389", "--email", "not-an-email"], "--email"),
        (["--urn", "389", "--alternate-email", "x@"], "--alternate-email"),
        (["--urn", "389", "--new-mobile", "55555"], "--new-mobile"),
        (["--mobile", "12345", "--city", "Pune"], "--mobile"),
        (["--urn", "38a9", "--city", "Pune"], "--urn"),
        (["--urn", "389", "--dob", "19951301"], "--dob"),
        (["--urn", "389", "--dob", "20990101"], "--dob"),
        (["--urn", "389", "--kyc-date-stamp", "2016"], "--kyc-date-stamp"),
        (["--urn", "389", "--gender", "robot"], "--gender"),
        (["--urn", "389", "--zip-code", "012345"], "--zip-code"),
        (["--urn", "389", "--new-card-profile-id", "200"], "--new-card-profile-id"),
        (["--urn", "389", "--card-profile-id", "999", "--city", "Pune"], "--card-profile-id"),
        (["--urn", "389", "--doc", "PAN:ABCDE"], "--doc"),
        (["--urn", "389", "--doc", "aadhaar:234567890123"], "--doc"),
        (["--urn", "389", "--doc", "voterid:1"], "--doc"),
        (["--urn", "389", "--doc", "passport:Q1234567"], "--doc"),
        (["--urn", "389", "--doc", "dl:D"], "--doc"),
        (["--urn", "389", "--first-name", " "], "--first-name"),
        (["--urn", "389"], "nothing to change"),
        (["--urn", "389", "--mobile", SAMPLE_MOBILE, "--city", "Pune"], "exactly one"),
        (["--city", "Pune"], "exactly one"),
        (["--urn", "389", "--card-profile-id", "30", "--new-card-profile-id", "150",
          "--doc", "PAN:ABCPE1234F", "--kyc-date-stamp", "20240101000000"], "address"),
        (["--urn", "389", "--card-profile-id", "30", "--new-card-profile-id", "150",
          "--address", "x", "--kyc-date-stamp", "20240101000000"], "identity document"),
        (["--urn", "389", "--card-profile-id", "30", "--new-card-profile-id", "150",
          "--address", "x", "--doc", "PAN:ABCPE1234F"], "--kyc-date-stamp"),
    ],
)  # fmt: skip
def test_validation_errors_send_nothing(
    wibmo: Invoke, sandbox: Sandbox, args: list[str], option: str
) -> None:
    result = wibmo("update-profile", *args, "--yes")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert option in result.stderr
    assert result.stdout == ""
    assert sandbox.requests == []
    assert not (Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl").exists()


def test_bad_file_sends_nothing(wibmo: Invoke, sandbox: Sandbox) -> None:
    Path("patch.json").write_text('{"emailId": "nope"}')
    result = wibmo("update-profile", "--urn", "389", "--from-file", "patch.json", "--yes")
    assert result.exit_code == 2
    assert "patch.json: emailId 'nope'" in result.stderr
    missing = wibmo("update-profile", "--urn", "389", "--from-file", "absent.json", "--yes")
    assert missing.exit_code == 2
    assert sandbox.requests == []


def test_upgrade_rule_found_after_the_lookup_sends_no_update(
    wibmo: Invoke, sandbox: Sandbox, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        urn = conn.execute("SELECT min(urn) FROM cards WHERE profile_id = 300").fetchone()[0]
    result = wibmo("update-profile", "--urn", str(urn), "--new-card-profile-id", "150", "--yes")
    assert result.exit_code == 2
    assert "an upgrade to Full KYC / Full CDD needs the address" in result.stderr
    assert len(api(sandbox, "lookup")) == 1
    assert api(sandbox, "update") == []


def test_lookup_that_finds_nobody_sends_no_update(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--customer-id", "NOBODY", "--city", "Pune", "--yes")
    assert result.exit_code == 1
    assert "1303" in result.stderr and "nothing was sent" in result.stderr
    assert api(sandbox, "update") == []


# -- the sandbox's answers, surfaced with their explanation --------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--customer-id", "NOBODY", "--card-profile-id", "150"], "1231"),
        (["--mobile", DUPLICATE_MOBILE, "--card-profile-id", "30"], "1237"),
        (["--urn", "389", "--card-profile-id", "150", "--new-mobile", DUPLICATE_MOBILE], "1237"),
        (["--customer-id", CARDLESS_CUSTOMER_ID, "--card-profile-id", "150"], "1306"),
        (["--urn", "389", "--card-profile-id", "30"], "1309"),
    ],
)
def test_sandbox_error_codes_are_explained(
    wibmo: Invoke, sandbox: Sandbox, args: list[str], code: str
) -> None:
    result = wibmo("update-profile", *args, "--city", "Pune", "--yes")
    assert result.exit_code == 1, result.stderr
    known = explain(code)
    assert known is not None
    flat = " ".join(result.stdout.split())
    assert f"responseCode {code} {known.name}" in flat
    assert " ".join(known.meaning.split())[:40] in flat
    assert len(api(sandbox, "update")) == 1
    as_json = wibmo("update-profile", *args, "--city", "Pune", "--yes", "-o", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["responseCode"] == code


class _StubPlatform(BaseHTTPRequestHandler):
    """Answers every PATCH with the code in the server's `code` attribute."""

    def do_PATCH(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        server: Any = self.server
        answer = {"responseCode": server.code, "messageCode": 1281, "responseMessage": "X"}
        body = json.dumps({"token": codec().encrypt_json(answer)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    "code",
    ["1034", "1088", "1090", "1091", "1092", "1238", "1239", "1240", "1241", "1242", "1245",
     "1290", "1300"],
)  # fmt: skip
def test_codes_wibmo_prevents_are_explained_too(wibmo: Invoke, code: str) -> None:
    """wibmo's own checks keep these from the sandbox (test_sandbox_update.py covers them
    there); a stub platform answering them shows the explanation still reaches the user."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubPlatform)
    server.code = code  # type: ignore[attr-defined]
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        write_profiles(f"http://127.0.0.1:{server.server_address[1]}")
        result = wibmo("update-profile", "--urn", "389", "--card-profile-id", "150",
                       "--city", "Pune", "--yes")  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    known = explain(code)
    assert known is not None
    flat = " ".join(result.stdout.split())
    assert known.name in flat and " ".join(known.action.split())[:40] in flat


# -- dry run -------------------------------------------------------------------------------


def test_dry_run_sends_nothing(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo(
        "update-profile", "--urn", "389", "--card-profile-id", "150", "--email",
        "dry@example.com", "--doc", "PAN:ABCPE1234F:India", "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sandbox.requests == []
    assert "nothing was sent" in result.stderr
    lines = result.stdout.splitlines()
    token = lines[lines.index("# Token") + 1]
    payload = codec().decrypt_json(token)
    assert isinstance(payload, dict)
    assert payload["emailId"] == "dry@example.com"
    assert payload["docList"][0]["docNumber"] == "ABCPE1234F"  # whole in the token
    assert "ABCPE1234F" not in result.stdout.replace(token, "")  # masked in the text
    assert f"curl -sS -X PATCH {sandbox.url}/mob1/api/onboarding/v1/updateProfile" in result.stdout
    no_secrets(result.stdout, result.stderr)
    assert card(lookup(wibmo, "--urn", "389"))["email"] != "dry@example.com"


def test_dry_run_json_and_a_lookup_for_the_profile(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--urn", "389", "--city", "Pune", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["dryRun"] is True
    assert shown["payload"]["cardProfileId"] == "150"  # from the lookup
    assert shown["curl"].startswith("curl ")
    assert api(sandbox, "update") == []
    assert len(api(sandbox, "lookup")) == 1
    entry = audit_entries()[-1]
    assert (entry["action"], entry["result"]) == ("dry-run", "not sent (dry run)")


# -- confirmation --------------------------------------------------------------------------


def test_declined_confirmation_sends_nothing(sandbox: Sandbox) -> None:
    args = ["update-profile", "--urn", "389", "--email", "declined@example.com"]
    code, _, err = run_on_terminal(args, "Send this update?", "n\n")
    assert code == 2
    assert "not sent" in err
    assert "declined@example.com" in err and "abc@xyz.com" in err  # the preview: now, will be
    assert api(sandbox, "update") == []
    assert len(api(sandbox, "lookup")) == 1


def test_confirmed_update_is_sent_once(sandbox: Sandbox) -> None:
    args = ["update-profile", "--urn", "389", "--email", "confirmed@example.com"]
    code, out, err = run_on_terminal(args, "Send this update?", "y\n")
    assert code == 0, err
    assert "responseCode 00" in out
    assert len(api(sandbox, "update")) == 1


def test_end_of_input_at_the_prompt_sends_nothing(sandbox: Sandbox) -> None:
    args = ["update-profile", "--urn", "389", "--email", "eof@example.com"]
    code, _, err = run_on_terminal(args, "Send this update?", "\x04")
    assert code == 130
    assert "nothing was sent" in err
    assert api(sandbox, "update") == []


def test_no_terminal_and_no_yes_refuses_before_anything(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("update-profile", "--urn", "389", "--email", "a@example.com", input="y\n")
    assert result.exit_code == 2
    assert "stdin is not a terminal" in result.stderr and "--yes" in result.stderr
    assert sandbox.requests == []


# -- production guard ----------------------------------------------------------------------


def test_production_needs_production_ok_with_yes(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url, production=True)
    args = ("update-profile", "--urn", "389", "--email", "prod@example.com")
    refused = wibmo(*args, "--yes")
    assert refused.exit_code == 2
    assert "--production-ok" in refused.stderr
    assert sandbox.requests == []
    dry = wibmo(*args, "--card-profile-id", "150", "--dry-run")
    assert dry.exit_code == 0 and sandbox.requests == []
    sent = wibmo(*args, "--yes", "--production-ok")
    assert sent.exit_code == 0, sent.stderr
    assert len(api(sandbox, "update")) == 1


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        (PROFILE, True),
        pytest.param("yes", False, marks=pytest.mark.slow),  # a pty each (~0.7 s)
        pytest.param(PROFILE.upper(), False, marks=pytest.mark.slow),
    ],
)
def test_production_asks_for_the_profile_name(sandbox: Sandbox, typed: str, sent: bool) -> None:
    write_profiles(sandbox.url, production=True)
    args = ["update-profile", "--urn", "389", "--email", "prod@example.com", "--yes"]
    code, _, err = run_on_terminal(args, "Type its name to send", typed + "\n")
    assert code == (0 if sent else 2), err
    assert len(api(sandbox, "update")) == (1 if sent else 0)


# -- at most once --------------------------------------------------------------------------


def test_no_answer_after_sending_is_outcome_unknown(wibmo: Invoke, sandbox: Sandbox) -> None:
    """Through the CLI; every cause of "outcome unknown" is a unit test (test_wire_send.py)."""
    write_profiles(sandbox.url, timeout=1)
    queue = ["ok", "hang"]  # the lookup answers, the update hangs
    sandbox.settings.faults.queue = list(queue)
    result = wibmo("update-profile", "--urn", "389", "--email", "maybe@example.com", "--yes")
    assert result.exit_code == 5, result.stderr
    updates = api(sandbox, "update")
    assert len(updates) == 1  # never resent
    assert updates[0].fault == queue[-1]
    entries = [e for e in audit_entries() if e["action"] == "update"]
    txn = entries[0]["clientTxnId"]
    assert [e["result"] for e in entries] == ["sending", "outcome unknown"]
    assert "may or may not have been applied" in result.stderr
    assert f"clientTxnId {txn}" in result.stderr
    assert f"check with: wibmo -p {PROFILE} lookup --urn 389" in result.stderr
    assert result.stderr.count("error:") == 1


def test_refused_connection_says_nothing_was_sent(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles("http://127.0.0.1:9")  # discard port: nothing listens
    result = wibmo("update-profile", "--urn", "389", "--email", "a@example.com",
                   "--card-profile-id", "150", "--yes")  # fmt: skip
    assert result.exit_code == 5
    assert "nothing was sent" in result.stderr
    assert audit_entries()[-1]["result"] == "not sent"


def test_server_error_after_sending_says_to_check(wibmo: Invoke, sandbox: Sandbox) -> None:
    sandbox.settings.faults.queue = ["502"]
    result = wibmo("update-profile", "--urn", "389", "--email", "a@example.com",
                   "--card-profile-id", "150", "--yes")  # fmt: skip
    assert result.exit_code == 5  # every "may have been applied" outcome is exit 5
    assert "may or may not have been applied" in result.stderr
    assert f"wibmo -p {PROFILE} lookup --urn 389" in result.stderr
    assert len(api(sandbox, "update")) == 1


# -- the audit log -------------------------------------------------------------------------


def test_audit_log_entries_are_written_and_free_of_secrets(
    wibmo: Invoke, sandbox: Sandbox, tmp_path: Path
) -> None:
    log = tmp_path / "audit" / "ops.jsonl"
    common = ("--audit-log", str(log), "--yes")
    docs = ("--doc", "PAN:ABCPE1234F", "--doc", f"aadhaar:{AADHAAR}")
    assert wibmo("update-profile", "--mobile", SAMPLE_MOBILE, "--email", "a1@example.com",
                 *docs, "--doc-consent", *common).exit_code == 0  # fmt: skip
    assert wibmo("update-profile", "--urn", "389", "--card-profile-id", "30", "--city", "X",
                 *common).exit_code == 1  # fmt: skip
    assert wibmo("update-profile", "--urn", "389", "--card-profile-id", "150", "--ckyc-number",
                 "12345678901234", "--dry-run", "--audit-log", str(log)).exit_code == 0  # fmt: skip
    assert oct(log.stat().st_mode & 0o777) == "0o600"
    text = log.read_text(encoding="utf-8")
    no_secrets(text)
    for value in (SAMPLE_MOBILE, "a1@example.com", "ABCPE1234F", AADHAAR, "12345678901234"):
        assert value not in text
    entries = audit_entries(log)
    assert [(e["action"], e["result"]) for e in entries] == [
        ("update", "sending"),
        ("update", "answered"),
        ("update", "sending"),
        ("update", "answered"),
        ("dry-run", "not sent (dry run)"),
    ]
    first = entries[1]
    assert first["command"] == "update-profile"
    assert first["profile"] == PROFILE
    assert first["identifiers"] == "mobile ********" + SAMPLE_MOBILE[-4:]
    assert first["fields"] == ["emailId", "docConsent", "docList:Pancard", "docList:Aadhar"]
    assert first["responseCode"] == "00"
    assert isinstance(first["accosaTransactionId"], int)
    assert first["clientTxnId"] == api(sandbox, "update")[0].client_txn_id
    assert entries[3]["responseCode"] == "1309"
    assert {e["user"] for e in entries} and all(e["time"] for e in entries)

    shown = wibmo("audit", "--audit-log", str(log))
    assert shown.exit_code == 0
    for entry in entries:  # one row per attempt: "sending" joined with its result
        assert shown.stdout.count(entry["clientTxnId"]) == 1
    assert "1309" in shown.stdout and "no result" not in shown.stdout
    as_json = wibmo("audit", "--audit-log", str(log), "-o", "json", "--limit", "2")
    assert [json.loads(line)["action"] for line in as_json.stdout.splitlines()] == [
        "update",
        "dry-run",
    ]


def test_audit_log_from_the_environment(
    wibmo: Invoke, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "env-audit.jsonl"
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(log))
    assert wibmo("update-profile", "--urn", "389", "--city", "Pune", "--yes").exit_code == 0
    assert [e["result"] for e in audit_entries(log)] == ["sending", "answered"]


def test_unwritable_audit_log_sends_nothing(
    wibmo: Invoke, sandbox: Sandbox, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = wibmo("update-profile", "--urn", "389", "--city", "Pune", "--card-profile-id", "150",
                   "--yes", "--audit-log", str(blocker / "audit.jsonl"))  # fmt: skip
    assert result.exit_code == 3
    assert "nothing was sent" in result.stderr
    assert sandbox.requests == []

"""Issue 12, items 10-13: update-profile as a support agent meets it in the first hour.

10. An upgrade to Full KYC / Full CDD names every missing requirement in one message.
11. A field set to what the lookup shows now is left out with a note, as a KYC profile
    already held is; nothing left: "nothing to change", nothing sent (exit 2).
12. Ctrl-C typed at the confirmation (y/n, or the production profile's name) on a real
    terminal stops at once: one message, exit 130, nothing sent, no audit entry.
13. Names in any script (Ásha, Zoë, आशा) are letters; digits and control characters
    are still refused.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import subprocess
import sys
import termios
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support import WIBMO, Invoke, StartSandbox, audit_entries, child_env, served

from wibmo_cli import validate
from wibmo_cli.changes import Plan, parse_request, plan
from wibmo_cli.customer_now import customer_record
from wibmo_cli.errors import InputError
from wibmo_cli.messages import Identifiers
from wibmo_cli.sandbox import Sandbox

NOW = datetime(2026, 6, 1, 12, 0, 0)
AADHAAR = "234567890124"
# The sample customer (URN 389) as a lookup shows them: the retrieve document's sample.
RECORD: dict[str, Any] = {
    "urn": 389,
    "profileId": 150,
    "firstName": "ABC",
    "lastName": "LastName",
    "email": "abc@xyz.com",
    "mobile": "919897123456",
    "dob": "11-Jul-1993",
    "city": "Pune",
    "gender": "M",
    "docConsent": "true",
}


def make_plan(current: int = 150, record: dict[str, Any] | None = RECORD, **options: Any) -> Plan:
    docs = options.pop("docs", ())
    request = parse_request(Identifiers(urn="389"), options, docs=docs, now=NOW)
    return plan(request, current, record=record, now=NOW)


# -- 10. every missing Full-KYC requirement at once -----------------------------------------


def test_an_upgrade_with_nothing_names_every_requirement_in_one_message() -> None:
    with pytest.raises(InputError) as caught:
        make_plan(300, newcardProfileId="150")
    message = str(caught.value)
    assert "\n" not in message
    assert message == (
        "--new-card-profile-id 150: an upgrade to Full KYC / Full CDD needs "
        "the address (--address, sent as cardholderAddress); "
        "at least one identity document (--doc TYPE:NUMBER) or --ckyc-number; "
        "--kyc-date-stamp (when the KYC was done, YYYYMMDDHHMMSS)"
    )


def test_expiry_and_consent_are_named_with_the_rest() -> None:
    docs = ("Passport:A1234567:India", "DL:MH-14-2011-0062821", f"aadhaar:{AADHAAR}")
    with pytest.raises(InputError) as caught:
        make_plan(30, newcardProfileId="150", docs=docs, cardholderAddress="12, MG Road")
    message = str(caught.value)
    assert "the address" not in message and "identity document" not in message
    for needed in (
        "--kyc-date-stamp",
        "the Passport's expiry date (--doc Passport:NUMBER:COUNTRY:YYYYMMDD)",
        "the Driverlicense's expiry date (--doc Driverlicense:NUMBER:COUNTRY:YYYYMMDD)",
        "the customer's consent, as it carries an Aadhaar (--doc-consent)",
    ):
        assert needed in message, message
    assert message.count(";") == 3


def test_the_missing_requirements_come_in_one_run_from_the_cli(
    start_sandbox: StartSandbox, cli: Invoke
) -> None:
    sandbox = start_sandbox(profile={})
    args = ("update-profile", "--urn", "389", "--card-profile-id", "30", "--yes")
    result = cli(*args, "--new-card-profile-id", "150", "--doc", "Passport:A1234567")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    for needed in ("the address", "--kyc-date-stamp", "the Passport's expiry date"):
        assert needed in lines[0]
    assert sandbox.requests == []


# -- 11. no-op fields left out, as the KYC no-op is ----------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "shown"),
    [
        ("emailId", " abc@xyz.com ", "abc@xyz.com"),
        ("mobile", "+91 98971-23456", "9897123456"),  # with or without the prefix
        ("mobile", "09897123456", "9897123456"),
        ("dateOfBirth", "19930711", "11-Jul-1993"),  # any accepted form of the date
        ("dateOfBirth", "11/07/1993", "11-Jul-1993"),
        ("dateOfBirth", "1993-07-11", "11-Jul-1993"),
        ("gender", "male", "M"),
        ("docConsent", True, "true"),
        ("firstName", "  ABC ", "ABC"),
    ],
)
def test_a_field_as_the_lookup_shows_it_is_left_out(field: str, given: Any, shown: str) -> None:
    made = make_plan(**{field: given, "cardholderCity": "Nagpur"})
    assert field not in made.payload
    assert made.payload["cardholderCity"] == "Nagpur"
    assert made.changed() == ["cardholderCity"]
    assert any(f"is already {shown} (" in note and "left out" in note for note in made.notes)


def test_dates_of_birth_as_lookups_show_them_all_match() -> None:
    for shown in ("19930711", "1993-07-11 00:00:00", "19930711000000", "11-07-1993"):
        record = {**RECORD, "dob": shown}
        with pytest.raises(InputError, match="nothing to change: Date of birth is already"):
            make_plan(record=record, dateOfBirth="11-07-1993")


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("firstName", "Abc"),  # a change of letter case in a name is a change
        ("emailId", "ABC@xyz.com"),  # and in an email (an attack review: it was dropped)
        ("cardholderCity", "PUNE"),
        ("emailId", "abc@xyz.co"),
        ("mobile", "9897123457"),
        ("dateOfBirth", "19930712"),
        ("lastName", "Other"),
    ],
)
def test_a_field_that_differs_is_sent(field: str, given: str) -> None:
    made = make_plan(**{field: given})
    assert made.changed() == [field]
    assert made.notes == () or not any("left out" in note for note in made.notes)


def test_a_field_the_lookup_does_not_show_is_sent() -> None:
    made = make_plan(cardholderState="Maharashtra", alternateEmailId="abc@xyz.com")
    assert made.changed() == ["alternateEmailId", "cardholderState"]


def test_nothing_left_is_nothing_to_change_naming_each_field() -> None:
    with pytest.raises(InputError) as caught:
        make_plan(emailId="abc@xyz.com", newcardProfileId="150", cardholderCity="Pune")
    assert str(caught.value) == (
        "nothing to change: the KYC profile is already 150 (Full KYC / Full CDD); "
        "Email is already abc@xyz.com (--email); City is already Pune (--city)"
    )


def test_without_a_lookup_nothing_is_compared() -> None:
    made = make_plan(record=None, emailId="abc@xyz.com")
    assert made.changed() == ["emailId"]


def test_an_upgrade_sends_what_it_needs_even_when_already_on_record() -> None:
    record = {**RECORD, "profileId": 30, "address": "12, MG Road", "kycDateStamp": "20240501103000"}
    made = make_plan(
        30,
        record=record,
        newcardProfileId="150",
        cardholderAddress="12, MG Road",
        kycDateStamp="20240501103000",
        emailId="abc@xyz.com",
        docs=("PAN:ABCPE1234F",),
    )
    assert made.payload["cardholderAddress"] == "12, MG Road"
    assert made.payload["kycDateStamp"] == "20240501103000"
    assert made.payload["docList"] == [{"docType": "Pancard", "docNumber": "ABCPE1234F"}]
    assert "emailId" not in made.payload


def test_the_file_field_is_named_in_the_note() -> None:
    request = parse_request(
        Identifiers(urn="389"),
        {},
        patch={"email": "abc@xyz.com", "city": "Nagpur"},
        patch_label="patch.json",
        now=NOW,
    )
    made = plan(request, 150, record=customer_record({"cardList": [RECORD]}, "389"), now=NOW)
    assert "Email is already abc@xyz.com (patch.json: email): it is left out" in made.notes


@pytest.mark.e2e
def test_an_email_already_held_sends_nothing(start_sandbox: StartSandbox, cli: Invoke) -> None:
    sandbox = start_sandbox(profile={})
    result = cli("update-profile", "--urn", "389", "--email", "abc@xyz.com", "--yes")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "error: nothing to change: Email is already abc@xyz.com (--email)"
    )
    assert [r.api for r in sandbox.requests] == ["lookup"]
    assert [e for e in audit_entries() if e.get("command") == "update-profile"] == []


@pytest.mark.e2e
def test_the_rest_is_sent_with_a_note(start_sandbox: StartSandbox, cli: Invoke) -> None:
    start_sandbox(profile={})
    args = ("update-profile", "--urn", "389", "--email", "abc@xyz.com", "--city", "Nagpur")
    dry = cli(*args, "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    payload = json.loads(dry.stdout)["payload"]
    assert payload["cardholderCity"] == "Nagpur" and "emailId" not in payload
    assert payload["updateVectors"] == "city"
    assert "Email is already abc@xyz.com (--email): it is left out" in dry.stderr
    sent = cli(*args, "--yes", "-o", "json")
    assert sent.exit_code == 0, sent.stderr
    assert "warning: Email is already abc@xyz.com (--email): it is left out" in sent.stderr
    entries = [e for e in audit_entries() if e.get("action") == "update"]
    assert entries[-1]["fields"] == ["cardholderCity"]


# -- 12. Ctrl-C typed at the confirmation on a real terminal -----------------------------------

# The child makes the pty its controlling terminal, so the ^C typed into it is the
# terminal's own SIGINT to the foreground process group, as in a user's shell.
_ON_TERMINAL = (
    "import fcntl, os, sys, termios\n"
    "os.setsid()\n"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)


def _ctrl_c_at(question: bytes, *args: str) -> tuple[int, str, float]:
    """Run wibmo on a terminal of its own; type Ctrl-C once `question` shows. Its exit
    code, what it wrote after the question, and how long it took to end."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, b"\x18\x00\x50\x00\x00\x00\x00\x00")  # 24x80
    process = subprocess.Popen(
        [sys.executable, "-c", _ON_TERMINAL, *WIBMO[1:], *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=child_env(NO_COLOR="1"),
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while question not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
        assert question in seen, seen.decode(errors="replace")
        os.write(leader, b"\x03")
        typed = time.monotonic()
        code = process.wait(timeout=10)  # before: it waited for Enter
        took = time.monotonic() - typed
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    after = seen.decode(errors="replace").split(question.decode(), 1)[1]
    return code, after, took


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("production", "question"),
    [(False, b"Send this update? [y/N]: "), (True, b"Type its name to send: ")],
    ids=["yes-no", "typed-name"],
)
def test_ctrl_c_typed_at_the_confirmation_stops_at_once(
    db_path: Path, production: bool, question: bytes
) -> None:
    with served(db_path, profile={"production": production}) as running:
        code, after, took = _ctrl_c_at(
            question, "update-profile", "--urn", "389", "--email", "ctrl-c@example.com"
        )
        assert [r.api for r in running.requests] == ["lookup"]
    assert code == 130, after
    assert took < 5, took
    said = [line for line in after.replace("^C", "").splitlines() if line.strip()]
    assert said == ["interrupted: nothing was sent"], after
    assert [e for e in audit_entries() if e.get("command") == "update-profile"] == []


# -- 13. names in any script --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["Ásha", "Zoë", "Zoe\u0308", "आशा", "José María", "Nguyễn Văn An", "O'Brien-Ñúñez", "Ǆemal"],
)
def test_a_name_in_any_script_is_letters(raw: str) -> None:
    assert validate.name(raw, field="--first-name") == unicodedata.normalize("NFC", raw)


def test_a_decomposed_accent_is_sent_composed() -> None:
    assert validate.name("Zoe\u0308") == "Zo\u00eb"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("Ásha2", "letters, spaces and . ' -"),
        ("आशा४", "letters, spaces and . ' -"),  # a Devanagari digit is a digit
        ("Zoë_", "letters, spaces and . ' -"),
        ("\u0301sha", "letters, spaces and . ' -"),  # an accent on nothing
        ("Asha 😀", "letters, spaces and . ' -"),
        ("Ásha\x1b[2J", "control or invisible characters"),
        ("Ás\tha", "control or invisible characters"),
        ("Ás\u200dha", "control or invisible characters"),
        ("Ás\u202eha", "control or invisible characters"),
        ("Á" * 51, "1-50 characters"),
    ],
)
def test_digits_symbols_and_controls_are_still_refused(raw: str, rule: str) -> None:
    with pytest.raises(InputError) as caught:
        validate.name(raw, field="--first-name")
    message = str(caught.value)
    assert message.startswith("--first-name ") and rule in message
    assert "\n" not in message and "\x1b" not in message


@pytest.mark.e2e
def test_a_name_outside_ascii_is_sent_and_kept(start_sandbox: StartSandbox, cli: Invoke) -> None:
    sandbox: Sandbox = start_sandbox(profile={})
    args = ("update-profile", "--urn", "389", "--first-name", "Ásha", "--last-name", "Zoë")
    result = cli(*args, "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "00"
    looked = cli("lookup", "--urn", "389", "-o", "json")
    card = json.loads(looked.stdout)["cardList"][0]
    assert (card["firstName"], card["lastName"]) == ("Ásha", "Zoë")
    assert [r.api for r in sandbox.requests].count("update") == 1

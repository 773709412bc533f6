"""`decrypt --har` after a new user's review (issue 13): the timeline's own line breaks,
a table that fits 80, 120 and 200 columns without losing a column, --out without
anyone's personal data and with credentials redacted whole, --fields on each exchange,
the platform's names in -o json, entries counted from 1, the profile named once, and
the capture read from stdin."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import test_har
from har_gen import BEARER, SESSION_COOKIE, Session
from support import API_KEY, SECURE_CODE, Invoke, assert_one_line_error, codec
from test_har import document, write

from wibmo_cli.har_clean import is_credential
from wibmo_cli.views import har as har_view

pytestmark = pytest.mark.e2e
session = test_har.session  # the fixture: capture.har and ./profiles.toml
TAIL = ("responseCode", "clientTxnId", "ms")


def swapped(capture: dict[str, Any]) -> None:
    """The first two lookups' answers swapped: each a mismatch naming the other."""
    entries = capture["log"]["entries"]
    entries[5]["response"], entries[6]["response"] = entries[6]["response"], entries[5]["response"]
    write(capture)


def table(cli: Invoke, monkeypatch: pytest.MonkeyPatch, width: int) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    result = cli("decrypt", "--har", "capture.har")
    assert result.exit_code == 0, result.stderr
    return result.stdout


# -- 1. the tool's own line breaks are line breaks; the network's are shown -----------------------


def test_a_mismatch_note_is_a_line_of_its_own(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    swapped(session.har)
    out = table(cli, monkeypatch, 250)
    assert "\\n" not in out
    ids = [payload["clientTxnId"] for payload in session.sent[:2]]
    notes = [line.strip() for line in out.splitlines() if "≠" in line]
    assert [note.split()[-3:] for note in notes] == [
        [ids[1], "(entry", "7)"],
        [ids[0], "(entry", "6)"],
    ]


def test_an_error_under_its_code_is_a_line_of_its_own(session: Session, cli: Invoke) -> None:
    entry = session.har["log"]["entries"][7]  # the unknown customer: 1303
    entry["request"]["postData"]["text"] = json.dumps({"token": "A" * 44})
    write(session.har)
    result = cli("decrypt", "--har", "capture.har")
    assert result.exit_code == 4
    assert "\\n" not in result.stdout
    assert re.search(r"^\s+request: ", result.stdout, re.MULTILINE), result.stdout


def test_a_line_feed_from_the_network_stays_visible(session: Session, cli: Invoke) -> None:
    entry = session.har["log"]["entries"][8]  # the update
    tokens = codec()
    payload = tokens.decrypt_json(json.loads(entry["request"]["postData"]["text"])["token"])
    payload["clientTxnId"] = "T4\nforged line\x1b[2J"
    entry["request"]["postData"]["text"] = json.dumps({"token": tokens.encrypt_json(payload)})
    write(session.har)
    out = cli("decrypt", "--har", "capture.har").stdout
    assert "T4\\nforged line\\x1b[2J" in out
    assert "\x1b" not in out and not any(line.startswith("forged") for line in out.splitlines())


# -- 2. every column at every width ----------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120, 200])
def test_no_column_is_lost_at_any_width(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    swapped(session.har)  # the widest cells: two-line ids
    out = table(cli, monkeypatch, width)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    for payload in session.sent:
        assert payload["clientTxnId"] in out  # ids whole, never cut
    for said in ("HTTP", "messageCode", "responseCode", "clientTxnId", "ms", "401", "1303"):
        assert said in out
    assert "CUSTOMER_DETAILS_NOT_PRESENT" in out and "Unauthorized" in out
    assert "/retrieveCustRecord" in out and "/updateProfile" in out
    assert "(entry 7)" in out


def test_wide_terminals_show_whole_paths_in_one_table(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = table(cli, monkeypatch, 200)
    assert "POST /uat/sbx/api/onboarding/v3/retrieveCustRecord" in out
    assert "PATCH /mob1/api/onboarding/v1/updateProfile" in out
    assert len([line for line in out.splitlines() if "SUCCESS" in line]) == 4  # one line each


def test_a_terminal_a_little_too_narrow_shortens_paths_in_the_middle(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    natural = max(len(line) for line in table(cli, monkeypatch, 300).splitlines())
    out = table(cli, monkeypatch, natural - 10)
    header = next(line for line in out.splitlines() if "responseCode" in line)
    assert header.split() == ["#", "time", "request", "HTTP", "messageCode", *TAIL]
    assert re.search(r"POST /uat/sbx/api/\S*…/retrieveCustRecord ", out), out
    assert "/updateProfile" in out and "CUSTOMER_DETAILS_NOT_PRESENT" in out


def test_at_80_columns_each_exchange_is_a_block(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = table(cli, monkeypatch, 80)
    titles = re.findall(r"^entry (\d+) · \d\d:\d\d:\d\d\.\d{3}$", out, re.MULTILINE)
    assert titles == ["6", "7", "8", "9", "10", "11"]
    assert "POST /uat/sbx/api/onboarding/v3/retrieveCustRecord" in out  # whole


def test_a_path_keeps_its_start_and_its_api_name() -> None:
    path = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
    shortened = har_view.shortened
    assert shortened(path, len(path)) == path
    assert shortened(path, 28) == "/uat/sbx…/retrieveCustRecord"
    assert shortened(path, 20) == "…/retrieveCustRecord"
    assert shortened(path, 10) == "…" + path[-9:]


# -- 3. --out: no one's personal data; credentials redacted whole ---------------------------------


def test_out_masks_personal_data_that_stdout_keeps(session: Session, cli: Invoke) -> None:
    shown = cli("decrypt", "--har", "capture.har", "--out", "clean.har", "-o", "json")
    assert shown.exit_code == 0, shown.stderr
    assert "personal data masked (mobile, email, names, date of birth, address" in shown.stderr
    card = json.loads(shown.stdout)["exchanges"][0]["response"]["cardList"][0]
    personal = [str(card[key]) for key in ("mobile", "email", "firstName", "lastName", "dob")]
    assert all(personal), card  # stdout keeps decrypt's masking: only documents masked
    text = Path("clean.har").read_text()
    assert not [value for value in personal if value in text]
    entries = json.loads(text)["log"]["entries"]
    cleaned = json.loads(entries[5]["response"]["content"]["text"])["token"]["cardList"][0]
    assert cleaned["mobile"] == "*" * (len(card["mobile"]) - 4) + card["mobile"][-4:]
    assert cleaned["email"] == f"{card['email'][0]}***@{card['email'].partition('@')[2]}"
    assert (cleaned["firstName"], cleaned["lastName"], cleaned["dob"]) == ("***",) * 3
    assert cleaned["urn"] == card["urn"] and cleaned["customerId"] == card["customerId"]
    request = json.loads(entries[5]["request"]["postData"]["text"])["token"]
    assert request["customerMobile"] == "********3456"


def test_out_masks_an_address_at_any_depth_and_in_a_query(session: Session, cli: Invoke) -> None:
    entry = session.har["log"]["entries"][4]  # the gateway's status: plain JSON, a query
    entry["request"]["url"] += "&mobile=919812345678"
    entry["request"]["queryString"].append({"name": "mobile", "value": "919812345678"})
    answer = {"customer": {"address": {"line1": "12 MG Road", "pin": 560001}, "dateOfBirth": 1}}
    entry["response"]["content"]["text"] = json.dumps(answer)
    write(session.har)
    assert cli("decrypt", "--har", "capture.har", "--out", "clean.har").exit_code == 0
    cleaned = json.loads(Path("clean.har").read_text())["log"]["entries"][4]
    body = json.loads(cleaned["response"]["content"]["text"])["customer"]
    assert body == {"address": {"line1": "***", "pin": "***"}, "dateOfBirth": "***"}
    assert "919812345678" not in json.dumps(cleaned)
    assert "mobile=********5678" in cleaned["request"]["url"]


def test_out_redacts_credentials_whole(session: Session, cli: Invoke) -> None:
    assert cli("decrypt", "--har", "capture.har", "--out", "clean.har").exit_code == 0
    text = Path("clean.har").read_text()
    for secret in (API_KEY, SECURE_CODE, BEARER, SESSION_COOKIE.partition("=")[2]):
        assert f"****{secret[-4:]}" not in text
    for entry in json.loads(text)["log"]["entries"]:
        for part in (entry["request"], entry.get("response") or {}):
            for row in part.get("headers", []) + part.get("cookies", []):
                if is_credential(row["name"]) or row in part.get("cookies", []):
                    assert row["value"] in ("", "****"), row


# -- 4, 5. --fields per exchange; the platform's names and values as sent ------------------------


def test_fields_pick_in_each_exchange(session: Session, cli: Invoke) -> None:
    result = cli("decrypt", "--har", "capture.har", "-o", "json", "--fields", "entry,clientTxnId")
    assert result.exit_code == 0, result.stderr
    picked = json.loads(result.stdout)["exchanges"]
    assert picked == [
        {"entry": entry, "clientTxnId": payload["clientTxnId"]}
        for entry, payload in zip((6, 7, 8, 9, 10, 11), session.sent, strict=True)
    ]


def test_json_uses_the_platforms_names_and_values_as_sent(session: Session, cli: Invoke) -> None:
    session.har["log"]["entries"][5]["time"] = 12.3456
    write(session.har)
    exchanges = document(cli)["exchanges"]
    first, update, refused = exchanges[0], exchanges[3], exchanges[4]
    assert {"clientTxnId", "messageCode", "answerMessageCode", "responseCode"} <= first.keys()
    assert not [key for key in first if key in ("client_txn_id", "message_code", "response_code")]
    assert (first["messageCode"], first["answerMessageCode"]) == (1930, 1931)  # numbers, as sent
    assert (update["messageCode"], update["responseCode"]) == ("1280", "00")  # a string, as sent
    assert first["time_ms"] == 12.3
    assert refused["responseCode"] is None and refused["answerMessageCode"] is None


# -- 7. the profile named once ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("decrypt", "A" * 44),
        ("decrypt", "--scan", "capture.har"),
        ("decrypt", "--har", "capture.har"),
    ],
)
def test_an_unset_key_variable_names_the_profile_once(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.delenv("HARD_KEY")
    result = cli(*args)
    assert_one_line_error(result, 3, "profile 'hard': encryption_key needs environment variable")
    assert result.stderr.count("profile 'hard'") == 1


# -- 8. stdin, and --help as the option's value ----------------------------------------------------


def test_the_capture_can_come_on_stdin(session: Session, cli: Invoke) -> None:
    data = Path("capture.har").read_bytes()
    result = cli("decrypt", "--har", "-", "-o", "json", "--out", "clean.har", input=data)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["shown"] == 6
    assert json.loads(Path("clean.har").read_text())["log"]["entries"]
    table = cli("decrypt", "--har", "-", input=data)
    assert table.stdout.startswith("stdin: the platform's exchanges")


def test_empty_stdin_is_one_line(cli: Invoke) -> None:
    result = cli("decrypt", "--har", "-", input=b"")
    assert_one_line_error(result, 2, "--har - (stdin) is empty: give a HAR file")


@pytest.mark.parametrize("option", ["--har", "--scan"])
@pytest.mark.parametrize("asked", ["--help", "-h"])
def test_help_given_as_the_value_is_help(cli: Invoke, option: str, asked: str) -> None:
    result = cli("decrypt", option, asked)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == cli("decrypt", "--help").stdout

"""Issue 13, a new user's review of `wibmo call`: the audit says which API a call hit and
about whom; the advice on 1055/1056 names what the call sent; credential headers are
redacted wherever headers are shown; `call -` takes a paste at a terminal; the examples'
write is made to a customer no other example uses.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support import (
    LOOKUP,
    SECRET_FORMS,
    SECURE_CODE,
    UPDATE,
    Invoke,
    StartSandbox,
    run_on_terminal,
    run_text,
    unit_profile,
)
from test_examples_run import all_examples

from wibmo_cli.callapi import Call, build_payload
from wibmo_cli.codes import Called, advice, explain
from wibmo_cli.masking import CREDENTIAL_NAMES, SECRET_NAMES, shown_value
from wibmo_cli.sandbox import Sandbox
from wibmo_cli.views.audit import table_rows
from wibmo_cli.views.call import request_preview
from wibmo_cli.views.preview import curl_command
from wibmo_cli.wire import Route, Wire

SECRETS = tuple(SECRET_FORMS.values())
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbg.s1gn4tur3"
COOKIE = "session=5f2b9c0d1e7a44c3"
CREDENTIAL_HEADERS = ("-H", f"Authorization: {BEARER}", "-H", f"Cookie: {COOKIE}")
WRITE = ("--message-code", "1280", "-f", "urn=1000179203", "-F", "cardProfileId=150")


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """The sandbox, and ./profiles.toml's `hard` profile pointing at it."""
    return start_sandbox(profile={})


def in_clear(*texts: str) -> list[str]:
    """The credentials typed in -H, and the profile's secrets, found in `texts`."""
    return [s for s in (BEARER, COOKIE, "s1gn4tur3", *SECRETS) for t in texts if s in t]


# -- 1. the audit says which API a call hit, and about whom ---------------------------------------


def test_a_calls_audit_fields_hold_its_identifiers_masked() -> None:
    payload, _ = build_payload(
        None,
        raw_fields=("urn=1000179203", "customerMobile=919897123456", "emailId=abc@xyz.com"),
        message_code=1280,
        read_file=str,
    )
    fields = Call(Route("PATCH", UPDATE, "headers"), payload, 1280, False).audit_fields("call")
    assert fields["identifiers"] == "mobile ********3456, urn ******9203, email a***@xyz.com"
    assert "1000179203" not in json.dumps(fields) and "9897123456" not in json.dumps(fields)
    bare, _ = build_payload(None, raw_fields=("x=1",), message_code=1190, read_file=str)
    nobody = Call(Route("POST", "/p", "headers"), bare, 1190, False)
    assert "identifiers" not in nobody.audit_fields("call")


def test_the_audit_table_shows_a_calls_api_and_customer() -> None:
    entry = {
        "time": "2026-01-01T10:00:00+00:00",
        "command": "call",
        "action": "call",
        "messageCode": 1280,
        "method": "PATCH",
        "path": UPDATE,
        "identifiers": "urn ******9203",
        "clientTxnId": "W1",
        "fields": ["cardProfileId", "cardholderCity", "urn"],
    }
    (row,) = table_rows([{**entry, "result": "sending"}, {**entry, "result": "answered"}])
    assert row["change"] == (
        f"call PATCH {UPDATE} · messageCode 1280: cardProfileId, cardholderCity, urn"
    )
    assert row["customer"] == "urn ******9203"
    (dry,) = table_rows([{**entry, "action": "dry-run", "result": "not sent (dry run)"}])
    assert dry["change"].startswith(f"call dry-run PATCH {UPDATE} · messageCode 1280")


def test_a_batch_reveals_identifiers_read_as_a_list_not_its_repr() -> None:
    entry = {"command": "lookup", "action": "reveal", "identifiers": ["mobile ***3456", "urn ***"]}
    assert table_rows([entry])[0]["customer"] == "mobile ***3456, urn ***"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_audit_csv_has_the_calls_message_code_method_and_path(
    cli: Invoke, sandbox: Sandbox, fmt: str
) -> None:
    sent = cli("call", UPDATE, *WRITE, "-f", "cardholderCity=Pune", "--yes")
    assert sent.exit_code == 0, sent.stderr
    result = cli("audit", "-o", fmt)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t" if fmt == "tsv" else ","))
    assert [r["result"] for r in rows] == ["sending", "answered"]
    for row in rows:
        assert (row["messageCode"], row["method"], row["path"]) == ("1280", "PATCH", UPDATE)
        assert row["identifiers"] == "urn ******9203"


# -- 2. the advice on 1055 / 1056 names what the call sent ----------------------------------------


@pytest.mark.parametrize("code", ["1055", "1056"])
def test_advice_for_a_call_names_its_message_code_path_and_fields(code: str) -> None:
    known = explain(code)
    assert known is not None
    said = advice(known, called=Called(1111, LOOKUP, ("urn",)))
    assert "messageCode 1111" in said and LOOKUP in said and "(sent: urn)" in said
    assert advice(known) == known.action  # a lookup's advice is the catalogue's
    other = explain("1303")
    assert other is not None and advice(other, called=Called(1, "/p", ())) == other.action


def test_a_call_answered_1055_is_advised_about_its_message_code(
    cli: Invoke, sandbox: Sandbox
) -> None:
    args = ("call", LOOKUP, "--message-code", "1111", "-f", "urn=389", "--read-only")
    result = cli(*args)
    assert result.exit_code == 1
    text = " ".join(result.stdout.split())  # the advice folds over lines
    assert "1055" in text and "may not take messageCode 1111 at" in text
    assert "a field it requires is missing (sent: urn)" in text
    answer = json.loads(cli(*args, "-o", "json").stdout)  # the footer's zeros are the sandbox's
    assert (answer["messageCode"], answer["bankId"]) == (0, 0)
    assert "messageCode 0" in result.stdout and "bankId 0" in result.stdout


# -- 3. credential headers redacted wherever headers are shown ------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "redacted"),
    [
        ("Authorization", BEARER, True),
        ("proxy-authorization", "Basic dXNlcjpwYXNz", True),
        ("Cookie", COOKIE, True),
        ("Set-Cookie", COOKIE, True),
        ("X-API-KEY", "k" * 20, True),
        ("x_api_key", "k" * 20, True),
        ("secureCode", "s" * 20, True),
        ("X-Echo", SECURE_CODE, True),  # one of the profile's secrets, by value
        ("X-Request-Id", "r-42", False),
        ("clientId", "FintechA", False),  # whose account: shown in the user's own trace
    ],
)
def test_shown_value_redacts_by_name_or_by_secret(name: str, value: str, redacted: bool) -> None:
    shown = shown_value(name, value, (SECURE_CODE,))
    assert (shown != value) is redacted
    if redacted:
        assert shown.startswith("****") and value not in shown


def test_one_list_of_credential_names() -> None:
    assert SECRET_NAMES < CREDENTIAL_NAMES
    assert {"authorization", "proxyauthorization", "cookie", "setcookie"} <= SECRET_NAMES
    assert {"clientid", "xconsumercustomid"} == CREDENTIAL_NAMES - SECRET_NAMES


def test_the_curl_and_the_write_preview_redact_credential_headers() -> None:
    headers = {"Authorization": BEARER, "Cookie": COOKIE, "X-Echo": SECURE_CODE, "X-Id": "r-42"}
    curl = curl_command("POST", "http://h/p", headers, {"token": "T"}, [SECURE_CODE])
    assert in_clear(curl) == [] and "-H 'X-Id: r-42'" in curl
    payload, _ = build_payload(None, raw_fields=("urn=389",), message_code=1280, read_file=str)
    the_call = Call(Route("PATCH", UPDATE, "headers", headers), payload, 1280, False)
    preview = request_preview(the_call, "http://h/p", "hard", (SECURE_CODE,))
    assert in_clear(preview) == [] and "Authorization: ****" in preview
    sent = Wire(unit_profile("http://h")).request(the_call.route, payload, "http://h")
    assert sent.headers["Authorization"] == BEARER  # redacted where shown, never on the wire


def test_the_dry_run_and_the_trace_redact_credential_headers(cli: Invoke, sandbox: Sandbox) -> None:
    echo = ("-H", f"X-Echo: {SECURE_CODE}")
    dry = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", *CREDENTIAL_HEADERS,
              *echo, "--dry-run")  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert "-H 'Authorization: ****" in dry.stdout and "-H 'Cookie: ****" in dry.stdout
    assert in_clear(dry.stdout, dry.stderr) == []
    as_json = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", *CREDENTIAL_HEADERS,
                  "--dry-run", "-o", "json")  # fmt: skip
    assert in_clear(as_json.stdout) == [] and "Authorization: ****" in as_json.stdout
    traced = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", *CREDENTIAL_HEADERS,
                 *echo, "-v")  # fmt: skip
    assert traced.exit_code == 0, traced.stderr
    assert "> Authorization: ****" in traced.stderr and "> Cookie: ****" in traced.stderr
    assert "> X-Echo: ****" in traced.stderr
    assert in_clear(traced.stdout, traced.stderr) == []


# -- 4. `call -` takes a paste at a terminal ------------------------------------------------------


def test_call_dash_on_a_terminal_reads_a_paste_until_ctrl_d(sandbox: Sandbox) -> None:
    args = ["call", LOOKUP, "-", "--message-code", "1930", "--jq", ".cardList[0].urn"]
    code, out, err = run_on_terminal(args, "Ctrl-D", '{"urn": "389"}\n\x04')
    assert code == 0, err
    assert "paste the JSON payload, then press Enter and Ctrl-D" in err
    assert out == "389\n"
    assert [r.api for r in sandbox.requests] == ["lookup"]


# -- 5. the examples' write is made to a customer no other example uses ---------------------------


def test_calls_write_example_uses_a_customer_of_its_own(wibmo: Invoke) -> None:
    examples = [e.text for e in all_examples()]
    (write,) = [t for t in examples if t.startswith("wibmo call") and "--yes" in t]
    assert "-F cardProfileId=150" in write and "-f urn=1000179203" in write
    helped = " ".join(wibmo("call", "--help").stdout.replace("\\", " ").split())
    assert write in helped  # call --help's example 4 is the README's
    others = [t for t in examples if t != write]
    for who in ("1000179203", "6981160888", "IN0000000036"):  # its URN, mobile, customer id
        assert not [t for t in others if who in t]


# -- the attack review: what a call may not do ----------------------------------------------------


def test_the_update_path_is_a_write_whatever_its_message_code(
    cli: Invoke, sandbox: Sandbox
) -> None:
    """A read's code (1930) sent to the profile's Update Profile path is still a write:
    asked, audited, sent once (it used to go out unasked, retried, unaudited)."""
    result = cli("call", UPDATE, "--message-code", "1930", "-f", "urn=389", "-f", "x=1")
    assert result.exit_code == 2 and "cannot ask for confirmation" in result.stderr
    assert [r for r in sandbox.requests if r.api == "update"] == []


@pytest.mark.parametrize(
    "path",
    [
        "../../etc",
        "/api/../x",
        "/api/%2e%2E/x",
        "/api/./x",
        "/api/x#frag",
        "/x\\..\\y",
        "/a/%252e%252e/x",
        "/x%00y",
    ],
)
def test_a_path_that_leaves_the_base_url_is_refused(cli: Invoke, path: str) -> None:
    result = cli("call", path, "--message-code", "1930", "-f", "urn=1", "--dry-run")
    assert result.exit_code == 2 and "without . or .. segments" in result.stderr


def test_a_key_nested_too_deep_is_bad_input_not_a_crash(cli: Invoke) -> None:
    key = "a" + "[x]" * 990
    result = cli("call", "/x", "--message-code", "1080", "-f", f"{key}=1", "--dry-run")
    assert result.exit_code == 2 and "nested deeper than 32 levels" in result.stderr


def test_stdin_by_its_path_is_read_once_like_at_dash() -> None:
    """`-F a=@/dev/stdin -F b=@/dev/stdin`: the second used to be silently empty."""
    args = ("call", "/x", "--message-code", "1080", "-p", "demo", "--dry-run")
    fields = ("-F", "a=@/dev/stdin", "-F", "b=@/dev/stdin")
    result = run_text(*args, *fields, input="SECRET-ISH\n")
    assert result.returncode == 2, result.stderr
    assert "stdin is already read" in result.stderr


@pytest.mark.parametrize(
    "spelling",
    [
        "?x=1",
        ";x=1",
        "/",
        "%2F",
        "%3B",
        "%252F",
    ],
)
def test_the_update_path_however_spelled_is_a_write(
    cli: Invoke, sandbox: Sandbox, spelling: str
) -> None:
    """A query, ;params, a trailing slash or an escape does not make the Update Profile
    path another API: still guarded (an attack review sent such writes unasked, thrice)."""
    result = cli("call", UPDATE + spelling, "--message-code", "1930", "-f", "urn=389")
    assert result.exit_code == 2 and "cannot ask for confirmation" in result.stderr
    assert [r for r in sandbox.requests if r.api == "update"] == []


@pytest.mark.parametrize("path", [UPDATE.upper(), UPDATE.replace("/api/", "//api/")])
def test_case_and_doubled_slashes_name_the_same_api(path: str) -> None:
    from wibmo_cli.callapi import api_at

    assert api_at(path, {"lookup_path": LOOKUP, "update_path": UPDATE + "/"}) == "update"


def test_a_payload_nested_deep_is_no_crash(cli: Invoke, tmp_path: Path) -> None:
    """A JSON file nested 900 deep (the reader takes it): shown, traced, never exit 70
    (the redaction of secrets used to recurse)."""
    deep = tmp_path / "deep.json"
    deep.write_text('{"a":' * 900 + "1" + "}" * 900, encoding="utf-8")
    result = cli("call", "/x", "--message-code", "1080", "-p", "demo", str(deep), "--dry-run")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    "name",
    ["newPassword", "mpin", "cardPin", "otpValue", "cvv2", "apiSecret", "X-Auth-Token",
     "X-CSRF-Token", "client_secret", "privateKey", "sessionId", "encryptionKey", "api.key"],
)  # fmt: skip
def test_one_list_knows_a_sessions_secrets_by_their_names(name: str) -> None:
    from wibmo_cli import har_clean
    from wibmo_cli.masking import is_secret_name

    assert is_secret_name(name) and har_clean.is_credential(name)


@pytest.mark.parametrize("name", ["pinCode", "tokenType", "option", "keyType", "urn"])
def test_ordinary_names_are_no_secrets(name: str) -> None:
    from wibmo_cli.masking import is_secret_name

    assert not is_secret_name(name)


def test_secrets_typed_under_any_secret_name_are_shown_redacted(cli: Invoke) -> None:
    typed = ("-f", "clientSecret=CS-SEKRET-H", "-f", "newPassword=PW-SEKRET-I")
    headers = ("-H", "X-Auth-Token: HDR-SEKRET-L", "-H", "X-CSRF-Token: HDR-SEKRET-N")
    result = cli(
        "call", "/x", "--message-code", "1280", "-p", "demo", *typed, *headers, "--dry-run"
    )
    assert result.exit_code == 0, result.stderr
    assert "SEKRET" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["Api-Key", "x_api_key", "secure-code", "Secure_Code"])
def test_the_profiles_secrets_in_any_spelling_never_come_from_the_command_line(
    cli: Invoke, name: str
) -> None:
    result = cli("call", "/x", "--message-code", "1930", "-H", f"{name}: v", "--dry-run")
    assert result.exit_code == 2 and "secrets come from the profile" in result.stderr


def test_a_payload_file_that_is_stdin_is_read_once() -> None:
    args = ("call", "/x", "--message-code", "1930", "-p", "demo", "/dev/stdin", "-F", "y=@-")
    result = run_text(*args, "--dry-run", input='{"urn": "1"}\n')
    assert result.returncode == 2 and "stdin is already read" in result.stderr, result.stderr

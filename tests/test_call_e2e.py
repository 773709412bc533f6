"""`wibmo call` end to end: the CLI in-process (`wibmo`) against the sandbox served for real
on loopback, profile `hard` pointing at it. `sandbox.requests` is the sandbox's own record
of what reached it; the audit log is read back from the data dir.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from support import (
    LOOKUP,
    PROFILE,
    SECRET_FORMS,
    UPDATE,
    Invoke,
    StartSandbox,
    audit_entries,
    codec,
    no_traceback,
    run_on_terminal,
    served,
    signal_and_wait,
    spawn,
    wait_for,
    write_profiles,
)

from wibmo_cli.sandbox import Faults, RequestRecord, Sandbox

pytestmark = pytest.mark.e2e

SECRETS = tuple(SECRET_FORMS.values())
V3_LOOKUP = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
UPDATE_ARGS = ("-f", "urn=389", "-F", "cardProfileId=150")


@pytest.fixture
def sandbox(start_sandbox: StartSandbox) -> Sandbox:
    """A sandbox whose hangs last 2 s, and the `hard` profile pointing at it."""
    return start_sandbox(profile={}, faults=Faults(hang_seconds=2))


def api(sandbox: Sandbox, kind: str) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.api == kind]


def no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def call_entries() -> list[dict[str, Any]]:
    try:
        return [e for e in audit_entries() if e.get("command") == "call"]
    except FileNotFoundError:
        return []


def city_of(wibmo: Invoke) -> str:
    found = wibmo("lookup", "--urn", "389", "--jq", ".cardList[0].city")
    assert found.exit_code == 0, found.stderr
    return str(found.stdout.strip())


# -- reads ---------------------------------------------------------------------------------------


def test_a_read_at_the_lookup_path_shows_the_answer(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "-v")
    assert result.exit_code == 0, result.stderr
    assert "1930 Retrieve Cust Record" in result.stdout
    assert "responseCode 00" in result.stdout and "URN" in result.stdout
    lookups = api(sandbox, "lookup")
    assert len(lookups) == 1 and lookups[0].response_code == "00"
    assert call_entries() == []  # a read is not audited
    no_secrets(result.stdout, result.stderr)


def test_a_read_as_json_is_the_decrypted_answer(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("call", LOOKUP, "--message-code", "1930", "-F", "urn=389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["responseCode"] == "00" and answer["messageCode"] == 1931
    assert answer["cardList"][0]["urn"] == 389
    assert answer["clientTxnId"] == api(sandbox, "lookup")[0].client_txn_id


def test_jq_and_fields_filter_the_answer(cli: Invoke, sandbox: Sandbox) -> None:
    jq = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "--jq", ".cardList[].urn")
    assert (jq.exit_code, jq.stdout) == (0, "389\n")
    raw = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "--jq", ".responseCode")
    assert raw.stdout == "00\n"  # strings print raw
    fields = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "--fields", "bankId")
    assert json.loads(fields.stdout) == {"bankId": 2010}


def test_a_read_is_retried_like_a_lookup(cli: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url, retries=1)
    sandbox.settings.faults.queue = ["503"]
    result = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    lookups = api(sandbox, "lookup")
    assert [(r.status, r.fault) for r in lookups] == [(503, "503"), (200, None)]


def test_a_read_retried_keeps_a_clienttxnid_the_user_gave(cli: Invoke, sandbox: Sandbox) -> None:
    """The user chose the id (to find the call in the platform's logs): every attempt
    carries it, as sent; it used to be replaced on the retries."""
    write_profiles(sandbox.url, retries=1)
    sandbox.settings.faults.queue = ["503"]
    args = ("--message-code", "1930", "-f", "urn=389", "-f", "clientTxnId=MYOWNID123")
    result = cli("call", LOOKUP, *args, "-o", "json")
    lookups = api(sandbox, "lookup")  # (the 503 is answered before the token is read)
    assert len(lookups) == 2 and lookups[-1].client_txn_id == "MYOWNID123"
    assert result.exit_code in (0, 1), result.stderr


def test_another_response_code_exits_1_explained(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("call", LOOKUP, "--message-code", "1930", "-f", "urn=999999")
    assert result.exit_code == 1
    assert "1303" in result.stdout and "(sent)" in result.stdout


def test_an_unknown_message_code_at_a_known_path(cli: Invoke, sandbox: Sandbox) -> None:
    """The seed sandbox answers the retrieve document's 1055; strict variants 1056."""
    result = cli(
        "call", LOOKUP, "--message-code", "1111", "-f", "urn=389", "--read-only", "-o", "json"
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["responseCode"] == "1055"
    assert call_entries() == []  # --read-only: not audited


def test_an_unknown_path_is_the_gateway_s_404(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("call", "/api/v2/no/such/api", "--message-code", "1930", "-f", "urn=389")
    assert result.exit_code == 6
    assert "HTTP 404" in result.stderr and "check PATH" in result.stderr
    assert result.stderr.count("error:") == 1
    assert [r.api for r in sandbox.requests] == ["other"]


def test_credentials_follow_the_path_s_api_or_the_option(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    from wibmo_cli.sandbox.variants import V3

    sandbox = start_sandbox(
        profile={"lookup_path": V3_LOOKUP, "lookup_credentials": "body"},
        variant=V3,
        consumer_custom_id="QA-1",
    )
    write_profiles(
        sandbox.url,
        lookup_path=V3_LOOKUP,
        lookup_credentials="body",
        consumer_custom_id="QA-1",
    )
    ok = cli("call", V3_LOOKUP, "--message-code", "1930", "-f", "urn=389", "--jq", ".responseCode")
    assert (ok.exit_code, ok.stdout) == (0, "00\n"), ok.stderr
    args = ("call", V3_LOOKUP, "--message-code", "1930", "-f", "urn=389")
    moved = cli(*args, "--credentials", "headers", "--jq", ".responseCode")
    assert (moved.exit_code, moved.stdout) == (1, "1262\n")  # clientId not in the body


def test_extra_headers_are_sent(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli(
        "call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "-H", "X-Request-Id: r-42", "-v"
    )
    assert result.exit_code == 0, result.stderr
    assert "> X-Request-Id: r-42" in result.stderr


# -- writes --------------------------------------------------------------------------------------


def test_a_write_is_sent_once_audited_and_applied(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli(
        "call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "-f", "cardholderCity=Pune", "--yes"
    )
    assert result.exit_code == 0, result.stderr
    assert "1280 Update Profile" in result.stdout and "responseCode 00" in result.stdout
    updates = api(sandbox, "update")
    assert len(updates) == 1 and updates[0].method == "PATCH"
    entries = call_entries()
    assert [e["result"] for e in entries] == ["sending", "answered"]
    assert entries[0]["clientTxnId"] == updates[0].client_txn_id
    assert entries[0]["messageCode"] == 1280 and entries[0]["path"] == UPDATE
    assert entries[1]["responseCode"] == "00"
    assert "Pune" not in json.dumps(entries)  # keys only, never a value
    no_secrets(json.dumps(entries), result.stdout, result.stderr)
    assert city_of(cli) == "Pune"


@pytest.mark.parametrize(
    "fault", [pytest.param("hang", marks=pytest.mark.slow), "503", "drop", "garbage"]
)
def test_a_write_whose_outcome_is_unknown_is_never_resent(
    wibmo: Invoke, sandbox: Sandbox, fault: str
) -> None:
    write_profiles(sandbox.url, timeout=1, retries=2)  # a read would be tried again
    sandbox.settings.faults.queue = [fault]
    result = wibmo("call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "--yes")
    assert result.exit_code == 5, result.stderr
    updates = api(sandbox, "update")
    assert len(updates) == 1 and updates[0].fault == fault  # never resent
    entries = call_entries()
    txn = entries[0]["clientTxnId"]
    assert [e["result"] for e in entries] == ["sending", "outcome unknown"]
    assert "the request may or may not have been applied" in result.stderr
    assert f"clientTxnId {txn}" in result.stderr and "before sending it again" in result.stderr
    assert result.stderr.count("error:") == 1


def test_an_unknown_message_code_is_a_write(wibmo: Invoke, sandbox: Sandbox) -> None:
    refused = wibmo("call", "/api/v2/card/block", "--message-code", "4242", "-f", "urn=389")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert sandbox.requests == []
    sent = wibmo("call", "/api/v2/card/block", "--message-code", "4242", "-f", "urn=389", "--yes")
    assert sent.exit_code == 6  # the sandbox has no such API
    assert [e["result"] for e in call_entries()] == ["sending", "HTTP 404"]
    assert len(sandbox.requests) == 1


@pytest.mark.slow  # a process signalled mid-flight (~1 s)
def test_ctrl_c_on_a_write_in_flight_says_it_may_have_been_applied(db_path: Path) -> None:
    args = ("call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "--yes")
    with served(db_path, profile={"timeout": 30}, queue=["hang"], hang_seconds=20):
        process = spawn(*args)
        try:
            wait_for(lambda: [e["result"] for e in call_entries()] == ["sending"], what="sending")
            time.sleep(0.3)  # the request is on the wire, held by the sandbox
        finally:
            _, err_bytes = signal_and_wait(process, signal.SIGINT, timeout=10)
    err = err_bytes.decode()
    assert process.returncode == 130, err
    assert no_traceback(err_bytes), err
    entries = call_entries()
    txn = entries[0]["clientTxnId"]
    assert [e["result"] for e in entries] == ["sending", "interrupted: outcome unknown"]
    assert "interrupted after sending" in err and f"clientTxnId {txn}" in err


def test_a_write_that_cannot_connect_was_not_sent(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles("http://127.0.0.1:9", retries=0)
    result = wibmo("call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "--yes")
    assert result.exit_code == 5
    assert "nothing was sent" in result.stderr
    assert [e["result"] for e in call_entries()] == ["sending", "not sent"]


def test_an_audit_log_that_cannot_be_written_stops_a_write(
    wibmo: Invoke, sandbox: Sandbox, tmp_path: Path
) -> None:
    blocked = tmp_path / "dir-not-file"
    blocked.mkdir()
    args = ("call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "--yes")
    result = wibmo(*args, "--audit-log", str(blocked))
    assert result.exit_code == 3
    assert "nothing was sent" in result.stderr
    assert sandbox.requests == []


# -- the production guard ------------------------------------------------------------------------


def test_production_needs_production_ok_with_yes(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url, production=True)
    args = ("call", UPDATE, "--message-code", "1280", *UPDATE_ARGS)
    refused = wibmo(*args, "--yes")
    assert refused.exit_code == 2
    assert "--production-ok" in refused.stderr and "is production" in refused.stderr
    assert sandbox.requests == []
    dry = wibmo(*args, "--dry-run")
    assert dry.exit_code == 0 and sandbox.requests == []
    read = wibmo("call", LOOKUP, "--message-code", "1930", "-f", "urn=389")
    assert read.exit_code == 0, read.stderr  # a read is not guarded
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
    args = ["call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "-f", "city=X", "--yes"]
    code, _, err = run_on_terminal(args, "Type its name to send", typed + "\n")
    assert code == (0 if sent else 2), err
    assert '"city": "X"' in err  # the request was shown before the question
    assert len(api(sandbox, "update")) == (1 if sent else 0)


def test_a_declined_write_sends_nothing(sandbox: Sandbox) -> None:
    args = ["call", UPDATE, "--message-code", "1280", *UPDATE_ARGS]
    code, _, err = run_on_terminal(args, "Send this request?", "n\n")
    assert code == 2 and "not sent: not confirmed" in err
    assert api(sandbox, "update") == []
    assert call_entries() == []


# -- dry run -------------------------------------------------------------------------------------


def test_a_dry_run_shows_payload_token_and_curl_and_sends_nothing(
    cli: Invoke, sandbox: Sandbox
) -> None:
    result = cli(
        "call", UPDATE, "--message-code", "1280", *UPDATE_ARGS, "-f", "n=5", "-F", "m=5",
        "-F", "flag=true", "-f", "doc[docNumber]=ABCPE1234F", "--dry-run", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    payload = shown["payload"]
    assert (payload["n"], payload["m"], payload["flag"]) == ("5", 5, True)
    assert payload["cardProfileId"] == 150 and payload["urn"] == "389"
    assert payload["doc"]["docNumber"].endswith("234F") and "ABCPE" not in result.stdout
    decrypted = codec().decrypt_json(shown["token"])
    assert decrypted["doc"]["docNumber"] == "ABCPE1234F"  # the token holds it whole
    assert decrypted["clientTxnId"] == payload["clientTxnId"]
    assert shown["method"] == "PATCH" and "-X PATCH" in shown["curl"]
    assert sandbox.requests == []
    entries = call_entries()
    assert [(e["action"], e["result"]) for e in entries] == [("dry-run", "not sent (dry run)")]
    no_secrets(result.stdout, result.stderr, json.dumps(entries))


def test_a_dry_run_of_a_read_as_text(cli: Invoke, sandbox: Sandbox) -> None:
    result = cli("call", LOOKUP, '{"urn": "389"}', "--message-code", "1930", "--dry-run")
    assert result.exit_code == 0
    assert "# Payload" in result.stdout and "# Equivalent curl" in result.stdout
    assert "-X POST" in result.stdout and LOOKUP in result.stdout
    assert sandbox.requests == []
    no_secrets(result.stdout, result.stderr)


# -- the payload from JSON, a file, stdin --------------------------------------------------------


def test_the_payload_from_a_file_and_stdin_with_fields_over_it(
    cli: Invoke, sandbox: Sandbox
) -> None:
    Path("payload.json").write_text('{"messageCode": 1930, "urn": "1"}', encoding="utf-8")
    from_file = cli("call", LOOKUP, "payload.json", "-f", "urn=389", "--jq", ".responseCode")
    assert (from_file.exit_code, from_file.stdout) == (0, "00\n"), from_file.stderr
    piped = cli(
        "call", LOOKUP, "-", "--jq", ".responseCode", input='{"messageCode":1930,"urn":389}'
    )
    assert (piped.exit_code, piped.stdout) == (0, "00\n"), piped.stderr
    Path("urn.txt").write_text("389\n", encoding="utf-8")
    at_file = cli("call", LOOKUP, "--message-code", "1930", "-F", "urn=@urn.txt", "--jq", ".urn")
    assert at_file.exit_code == 0, at_file.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "fragment"),
    [
        (("{not json",), None, "not valid JSON"),
        (("[1, 2]",), None, "not an object"),
        (("missing.json",), None, "no such file: missing.json"),
        (("-f", "urn"), None, "give KEY=VALUE"),
        (("-F", "a=@nowhere.txt"), None, "cannot read it"),
        (("-", "-F", "a=@-"), "{}", "stdin is already read"),
        (("--message-code", "1280", '{"messageCode": 1930}'), None, "give one"),
        (("-X", "DELETE"), None, "give POST or PATCH"),
        (("-H", "secureCode: x"), None, "secrets come from the profile"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    wibmo: Invoke, sandbox: Sandbox, args: tuple[str, ...], stdin: str | None, fragment: str
) -> None:
    full = ["call", LOOKUP, *args]
    if "--message-code" not in args:
        full += ["--message-code", "1930"]
    result = wibmo(*full, input=stdin)
    assert result.exit_code == 2, result.stderr
    assert fragment in result.stderr
    assert result.stderr.count("error:") == 1 and "Traceback" not in result.stderr
    assert sandbox.requests == []
    assert call_entries() == []


def test_a_whole_url_is_refused(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("call", f"{sandbox.url}{LOOKUP}", "--message-code", "1930", "-f", "urn=389")
    assert result.exit_code == 2 and "give the path only" in result.stderr
    assert sandbox.requests == []


def test_a_call_whose_jq_fails_keeps_the_answers_exit_status(cli: Invoke, sandbox: Sandbox) -> None:
    """`call` may be a write: a --jq failure on its answer must not turn its outcome into
    exit 2 (the filter is said on stderr, the status is the answer's)."""
    result = cli(
        "call", LOOKUP, "--message-code", "1930", "-f", "urn=389", "--jq", ".responseCode + 1"
    )
    assert result.exit_code == 0, result.stderr
    assert "--jq" in result.stderr and "the exit status is the answer's (0)" in result.stderr
    assert len(api(sandbox, "lookup")) == 1

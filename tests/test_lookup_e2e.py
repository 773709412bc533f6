"""`wibmo lookup` end to end: the CLI against the sandbox served for real on loopback.

The sandbox runs in a thread (`Sandbox`) or as `python -m wibmo_cli sandbox` in a
subprocess; the CLI runs in-process through the `wibmo` fixture, reading a
profiles.toml in the test's working directory whose secrets come from `${VAR}`s.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import support
from support import API_KEY, PROFILE, SECRET_FORMS, Invoke, StartSandbox
from typer.testing import Result

from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.sandbox import (
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
    SAMPLE_MOBILE,
    SAMPLE_URN,
    Faults,
    Sandbox,
)

pytestmark = pytest.mark.e2e

SECRETS = tuple(SECRET_FORMS.values())
WHOLE_DOCS = ("ABC0123456", "1234 5678 6015", "YCV0123456", "ABCDE1234A", "DL60 20211234567")
MASKED_DOCS = ("******3456", "**** **** 6015", "******234A", "**** *******4567")


def write_profiles(url: str, **override: Any) -> Path:
    """The `hard` profile at `url`, retrying once unless `override` says otherwise."""
    return support.write_profiles(url, **{"retries": 1, **override})


def api_requests(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.api == "lookup"]


def no_secrets(result: Result) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout, secret
        assert secret not in result.stderr, secret


def sample_found(result: Result) -> None:
    """The table for the document's sample customer, masked."""
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "ABC LastName" in out
    assert "₹1,000.00" in out
    assert "179947 XXXXXX 4216" in out
    assert "Full KYC / Full CDD · 150" in out
    assert "responseCode 00 SUCCESS" in out
    for masked in MASKED_DOCS:
        assert masked in out, masked
    for whole in WHOLE_DOCS:
        assert whole not in out, whole
    no_secrets(result)


# -- found, four ways ------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        ("--mobile", SAMPLE_MOBILE),
        ("--mobile", "+91 98971-23456"),
        ("--urn", str(SAMPLE_URN)),
        ("--customer-id", SAMPLE_CUSTOMER_ID),
        ("--email", "abc@xyz.com"),
    ],
    ids=["mobile", "mobile-spaced", "urn", "customer-id", "email"],
)
def test_found(wibmo: Invoke, start_sandbox: StartSandbox, how: tuple[str, str]) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", *how)
    sample_found(result)
    records = api_requests(sandbox)
    assert len(records) == 1
    assert records[0].status == 200
    assert records[0].response_code == "00"
    assert records[0].client_txn_id is not None
    assert records[0].client_txn_id in result.stdout  # the footer names it


def test_json_output_is_exactly_one_masked_object(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("\n")
    assert result.stdout.count("\n") == 1  # one line: stdout is not a terminal
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    assert answer["responseCode"] == "00"
    assert answer["messageCode"] == 1931
    assert answer["clientTxnId"] == api_requests(sandbox)[0].client_txn_id
    card = answer["cardList"][0]
    assert card["availableBalance"] == 100000  # as the platform sent it: paise
    assert card["urn"] == 389
    numbers = [doc["docNumber"] for doc in card["docList"]]
    assert numbers == [
        "******3456",
        "**** **** 6015",
        "******3456",
        "******234A",
        "**** *******4567",
    ]
    no_secrets(result)


def test_reveal_shows_whole_numbers_and_is_audited(
    wibmo: Invoke, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    audit = tmp_path / "data" / "audit.jsonl"
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        plain = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
        assert plain.exit_code == 0
        assert not audit.exists()  # a masked lookup is not audited
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "--reveal")
        as_json = wibmo("lookup", "--urn", "389", "--reveal", "-o", "json")
    assert result.exit_code == 0, result.stderr
    for whole in WHOLE_DOCS:
        assert whole in result.stdout, whole
    assert as_json.exit_code == 0
    docs = json.loads(as_json.stdout)["cardList"][0]["docList"]
    assert docs[3] == {"docNumber": "ABCDE1234A", "docType": "Pancard"}

    entries = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 2
    first = entries[0]
    assert first["command"] == "lookup"
    assert first["action"] == "reveal"
    assert first["profile"] == PROFILE
    assert first["responseCode"] == "00"
    assert first["clientTxnId"] == api_requests(sandbox)[1].client_txn_id
    assert isinstance(first["accosaTransactionId"], int)
    assert first["identifiers"] == "mobile ********3456"
    assert entries[1]["identifiers"] == "urn ***"  # 4 characters or fewer: none shown
    text = audit.read_text(encoding="utf-8")
    assert "9897123456" not in text
    for whole in WHOLE_DOCS:
        assert whole not in text
    for secret in SECRETS:
        assert secret not in text
    assert audit.stat().st_mode & 0o077 == 0


# -- the platform says no ----------------------------------------------------------------


def test_not_found_exits_1_with_the_explanation(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", "6000000001")
        as_json = wibmo("lookup", "--mobile", "6000000001", "-o", "json")
    assert result.exit_code == 1
    out = result.stdout
    assert "The platform answered with an error" in out
    assert "1303" in out
    assert "CUSTOMER_DETAILS_NOT_PRESENT" in out
    assert "No customer matches the identifier sent" in out
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["responseCode"] == "1303"
    assert [r.response_code for r in api_requests(sandbox)] == ["1303", "1303"]


def test_a_mobile_on_two_customers_exits_1_with_1237(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", DUPLICATE_MOBILE)
    assert result.exit_code == 1
    assert "1237" in result.stdout


@pytest.mark.parametrize("credentials", ["headers", "body"])
@pytest.mark.parametrize("custom_id", ["", "CONSUMER-42"])
def test_both_credential_placements(
    wibmo: Invoke, start_sandbox: StartSandbox, credentials: str, custom_id: str
) -> None:
    with start_sandbox(consumer_custom_id=custom_id) as sandbox:
        write_profiles(sandbox.url, credentials=credentials, consumer_custom_id=custom_id)
        result = wibmo("lookup", "--urn", "389")
    sample_found(result)


def test_the_v3_path_with_credentials_in_the_body(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    v3 = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
    with start_sandbox(consumer_custom_id="CONSUMER-42") as sandbox:
        write_profiles(
            sandbox.url, lookup_path=v3, credentials="body", consumer_custom_id="CONSUMER-42"
        )
        result = wibmo("lookup", "--email", "ABC@xyz.com")
    sample_found(result)
    assert [r.path for r in api_requests(sandbox)] == [v3]


def test_a_path_the_gateway_does_not_route_exits_6(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url, lookup_path="/api/v9/nowhere")
        result = wibmo("lookup", "--urn", "389")
    assert result.exit_code == 6
    assert "HTTP 404" in result.stderr
    assert "no Route matched" in result.stderr


def test_a_missing_consumer_custom_id_is_1310(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(consumer_custom_id="CONSUMER-42") as sandbox:
        write_profiles(sandbox.url, credentials="body")
        result = wibmo("lookup", "--urn", "389")
    assert result.exit_code == 1
    assert "1310" in result.stdout


@pytest.mark.parametrize(
    "iv", ["zero", "key", "prepend", "ecb", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"]
)
def test_each_iv_scheme(wibmo: Invoke, start_sandbox: StartSandbox, iv: str) -> None:
    with start_sandbox(iv=iv) as sandbox:
        write_profiles(sandbox.url, iv=iv)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    sample_found(result)


def test_an_iv_scheme_other_than_the_platforms_exits_4(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox(iv="key") as sandbox:
        write_profiles(sandbox.url, iv="zero")
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 4
    assert "could not be decrypted" in result.stderr
    assert result.stdout == ""
    # the platform could not read the request either: it answered 1055
    assert [r.response_code for r in api_requests(sandbox)] == ["1055"]


def test_a_bad_api_key_exits_6(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_API_KEY", "not-the-api-key-000")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 6
    assert "HTTP 401" in result.stderr
    assert "Invalid authentication credentials" in result.stderr
    assert "x-api-key" in result.stderr
    assert "not-the-api-key-000" not in result.stderr
    assert result.stdout == ""
    assert [r.status for r in api_requests(sandbox)] == [401]  # not retried


def test_a_bad_secure_code_exits_1_with_1311(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_SECURE_CODE", "WRONG-SECURE-CODE")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 1
    assert "1311" in result.stdout
    assert "SECURE_CODE_NOT_PRESENT_IN_REQUEST" in result.stdout
    assert "WRONG-SECURE-CODE" not in result.stdout + result.stderr


def test_a_bad_client_id_exits_1_with_1262(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url, client_id="FintechB")
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 1
    assert "1262" in result.stdout
    assert "CLIENT_ID_NOT_PRESENT_IN_THE_REQUEST" in result.stdout


# -- faults --------------------------------------------------------------------------------


def test_a_503_page_every_time_exits_6_after_the_retries(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox(faults=Faults(fail_rate=1.0)) as sandbox:
        write_profiles(sandbox.url, retries=1)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-v")
    assert result.exit_code == 6
    assert "HTTP 503" in result.stderr
    assert "an HTML page (503 Service Unavailable)" in result.stderr
    assert "* retrying in" in result.stderr
    records = api_requests(sandbox)
    assert [(r.status, r.fault) for r in records] == [(503, "503"), (503, "503")]


def test_a_502_then_an_answer(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(faults=Faults(queue=["502", "ok"])) as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [r.status for r in api_requests(sandbox)] == [502, 200]
    assert json.loads(result.stdout)["responseCode"] == "00"


def test_queue_503_then_ok_succeeds_with_two_requests(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox(faults=Faults(queue=["503", "ok"])) as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    sample_found(result)
    records = api_requests(sandbox)
    assert len(records) == 2
    assert (records[0].status, records[0].fault) == (503, "503")
    assert (records[1].status, records[1].response_code) == (200, "00")


def test_a_dropped_connection_is_retried(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(faults=Faults(queue=["drop", "ok"])) as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    sample_found(result)
    assert [r.fault for r in api_requests(sandbox)] == ["drop", None]


def test_a_hang_times_out_with_exit_5(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(faults=Faults(hang_rate=1.0, hang_seconds=2.0)) as sandbox:
        write_profiles(sandbox.url, timeout=0.5)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 5
    host = sandbox.url.removeprefix("http://")
    assert f"no answer from {host} within 0.5s (timeout)" in result.stderr
    assert result.stdout == ""
    assert [r.fault for r in api_requests(sandbox)] == ["hang"]


def test_a_garbage_answer_exits_4(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(faults=Faults(queue=["garbage"])) as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 4
    assert "the answer (HTTP 200) could not be decrypted" in result.stderr
    assert "not a whole number of 16-byte AES blocks" in result.stderr
    assert result.stdout == ""


def test_connection_refused_exits_5(wibmo: Invoke) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    write_profiles(f"http://127.0.0.1:{port}", retries=0)
    result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 5
    assert f"connection refused by 127.0.0.1:{port}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--mobile", "12345", "--mobile '12345': must be a 10-digit Indian mobile"),
        ("--mobile", "+1 415 555 2671", "--mobile '+1 415 555 2671'"),
        ("--email", "abc@", "--email 'abc@'"),
        ("--urn", "38x", "--urn '38x'"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    wibmo: Invoke, start_sandbox: StartSandbox, option: str, value: str, message: str
) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", option, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert sandbox.requests == []


def test_no_identifier_exits_2(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup")
    assert result.exit_code == 2
    assert "--mobile, --urn, --customer-id or --email" in result.stderr
    assert sandbox.requests == []


def test_a_missing_secret_exits_3_naming_the_variable(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARD_SECURE_CODE")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 3
    assert "secure_code" in result.stderr
    assert "${HARD_SECURE_CODE}" in result.stderr
    assert sandbox.requests == []


def test_plain_http_off_loopback_exits_3_and_sends_nothing(wibmo: Invoke) -> None:
    write_profiles("http://pp-sandbox.example")
    result = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
    assert result.exit_code == 3
    assert "plain http:// to pp-sandbox.example is refused" in result.stderr


# -- shapes and traces -------------------------------------------------------------------


def test_flat_shape_answers_render(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    with start_sandbox(shape="flat") as sandbox:
        write_profiles(sandbox.url)
        table = wibmo("lookup", "--mobile", SAMPLE_MOBILE)
        as_json = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-o", "json")
    sample_found(table)
    answer = json.loads(as_json.stdout)
    assert "cardList" not in answer
    assert answer["availBal"] == 100000
    assert answer["docList"][3]["docNumber"] == "******234A"


@pytest.mark.parametrize("credentials", ["headers", "body"])
def test_verbose_traces_on_stderr_without_secrets(
    wibmo: Invoke, start_sandbox: StartSandbox, credentials: str
) -> None:
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url, credentials=credentials)
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-v")
    sample_found(result)
    err = result.stderr
    assert f"> POST {sandbox.url}/api/v2/customer/retrieveCustRecord" in err
    assert "> x-api-key: ****" + API_KEY[-4:] in err
    assert '"customerMobile": "919897123456"' in err  # the request, decrypted
    assert "< HTTP 200 OK" in err
    assert "< decrypted: " in err
    assert "******234A" in err
    for whole in WHOLE_DOCS:
        assert whole not in err
    assert "> POST" not in result.stdout  # the trace is not on stdout
    assert "< HTTP" not in result.stdout
    no_secrets(result)


# -- the built-in demo profile -------------------------------------------------------------


def test_the_demo_profile_works_with_no_profiles_file(wibmo: Invoke, tmp_path: Path) -> None:
    assert DEMO_PROFILE["base_url"] == "embedded"
    assert not (Path.cwd() / "profiles.toml").exists()
    result = wibmo("lookup", "--mobile", "9897123456")
    assert result.exit_code == 0, result.stderr
    assert "demo: embedded sandbox (demo data, nothing real)" in result.stderr
    assert "ABC LastName" in result.stdout
    assert "₹1,000.00" in result.stdout
    assert "******234A" in result.stdout
    assert (tmp_path / "data" / "sandbox.db").is_file()  # in the isolated data dir
    check = wibmo("profiles", "check", "--online")
    assert check.exit_code == 0, check.stdout + check.stderr
    assert "round trip OK" in check.stdout


# -- profiles check --online ---------------------------------------------------------------


def test_profiles_check_online_passes_for_a_good_profile(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox(iv="prepend") as sandbox:
        write_profiles(sandbox.url, iv="prepend")
        result = wibmo("profiles", "check", "--online")
        as_json = wibmo("profiles", "check", PROFILE, "--online", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "round trip OK" in result.stdout
    assert as_json.exit_code == 0
    report = json.loads(as_json.stdout)
    assert report["ok"] is True
    online = [c for c in report["checks"] if c["name"] == "online"]
    assert online[0]["status"] == "ok"
    assert "1303" in online[0]["detail"]
    assert 'iv = "prepend"' in online[0]["detail"]
    assert [r.response_code for r in api_requests(sandbox)] == ["1303", "1303"]
    no_secrets(result)


def _online_failure(wibmo: Invoke) -> dict[str, Any]:
    result = wibmo("profiles", "check", "--online", "-o", "json")
    assert result.exit_code == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    online = [c for c in report["checks"] if c["name"] == "online"]
    assert len(online) == 1
    assert online[0]["status"] == "fail"
    no_secrets(result)
    return dict(online[0])


def test_profiles_check_online_fails_for_a_wrong_key(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_KEY", bytes(range(24)).hex())
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        online = _online_failure(wibmo)
    assert "does not decrypt" in online["detail"]
    assert "wrong encryption_key or iv scheme" in online["detail"]


def test_profiles_check_online_fails_for_a_wrong_iv(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    with start_sandbox(iv="ecb") as sandbox:
        write_profiles(sandbox.url, iv="key")
        online = _online_failure(wibmo)
    assert "does not decrypt" in online["detail"]


def test_profiles_check_online_fails_for_a_wrong_api_key(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_API_KEY", "not-the-api-key-000")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        online = _online_failure(wibmo)
    assert "rejected the api_key" in online["detail"]
    assert "not-the-api-key-000" not in online["detail"]


def test_profiles_check_online_fails_for_a_wrong_secure_code(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_SECURE_CODE", "WRONG-SECURE-CODE")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        online = _online_failure(wibmo)
    assert "refused the credentials: 1311" in online["detail"]


# -- the sandbox as its own process ------------------------------------------------------


def _read_line(stream: Any, seconds: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout=seconds):
            return ""
    line: str = stream.readline()
    return line


def test_lookup_against_a_sandbox_subprocess(wibmo: Invoke, tmp_path: Path) -> None:
    # The sandbox command serves the chosen profile's credentials; the profile's
    # base_url is only filled in once the subprocess says where it listens.
    write_profiles("http://127.0.0.1:9")
    db = tmp_path / "subprocess.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wibmo_cli", "sandbox", "--port", "0", "--db", str(db)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        url = _read_line(proc.stdout, 20).strip()
        assert url.startswith("http://127.0.0.1:"), url or "no URL within 20s"
        write_profiles(url)
        found = wibmo("lookup", "--customer-id", SAMPLE_CUSTOMER_ID)
        missing = wibmo("lookup", "--email", "nobody@example.com", "-o", "json")
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    sample_found(found)
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["responseCode"] == "1303"
    assert proc.returncode == 0, err  # SIGTERM is a clean stop
    assert "listening on" in err
    assert "sandbox stopped" in err
    for secret in SECRETS:
        assert secret not in err
    assert db.is_file()

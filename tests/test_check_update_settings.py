"""`profiles check --online` proves the update settings with a probe that changes no one
(issue 11, item 2).

End to end against the sandbox on loopback for what today's sandbox does (path, method,
message code, api_key, X-Consumer-Custom-ID, a 503 that is never resent, production); the
answers it cannot give yet (1262 for credentials in the wrong place, 1056, a success) are
read by `update_check` through a `Client` on `httpx.MockTransport`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import SECRET_FORMS, Invoke, StartSandbox, query, unit_profile, write_profiles

from wibmo_cli.client import Client
from wibmo_cli.online_check import (
    PROBE_URN,
    UPDATE,
    lookup_check,
    update_check,
    update_probe,
)
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile
from wibmo_cli.sandbox import Faults, Sandbox

UPDATE_PATH = "/mob1/api/onboarding/v1/updateProfile"


def _report(wibmo: Invoke, *args: str, code: int) -> dict[str, Any]:
    result = wibmo("profiles", "check", "--online", "-o", "json", *args)
    assert result.exit_code == code, result.stdout + result.stderr
    for secret in SECRET_FORMS.values():
        assert secret not in result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _line(report: dict[str, Any], name: str = UPDATE) -> dict[str, Any]:
    lines = [c for c in report["checks"] if c["name"] == name]
    assert len(lines) == 1, report
    return dict(lines[0])


def _updates(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.api == "update" or r.path == UPDATE_PATH]


def _rows(db_path: Path) -> list[list[Any]]:
    """Every customer, card and document of the sandbox's database."""
    return [
        query(db_path, "SELECT * FROM customers ORDER BY rowid"),
        query(db_path, "SELECT * FROM cards ORDER BY rowid"),
        query(db_path, "SELECT * FROM documents ORDER BY rowid"),
    ]


# -- against the sandbox --------------------------------------------------------------------


@pytest.mark.e2e
def test_a_good_profile_proves_its_update_settings_and_changes_no_one(
    wibmo: Invoke, start_sandbox: StartSandbox, db_path: Path
) -> None:
    before = _rows(db_path)
    sandbox = start_sandbox(profile={})
    report = _report(wibmo, code=0)
    update = _line(report)
    assert update["status"] == "ok", update
    assert "1231" in update["detail"]
    assert 'proved update_path, update_method = "PATCH"' in update["detail"]
    assert 'update_credentials = "headers", update_message_code = 1280' in update["detail"]
    assert 'not proved: the field spellings (update_fields = "table")' in update["detail"]
    assert _line(report, "online")["status"] == "ok"  # the lookup round trip, as before
    sent = _updates(sandbox)
    assert [(r.method, r.response_code) for r in sent] == [("PATCH", "1231")]
    sandbox.stop()
    assert _rows(db_path) == before


@pytest.mark.e2e
def test_the_table_shows_one_line_for_the_lookup_and_one_for_the_update(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    result = wibmo("profiles", "check", "--online")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "online update" in out
    assert "lookup round trip OK" in out
    assert "Update Profile answered 1231" in out


@pytest.mark.e2e
def test_an_update_method_the_api_refuses_fails_with_the_method_to_try(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    # Before issue 11 this profile passed `profiles check --online`: its lookups work.
    sandbox = start_sandbox(profile={"update_method": "POST"})
    report = _report(wibmo, code=3)
    assert report["ok"] is False
    assert _line(report, "online")["status"] == "ok"
    update = _line(report)
    assert update["status"] == "fail"
    assert 'update_method = "POST" is not allowed' in update["detail"]
    assert "405" in update["detail"]
    assert 'try update_method = "PATCH"' in update["detail"]
    assert [r.method for r in _updates(sandbox)] == ["POST"]


@pytest.mark.e2e
def test_an_update_path_not_found_is_named(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={"update_path": "/api/v2/updateProfileApi"})
    update = _line(_report(wibmo, code=3))
    assert update["status"] == "fail"
    assert "update_path '/api/v2/updateProfileApi' not found" in update["detail"]
    assert "404" in update["detail"]


@pytest.mark.e2e
def test_an_update_message_code_the_api_refuses_is_named(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={"update_message_code": 1190})
    update = _line(_report(wibmo, code=3))
    assert update["status"] == "fail"
    assert "update_message_code = 1190 refused" in update["detail"]
    assert "try update_message_code = 1280" in update["detail"]


@pytest.mark.e2e
def test_a_wrong_api_key_is_the_gateway_for_both_lines(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_API_KEY", "not-the-api-key-000")
    start_sandbox(profile={})
    report = _report(wibmo, code=3)
    for name in ("online", UPDATE):
        line = _line(report, name)
        assert line["status"] == "fail"
        assert "rejected the api_key" in line["detail"]
        assert "not-the-api-key-000" not in line["detail"]


@pytest.mark.e2e
def test_a_missing_consumer_custom_id_is_named(wibmo: Invoke, start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={}, consumer_custom_id="QA-CONSUMER-1")
    update = _line(_report(wibmo, code=3))
    assert update["status"] == "fail"
    assert "1310" in update["detail"]
    assert "set consumer_custom_id" in update["detail"]


@pytest.mark.e2e
def test_the_probe_is_sent_once_even_when_its_answer_is_a_5xx(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={"retries": 2}, faults=Faults(queue=["ok", "503"]))
    update = _line(_report(wibmo, code=3))
    assert update["status"] == "fail"
    assert "no answer that proves the update settings" in update["detail"]
    assert f"the probe names URN {PROBE_URN} and changes no one" in update["detail"]
    assert len(_updates(sandbox)) == 1


@pytest.mark.e2e
def test_no_update_is_tried_when_the_lookup_got_no_answer(wibmo: Invoke) -> None:
    write_profiles("http://127.0.0.1:9", retries=0, timeout=2)  # the discard port: refused
    update = _line(_report(wibmo, code=3))
    assert update == {
        "name": UPDATE,
        "status": "warn",
        "detail": "not tried: the lookup got no answer",
    }


@pytest.mark.e2e
def test_a_production_profile_is_probed_without_a_question_and_says_so(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={"production": True})
    result = wibmo("profiles", "check", "--online")  # no input: a question would fail
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "production: one Update Profile probe naming URN 0" in result.stderr
    assert "it cannot change any customer" in result.stderr
    assert len(_updates(sandbox)) == 1


@pytest.mark.e2e
def test_the_verbose_trace_shows_the_probe_without_secrets(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={})
    result = wibmo("-v", "profiles", "check", "--online")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"> PATCH {sandbox.url}{UPDATE_PATH}" in result.stderr
    assert '"urn": "0"' in result.stderr
    for secret in SECRET_FORMS.values():
        assert secret not in result.stdout + result.stderr


def test_the_offline_check_lists_each_apis_settings(wibmo: Invoke) -> None:
    write_profiles(
        "https://pp.test",
        update_method="POST",
        lookup_credentials="body",
        update_credentials="headers",
        encrypt_path="/api/v2/encrypt",
    )
    result = wibmo("profiles", "check", "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    apis = _line(json.loads(result.stdout), "apis")
    assert apis["status"] == "ok"
    assert (
        "lookup: POST /api/v2/customer/retrieveCustRecord, messageCode 1930, credentials in "
        f"body; update: POST {UPDATE_PATH}, messageCode 1280, credentials in headers; "
        "helpers: /api/v2/encrypt; --online proves these settings"
    ) == apis["detail"]


# -- what the answers say (a Client on MockTransport) ---------------------------------------


BASE_URL = "https://pp.test"


def _probe(profile: Profile, reply: dict[str, Any] | int) -> tuple[Check, list[httpx.Request]]:
    """`update_check` against a platform answering `reply` (an answer, or an HTTP status)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(reply, int):
            return httpx.Response(reply, json={"message": "no"})
        payload = profile.codec().decrypt_json(json.loads(request.content)["token"])
        answer = {"clientTxnId": payload["clientTxnId"], **reply}
        return httpx.Response(200, json={"token": profile.codec().encrypt_json(answer)})

    async def run() -> Check:
        async with Client(profile, BASE_URL, transport=httpx.MockTransport(handler)) as client:
            return await update_check(client, profile)

    return asyncio.run(run()), seen


def test_the_probe_names_urn_0_and_carries_nothing_to_change() -> None:
    probe = update_probe(unit_profile(BASE_URL))
    assert set(probe) == {"messageCode", "clientTxnId", "requestDateTime", "urn"}
    assert probe["urn"] == "0"
    assert probe["messageCode"] == "1280"
    with_product = update_probe(unit_profile(BASE_URL, product_id="9"))
    assert with_product["productId"] == "9"


@pytest.mark.parametrize(("placement", "other"), [("body", "headers"), ("headers", "body")])
@pytest.mark.parametrize("code", ["1262", "1264", "1311"])
def test_credentials_absent_for_update_profile_name_update_credentials(
    placement: str, other: str, code: str
) -> None:
    profile = unit_profile(BASE_URL, update_credentials=placement)
    check, seen = _probe(profile, {"responseCode": code})
    assert check.status == "fail"
    assert "Update Profile refused the credentials" in check.detail
    assert f'try update_credentials = "{other}"' in check.detail
    setting = {"1262": "client_id", "1264": "bank_id", "1311": "secure_code"}[code]
    assert f"{setting} is wrong or empty" in check.detail  # the value may be the fault
    assert len(seen) == 1


@pytest.mark.e2e
def test_a_wrong_secret_is_named_not_only_a_placement_to_flip(
    start_sandbox: Any, wibmo: Invoke
) -> None:
    """A user review: a wrong secure_code sent them flipping update_credentials round in a
    loop. Both lines name the value; the update line names only the placement when the
    lookup took the same values."""
    start_sandbox(profile={"secure_code": "WRONG-CODE-1"})
    result = wibmo("profiles", "check", "--online", "-o", "json")
    lines = {c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"]}
    assert "secure_code is wrong or empty" in lines["online"]
    assert "secure_code is wrong or empty" in lines[UPDATE]
    assert "lookup_credentials" in lines["online"]


def test_after_a_lookup_took_the_values_only_the_placement_is_left() -> None:
    from wibmo_cli.online_check import credential_advice

    profile = unit_profile(BASE_URL)
    said = credential_advice(profile, "update", "1311 X", "1311", lookup_took=True)
    assert said.endswith(
        'the lookup accepted the same secure_code, so try update_credentials = "body"'
    )
    wrong = credential_advice(profile, "update", "1031 X", "1031")
    assert wrong.endswith("bank_id is wrong")


def test_a_1056_names_the_update_message_code() -> None:
    check, _ = _probe(
        unit_profile(BASE_URL, update_message_code=1080),
        {"responseCode": "1056", "responseMessage": "INVALID MESSAGE CODE"},
    )
    assert check.status == "fail"
    assert "update_message_code = 1080 refused" in check.detail
    assert "try update_message_code = 1280" in check.detail


@pytest.mark.parametrize("code", ["1303", "1001", "1090", "1231"])
def test_a_business_answer_proves_the_settings(code: str) -> None:
    check, seen = _probe(unit_profile(BASE_URL, update_method="POST"), {"responseCode": code})
    assert check.status == "ok", check
    assert f"answered {code}" in check.detail
    assert 'update_method = "POST"' in check.detail
    assert [r.method for r in seen] == ["POST"]


def test_a_success_answer_to_the_probe_is_a_warning() -> None:
    check, _ = _probe(unit_profile(BASE_URL), {"responseCode": "00"})
    assert check.status == "warn"
    assert "ask the platform what it did" in check.detail


@pytest.mark.parametrize(
    ("status", "said"),
    [(401, "api_key"), (404, "update_path"), (405, 'try update_method = "POST"')],
)
def test_http_refusals_name_the_setting(status: int, said: str) -> None:
    check, seen = _probe(unit_profile(BASE_URL), status)
    assert check.status == "fail"
    assert said in check.detail
    assert len(seen) == 1


def _plain_probe(profile: Profile, api: str) -> Check:
    """`lookup_check` or `update_check` against a platform answering plain JSON (no token),
    as the platform's decrypt helper and some proxies do."""

    def handler(request: httpx.Request) -> httpx.Response:
        payload = profile.codec().decrypt_json(json.loads(request.content)["token"])
        return httpx.Response(
            200, json={"clientTxnId": payload["clientTxnId"], "responseCode": "1303"}
        )

    async def run() -> Check:
        async with Client(profile, BASE_URL, transport=httpx.MockTransport(handler)) as client:
            if api == "lookup":
                return (await lookup_check(client, profile))[0]
            return await update_check(client, profile)

    return asyncio.run(run())


@pytest.mark.parametrize("api", ["lookup", "update"])
def test_a_plain_json_answer_proves_nothing_about_the_key(api: str) -> None:
    check = _plain_probe(unit_profile(BASE_URL), api)
    assert "key and iv are right" not in check.detail
    assert "proved update_path" not in check.detail or "not proved: the key and iv" in (
        check.detail
    )
    assert "unencrypted" in check.detail


def test_an_unknown_field_answer_to_the_probe_names_product_id() -> None:
    """1045: the platform does not know a key of the probe: with product_id set, that is
    productId, and every real update would fail the same way (an attack review: it said
    "proved")."""
    check, _ = _probe(unit_profile(BASE_URL, product_id="9"), {"responseCode": "1045"})
    assert check.status == "fail"
    assert 'try product_id = ""' in check.detail
    check, _ = _probe(unit_profile(BASE_URL), {"responseCode": "1045"})
    assert check.status == "fail" and "proved" not in check.detail


def test_an_answer_without_a_responsecode_proves_nothing() -> None:
    check, _ = _probe(unit_profile(BASE_URL), {"responseMessage": "OK"})
    assert check.status == "fail"
    assert "without a responseCode" in check.detail


@pytest.mark.e2e
def test_the_probe_is_audited_like_every_update_sent(start_sandbox: Any, wibmo: Invoke) -> None:
    """A behaviour review: the probe went out with no audit entry (the README says every
    update sent is audited)."""
    start_sandbox(profile={})
    result = wibmo("profiles", "check", "--online")
    assert result.exit_code == 0, result.stdout + result.stderr
    entries = [json.loads(line) for line in wibmo("audit", "-o", "json").stdout.splitlines()]
    probe = [e for e in entries if e.get("action") == "update probe"]
    assert [e["result"] for e in probe] == ["sending", "answered"]
    assert probe[1]["identifiers"] == "urn 0" and probe[1]["fields"] == []
    assert probe[0]["clientTxnId"] == probe[1]["clientTxnId"]
    assert probe[1]["responseCode"] not in ("00", None)


@pytest.mark.e2e
def test_no_probe_is_sent_when_the_audit_log_cannot_be_written(
    start_sandbox: Any, wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = start_sandbox(profile={})
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(blocked / "a.jsonl"))
    result = wibmo("profiles", "check", "--online", "-o", "json")
    line = _line(json.loads(result.stdout))
    assert line["status"] == "fail" and "not sent" in line["detail"]
    assert not [r for r in sandbox.requests if r.api == "update"]


@pytest.mark.parametrize(
    "reply", [{"responseCode": None}, {"responseCode": ""}, {"responseCode": {"a": 1}}]
)
def test_a_probe_answer_whose_code_is_no_code_proves_nothing(reply: dict[str, Any]) -> None:
    check, _ = _probe(unit_profile(BASE_URL), reply)
    assert check.status == "fail" and "proved" not in check.detail


def test_a_1055_to_the_probe_proves_the_route_not_the_token() -> None:
    check, _ = _probe(unit_profile(BASE_URL), {"responseCode": "1055"})
    assert check.status == "warn"
    assert "not proved: update_message_code and that it reads our tokens" in check.detail

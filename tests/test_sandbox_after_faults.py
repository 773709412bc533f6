"""Faults after the platform acted, and a full record of every API request.

`drop_after` and `hang_after` apply an update (store changed, clientTxnId remembered,
responseCode recorded) and then never answer: what a client of the real platform meets
when a connection dies after the request arrived. Every lookup and update is recorded
with its clientTxnId and the customer identifiers it named, faulted or not, so the
reliability tests of issue 15 can count what each customer received.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    UPDATE,
    Invoke,
    Platform,
    StartSandbox,
    audit_entries,
    credential_headers,
    query,
    txn_id,
)

from wibmo_cli.sandbox import Faults, RequestRecord, Sandbox
from wibmo_cli.sandbox.settings import MAX_RECORDED, RequestLog

pytestmark = pytest.mark.e2e

NEW_EMAIL = "after.fault@example.com"
# --card-profile-id: no lookup before the update, so the fault meets the update itself
SEND = ("update-profile", "--urn", "389", "--email", NEW_EMAIL, "--card-profile-id", "150")


def updates(sandbox: Sandbox) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.api == "update"]


def sample_email(db: Path) -> str:
    rows = query(db, "SELECT email FROM customers WHERE customer_id = 'custid_V3_juyWqcUUxz'")
    return str(rows[0][0])


def remembered(db: Path, txn: str | None) -> bool:
    return (txn,) in query(db, "SELECT client_txn_id FROM txns")


def sent_txn() -> str:
    """The clientTxnId the audit log says the update was sent with."""
    sent = [e for e in audit_entries() if e.get("result") == "sending"]
    assert len(sent) == 1, audit_entries()
    return str(sent[0]["clientTxnId"])


# -- the CLI meets a fault after the platform acted --------------------------------------------


@pytest.mark.parametrize(
    ("fault", "profile"),
    [("drop_after", {}), ("hang_after", {"timeout": 0.5})],
)
def test_an_update_applied_and_unanswered_is_outcome_unknown(
    cli: Invoke,
    start_sandbox: StartSandbox,
    db_path: Path,
    fault: str,
    profile: dict[str, Any],
) -> None:
    sandbox = start_sandbox(
        profile={"retries": 5, **profile}, faults=Faults(queue=[fault], hang_seconds=10)
    )
    result = cli(*SEND, "--yes")
    assert result.exit_code == 5, result.stderr
    assert "may or may not have been applied" in result.stderr
    [record] = updates(sandbox)  # sent once, never again
    assert (record.fault, record.status, record.response_code) == (fault, 0, "00")
    assert record.client_txn_id == sent_txn()
    assert record.identifiers == {"urn": "389"}
    assert sample_email(db_path) == NEW_EMAIL  # applied
    assert remembered(db_path, record.client_txn_id)  # a resend would be a duplicate


def test_a_fault_before_the_platform_is_recorded_with_its_txn_and_leaves_nothing_applied(
    cli: Invoke, start_sandbox: StartSandbox, db_path: Path
) -> None:
    before = sample_email(db_path)
    sandbox = start_sandbox(profile={"retries": 5}, faults=Faults(queue=["503"]))
    result = cli(*SEND, "--yes")
    assert result.exit_code == 5, result.stderr
    [record] = updates(sandbox)
    assert (record.fault, record.status, record.response_code) == ("503", 503, None)
    assert record.client_txn_id == sent_txn()
    assert record.identifiers == {"urn": "389"}
    assert sample_email(db_path) == before
    assert not remembered(db_path, record.client_txn_id)


def test_a_resend_after_drop_after_is_a_duplicate(platform: Platform, sandbox: Sandbox) -> None:
    sandbox.settings.faults.queue = ["drop_after"]
    payload = {
        "messageCode": "1280",
        "clientTxnId": txn_id(),
        "requestDateTime": "20240101120000",
        "urn": "389",
        "cardProfileId": "150",
        "emailId": NEW_EMAIL,
    }
    with pytest.raises(httpx.RemoteProtocolError):
        platform.send("PATCH", UPDATE, payload)
    again = platform.answer(platform.send("PATCH", UPDATE, payload))
    assert again["responseCode"] == "1054"
    assert [(r.fault, r.response_code) for r in updates(sandbox)] == [
        ("drop_after", "00"),
        (None, "1054"),
    ]


# -- the record ----------------------------------------------------------------------------------


def test_records_name_the_identifiers_each_api_reads(platform: Platform, sandbox: Sandbox) -> None:
    platform.lookup(customerMobile=" 9897123456 ", emailId="abc@xyz.com")
    platform.lookup(customerId="custid_V3_juyWqcUUxz")
    platform.update(urn=389, cardProfileId="150", emailId="x.y@example.com")  # email: a field
    platform.update(CustomerMobile="9897123456", cardProfileId="150")  # any case, as read
    assert [r.identifiers for r in sandbox.requests] == [
        {"customerMobile": "9897123456", "emailId": "abc@xyz.com"},
        {"customerId": "custid_V3_juyWqcUUxz"},
        {"urn": "389"},
        {"customerMobile": "9897123456"},
    ]
    assert all(r.client_txn_id for r in sandbox.requests)


def test_records_of_refused_and_faulted_requests_hold_what_the_token_says(
    platform: Platform, sandbox: Sandbox
) -> None:
    sandbox.settings.faults.queue = ["hang", "garbage", "429"]
    sandbox.settings.faults.hang_seconds = 0
    txns = [txn_id() for _ in range(5)]
    with pytest.raises(httpx.RemoteProtocolError):  # the hang: closed unanswered
        platform.send("POST", "/api/v2/customer/retrieveCustRecord", _lookup(txns[0]))
    for txn in txns[1:3]:
        platform.send("POST", "/api/v2/customer/retrieveCustRecord", _lookup(txn))
    platform.send("POST", "/api/v2/customer/retrieveCustRecord", _lookup(txns[3]), headers={})
    platform.http.post(
        "/api/v2/customer/retrieveCustRecord",
        json={"token": "not a token"},
        headers=credential_headers(),
    )
    found = [(r.fault, r.status, r.client_txn_id, r.identifiers) for r in sandbox.requests]
    assert found == [
        ("hang", 0, txns[0], {"urn": "389"}),
        ("garbage", 200, txns[1], {"urn": "389"}),
        ("429", 429, txns[2], {"urn": "389"}),
        (None, 401, txns[3], {"urn": "389"}),  # refused by the gateway: recorded all the same
        (None, 200, None, {}),  # no token that decrypts: nothing to say
    ]


def test_recorded_text_is_cut(platform: Platform, sandbox: Sandbox) -> None:
    long_txn = "T" * 5000
    platform.send(
        "POST", "/api/v2/customer/retrieveCustRecord", {**_lookup(long_txn), "urn": "9" * 5000}
    )
    [record] = sandbox.requests
    assert record.client_txn_id == "T" * MAX_RECORDED + "…"
    assert record.identifiers == {"urn": "9" * MAX_RECORDED + "…"}
    assert record.response_code == "1093"  # over 100 characters: the platform's answer


def test_the_records_are_served_and_say_when_some_were_forgotten(sandbox: Sandbox) -> None:
    platform = Platform(sandbox.url)
    try:
        platform.lookup(urn="389")
        served = httpx.get(sandbox.url + "/__sandbox/requests", timeout=5).json()
        assert served[0]["identifiers"] == {"urn": "389"}
        assert served[0]["client_txn_id"] == sandbox.requests[0].client_txn_id
        status = httpx.get(sandbox.url + "/__sandbox/status", timeout=5).json()
        assert status["records"] == {"kept": 2, "forgotten": 0}  # the lookup, /requests
    finally:
        platform.close()


def test_a_request_log_forgets_the_oldest_tenth_and_counts_them() -> None:
    log = RequestLog(limit=100)
    for index in range(101):
        log.keep(RequestRecord("GET", f"/{index}", "other"))
    assert (len(log), log.forgotten, log[0].path) == (91, 10, "/10")
    log.restart()
    assert (len(log), log.forgotten) == (0, 0)


def test_the_default_log_holds_a_bulk_run() -> None:
    # 5,000 updates and 10,000 lookups (issue 15's reliability run), with retries to spare
    assert RequestLog().limit >= 100_000


# -- the knobs ----------------------------------------------------------------------------------


def test_after_faults_are_drawn_last_from_the_one_random_number() -> None:
    faults = Faults(
        seed=11, drop_rate=0.1, hang_rate=0.1, fail_rate=0.1, garbage_rate=0.1,
        drop_after_rate=0.2, hang_after_rate=0.2,
    )  # fmt: skip
    draws = random.Random(11)
    bounds = ((0.1, "drop"), (0.2, "hang"), (0.3, "503"), (0.4, "garbage"))
    bounds += ((0.6, "drop_after"), (0.8, "hang_after"), (1.0, None))
    for _ in range(200):
        draw = draws.random()
        assert faults.take() == next(name for bound, name in bounds if draw < bound)


def test_after_faults_are_set_and_queued_over_http(sandbox: Sandbox) -> None:
    url = sandbox.url + "/__sandbox/faults"
    wanted = {"drop_after_rate": 0.25, "hang_after_rate": 0.5, "queue": ["hang_after", "ok"]}
    answer = httpx.post(url, content=json.dumps(wanted), timeout=5)
    assert answer.status_code == 200, answer.text
    assert {k: answer.json()[k] for k in wanted} == wanted
    refused = httpx.post(url, content=json.dumps({"drop_after_rate": 2}), timeout=5)
    assert refused.status_code == 400
    assert "drop_after_rate must be between 0 and 1" in refused.text


def test_wibmo_sandbox_takes_the_after_rates(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr("wibmo_cli.sandbox.serve", lambda s, *a, **k: served.append(s))
    result = wibmo("sandbox", "--drop-after-rate", "0.1", "--hang-after-rate", "0.2")
    assert result.exit_code == 0, result.stderr
    faults = served[0].faults
    assert (faults.drop_after_rate, faults.hang_after_rate) == (0.1, 0.2)


def _lookup(txn: str) -> dict[str, Any]:
    return {
        "messageCode": 1930,
        "clientTxnId": txn,
        "requestDateTime": "20240101120000",
        "urn": "389",
    }

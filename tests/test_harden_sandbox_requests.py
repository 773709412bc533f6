"""Issue 9, item 19: the sandbox answers malformed requests with the documented codes.

A body or token nested 50,000 deep, a URN of unicode digits ("²") or of 20 digits, a
5,000-digit number, a lone surrogate, a Content-Length of "²": each is a malformed
request (1055), an unknown customer (1303 / 1231) or an HTTP 400, never a 500 with a
traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import (
    LOOKUP,
    UPDATE,
    Platform,
    budget,
    credential_headers,
    sandbox_process,
    txn_id,
)

from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.sandbox import SAMPLE_URN, Sandbox

DEEP = 50_000


@pytest.fixture(autouse=True)
def no_sandbox_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test sends, the sandbox logs no error (no 'unexpected error' traceback)."""
    caplog.set_level(logging.WARNING, logger="wibmo_cli.sandbox")
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _raw(platform: Platform, method: str, path: str, body: bytes) -> httpx.Response:
    return platform.http.request(method, path, content=body, headers=credential_headers())


def _token_body(platform: Platform, plaintext: bytes) -> bytes:
    return json.dumps({"token": platform.codec.encrypt(plaintext)}).encode()


def _lookup_code(platform: Platform, response: httpx.Response) -> str:
    return str(platform.answer(response)["responseCode"])


@pytest.mark.parametrize(("method", "path"), [("POST", LOOKUP), ("PATCH", UPDATE)])
def test_a_body_nested_50000_deep_is_malformed(platform: Platform, method: str, path: str) -> None:
    assert _lookup_code(platform, _raw(platform, method, path, _deep(DEEP))) == "1055"
    deep_object = b'{"token":' * DEEP + b"1" + b"}" * DEEP
    assert _lookup_code(platform, _raw(platform, method, path, deep_object)) == "1055"


@pytest.mark.parametrize(("method", "path"), [("POST", LOOKUP), ("PATCH", UPDATE)])
def test_a_token_whose_plaintext_is_nested_50000_deep_is_malformed(
    platform: Platform, method: str, path: str
) -> None:
    body = _token_body(platform, b'{"a":' * DEEP + b"1" + b"}" * DEEP)
    assert _lookup_code(platform, _raw(platform, method, path, body)) == "1055"


@pytest.mark.parametrize("urn", ["²", "١٢٣", "12345678901234567890", "-1", "9" * 400])
def test_an_impossible_urn_is_not_found(platform: Platform, urn: str) -> None:
    assert platform.lookup(urn=urn)["responseCode"] == "1303"
    answer = platform.update(urn=urn, cardProfileId=150, city="Pune")
    assert answer["responseCode"] == "1231"


def test_a_20_digit_numeric_urn_is_not_found(platform: Platform) -> None:
    assert platform.lookup(urn=12345678901234567890)["responseCode"] == "1303"
    answer = platform.update(urn=12345678901234567890, cardProfileId=150, city="Pune")
    assert answer["responseCode"] == "1231"


@pytest.mark.parametrize(("method", "path"), [("POST", LOOKUP), ("PATCH", UPDATE)])
@pytest.mark.parametrize(
    "plaintext",
    [
        b'{"messageCode":1930,"clientTxnId":"\\ud800","urn":389}',
        b'{"messageCode":1280,"clientTxnId":"T-sur","customerId":"\\udfff","cardProfileId":150}',
        b'{"messageCode":1930,"clientTxnId":"T-raw\xed\xa0\x80","urn":389}',
        b'{"messageCode":1930,"clientTxnId":' + b"9" * 5000 + b',"urn":389}',
        b'{"messageCode":1930,"clientTxnId":"T-nan","urn":NaN',
        b"\xff\xfe not text",
    ],
)
def test_unusable_json_in_a_token_is_malformed(
    platform: Platform, method: str, path: str, plaintext: bytes
) -> None:
    body = _token_body(platform, plaintext)
    assert _lookup_code(platform, _raw(platform, method, path, body)) == "1055"


def test_a_lone_surrogate_in_the_body_is_malformed(platform: Platform) -> None:
    body = b'{"token":"\\ud800"}'
    assert _lookup_code(platform, _raw(platform, "POST", LOOKUP, body)) == "1055"


@pytest.mark.parametrize("length", ["²", "¹³", "+5", "5 5"])
def test_a_content_length_of_other_digits_is_a_400(sandbox: Sandbox, length: str) -> None:
    import socket

    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        head = f"POST {LOOKUP} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
        conn.sendall(head.encode("latin-1"))  # "²" as the one byte 0xB2
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 "), answer


def test_the_fault_endpoint_refuses_a_deep_body_with_a_400(platform: Platform) -> None:
    response = platform.http.post("/__sandbox/faults", content=_deep(DEEP))
    assert response.status_code == 400


_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["²", "٣٨٩", "389", "9897123456", "abc@xyz.com", "\u202e", "\x00"]),
)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        name: _VALUE
        for name in (
            "urn",
            "customerMobile",
            "customerId",
            "emailId",
            "cardProfileId",
            "newcardProfileId",
            "mobile",
            "firstName",
            "docList",
            "docType",
            "docNumber",
            "dateOfBirth",
            "kycDateStamp",
            "cardholderZipCode",
        )
    },
)


@budget(150)
@pytest.mark.slow  # statistical or many processes: CI runs it (pytest -m slow)
@given(fields=_FIELDS, update=st.booleans())
def test_any_payload_gets_a_business_answer(
    platform: Platform, fields: dict[str, Any], update: bool
) -> None:
    """Whatever the fields hold, the answer is HTTP 200 with an encrypted responseCode."""
    payload: dict[str, Any] = {"messageCode": 1280 if update else 1930, "clientTxnId": txn_id()}
    payload.update(fields)
    method, path = ("PATCH", UPDATE) if update else ("POST", LOOKUP)
    response = platform.send(method, path, payload)
    assert response.status_code == 200, response.text
    assert "responseCode" in platform.answer(response)


def test_wibmo_sandbox_prints_no_traceback_for_malformed_requests() -> None:
    """`wibmo sandbox` as a process: malformed requests are answered, stderr stays clean
    (sandbox_process asserts no traceback when it stops the server)."""
    with sandbox_process("-p", "demo") as url:
        headers = {
            "x-api-key": DEMO_PROFILE["api_key"],
            "clientId": DEMO_PROFILE["client_id"],
            "bankId": DEMO_PROFILE["bank_id"],
            "secureCode": DEMO_PROFILE["secure_code"],
        }
        with httpx.Client(base_url=url, timeout=10) as http:
            for method, path in (("POST", LOOKUP), ("PATCH", UPDATE)):
                response = http.request(method, path, content=_deep(DEEP), headers=headers)
                assert response.status_code == 200


def test_the_store_finds_nobody_for_a_urn_sqlite_cannot_hold(tmp_path: Path) -> None:
    from wibmo_cli.sandbox.store import Store

    store = Store.open(tmp_path / "sandbox.db")
    try:
        assert store.by_urn(10**20) == []
        assert store.by_urn(-(10**20)) == []
        assert store.by_urn(SAMPLE_URN) == [1]
    finally:
        store.close()

"""Helpers for the sandbox tests: settings, and a small client speaking the real protocol.

The client here is deliberately independent of `wibmo_cli.client`: these tests pin the
sandbox's wire behaviour, not the tool's.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.sandbox import Sandbox, SandboxSettings

KEY = bytes(range(1, 25))
API_KEY = "test-api-key-123"
CLIENT_ID = "FintechA"
BANK_ID = "2010"
SECURE_CODE = "SECURE-9876"
LOOKUP = "/api/v2/customer/retrieveCustRecord"
LOOKUP_V3 = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
UPDATE = "/mob1/api/onboarding/v1/updateProfile"
UPDATE_V3 = "/uat/sbx/api/onboarding/v3/updateprofile"
LOOKUP_ERROR_KEYS = {
    "bankId",
    "responseDateTime",
    "accosaTransactionId",
    "messageCode",
    "responseMessage",
    "responseCode",
}

_counter = itertools.count(1)


def txn_id() -> str:
    return f"T{next(_counter)}-{uuid.uuid4().hex[:12]}"


def make_settings(db_path: Path, **extra: Any) -> SandboxSettings:
    """A sandbox accepting these fixtures' credentials, unless `extra` names others."""
    extra.setdefault("iv", IvScheme("zero"))
    extra.setdefault("key", KEY)
    extra.setdefault("api_key", API_KEY)
    extra.setdefault("client_id", CLIENT_ID)
    extra.setdefault("bank_id", BANK_ID)
    extra.setdefault("secure_code", SECURE_CODE)
    return SandboxSettings(db_path=db_path, **extra)


@contextmanager
def running(db_path: Path, **extra: Any) -> Iterator[Sandbox]:
    with Sandbox(make_settings(db_path, **extra)) as sandbox:
        yield sandbox


def credential_headers(**override: str | None) -> dict[str, str]:
    headers: dict[str, str | None] = {
        "x-api-key": API_KEY,
        "clientId": CLIENT_ID,
        "bankId": BANK_ID,
        "entityId": "100",
        "secureCode": SECURE_CODE,
    }
    headers.update(override)
    return {name: value for name, value in headers.items() if value is not None}


class Platform:
    """Sends plaintext payloads encrypted, as a client of the platform would."""

    def __init__(self, url: str, scheme: IvScheme | None = None, **client: Any) -> None:
        self.codec = TokenCodec(KEY, scheme or IvScheme("zero"))
        self.http = httpx.Client(base_url=url, timeout=client.pop("timeout", 5.0), **client)

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        path: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        body_extra: dict[str, Any] | None = None,
    ) -> httpx.Response:
        body = {"token": self.codec.encrypt_json(payload), **(body_extra or {})}
        return self.http.request(
            method,
            path,
            json=body,
            headers=credential_headers() if headers is None else headers,
        )

    def answer(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        value = self.codec.decrypt_json(response.json()["token"])
        assert isinstance(value, dict)
        return value

    def lookup(self, path: str = LOOKUP, **fields: Any) -> dict[str, Any]:
        payload = {
            "messageCode": 1930,
            "clientTxnId": txn_id(),
            "requestDateTime": "20240101120000",
        }
        payload.update(fields)
        headers = payload.pop("_headers", None)
        body_extra = payload.pop("_body", None)
        return self.answer(self.send("POST", path, payload, headers=headers, body_extra=body_extra))

    def update(self, path: str = UPDATE, **fields: Any) -> dict[str, Any]:
        payload = {
            "messageCode": "1280",
            "clientTxnId": txn_id(),
            "requestDateTime": "20240101120000",
        }
        payload.update(fields)
        headers = payload.pop("_headers", None)
        return self.answer(self.send("PATCH", path, payload, headers=headers))


# The retrieve document's "Response (Success)" sample: its one cardList entry, exactly.
SAMPLE_ENTRY = {
    "lastName": "LastName",
    "panValid": False,
    "docList": [
        {"docNumber": "ABC0123456", "docType": "Passport"},
        {"docNumber": "1234 5678 6015", "docType": "Aadhar"},
        {"docNumber": "YCV0123456", "docType": "VoterId"},
        {"docNumber": "ABCDE1234A", "docType": "Pancard"},
        {"docNumber": "DL60 20211234567", "docType": "Driverlicense"},
    ],
    "cardType": "TRAVEL CARD",
    "mobile": "919897123456",
    "updatedOn": "16-Nov-2022",
    "kycName": "FULL_KYC",
    "createdOn": "16-Nov-2022",
    "availableBalance": 100000,
    "urn": 389,
    "firstName": "ABC",
    "lastFourDigit": "4216",
    "statusDescription": "Active",
    "entityName": "FintechA",
    "profileId": 150,
    "dob": "11-Jul-1993",
    "reKyc": False,
    "customerId": "custid_V3_juyWqcUUxz",
    "cardNumber": "179947 XXXXXX 4216",
    "cardStatus": 0,
    "email": "abc@xyz.com",
}


@pytest.fixture
def platform(sandbox: Sandbox) -> Iterator[Platform]:
    """A client of the test module's `sandbox` fixture."""
    client = Platform(sandbox.url)
    yield client
    client.close()


def query(db_path: Path, sql: str) -> list[Any]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()

"""wire.py: one builder of requests, for the client and the dry run; and a dry run that
needs no lookup never imports the network code (checked in a fresh interpreter)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import API_KEY, BANK_ID, CLIENT_ID, SECURE_CODE, imports_of, unit_profile

from wibmo_cli.client import Client
from wibmo_cli.errors import ConfigError, HTTPStatusError
from wibmo_cli.profiles import DEMO_PROFILE, Profile
from wibmo_cli.wire import Wire

BASE_URL = "https://pp.test"
NETWORK_MODULES = ("httpx", "httpcore", "wibmo_cli.client", "wibmo_cli.endpoint")


def make_profile(**override: Any) -> Profile:
    return unit_profile(BASE_URL, **{"retries": 2, **override})


@pytest.mark.parametrize("credentials", ["headers", "body"])
def test_the_client_sends_exactly_what_the_wire_builds(credentials: str) -> None:
    profile = make_profile(credentials=credentials, consumer_custom_id="C-7")  # zero IV
    payload = {"messageCode": 1280, "clientTxnId": "WTXN1", "urn": "389"}
    built = Wire(profile).update_request(payload, BASE_URL)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"message": "stop here"})

    async def send() -> None:
        async with Client(profile, BASE_URL, transport=httpx.MockTransport(handler)) as client:
            await client.update(payload)

    with pytest.raises(HTTPStatusError, match="HTTP 400"):
        asyncio.run(send())
    (sent,) = seen
    assert (sent.method, str(sent.url)) == (built.method, built.url)
    assert json.loads(sent.content) == built.body
    for name, value in built.headers.items():
        assert sent.headers[name] == value


def _placement(request: Any) -> tuple[set[str], set[str]]:
    """(credential headers, credential body fields) of a built request."""
    creds = {"clientId", "bankId", "entityId", "secureCode", "X-Consumer-Custom-ID"}
    return set(request.headers) & creds, set(request.body) & creds


def test_credentials_go_where_the_profile_says() -> None:
    in_headers = Wire(make_profile())
    request = in_headers.update_request({"messageCode": 1280}, BASE_URL)
    assert set(request.body) == {"token"}
    assert request.headers["secureCode"] == SECURE_CODE
    in_body = Wire(make_profile(credentials="body"))
    request = in_body.lookup_request({"messageCode": 1930}, BASE_URL)
    assert set(request.headers) == {"x-api-key", "Content-Type", "Accept"}
    assert request.body["bankId"] == BANK_ID
    assert request.method == "POST" and request.body["clientId"] == CLIENT_ID
    assert request.url == BASE_URL + "/api/v2/customer/retrieveCustRecord"


def test_a_v3_profile_places_credentials_per_api() -> None:
    """v3: Retrieve Cust Record wants them in the body, Update Profile in headers (with
    X-Consumer-Custom-ID); `credentials` is the default of both."""
    wire = Wire(
        make_profile(credentials="headers", lookup_credentials="body", consumer_custom_id="C-7")
    )
    lookup = wire.lookup_request({"messageCode": 1930}, BASE_URL)
    update = wire.update_request({"messageCode": 1280}, BASE_URL)
    all_creds = {"clientId", "bankId", "entityId", "secureCode", "X-Consumer-Custom-ID"}
    assert _placement(lookup) == (set(), all_creds)
    assert _placement(update) == (all_creds, set())
    assert lookup.headers["x-api-key"] == update.headers["x-api-key"] == API_KEY
    swapped = Wire(make_profile(credentials="body", update_credentials="headers"))
    assert _placement(swapped.update_request({}, BASE_URL))[1] == set()
    assert _placement(swapped.lookup_request({}, BASE_URL))[0] == set()


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_the_update_goes_out_with_the_profiles_method(method: str) -> None:
    wire = Wire(make_profile(update_method=method))
    assert wire.update_request({}, BASE_URL).method == method
    assert wire.lookup_request({}, BASE_URL).method == "POST"


def test_a_header_value_http_cannot_carry_is_refused_by_its_key() -> None:
    with pytest.raises(ConfigError, match="api_key cannot be sent in an HTTP header"):
        Wire(make_profile(api_key=API_KEY + "\n"))


def network_modules(result: dict[str, Any]) -> list[str]:
    return [
        m for m in result["modules"] if m.split(".")[0] in NETWORK_MODULES or m in NETWORK_MODULES
    ]


@pytest.mark.parametrize("base_url", ["https://platform.example", "embedded"])
def test_a_dry_run_with_the_kyc_profile_imports_no_network_code(
    isolated: Path, base_url: str
) -> None:
    values = {**DEMO_PROFILE, "base_url": base_url}
    lines = ['default_profile = "p"', "[profiles.p]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (isolated / "profiles.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["update-profile", "--urn", "389", "--email", "dry@example.com"]
    result = imports_of(*args, "--card-profile-id", "30", "--dry-run", "-o", "json", cwd=isolated)
    assert result["code"] in (0, None), result
    assert json.loads(result["stdout"])["dryRun"] is True
    assert network_modules(result) == []
    assert not (isolated.parent / "data" / "sandbox.db").exists()  # no sandbox started


def test_the_probe_sees_the_network_code_when_a_lookup_is_needed(isolated: Path) -> None:
    """The check above can fail: a dry run that must look the KYC profile up imports it."""
    result = imports_of(
        "update-profile", "--urn", "389", "--email", "d@x.com", "--dry-run", cwd=isolated
    )
    assert result["code"] in (0, None), result
    assert "httpx" in network_modules(result)

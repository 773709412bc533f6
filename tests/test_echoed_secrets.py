"""A gateway or proxy may quote the request's credentials back in an error body: the
one-line error message built from that body never shows a secret whole (an examples
review: `error: HTTP 401 ...'{"x-api-key": "hk-..."}'`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile import Hostile
from support import API_KEY, SECURE_CODE, Invoke, codec, unit_profile, write_profiles

from wibmo_cli.calibrate import read_decrypted
from wibmo_cli.client import Client
from wibmo_cli.errors import CryptoError, HTTPStatusError
from wibmo_cli.messages import Identifiers, lookup_payload

BASE_URL = "https://pp.test"


def lookup_error(reply: httpx.Response) -> str:
    profile = unit_profile(BASE_URL, retries=0)

    async def go() -> None:
        transport = httpx.MockTransport(lambda request: reply)
        async with Client(profile, BASE_URL, transport=transport) as client:
            await client.lookup(lookup_payload(Identifiers(urn="389"), message_code=1930))

    with pytest.raises((HTTPStatusError, CryptoError)) as caught:
        asyncio.run(go())
    return str(caught.value)


@pytest.mark.parametrize("status", [200, 401, 403, 500])
@pytest.mark.parametrize(
    "body",
    [
        {"message": f"invalid key {API_KEY}"},
        {"echo": {"x-api-key": API_KEY, "secureCode": SECURE_CODE}},
    ],
)
def test_an_error_message_never_quotes_a_secret_the_body_echoes(
    status: int, body: dict[str, Any]
) -> None:
    said = lookup_error(httpx.Response(status, json=body))
    assert API_KEY not in said and SECURE_CODE not in said
    assert API_KEY[-4:] in said or SECURE_CODE[-4:] in said or "echo" in said


def test_a_helper_answer_echoing_a_secret_is_redacted() -> None:
    profile = unit_profile(BASE_URL)
    content = f'{{"message": "bad key {API_KEY}"}}'.encode()
    check = read_decrypted(profile, "/d", 401, content, {"a": 1})
    assert API_KEY not in check.detail


def test_an_answer_that_echoes_the_secrets_is_shown_without_them() -> None:
    """The client hands on a decrypted answer with the profile's secrets redacted: in a
    field named as one (secureCode, x-api-key) and inside any text (a responseMessage),
    so no view, JSON output or audit entry can show them (an attack review: `call` and
    `lookup` printed them whole)."""
    profile = unit_profile(BASE_URL, retries=0)
    answer = {
        "responseCode": "00",
        "responseMessage": f"SUCCESS {API_KEY}",
        "echo": {"secureCode": SECURE_CODE, "x-api-key": "another-environments-key-1234"},
        "cardList": [{"urn": 389}],
    }
    token = codec().encrypt_json(answer)

    async def go() -> dict[str, Any]:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"token": token}))
        async with Client(profile, BASE_URL, transport=transport) as client:
            exchange = await client.lookup(
                lookup_payload(Identifiers(urn="389"), message_code=1930)
            )
            return exchange.answer

    shown = asyncio.run(go())
    text = json.dumps(shown)
    assert API_KEY not in text and SECURE_CODE not in text
    assert "another-environments-key-1234" not in text  # by its name, whoever's it is
    assert shown["cardList"] == [{"urn": 389}] and shown["responseMessage"].startswith("SUCCESS ")


def test_a_dry_runs_payload_shows_a_secret_typed_into_it_redacted(cli: Invoke) -> None:
    result = cli(
        "call", "/x", "--message-code", "1080", "-p", "demo", "--dry-run",
        "-f", "secureCode=HK-SecureCode-typed-in", "-f", "urn=1",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "HK-SecureCode-typed-in" not in result.stdout + result.stderr


@pytest.mark.e2e
def test_the_trace_of_an_html_page_quoting_the_api_key_redacts_it(wibmo: Invoke) -> None:
    """`-v`'s `< body: an HTML page (...)` line quotes the page's title: a gateway's page
    that echoes the x-api-key shows it redacted there too (it did on the lines after)."""
    page = f"<html><head><title>Bad key {API_KEY}</title></head></html>".encode()
    with Hostile(mode="canned", reply=(401, "text/html", page)) as server:
        write_profiles(server.url, retries=0)
        result = wibmo("-v", "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    assert "an HTML page" in result.stderr
    assert API_KEY not in result.stderr + result.stdout


@pytest.mark.parametrize("how", ["token", "file", "scan", "har"])
def test_decrypting_a_request_never_prints_the_profiles_secrets(
    wibmo: Invoke, tmp_path: Path, how: str
) -> None:
    """A captured v3 request carries the credentials inside its token: `decrypt` (one
    token, a file of them, --scan, --har -o json) shows them redacted, as every other
    output does (an attack review found them printed whole)."""
    write_profiles("http://127.0.0.1:9")
    request = {"messageCode": 1930, "secureCode": SECURE_CODE, "note": f"key {API_KEY}"}
    token = codec().encrypt_json(request)
    tokens = tmp_path / "t.txt"
    tokens.write_text(f"{token}\n{token}\n", encoding="utf-8")
    har = tmp_path / "c.har"
    entry = {
        "startedDateTime": "2026-11-30T09:15:02.125+05:30",
        "time": 4.0,
        "request": {"method": "POST", "url": "http://h/x", "headers": [], "cookies": [],
                    "httpVersion": "HTTP/1.1", "queryString": [], "headersSize": -1,
                    "bodySize": -1,
                    "postData": {"mimeType": "application/json",
                                 "text": json.dumps({"token": token})}},
        "response": {"status": 200, "statusText": "OK", "headers": [], "cookies": [],
                     "httpVersion": "HTTP/1.1", "redirectURL": "", "headersSize": -1,
                     "bodySize": -1, "content": {"size": 0, "mimeType": "text/plain"}},
        "cache": {}, "timings": {"send": 1, "wait": 2, "receive": 1},
    }  # fmt: skip
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t",
                   "version": "1"}, "entries": [entry]}}), encoding="utf-8")  # fmt: skip
    args = {
        "token": ("decrypt", token),
        "file": ("decrypt", str(tokens)),
        "scan": ("decrypt", "--scan", str(tokens)),
        "har": ("decrypt", "--har", str(har), "-o", "json"),
    }[how]
    result = wibmo(*args)
    assert result.exit_code == 0, result.stderr
    assert SECURE_CODE not in result.stdout and API_KEY not in result.stdout
    assert SECURE_CODE[-4:] in result.stdout  # redacted, not dropped

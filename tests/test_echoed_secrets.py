"""A gateway or proxy may quote the request's credentials back in an error body: the
one-line error message built from that body never shows a secret whole (an examples
review: `error: HTTP 401 ...'{"x-api-key": "hk-..."}'`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support import API_KEY, SECURE_CODE, unit_profile

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

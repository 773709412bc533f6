"""The sandbox as an HTTP server: gateway answers, HTTP/1.1 handling, faults, control, life."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    API_KEY,
    KEY,
    LOOKUP,
    UPDATE,
    Platform,
    credential_headers,
    running,
    settings,
    txn_id,
)

from wibmo_cli.crypto import IvScheme, TokenCodec, detect, key_interpretations
from wibmo_cli.errors import CryptoError
from wibmo_cli.sandbox import Faults, Sandbox

pytestmark = pytest.mark.e2e


def lookup_payload(**fields: Any) -> dict[str, Any]:
    return {"messageCode": 1930, "clientTxnId": txn_id(), "urn": "389", **fields}


def raw(sandbox: Sandbox, data: bytes, timeout: float = 3.0) -> bytes:
    """Send bytes on a fresh connection and read until the server closes it."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def raw_request(path: str, body: bytes = b"", extra: str = "", version: str = "1.1") -> bytes:
    head = (
        f"POST {path} HTTP/{version}\r\nHost: sandbox\r\nContent-Length: {len(body)}\r\n"
        f"x-api-key: {API_KEY}\r\n{extra}\r\n"
    )
    return head.encode() + body


# -- the gateway -----------------------------------------------------------------------


def test_missing_api_key(platform: Platform) -> None:
    response = platform.send("POST", LOOKUP, lookup_payload(), headers={"clientId": "FintechA"})
    assert response.status_code == 401
    assert response.json() == {"message": "No API key found in request"}


def test_wrong_api_key(platform: Platform) -> None:
    response = platform.send(
        "POST", LOOKUP, lookup_payload(), headers=credential_headers(**{"x-api-key": "nope"})
    )
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid authentication credentials"}


def test_unknown_path(platform: Platform) -> None:
    response = platform.send("POST", "/api/v9/nothing", lookup_payload())
    assert response.status_code == 404
    assert "message" in response.json()


def test_wrong_method(platform: Platform) -> None:
    response = platform.http.get(LOOKUP, headers=credential_headers())
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"


def test_records(sandbox: Sandbox, platform: Platform) -> None:
    txn = txn_id()
    platform.lookup(urn=389, clientTxnId=txn)
    platform.update(urn=389, cardProfileId=30)
    platform.http.get("/elsewhere")
    first, second, third = sandbox.requests
    assert (first.method, first.path, first.api) == ("POST", LOOKUP, "lookup")
    assert (first.client_txn_id, first.status, first.response_code) == (txn, 200, "00")
    assert (second.api, second.response_code) == ("update", "1309")
    assert (third.api, third.status, third.response_code) == ("other", 404, None)


# -- HTTP/1.1 --------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(sandbox: Sandbox) -> None:
    client = Platform(sandbox.url, limits=httpx.Limits(max_connections=1))
    try:
        addresses = set()
        for _ in range(5):
            response = client.send("POST", LOOKUP, lookup_payload())
            assert client.answer(response)["responseCode"] == "00"
            stream = response.extensions["network_stream"]
            addresses.add(stream.get_extra_info("client_addr"))
    finally:
        client.close()
    assert len(addresses) == 1


def test_pipelined_requests_answered_in_order(sandbox: Sandbox) -> None:
    data = (
        raw_request("/nowhere")
        + raw_request("/__sandbox/reset")
        + raw_request("/nowhere", extra="Connection: close\r\n")
    )
    answer = raw(sandbox, data)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)
    assert statuses == [b"404", b"200", b"404"]
    assert answer.count(b"Connection: close") == 1


def test_connection_close_is_honoured(sandbox: Sandbox) -> None:
    answer = raw(sandbox, raw_request("/nowhere", extra="Connection: close\r\n"))
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"Connection: close" in answer


def test_http_10_closes_by_default(sandbox: Sandbox) -> None:
    assert raw(sandbox, raw_request("/nowhere", version="1.0")).startswith(b"HTTP/1.1 404 ")


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET nowhere HTTP/1.1\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: ten\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", b"413"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", b"431"),
    ],
)
def test_bad_requests(sandbox: Sandbox, data: bytes, status: bytes) -> None:
    answer = raw(sandbox, data)
    assert answer.split(b" ")[1] == status
    assert b"Connection: close" in answer


def test_concurrent_requests_all_answered(sandbox: Sandbox) -> None:
    codec = TokenCodec(KEY, IvScheme("zero"))

    async def main() -> list[str]:
        async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as client:

            async def one() -> str:
                token = codec.encrypt_json(lookup_payload())
                response = await client.post(
                    LOOKUP, json={"token": token}, headers=credential_headers()
                )
                return str(codec.decrypt_json(response.json()["token"])["responseCode"])

            return await asyncio.gather(*(one() for _ in range(50)))

    assert asyncio.run(main()) == ["00"] * 50


@pytest.mark.parametrize(
    "iv", ["zero", "key", "prepend", "ecb", "000102030405060708090a0b0c0d0e0f"]
)
def test_every_iv_scheme_round_trips(tmp_path: Path, iv: str) -> None:
    scheme = IvScheme.parse(iv)
    with running(tmp_path / "s.db", iv=scheme) as sandbox:
        client = Platform(sandbox.url, scheme)
        try:
            response = client.send("POST", LOOKUP, lookup_payload())
        finally:
            client.close()
    token = response.json()["token"]
    found = [d for d in detect(token, [("raw", KEY)], (scheme,)) if d.ok]
    assert scheme in {d.scheme for d in found}
    assert TokenCodec(KEY, scheme).decrypt_json(token)["responseCode"] == "00"


# -- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 502, 500])
def test_queued_5xx_is_an_html_page(sandbox: Sandbox, platform: Platform, status: int) -> None:
    sandbox.settings.faults.queue.append(str(status))
    response = platform.send("POST", LOOKUP, lookup_payload())
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html>")
    assert sandbox.requests[-1].fault == str(status)


@pytest.mark.parametrize("status", [429, 401])
def test_queued_4xx_is_small_json(sandbox: Sandbox, platform: Platform, status: int) -> None:
    sandbox.settings.faults.queue.append(str(status))
    response = platform.send("POST", LOOKUP, lookup_payload())
    assert response.status_code == status
    assert set(response.json()) == {"message"}


def test_queue_applies_in_order_then_empties(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.queue.extend(["503", "ok", "429"])
    statuses = [platform.send("POST", LOOKUP, lookup_payload()).status_code for _ in range(4)]
    assert statuses == [503, 200, 429, 200]
    assert sandbox.settings.faults.queue == []


def test_garbage_token_decrypts_under_no_scheme(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.queue.append("garbage")
    response = platform.send("POST", LOOKUP, lookup_payload())
    assert response.status_code == 200
    token = response.json()["token"]
    with pytest.raises(CryptoError):
        platform.codec.decrypt_json(token)
    assert not any(d.ok for d in detect(token, key_interpretations(KEY.hex())))


def test_drop_closes_without_an_answer(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.queue.append("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        platform.send("POST", LOOKUP, lookup_payload())
    assert (sandbox.requests[-1].fault, sandbox.requests[-1].status) == ("drop", 0)
    assert platform.lookup(urn=389)["responseCode"] == "00"  # the next one is fine


def test_hang_then_close(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.hang_seconds = 0.3
    sandbox.settings.faults.queue.append("hang")
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        platform.send("POST", LOOKUP, lookup_payload())
    assert time.monotonic() - started >= 0.25


def test_hang_times_the_client_out_and_stop_is_prompt(tmp_path: Path) -> None:
    sandbox = Sandbox(settings(tmp_path / "s.db", faults=Faults(hang_rate=1.0)))
    sandbox.start()
    client = Platform(sandbox.url, timeout=0.3)
    try:
        with pytest.raises(httpx.ReadTimeout):
            client.send("POST", LOOKUP, lookup_payload())
    finally:
        client.close()
    started = time.monotonic()
    sandbox.stop()
    sandbox.stop()  # idempotent
    assert time.monotonic() - started < 2


def test_fail_rate_with_a_seed_is_reproducible(sandbox: Sandbox, platform: Platform) -> None:
    def run() -> list[int]:
        sandbox.settings.faults.set_from_json({"fail_rate": 0.5, "seed": 42})
        return [platform.send("POST", LOOKUP, lookup_payload()).status_code for _ in range(20)]

    first = run()
    assert set(first) == {200, 503}
    assert run() == first


def test_rates_at_one(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.fail_rate = 1.0
    sandbox.settings.faults.fail_status = 429
    assert platform.send("POST", LOOKUP, lookup_payload()).status_code == 429
    sandbox.settings.faults = Faults(garbage_rate=1.0)
    with pytest.raises(CryptoError):
        platform.answer(platform.send("POST", LOOKUP, lookup_payload()))


def test_latency(sandbox: Sandbox, platform: Platform) -> None:
    sandbox.settings.faults.latency_ms = 200
    started = time.monotonic()
    platform.lookup(urn=389)
    assert time.monotonic() - started >= 0.19


def test_a_faulted_request_is_not_processed(sandbox: Sandbox, platform: Platform) -> None:
    payload = lookup_payload()
    sandbox.settings.faults.queue.append("503")
    assert platform.send("POST", LOOKUP, payload).status_code == 503
    retry = platform.answer(platform.send("POST", LOOKUP, payload))
    assert retry["responseCode"] == "00"  # same clientTxnId: not a duplicate


def test_faults_do_not_apply_to_control_or_unknown_paths(
    sandbox: Sandbox, platform: Platform
) -> None:
    sandbox.settings.faults.queue.append("503")
    assert platform.http.get("/__sandbox/requests").status_code == 200
    assert platform.http.get("/nowhere").status_code == 404
    assert sandbox.settings.faults.queue == ["503"]


# -- control endpoints -----------------------------------------------------------------


def test_control_endpoints(sandbox: Sandbox, platform: Platform) -> None:
    http = platform.http
    txn = txn_id()
    platform.lookup(urn=389, clientTxnId=txn)
    records = http.get("/__sandbox/requests").json()
    assert records[0]["client_txn_id"] == txn
    assert records[0]["api"] == "lookup"
    assert records[0]["response_code"] == "00"

    faults = http.post("/__sandbox/faults", json={"latency_ms": 5, "queue": ["429", "ok"]})
    assert faults.status_code == 200
    assert faults.json()["queue"] == ["429", "ok"]
    assert sandbox.settings.faults.latency_ms == 5
    assert http.get("/__sandbox/faults").json()["latency_ms"] == 5
    assert platform.send("POST", LOOKUP, lookup_payload()).status_code == 429

    for bad in ({"nope": 1}, {"queue": ["boom"]}, {"fail_rate": 2}, {"seed": "x"}, [1]):
        response = http.post("/__sandbox/faults", json=bad)
        assert response.status_code == 400, bad
        assert "message" in response.json()

    assert http.post("/__sandbox/reset").json() == {"ok": True}
    assert sandbox.settings.faults == Faults()
    assert http.get("/__sandbox/requests").json() == []
    assert http.get("/__sandbox/nothing").status_code == 404
    assert http.get("/__sandbox/reset").status_code == 405


# -- running ---------------------------------------------------------------------------


def test_start_fails_when_the_port_is_taken(tmp_path: Path, sandbox: Sandbox) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    other = Sandbox(settings(tmp_path / "other.db"), port=port)
    with pytest.raises(OSError):
        other.start()
    other.stop()


def test_restart_on_the_same_object(tmp_path: Path) -> None:
    sandbox = Sandbox(settings(tmp_path / "s.db"))
    for _ in range(2):
        with sandbox:
            client = Platform(sandbox.url)
            assert client.lookup(urn=389)["responseCode"] == "00"
            client.close()


_SERVE = """
import sys
from pathlib import Path
from wibmo_cli.crypto import IvScheme
from wibmo_cli.sandbox import SandboxSettings, serve
settings = SandboxSettings(key=bytes(range(1, 25)), iv=IvScheme("zero"), api_key="k",
    client_id="c", bank_id="1", secure_code="s", db_path=Path(sys.argv[1]))
serve(settings, port=0, on_ready=lambda url: print(url, flush=True))
print("stopped", flush=True)
"""


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(url + UPDATE, json={}, headers={"x-api-key": "k"})
        assert response.status_code == 405
        process.terminate()
        out, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0
    assert out.strip() == "stopped"


def test_requests_endpoint_is_json_serialisable(sandbox: Sandbox) -> None:
    httpx.get(sandbox.url + "/nowhere")
    body = httpx.get(sandbox.url + "/__sandbox/requests").text
    assert json.loads(body)[0]["path"] == "/nowhere"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_fault_knobs_refuse_numbers_that_are_not_finite(value: float) -> None:
    from wibmo_cli.sandbox import Faults

    with pytest.raises(ValueError, match="finite"):
        Faults().set_from_json({"latency_ms": value})
    with pytest.raises(ValueError, match="finite"):
        Faults().set_from_json({"fail_rate": value})

"""Issue 11: the sandbox's variants, spoken to over raw HTTP on loopback.

Each strict variant answers a client that gets its environment right, and answers as the
platform would one that gets it wrong: another path 404, another method 405, a credential
not where the API wants it the code for that credential missing, another message code
1056. The seed variant stays as lenient as before. The helper endpoints encrypt and
decrypt in the clear, in every variant.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    API_KEY,
    BANK_ID,
    CLIENT_ID,
    KEY,
    SECURE_CODE,
    Invoke,
    codec,
    running,
    signal_and_wait,
    start_capped,
    txn_id,
)

from wibmo_cli.crypto import IvScheme, TokenCodec, decode_base64
from wibmo_cli.sandbox import Faults, Sandbox
from wibmo_cli.sandbox.variants import (
    GITBOOK,
    LOOKUP_PATHS,
    MOB1,
    SEED,
    UPDATE_PATHS,
    V3,
    VARIANTS,
    WALLET,
    Variant,
    by_name,
)

pytestmark = pytest.mark.e2e

CONSUMER = "qa-consumer-7"
STRICT = (MOB1, V3, GITBOOK, WALLET)
KNOWN_PATHS = {
    path
    for v in VARIANTS.values()
    for path in (*v.lookup.paths, *v.update.paths, *v.encrypt_paths, *v.decrypt_paths)
}


def placed(
    where: str, *, consumer: str | None = CONSUMER, **override: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, JSON body fields): x-api-key in a header, the credentials `where`."""
    creds: dict[str, str | None] = {
        "clientId": CLIENT_ID,
        "bankId": BANK_ID,
        "entityId": "100",
        "secureCode": SECURE_CODE,
        "X-Consumer-Custom-ID": consumer,
    }
    creds.update(override)
    present = {name: value for name, value in creds.items() if value is not None}
    if where == "headers":
        return {"x-api-key": API_KEY, **present}, {}
    return {"x-api-key": API_KEY}, present


def payload(variant: Variant, api: str, **fields: Any) -> dict[str, Any]:
    """A request the variant answers with success (the documents' sample customer)."""
    base: dict[str, Any] = {
        "messageCode": variant.api(api).message_codes[0],
        "clientTxnId": txn_id(),
        "requestDateTime": "20240101120000",
        "urn": "389",
    }
    if api == "update":
        city = "cardholderCity" if variant.update_fields == "table" else "city"
        base.update({"cardProfileId": "150", city: "Pune"})
    return {**base, **fields}


class Client:
    """Raw HTTP to one sandbox: the payload encrypted, everything else as told."""

    def __init__(self, sandbox: Sandbox, variant: Variant) -> None:
        self.variant = variant
        self.codec = codec()
        self.http = httpx.Client(base_url=sandbox.url, timeout=5.0)

    def send(
        self,
        api: str,
        *,
        where: str | None = None,
        method: str | None = None,
        path: str | None = None,
        credentials: tuple[dict[str, str], dict[str, str]] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        """The API called the variant's way, but for what is named."""
        served = self.variant.api(api)
        headers, body = credentials or placed(where or served.credentials or "headers")
        body = {"token": self.codec.encrypt_json(payload(self.variant, api, **fields)), **body}
        return self.http.request(
            method or served.method, path or served.paths[0], json=body, headers=headers
        )

    def answer(self, response: httpx.Response) -> dict[str, Any]:
        """The decrypted answer, from under the variant's envelope key."""
        assert response.status_code == 200, response.text
        wrapped = response.json()
        assert list(wrapped) == [self.variant.envelope], wrapped
        value = self.codec.decrypt_json(wrapped[self.variant.envelope])
        assert isinstance(value, dict)
        return value

    def code(self, api: str, **send: Any) -> str:
        return str(self.answer(self.send(api, **send))["responseCode"])


@pytest.fixture
def serve(db_path: Path) -> Iterator[Any]:
    """`serve(variant, **settings)` -> a Client of a sandbox serving that variant."""
    opened: list[Any] = []

    def start(variant: Variant, **extra: Any) -> Client:
        context = running(db_path, variant=variant, **extra)
        sandbox = context.__enter__()
        opened.append(context)
        client = Client(sandbox, variant)
        opened.append(client.http)
        return client

    yield start
    for item in reversed(opened):
        if isinstance(item, httpx.Client):
            item.close()
        else:
            item.__exit__(None, None, None)


# -- a client that gets the environment right ------------------------------------------------


@pytest.mark.parametrize("variant", [SEED, *STRICT], ids=lambda v: v.name)
@pytest.mark.parametrize("api", ["lookup", "update"])
def test_each_variant_answers_a_client_that_gets_it_right(
    serve: Any, variant: Variant, api: str
) -> None:
    client = serve(variant)
    answer = client.answer(client.send(api))
    assert answer["responseCode"] == variant.success_code
    assert answer["messageCode"] == int(variant.api(api).message_codes[0]) + 1


def test_mob1_retrieve_is_3422_answered_3423(serve: Any) -> None:
    client = serve(MOB1)
    answer = client.answer(client.send("lookup"))
    assert (answer["messageCode"], answer["responseCode"]) == (3423, "00")
    assert answer["cardList"][0]["urn"] == 389


def test_v3_wants_the_body_for_retrieve_and_headers_for_update(serve: Any) -> None:
    client = serve(V3)
    assert client.code("lookup", where="body") == "00"
    assert client.code("update", where="headers") == "00"
    assert client.code("lookup", where="headers") == "1262"
    assert client.code("update", where="body") == "1262"


# -- and one that gets it wrong --------------------------------------------------------------


@pytest.mark.parametrize("variant", STRICT, ids=lambda v: v.name)
def test_a_path_of_another_environment_is_the_gateways_404(serve: Any, variant: Variant) -> None:
    client = serve(variant)
    own = {*variant.lookup.paths, *variant.update.paths}
    own |= {*variant.encrypt_paths, *variant.decrypt_paths}
    for path in sorted(KNOWN_PATHS - own):
        response = client.send("lookup", path=path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "no Route matched with those values"}


def test_a_strict_variant_ignores_the_paths_a_profile_adds(serve: Any) -> None:
    """The seed also answers at the profile's own path (endpoint.sandbox_settings adds it);
    a strict variant answers at its own paths only, so a wrong lookup_path shows."""
    extra = {"lookup_paths": ("/custom/retrieve", *LOOKUP_PATHS)}
    assert serve(SEED, **extra).code("lookup", path="/custom/retrieve") == "00"
    assert serve(V3, **extra).send("lookup", path="/custom/retrieve").status_code == 404


@pytest.mark.parametrize(
    ("variant", "wrong"), [(GITBOOK, "PATCH"), (V3, "POST"), (MOB1, "POST"), (WALLET, "PATCH")]
)
def test_another_update_method_is_405(serve: Any, variant: Variant, wrong: str) -> None:
    response = serve(variant).send("update", method=wrong)
    assert response.status_code == 405
    assert response.headers["allow"] == variant.update.method
    assert response.json() == {"message": "Method Not Allowed"}


def test_the_seed_still_takes_patch_only(serve: Any) -> None:
    assert serve(SEED).send("update", method="POST").status_code == 405


@pytest.mark.parametrize(
    ("variant", "api", "credential", "code"),
    [
        (V3, "lookup", "clientId", "1262"),
        (V3, "lookup", "bankId", "1264"),
        (V3, "lookup", "secureCode", "1311"),
        (V3, "lookup", "X-Consumer-Custom-ID", "1310"),
        (V3, "update", "clientId", "1262"),
        (V3, "update", "X-Consumer-Custom-ID", "1310"),
        (MOB1, "lookup", "bankId", "1264"),
        (MOB1, "update", "X-Consumer-Custom-ID", "1310"),
        (GITBOOK, "update", "secureCode", "1311"),
        (WALLET, "lookup", "clientId", "1262"),
    ],
)
def test_one_credential_in_the_wrong_place_is_that_credential_missing(
    serve: Any, variant: Variant, api: str, credential: str, code: str
) -> None:
    """Everything where the API wants it but one credential, which travels the other way."""
    client = serve(variant)
    where = variant.api(api).credentials
    assert where is not None
    headers, body = placed(where)
    moved = headers.pop(credential, None) or body.pop(credential)
    (body if where == "headers" else headers)[credential] = moved
    assert client.code(api, credentials=(headers, body)) == code


@pytest.mark.parametrize("variant", [MOB1, V3], ids=lambda v: v.name)
@pytest.mark.parametrize("api", ["lookup", "update"])
def test_a_variant_that_wants_the_consumer_id_on_every_call_refuses_none(
    serve: Any, variant: Variant, api: str
) -> None:
    client = serve(variant)
    where = variant.api(api).credentials or "headers"
    assert client.code(api, credentials=placed(where, consumer=None)) == "1310"


def test_the_settings_consumer_id_is_the_only_one_taken(serve: Any) -> None:
    client = serve(V3, consumer_custom_id=CONSUMER)
    assert client.code("lookup") == "00"
    assert client.code("lookup", credentials=placed("body", consumer="someone-else")) == "1310"


def test_gitbook_takes_no_consumer_id_unless_the_settings_name_one(serve: Any) -> None:
    assert serve(GITBOOK).code("lookup", credentials=placed("headers", consumer=None)) == "00"


def test_the_seed_takes_either_placement_on_every_known_path(serve: Any) -> None:
    client = serve(SEED)
    for path in LOOKUP_PATHS:
        for where in ("headers", "body"):
            assert client.code("lookup", path=path, where=where) == "00", (path, where)
    for path in UPDATE_PATHS:
        assert client.code("update", path=path, where="body") == "00", path


@pytest.mark.parametrize(
    ("variant", "api", "sent", "code"),
    [
        (MOB1, "lookup", "1930", "1056"),
        (V3, "lookup", "3422", "1056"),
        (V3, "update", "1080", "1056"),
        (GITBOOK, "update", "1190", "1056"),
        (SEED, "lookup", "3422", "1055"),
        (SEED, "update", "1190", "1055"),
    ],
)
def test_another_message_code_is_1056_and_the_seed_keeps_1055(
    serve: Any, variant: Variant, api: str, sent: str, code: str
) -> None:
    assert serve(variant).code(api, messageCode=sent) == code


@pytest.mark.parametrize("variant", [SEED, MOB1], ids=lambda v: v.name)
def test_1080_is_taken_where_the_update_document_allows(serve: Any, variant: Variant) -> None:
    client = serve(variant)
    answer = client.answer(client.send("update", messageCode="1080"))
    assert (answer["responseCode"], answer["messageCode"]) == ("00", 1081)


# -- envelopes and success codes -------------------------------------------------------------


def test_the_wallet_answers_result_with_0000_and_errors_as_they_are(serve: Any) -> None:
    client = serve(WALLET)
    response = client.send("lookup")
    assert list(response.json()) == ["result"]
    assert client.answer(response)["responseCode"] == "0000"
    assert client.code("update") == "0000"
    assert client.code("lookup", urn="999999") == "1303"


def test_an_encdata_envelope(serve: Any) -> None:
    client = serve(dataclasses.replace(V3, name="v3-encdata", envelope="encdata"))
    response = client.send("lookup")
    assert list(response.json()) == ["encdata"]
    assert client.answer(response)["responseCode"] == "00"


def test_gateway_refusals_are_never_wrapped(serve: Any) -> None:
    client = serve(WALLET)
    response = client.send("lookup", credentials=({"clientId": CLIENT_ID}, {}))
    assert response.status_code == 401
    assert response.json() == {"message": "No API key found in request"}


def test_a_variant_has_a_known_envelope() -> None:
    with pytest.raises(ValueError, match="envelope 'data'"):
        dataclasses.replace(SEED, envelope="data")


# -- the helper endpoints --------------------------------------------------------------------

PLAINTEXT = {"messageCode": "1930", "clientTxnId": "CAL-1", "urn": "389"}


def helper(
    client: Client, kind: str, body: Any, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    path = (client.variant.encrypt_paths if kind == "encrypt" else client.variant.decrypt_paths)[0]
    if headers is None:
        headers = placed("headers")[0] if kind == "encrypt" else {"x-api-key": API_KEY}
    return client.http.post(path, content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize("variant", [SEED, *STRICT], ids=lambda v: v.name)
def test_encrypt_then_decrypt_through_the_helpers(serve: Any, variant: Variant) -> None:
    client = serve(variant)
    encrypted = helper(client, "encrypt", PLAINTEXT)
    assert encrypted.status_code == 200, encrypted.text
    assert list(encrypted.json()) == ["token"]
    token = encrypted.json()["token"]
    assert client.codec.decrypt_json(token) == PLAINTEXT
    decrypted = helper(client, "decrypt", {"token": token})
    assert (decrypted.status_code, decrypted.json()) == (200, PLAINTEXT)


def test_the_helpers_use_the_sandboxs_iv_scheme(db_path: Path) -> None:
    """A prepend sandbox's token is one block longer than its padded plaintext."""
    with running(db_path, iv="prepend") as sandbox:
        client = Client(sandbox, SEED)
        try:
            token = helper(client, "encrypt", PLAINTEXT).json()["token"]
        finally:
            client.http.close()
    assert TokenCodec(KEY, IvScheme("prepend")).decrypt_json(token) == PLAINTEXT
    compact = len(json.dumps(PLAINTEXT, separators=(",", ":")))
    assert len(decode_base64(token)) == (compact // 16 + 1) * 16 + 16


def test_the_helpers_are_at_the_variants_own_paths(serve: Any) -> None:
    client = serve(MOB1)
    assert client.variant.encrypt_paths == ("/mob1/api/v2/encrypt",)
    headers = placed("headers")[0]
    elsewhere = client.http.post("/api/v2/encrypt", json=PLAINTEXT, headers=headers)
    assert elsewhere.status_code == 404
    seed = serve(SEED)
    for path in ("/api/v2/encrypt", "/mob1/api/v2/encrypt"):
        assert seed.http.post(path, json=PLAINTEXT, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("variant", "missing", "message"),
    [
        (SEED, "clientId", "1262 CLIENT ID NOT PRESENT IN THE REQUEST"),
        (SEED, "secureCode", "1311 SECURE CODE NOT PRESENT IN REQUEST"),
        (V3, "X-Consumer-Custom-ID", "1310 XCONSUMERKEY NOT PRESENT IN REQUEST"),
    ],
)
def test_encrypt_wants_every_credential_in_headers(
    serve: Any, variant: Variant, missing: str, message: str
) -> None:
    client = serve(variant)
    headers = placed("headers", **{missing: None})[0]
    response = helper(client, "encrypt", PLAINTEXT, headers=headers)
    assert (response.status_code, response.json()) == (400, {"message": message})


def test_decrypt_wants_only_the_api_key(serve: Any) -> None:
    client = serve(V3)
    token = client.codec.encrypt_json(PLAINTEXT)
    assert helper(client, "decrypt", {"token": token}).json() == PLAINTEXT
    refused = helper(client, "decrypt", {"token": token}, headers={})
    assert (refused.status_code, refused.json()) == (
        401,
        {"message": "No API key found in request"},
    )


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("decrypt", {"token": "bm90IGEgdG9rZW4="}, "does not decrypt to JSON"),
        ("decrypt", {"token": TokenCodec(b"x" * 24, IvScheme("zero")).encrypt(b"{}")}, "decrypt"),
        ("decrypt", {"token": codec().encrypt(b"not json")}, "does not decrypt to JSON"),
        ("decrypt", {"nothing": 1}, '{"token": "..."}'),
        ("decrypt", ["token"], '{"token": "..."}'),
        ("encrypt", ["a", "list"], "JSON object to encrypt"),
        ("encrypt", "text", "JSON object to encrypt"),
    ],
)
def test_what_a_helper_cannot_serve_is_a_400_message(
    serve: Any, kind: str, body: Any, message: str
) -> None:
    response = helper(serve(SEED), kind, body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_helper_takes_post_only(serve: Any) -> None:
    client = serve(SEED)
    response = client.http.get("/api/v2/decrypt", headers={"x-api-key": API_KEY})
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_helpers_are_recorded_as_helper_and_never_faulted(db_path: Path) -> None:
    faults = Faults(queue=["503"], latency_ms=0)
    with running(db_path, faults=faults, variant=V3) as sandbox:
        client = Client(sandbox, V3)
        try:
            assert helper(client, "encrypt", PLAINTEXT).status_code == 200
            assert client.send("lookup").status_code == 503  # the queued fault, still there
        finally:
            client.http.close()
    assert [(r.api, r.path, r.fault) for r in sandbox.requests] == [
        ("helper", "/api/v2/encrypt", None),
        ("lookup", V3.lookup.paths[0], "503"),
    ]


# -- status and the command ------------------------------------------------------------------


def test_the_status_endpoint_shows_the_variant(serve: Any) -> None:
    client = serve(V3)
    status = client.http.get("/__sandbox/status").json()
    assert status["variant"] == V3.to_json()
    assert status["variant"]["lookup"]["credentials"] == "body"
    assert status["shape"] == "cardList"


def test_variant_names_are_known() -> None:
    assert by_name("v3") is V3
    with pytest.raises(ValueError, match="known: seed, mob1, v3, gitbook, wallet"):
        by_name("v4")


def test_variant_list(cli: Invoke) -> None:
    result = cli("sandbox", "--variant", "list")
    assert result.exit_code == 0, result.stderr
    names = [line.split(":")[0] for line in result.stdout.splitlines() if not line[:1].isspace()]
    assert names == list(VARIANTS)
    assert "lookup: POST /uat/sbx/api/onboarding/v3/retrieveCustRecord" in result.stdout
    as_json = cli("-o", "json", "sandbox", "--variant", "list")
    assert json.loads(as_json.stdout) == [v.to_json() for v in VARIANTS.values()]


def test_the_help_names_every_variant(cli: Invoke) -> None:
    text = " ".join(cli("sandbox", "--help").stdout.split())
    for name in VARIANTS:
        assert name in text


def test_an_unknown_variant_is_one_line_exit_2(cli: Invoke) -> None:
    result = cli("sandbox", "--variant", "v4", "--port", "0")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --variant: unknown variant 'v4'; known: seed, mob1, v3, gitbook, wallet (or list)"
    ]


def test_wibmo_sandbox_serves_the_variant_asked_for(tmp_path: Path) -> None:
    args = ("sandbox", "--port", "0", "--variant", "v3", "--db", str(tmp_path / "v3.db"))
    process = start_capped(args, limit_memory=False)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), url
        status = httpx.get(url + "/__sandbox/status", timeout=5).json()
        seed_path = httpx.post(url + LOOKUP_PATHS[0], json={}, headers={"x-api-key": "x"})
    finally:
        _, err = signal_and_wait(process, signal.SIGTERM)
    assert status["variant"]["name"] == "v3"
    assert seed_path.status_code == 404
    assert b"(v3 variant)" in err and b"Traceback" not in err

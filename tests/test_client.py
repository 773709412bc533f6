"""`Client` against `httpx.MockTransport`: placement, retries, failures, traces. No network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from support import API_KEY, ENCRYPTION_KEY, SECURE_CODE, unit_profile

from wibmo_cli.client import Client, Exchange
from wibmo_cli.crypto import TokenCodec
from wibmo_cli.errors import (
    ConfigError,
    CryptoError,
    ExitStatus,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
)
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.profiles import Profile, resolve

BASE_URL = "https://pp.test"
LOOKUP_URL = BASE_URL + "/api/v2/customer/retrieveCustRecord"
UPDATE_URL = BASE_URL + "/mob1/api/onboarding/v1/updateProfile"
CREDENTIAL_NAMES = ("clientId", "bankId", "entityId", "secureCode")
SUCCESS = {
    "cardList": [
        {
            "firstName": "ABC",
            "urn": 389,
            "docList": [
                {"docNumber": "ABCDE1234A", "docType": "Pancard"},
                {"docNumber": "1234 5678 6015", "docType": "Aadhar"},
            ],
        }
    ],
    "responseCode": "00",
    "responseMessage": "SUCCESS",
}
HTML_503 = (
    b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
    b"<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)

T = TypeVar("T")


def make_profile(**override: Any) -> Profile:
    return unit_profile(BASE_URL, **{"retries": 2, **override})


def codec_of(profile: Profile) -> TokenCodec:
    return profile.codec()


@dataclass
class Server:
    """A scripted platform: each request gets the next reply (or raises the next error)."""

    profile: Profile
    replies: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]]
    requests: list[httpx.Request] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)

    def client(self, *, trace: bool = False) -> Client:
        return Client(
            self.profile,
            BASE_URL,
            transport=httpx.MockTransport(self.handler),
            sleep=self.sleep,
            trace=self.trace.append if trace else None,
        )

    def body(self, index: int = -1) -> dict[str, Any]:
        value = json.loads(self.requests[index].content)
        assert isinstance(value, dict)
        return value

    def payload(self, index: int = -1) -> dict[str, Any]:
        value = codec_of(self.profile).decrypt_json(self.body(index)["token"])
        assert isinstance(value, dict)
        return value

    def txn_ids(self) -> list[str]:
        return [str(self.payload(i)["clientTxnId"]) for i in range(len(self.requests))]


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def answer(
    profile: Profile, value: Any = None, status: int = 200, **headers: str
) -> httpx.Response:
    token = codec_of(profile).encrypt_json(SUCCESS if value is None else value)
    return httpx.Response(status, json={"token": token}, headers=headers)


def page(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=HTML_503, headers={"content-type": "text/html", **headers}
    )


def payload() -> dict[str, Any]:
    return lookup_payload(Identifiers.parse(mobile="9897123456"))


async def do_lookup(server: Server, body: dict[str, Any] | None = None, **kw: Any) -> Exchange:
    async with server.client(**kw) as client:
        return await client.lookup(body or payload())


async def do_update(server: Server, body: dict[str, Any], **kw: Any) -> Exchange:
    async with server.client(**kw) as client:
        return await client.update(body)


# -- where the credentials go --------------------------------------------------------


def test_headers_placement_puts_every_credential_in_headers_and_only_the_token_in_the_body() -> (
    None
):
    profile = make_profile()
    server = Server(profile, [answer(profile)])
    sent = payload()
    exchange = run(do_lookup(server, sent))
    request = server.requests[0]
    assert request.method == "POST"
    assert str(request.url) == LOOKUP_URL
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["clientId"] == "FintechA"
    assert request.headers["bankId"] == "2010"
    assert request.headers["entityId"] == "100"
    assert request.headers["secureCode"] == SECURE_CODE
    assert request.headers["content-type"] == "application/json"
    assert "X-Consumer-Custom-ID" not in request.headers
    assert list(server.body()) == ["token"]
    assert server.payload() == sent
    assert exchange.answer == SUCCESS
    assert exchange.status == 200
    assert exchange.attempts == 1
    assert exchange.client_txn_id == sent["clientTxnId"]


def test_body_placement_keeps_only_the_api_key_in_headers() -> None:
    profile = make_profile(credentials="body", consumer_custom_id="CUST-77", entity_id="200")
    server = Server(profile, [answer(profile)])
    sent = payload()
    run(do_lookup(server, sent))
    request = server.requests[0]
    assert request.headers["x-api-key"] == API_KEY
    for name in (*CREDENTIAL_NAMES, "X-Consumer-Custom-ID"):
        assert name not in request.headers, name
    body = server.body()
    assert body["clientId"] == "FintechA"
    assert body["bankId"] == "2010"
    assert body["entityId"] == "200"
    assert body["secureCode"] == SECURE_CODE
    assert body["X-Consumer-Custom-ID"] == "CUST-77"
    assert server.payload() == sent  # the token carries the payload, not the credentials


def test_consumer_custom_id_goes_in_headers_when_credentials_do() -> None:
    profile = make_profile(consumer_custom_id="CUST-77")
    server = Server(profile, [answer(profile)])
    run(do_lookup(server))
    assert server.requests[0].headers["X-Consumer-Custom-ID"] == "CUST-77"
    assert list(server.body()) == ["token"]


@pytest.mark.parametrize(
    "iv", ["zero", "key", "prepend", "ecb", "000102030405060708090a0b0c0d0e0f"]
)
def test_the_token_decrypts_to_the_payload_under_every_iv_scheme(iv: str) -> None:
    profile = make_profile(iv=iv)
    server = Server(profile, [answer(profile)])
    sent = payload()
    exchange = run(do_lookup(server, sent))
    assert server.payload() == sent
    assert exchange.answer == SUCCESS


def test_a_missing_secret_is_a_config_error_before_anything_is_sent() -> None:
    profile = resolve(
        "unit",
        {
            "base_url": BASE_URL,
            "client_id": "FintechA",
            "bank_id": "2010",
            "api_key": "${NOT_SET_ANYWHERE}",
            "secure_code": SECURE_CODE,
            "encryption_key": ENCRYPTION_KEY,
        },
        {},
        source="test",
    )
    with pytest.raises(ConfigError, match=r"api_key .*NOT_SET_ANYWHERE") as caught:
        Client(profile, BASE_URL, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    assert caught.value.exit_status == ExitStatus.CONFIG


# -- lookup retries ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 502, 504, 429])
def test_lookup_retries_transient_statuses_with_a_fresh_txn_id(status: int) -> None:
    profile = make_profile()
    server = Server(profile, [page(status), page(status), answer(profile)])
    exchange = run(do_lookup(server))
    assert len(server.requests) == 3
    ids = server.txn_ids()
    assert len(set(ids)) == 3, ids
    assert exchange.client_txn_id == ids[-1]
    assert exchange.attempts == 3
    assert exchange.answer == SUCCESS
    # backoff without real sleeping: two waits, the second longer than the first
    assert len(server.delays) == 2
    assert 0.3 <= server.delays[0] <= 0.7
    assert server.delays[1] > server.delays[0]


def test_retry_after_is_honoured_and_capped() -> None:
    profile = make_profile()
    server = Server(
        profile,
        [
            httpx.Response(
                429, json={"message": "API rate limit exceeded"}, headers={"Retry-After": "3"}
            ),
            page(503, **{"Retry-After": "3600"}),
            answer(profile),
        ],
    )
    run(do_lookup(server))
    assert server.delays == [3.0, 10.0]  # every wait within MAX_RETRY_WAIT


def test_lookup_gives_up_after_retries_with_an_http_status_error() -> None:
    profile = make_profile(retries=2)
    server = Server(profile, [page(503)])
    with pytest.raises(HTTPStatusError) as caught:
        run(do_lookup(server))
    assert len(server.requests) == 3
    assert len(server.delays) == 2
    assert caught.value.status == 503
    assert caught.value.exit_status == ExitStatus.HTTP
    assert "HTTP 503" in caught.value.message
    assert "an HTML page (503 Service Temporarily Unavailable)" in caught.value.message


def test_retries_zero_means_one_attempt() -> None:
    profile = make_profile(retries=0)
    server = Server(profile, [page(502)])
    with pytest.raises(HTTPStatusError, match="HTTP 502"):
        run(do_lookup(server))
    assert len(server.requests) == 1
    assert server.delays == []


def test_a_500_is_not_retried() -> None:
    profile = make_profile()
    server = Server(profile, [page(500), answer(profile)])
    with pytest.raises(HTTPStatusError, match="HTTP 500"):
        run(do_lookup(server))
    assert len(server.requests) == 1


def test_connect_errors_are_retried_then_a_network_error() -> None:
    profile = make_profile(retries=2)
    server = Server(profile, [httpx.ConnectError("[Errno 111] Connection refused")])
    with pytest.raises(NetworkError) as caught:
        run(do_lookup(server))
    assert len(server.requests) == 3
    assert len(server.delays) == 2
    assert caught.value.exit_status == ExitStatus.NETWORK
    assert "connection refused by pp.test" in caught.value.message


def test_a_connect_error_then_success_is_a_success() -> None:
    profile = make_profile()
    server = Server(
        profile,
        [
            httpx.ConnectError("[Errno 111] Connection refused"),
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            answer(profile),
        ],
    )
    exchange = run(do_lookup(server))
    assert exchange.attempts == 3
    assert len(set(server.txn_ids())) == 3


def test_a_dropped_connection_is_retried_then_reported() -> None:
    profile = make_profile(retries=1)
    server = Server(profile, [httpx.RemoteProtocolError("Server disconnected")])
    with pytest.raises(NetworkError, match="closed the connection without an answer"):
        run(do_lookup(server))
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        httpx.WriteError("[Errno 32] Broken pipe"),
    ],
    ids=["reset", "broken-pipe"],
)
def test_a_reset_connection_is_a_dropped_connection_and_retried(error: Exception) -> None:
    profile = make_profile()
    server = Server(profile, [error, answer(profile)])
    exchange = run(do_lookup(server))
    assert exchange.attempts == 2
    assert len(server.delays) == 1


def test_a_reset_on_update_is_outcome_unknown_not_retried() -> None:
    profile = make_profile()
    server = Server(profile, [httpx.ReadError("[Errno 104] Connection reset by peer")])
    with pytest.raises(OutcomeUnknownError, match="WUPDATE0000001"):
        run(do_update(server, update_payload()))
    assert len(server.requests) == 1


def test_a_tls_failure_is_not_retried() -> None:
    profile = make_profile()
    server = Server(
        profile, [httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")]
    )
    with pytest.raises(NetworkError, match=r"TLS with pp\.test"):
        run(do_lookup(server))
    assert len(server.requests) == 1


def test_a_lookup_read_timeout_is_a_network_error_naming_the_timeout() -> None:
    profile = make_profile(timeout=2.5)
    server = Server(profile, [httpx.ReadTimeout("timed out")])
    with pytest.raises(NetworkError, match=r"no answer from pp.test within 2.5s \(timeout\)"):
        run(do_lookup(server))


# -- update: at most once ---------------------------------------------------------------


def update_payload() -> dict[str, Any]:
    return {
        "messageCode": 1280,
        "clientTxnId": "WUPDATE0000001",
        "requestDateTime": "20240101120000",
        "urn": "389",
        "docNumber": "ABCDE1234A",
        "docType": "Pancard",
    }


def test_update_is_sent_with_patch_and_answered() -> None:
    profile = make_profile()
    server = Server(
        profile, [answer(profile, {"responseCode": "00", "clientTxnId": "WUPDATE0000001"})]
    )
    exchange = run(do_update(server, update_payload()))
    assert server.requests[0].method == "PATCH"
    assert str(server.requests[0].url) == UPDATE_URL
    assert server.payload() == update_payload()
    assert exchange.client_txn_id == "WUPDATE0000001"
    assert exchange.attempts == 1


def test_update_is_never_retried_on_503() -> None:
    profile = make_profile(retries=5)
    server = Server(profile, [page(503), answer(profile)])
    with pytest.raises(OutcomeUnknownError) as caught:  # a 5xx may have been applied
        run(do_update(server, update_payload()))
    assert len(server.requests) == 1
    assert server.delays == []
    assert "HTTP 503" in caught.value.message
    assert caught.value.exit_status == ExitStatus.NETWORK


def test_update_read_timeout_is_outcome_unknown_with_the_txn_id() -> None:
    profile = make_profile(retries=5)
    server = Server(profile, [httpx.ReadTimeout("timed out"), answer(profile)])
    with pytest.raises(OutcomeUnknownError) as caught:
        run(do_update(server, update_payload()))
    assert len(server.requests) == 1
    assert caught.value.client_txn_id == "WUPDATE0000001"
    assert "WUPDATE0000001" in caught.value.message
    assert "may or may not have been applied" in caught.value.message
    assert caught.value.exit_status == ExitStatus.NETWORK


def test_update_dropped_connection_is_outcome_unknown() -> None:
    profile = make_profile()
    server = Server(profile, [httpx.RemoteProtocolError("Server disconnected")])
    with pytest.raises(OutcomeUnknownError):
        run(do_update(server, update_payload()))
    assert len(server.requests) == 1


def test_update_connect_error_says_nothing_was_sent() -> None:
    profile = make_profile(retries=5)
    server = Server(profile, [httpx.ConnectError("[Errno 111] Connection refused")])
    with pytest.raises(NetworkError) as caught:
        run(do_update(server, update_payload()))
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert len(server.requests) == 1
    assert "nothing was sent" in caught.value.message
    assert caught.value.exit_status == ExitStatus.NETWORK


# -- what came back instead of an answer -------------------------------------------------


def test_401_plain_json_mentions_the_api_key() -> None:
    profile = make_profile()
    server = Server(
        profile, [httpx.Response(401, json={"message": "Invalid authentication credentials"})]
    )
    with pytest.raises(HTTPStatusError) as caught:
        run(do_lookup(server))
    assert len(server.requests) == 1  # a 401 is not retried
    assert caught.value.status == 401
    assert caught.value.exit_status == ExitStatus.HTTP
    assert "HTTP 401" in caught.value.message
    assert "'Invalid authentication credentials'" in caught.value.message
    assert "x-api-key" in caught.value.message
    assert API_KEY not in str(caught.value)


def test_an_html_error_page_is_described_as_one() -> None:
    profile = make_profile(retries=0)
    server = Server(profile, [page(503)])
    with pytest.raises(HTTPStatusError) as caught:
        run(do_lookup(server))
    assert "an HTML page (503 Service Temporarily Unavailable)" in caught.value.message
    assert "<html" not in caught.value.message


def test_an_error_status_with_an_undecryptable_token_is_an_http_error() -> None:
    profile = make_profile(retries=0)
    server = Server(profile, [httpx.Response(502, json={"token": "bm90IGEgdG9rZW4="})])
    with pytest.raises(HTTPStatusError, match="HTTP 502"):
        run(do_lookup(server))


def test_an_error_status_with_a_decryptable_answer_is_the_answer() -> None:
    profile = make_profile()
    failure = {"responseCode": "1055", "responseMessage": "MALFORMED REQUEST"}
    server = Server(profile, [answer(profile, failure, status=400)])
    exchange = run(do_lookup(server))
    assert exchange.answer == failure
    assert exchange.status == 400


def test_200_with_an_undecryptable_token_is_a_crypto_error() -> None:
    profile = make_profile()
    other = make_profile(encryption_key="another-key-of-24-chars!")
    server = Server(profile, [answer(other)])
    with pytest.raises(CryptoError) as caught:
        run(do_lookup(server))
    assert caught.value.exit_status == ExitStatus.CRYPTO
    assert "could not be decrypted" in caught.value.message
    assert "HTTP 200" in caught.value.message


def test_200_with_a_token_that_is_not_whole_blocks_is_a_crypto_error() -> None:
    profile = make_profile()
    server = Server(
        profile,
        [
            httpx.Response(
                200, json={"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}
            )
        ],
    )
    with pytest.raises(CryptoError, match="could not be decrypted"):
        run(do_lookup(server))


@pytest.mark.parametrize(
    ("content", "described"),
    [
        (b'{"message": "all fine"}', "'all fine'"),
        (b"<!DOCTYPE html><html><title>Login</title></html>", "an HTML page (Login)"),
        (b"", "an empty body"),
        (b"plain words", "'plain words'"),
    ],
)
def test_200_without_a_token_is_a_crypto_error_describing_the_body(
    content: bytes, described: str
) -> None:
    profile = make_profile()
    server = Server(profile, [httpx.Response(200, content=content)])
    with pytest.raises(CryptoError) as caught:
        run(do_lookup(server))
    assert 'not a {"token": ...} answer' in caught.value.message
    assert described in caught.value.message
    assert caught.value.exit_status == ExitStatus.CRYPTO


def test_a_token_that_decrypts_to_a_list_is_a_crypto_error() -> None:
    profile = make_profile()
    server = Server(profile, [answer(profile, [1, 2, 3])])
    with pytest.raises(CryptoError, match="not a JSON object"):
        run(do_lookup(server))


# -- -v traces --------------------------------------------------------------------------


def _secrets_absent(lines: list[str], profile: Profile) -> None:
    text = "\n".join(lines)
    key = profile.key_bytes()
    for secret in (API_KEY, SECURE_CODE, ENCRYPTION_KEY, key.hex()):
        assert secret not in text, secret
    assert "ABCDE1234A" not in text
    assert "1234 5678 6015" not in text


@pytest.mark.parametrize("credentials", ["headers", "body"])
def test_trace_shows_the_exchange_without_secrets_and_masks_documents(credentials: str) -> None:
    profile = make_profile(credentials=credentials)
    server = Server(profile, [page(503, **{"Retry-After": "1"}), answer(profile)])
    run(do_lookup(server, trace=True))
    lines = server.trace
    _secrets_absent(lines, profile)
    text = "\n".join(lines)
    assert f"> POST {LOOKUP_URL}" in lines
    assert "> x-api-key: ****" + API_KEY[-4:] in lines
    assert any(line.startswith("< HTTP 503") for line in lines)
    assert "< body: an HTML page (503 Service Temporarily Unavailable)" in lines
    assert any(line.startswith("* retrying in 1.0s after HTTP 503") for line in lines)
    assert any(line.startswith("< HTTP 200") for line in lines)
    assert "******234A" in text  # the decrypted answer, masked
    assert "**** **** 6015" in text
    assert '"customerMobile": "919897123456"' in text
    if credentials == "body":
        assert '"secureCode": "****' + SECURE_CODE[-4:] + '"' in text
    else:
        assert "> secureCode: ****" + SECURE_CODE[-4:] in lines
        assert "> clientId: FintechA" in lines


def test_update_trace_masks_document_numbers_in_the_request() -> None:
    profile = make_profile()
    server = Server(profile, [answer(profile, {"responseCode": "00"})])
    run(do_update(server, update_payload(), trace=True))
    _secrets_absent(server.trace, profile)
    assert any("******234A" in line and line.startswith("> decrypted:") for line in server.trace)


def test_no_trace_when_not_asked() -> None:
    profile = make_profile()
    server = Server(profile, [answer(profile)])
    run(do_lookup(server))
    assert server.trace == []

"""Issue 11, item 6: answers in every envelope, and `decrypt` of the same bodies.

An answer is a token under "token", "result" or "encdata" (crypto.ENVELOPE_KEYS), or
plain JSON with a responseCode (the platform's decrypt helper, some proxies). The
client on httpx.MockTransport for each, with every limit and error path kept (a
gateway's {"message"} stays a gateway failure); a lookup against a stand-in on
loopback; and `wibmo decrypt` of each body form, end to end.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile import Hostile, success
from support import Invoke, codec, unit_profile, write_profiles

from wibmo_cli.bodies import ENVELOPE_KEYS, envelope_token, extract_token, unwrap
from wibmo_cli.client import Client, Exchange
from wibmo_cli.errors import (
    CryptoError,
    ExitStatus,
    HTTPStatusError,
    OutcomeUnknownError,
    UnreadableAnswerError,
)
from wibmo_cli.messages import Identifiers, lookup_payload

BASE_URL = "https://pp.test"
ANSWER: dict[str, Any] = {
    "responseCode": "00",
    "responseMessage": "SUCCESS",
    "cardList": [{"urn": 389, "firstName": "ABC", "docList": [{"docNumber": "ABCDE1234A"}]}],
}


def exchange(*replies: httpx.Response, api: str = "lookup", trace: list[str] | None = None) -> Any:
    """One lookup (or update) through a Client whose transport answers `replies` in turn."""
    answers = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    profile = unit_profile(BASE_URL, retries=0, max_answer_bytes=4096)

    async def go() -> Exchange:
        async with Client(
            profile,
            BASE_URL,
            transport=httpx.MockTransport(handler),
            trace=trace.append if trace is not None else None,
        ) as client:
            payload = lookup_payload(Identifiers(urn="389"), message_code=1930)
            if api == "update":
                return await client.update({**payload, "messageCode": 1280})
            return await client.lookup(payload)

    return asyncio.run(go())


def body(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json=fields)


# -- the client ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ENVELOPE_KEYS)
def test_a_token_in_every_envelope_is_an_answer(key: str) -> None:
    got = exchange(body(**{key: codec().encrypt_json(ANSWER)}))
    assert got.answer == ANSWER
    assert not got.plain


def test_a_plain_json_answer_is_an_answer_as_it_is() -> None:
    trace: list[str] = []
    got = exchange(body(**ANSWER), trace=trace)
    assert got.answer == ANSWER
    assert got.plain
    said = next(line for line in trace if line.startswith("< plain answer:"))
    assert "ABCDE1234A" not in said and "******234A" in said  # masked in the trace


@pytest.mark.parametrize("status", [302, 401, 404, 500, 503, 504])
@pytest.mark.parametrize("code", ["00", "1052", "504"])
def test_plain_json_at_an_http_error_status_is_the_http_error_not_an_answer(
    status: int, code: str
) -> None:
    """A proxy's or gateway's JSON at a 5xx is the 5xx (for an update: outcome unknown),
    even when it says responseCode 00: only a token answer is read at any status."""
    plain = {"responseCode": code, "responseMessage": "whatever"}
    with pytest.raises(HTTPStatusError) as caught:
        exchange(httpx.Response(status, json=plain))
    assert caught.value.status == status
    txn = {"clientTxnId": "WTXN1", **plain}
    refused = 400 <= status < 500  # a 4xx refuses an update; a 3xx or 5xx leaves it unknown
    with pytest.raises(HTTPStatusError if refused else OutcomeUnknownError):
        exchange(httpx.Response(status, json=txn), api="update")


@pytest.mark.parametrize(
    "fields",
    [
        {"responseCode": None},
        {"responseCode": True},
        {"responseCode": ["00"]},
        {"responseCode": {"code": "00"}},
        {"token": 123, "responseCode": "00"},
        {"token": None, "responseCode": "00"},
        {"result": ["x"], "responseCode": "00"},
    ],
)
def test_a_body_whose_responsecode_is_no_code_or_whose_token_is_broken_is_no_answer(
    fields: dict[str, Any],
) -> None:
    with pytest.raises(CryptoError):
        exchange(body(**fields))
    with pytest.raises(OutcomeUnknownError):
        exchange(body(clientTxnId="WTXN1", **fields), api="update")


def test_the_documents_envelope_wins_when_a_body_has_several() -> None:
    got = exchange(body(token=codec().encrypt_json(ANSWER), result="garbage", responseCode="99"))
    assert got.answer == ANSWER


@pytest.mark.parametrize("status", [401, 403])
def test_a_gateway_message_is_still_a_gateway_failure(status: int) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        exchange(httpx.Response(status, json={"message": "Invalid authentication credentials"}))
    assert caught.value.exit_status == ExitStatus.HTTP


@pytest.mark.parametrize(
    "fields",
    [
        {"message": "all fine"},
        {"result": {"responseCode": "00"}},  # not a token: an envelope holds a string
        {"encdata": 5},
        {"data": "x"},
    ],
)
def test_a_200_body_that_is_no_answer_is_a_crypto_error(fields: dict[str, Any]) -> None:
    with pytest.raises(CryptoError) as caught:
        exchange(body(**fields))
    assert 'not a {"token": ...} answer (nor "result" or "encdata"' in caught.value.message


def test_a_plain_answer_keeps_the_size_cap() -> None:
    big = {**ANSWER, "filler": "x" * 8000}
    with pytest.raises(UnreadableAnswerError):
        exchange(httpx.Response(200, content=json.dumps(big).encode()))


def test_a_plain_answer_keeps_the_depth_limit() -> None:
    deep = '{"responseCode": "00", "deep": ' + "[" * 100 + "]" * 100 + "}"
    with pytest.raises(CryptoError):
        exchange(httpx.Response(200, content=deep.encode()))


@pytest.mark.parametrize("key", ["result", "encdata"])
def test_an_undecryptable_token_in_another_envelope_is_a_crypto_error(key: str) -> None:
    with pytest.raises(CryptoError) as caught:
        exchange(body(**{key: codec("key").encrypt_json(ANSWER) + "AAAA"}))
    assert "could not be decrypted" in caught.value.message


def test_an_update_answered_plain_for_another_client_txn_id_is_outcome_unknown() -> None:
    with pytest.raises(OutcomeUnknownError):
        exchange(body(**ANSWER, clientTxnId="WSOMEONEELSE01"), api="update")


@pytest.mark.parametrize("key", ["result", "encdata"])
def test_an_update_answered_in_another_envelope_is_answered(key: str) -> None:
    got = exchange(body(**{key: codec().encrypt_json(ANSWER)}), api="update")
    assert got.answer == ANSWER


# -- end to end: a lookup against a stand-in on loopback ------------------------------------


def _reply(answer: dict[str, Any], key: str | None) -> tuple[int, str, bytes]:
    """A canned answer, without a clientTxnId (it cannot echo the one sent)."""
    answer = {k: v for k, v in answer.items() if k != "clientTxnId"}
    wrapped = answer if key is None else {key: codec().encrypt_json(answer)}
    return 200, "application/json", json.dumps(wrapped).encode()


@pytest.mark.parametrize("key", [*ENVELOPE_KEYS, None])
def test_lookup_reads_every_envelope_from_a_server(cli: Invoke, key: str | None) -> None:
    with Hostile("canned", reply=_reply(success("T", "389"), key)) as server:
        write_profiles(server.url)
        result = cli("-o", "json", "lookup", "--urn", "389")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["cardList"][0]["firstName"] == "Hostile"


# -- decrypt: every body form -----------------------------------------------------------------

PAYLOAD = {"messageCode": 1930, "clientTxnId": "T1", "urn": "389"}


def test_unwrap_reads_each_form() -> None:
    token = codec().encrypt_json(PAYLOAD)
    assert unwrap(token) == token
    for key in ENVELOPE_KEYS:
        assert unwrap(json.dumps({key: token})) == token
        assert envelope_token({key: token}) == token
    assert unwrap(json.dumps(ANSWER)) == ANSWER
    with pytest.raises(CryptoError, match="plain JSON answer"):
        extract_token(json.dumps(ANSWER))
    with pytest.raises(CryptoError, match='no "token" string field'):
        unwrap('{"message": "No API key found in request"}')


def _forms(token: str) -> dict[str, str]:
    v3_request = {"token": token, "clientId": "C", "bankId": "1", "secureCode": "S"}
    return {
        "bare": token,
        "token": json.dumps({"token": token}),
        "result": json.dumps({"result": token}),
        "encdata": json.dumps({"encdata": token}),
        "v3 request": json.dumps(v3_request),
        "pretty": json.dumps({"result": token}, indent=2),
    }


@pytest.mark.parametrize("form", list(_forms("x")))
def test_decrypt_reads_every_body_form(cli: Invoke, form: str) -> None:
    write_profiles("http://127.0.0.1:9")
    text = _forms(codec().encrypt_json(ANSWER))[form]
    result = cli("decrypt", text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "00"
    assert "plain JSON answer" not in result.stderr
    piped = cli("decrypt", "-", input=text)  # stdin: the pretty body is read whole
    assert piped.exit_code == 0, piped.stderr
    assert json.loads(piped.stdout) == json.loads(result.stdout)


def test_decrypt_shows_a_plain_answer_as_it_is_and_says_so_with_no_key(cli: Invoke) -> None:
    # No profile and an unset --key-env: any attempt to read a key would fail (exit 3).
    result = cli("decrypt", json.dumps(ANSWER), "--key-env", "NO_SUCH_KEY")
    assert result.exit_code == 0, result.stderr
    assert "plain JSON answer, not encrypted" in result.stderr
    shown = json.loads(result.stdout)
    assert shown["responseMessage"] == "SUCCESS"
    assert shown["cardList"][0]["docList"][0]["docNumber"] != "ABCDE1234A"  # masked


def test_decrypt_detect_refuses_a_plain_answer_clearly(cli: Invoke) -> None:
    write_profiles("http://127.0.0.1:9")
    result = cli("decrypt", "--detect", json.dumps(ANSWER))
    assert result.exit_code == 4
    assert "plain JSON answer" in result.stderr and "not encrypted" in result.stderr


def test_decrypt_a_file_of_every_form_one_per_line(cli: Invoke, isolated: Path) -> None:
    write_profiles("http://127.0.0.1:9")
    forms = _forms(codec().encrypt_json(ANSWER))
    lines = [text for name, text in forms.items() if name != "pretty"]
    lines.append(json.dumps(ANSWER))
    lines.append('{"message": "No API key found in request"}')
    (isolated / "bodies.txt").write_text("\n".join(lines) + "\n")
    result = cli("decrypt", "bodies.txt")
    assert result.exit_code == 4  # the gateway's message is no token and no answer
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == len(lines)
    assert all(record["responseCode"] == "00" for record in out[:-1])
    assert out[-1]["line"] == len(lines) and 'no "token" string field' in out[-1]["error"]
    assert "1 of 7 lines: a plain JSON answer, not encrypted" in result.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("output", [[], ["-o", "json"]])
def test_a_plain_answer_says_on_stderr_that_it_came_unencrypted(
    wibmo: Invoke, output: list[str]
) -> None:
    plain = json.dumps({"responseCode": "00", "urn": 389, "firstName": "Plain"}).encode()
    with Hostile(mode="canned", reply=(200, "application/json", plain)) as server:
        write_profiles(server.url)
        result = wibmo("lookup", "--urn", "389", *output)
    assert result.exit_code == 0, result.stderr
    assert "plain JSON, not encrypted" in result.stderr
    assert "not encrypted" not in result.stdout


@pytest.mark.parametrize("code", [b"1e400", b"NaN", b'""'])
def test_a_code_that_is_a_number_kept_as_text_or_blank_is_no_plain_answer(code: bytes) -> None:
    content = b'{"clientTxnId": "WTXN1", "responseCode": ' + code + b"}"
    with pytest.raises(OutcomeUnknownError):
        exchange(httpx.Response(200, content=content), api="update")


@pytest.mark.e2e
def test_a_batch_marks_each_plain_answer_and_counts_them(wibmo: Invoke, tmp_path: Path) -> None:
    plain = json.dumps({"responseCode": "00", "cardList": [{"urn": "389"}]}).encode()
    rows = tmp_path / "ids.txt"
    rows.write_text("389\n390\n")
    with Hostile(mode="canned", reply=(200, "application/json", plain)) as server:
        write_profiles(server.url)
        result = wibmo("lookup", "--file", str(rows))
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["encrypted"] for line in lines] == [False, False]
    assert "2 answered in plain JSON, not encrypted" in result.stderr

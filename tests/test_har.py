"""`wibmo decrypt --har CAPTURE [--out CLEAN.har]` (issue 13) on a capture recorded from a
browser-like session against real sandboxes (tests/har_gen.py): the timeline, the pairing,
the cleaned file (no secret anywhere, still HAR 1.2), and every bad input as one line."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from har_gen import BEARER, LOGO, SESSION_COOKIE, Session, record_session, validate
from hypothesis import given
from hypothesis import strategies as st
from support import (
    API_KEY,
    CLIENT_ID,
    KEY,
    SECURE_CODE,
    Invoke,
    StartSandbox,
    assert_one_line_error,
    budget,
    codec,
    leaks,
    leaks_in_bytes,
)

from wibmo_cli import har
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.har_clean import clean, secret_forms
from wibmo_cli.masking import mask_value
from wibmo_cli.sandbox.variants import V3

pytestmark = pytest.mark.e2e

WHOLE_DOCUMENTS = ("ABCDE1234A", "ABC0123456", "1234 5678 6015", "DL60 20211234567")
TOKEN_ENTRIES = (5, 6, 7, 8, 9, 10)  # log.entries[i] of record_session with the platform's bodies


@pytest.fixture
def session(start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch) -> Session:
    """A capture.har in the working directory, and ./profiles.toml (`hard`) with the key;
    tables drawn as wide as an engineer's terminal."""
    monkeypatch.setenv("COLUMNS", "160")
    seed = start_sandbox(profile={})
    v3 = start_sandbox(variant=V3, consumer_custom_id="consumer-7")
    recorded = record_session(seed.url, v3.url)
    write(recorded.har)
    return recorded


def write(capture: dict[str, Any], name: str = "capture.har") -> Path:
    path = Path(name)
    path.write_text(json.dumps(capture, indent=1), encoding="utf-8")
    return path


def personal_masked(payload: dict[str, Any]) -> dict[str, Any]:
    """A request of record_session as --out writes it: its mobile to the last four."""
    mobile = payload.get("customerMobile")
    return payload if mobile is None else {**payload, "customerMobile": mask_value(mobile)}


def document(cli: Invoke, *args: str, code: int = 0) -> dict[str, Any]:
    result = cli("decrypt", "--har", "capture.har", "-o", "json", *args)
    assert result.exit_code == code, result.stderr
    value = json.loads(result.stdout)
    assert isinstance(value, dict)
    return value


def test_the_generated_capture_is_a_har(session: Session) -> None:
    assert validate(session.har) == []
    assert len(session.har["log"]["entries"]) == 11


def test_the_timeline_shows_each_exchange_with_its_codes_explained(
    session: Session, cli: Invoke
) -> None:
    result = cli("decrypt", "--har", "capture.har")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for payload in session.sent:
        assert payload["clientTxnId"] in out
    assert "1930 → 1931" in out and "1280 → 1281" in out
    assert "00 SUCCESS" in out
    assert "1303" in out and "CUSTOMER_DETAILS_NOT_PRESENT" in out
    assert "401" in out and "Unauthorized" in out
    assert "/mob1/api/onboarding/v1/updateProfile" in out
    assert "6 of 11 entries carried the platform's bodies; 5 without a token not shown" in (
        result.stderr
    )
    assert leaks(out + result.stderr) == []
    assert all(whole not in out for whole in WHOLE_DOCUMENTS)


def test_json_is_one_document_in_start_order_with_both_bodies(
    session: Session, cli: Invoke
) -> None:
    value = document(cli)
    assert (value["entries"], value["shown"], value["without_token"], value["failed"]) == (
        11,
        6,
        5,
        0,
    )
    exchanges = value["exchanges"]
    assert [x["entry"] for x in exchanges] == [i + 1 for i in TOKEN_ENTRIES]  # from 1
    assert [x["request"] for x in exchanges] == session.sent
    entries = session.har["log"]["entries"]
    for exchange in exchanges:
        entry = entries[exchange["entry"] - 1]
        assert exchange["time_ms"] == round(entry["time"], 1)
        assert exchange["started"] == entry["startedDateTime"]
        assert exchange["status"] == entry["response"]["status"]
    refused = exchanges[4]
    assert (refused["status"], refused["response"], refused["paired"]) == (401, None, "entry")
    answered = [x for x in exchanges if x["response"] is not None]
    # the platform's error answers carry no clientTxnId: paired by their entry
    assert [x["paired"] for x in answered] == ["clientTxnId", "clientTxnId", "entry"] + [
        "clientTxnId"
    ] * 2
    assert [x["responseCode"] for x in answered] == ["00", "00", "1303", "00", "00"]
    assert exchanges[2]["response_name"] == "CUSTOMER_DETAILS_NOT_PRESENT"
    # the base64 answer (entry 6) decrypted like the others, documents masked
    docs = exchanges[1]["response"]["cardList"][0]["docList"]
    assert {d["docNumber"] for d in docs} >= {"******234A", "**** **** 6015"}


def test_jq_reads_the_document(session: Session, cli: Invoke) -> None:
    result = cli("decrypt", "--har", "capture.har", "--jq", ".exchanges[].clientTxnId")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [p["clientTxnId"] for p in session.sent]


def test_reveal_shows_documents_whole_and_is_audited(session: Session, cli: Invoke) -> None:
    value = document(cli, "--reveal")
    docs = value["exchanges"][1]["response"]["cardList"][0]["docList"]
    assert "ABCDE1234A" in {d["docNumber"] for d in docs}


def test_an_answer_for_another_request_is_a_mismatch_naming_it(
    session: Session, cli: Invoke
) -> None:
    """Entries shuffled (the timeline sorts them by start) and two answers swapped: each
    exchange pairs with its own entry, and says the answer carries the other's id."""
    entries = session.har["log"]["entries"]
    first, second = entries[5], entries[6]
    first["response"], second["response"] = second["response"], first["response"]
    entries.reverse()
    write(session.har)
    exchanges = document(cli)["exchanges"]
    started = [x["started"] for x in exchanges]
    assert started == sorted(started)
    swapped = {x["clientTxnId"]: x for x in exchanges[:2]}
    ids = [p["clientTxnId"] for p in session.sent[:2]]
    assert swapped[ids[0]]["paired"] == "mismatch"
    assert swapped[ids[0]]["response"]["clientTxnId"] == ids[1]
    assert swapped[ids[0]]["answers_entry"] == swapped[ids[1]]["entry"]
    table = cli("decrypt", "--har", "capture.har").stdout
    assert "answer's" in table


def test_an_answer_without_its_id_pairs_by_entry(session: Session, cli: Invoke) -> None:
    entry = session.har["log"]["entries"][8]  # the update: its answer re-encrypted without id
    tokens = codec()
    answer = tokens.decrypt_json(json.loads(entry["response"]["content"]["text"])["token"])
    del answer["clientTxnId"]
    entry["response"]["content"]["text"] = json.dumps({"token": tokens.encrypt_json(answer)})
    write(session.har)
    update = document(cli)["exchanges"][3]
    assert update["paired"] == "entry"
    assert update["clientTxnId"] == session.sent[3]["clientTxnId"]  # the request's


def test_a_token_of_another_key_is_an_error_in_its_row_and_exit_4(
    session: Session, cli: Invoke
) -> None:
    other = TokenCodec(b"another-24-byte-key-here", IvScheme("zero"))
    entry = session.har["log"]["entries"][7]
    entry["request"]["postData"]["text"] = json.dumps({"token": other.encrypt_json({"a": 1})})
    write(session.har)
    value = document(cli, code=4)
    assert value["failed"] == 1
    broken = value["exchanges"][2]
    assert broken["request"] is None and "errors" in broken and "request" in broken["errors"]
    assert broken["responseCode"] == "1303"  # its answer still read
    table = cli("decrypt", "--har", "capture.har")
    assert table.exit_code == 4
    assert "request:" in table.stdout and "1 token could not be decrypted" in table.stderr
    assert "? → 0" in table.stdout or "? → " in table.stdout  # the answer's code alone


def test_key_env_needs_no_profile(session: Session, cli: Invoke) -> None:
    Path("profiles.toml").unlink()
    result = cli("decrypt", "--har", "capture.har", "--key-env", "HARD_KEY", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["shown"] == 6


# -- --out -----------------------------------------------------------------------------------


def test_out_writes_a_har_without_any_secret(session: Session, cli: Invoke) -> None:
    before = Path("capture.har").read_bytes()
    result = cli("decrypt", "--har", "capture.har", "--out", "clean.har")
    assert result.exit_code == 0, result.stderr
    assert Path("capture.har").read_bytes() == before
    data = Path("clean.har").read_bytes()
    assert stat.S_IMODE(Path("clean.har").stat().st_mode) == 0o600
    assert leaks_in_bytes(data) == []
    text = data.decode()
    for credential in (SESSION_COOKIE.partition("=")[2], BEARER, SECURE_CODE, f'"{CLIENT_ID}"'):
        assert credential not in text
    assert all(whole not in text for whole in WHOLE_DOCUMENTS)
    assert "wrote clean.har (mode 0600): 11 tokens decrypted;" in result.stderr
    clean = json.loads(text)
    assert validate(clean) == []
    assert leaks(json.dumps(clean)) == []


def test_out_replaces_each_token_by_its_masked_json(session: Session, cli: Invoke) -> None:
    assert cli("decrypt", "--har", "capture.har", "--out", "clean.har").exit_code == 0
    entries = json.loads(Path("clean.har").read_text())["log"]["entries"]
    sent = [json.loads(entries[i]["request"]["postData"]["text"])["token"] for i in TOKEN_ENTRIES]
    assert sent == [personal_masked(payload) for payload in session.sent]
    answered = json.loads(entries[6]["response"]["content"]["text"])["token"]
    assert answered["clientId"] == "****" and answered["responseCode"] == "00"
    v3 = json.loads(entries[10]["request"]["postData"]["text"])
    assert v3["bankId"] == "2010" and v3["secureCode"].startswith("****")
    assert v3["clientId"] == "****" and v3["X-Consumer-Custom-ID"] == "****"
    gzip_answer = entries[5]["response"]  # came gzip: its wire size is not known any more
    assert "encoding" not in gzip_answer["content"] and "compression" not in gzip_answer["content"]
    assert gzip_answer["bodySize"] == -1
    assert json.loads(gzip_answer["content"]["text"])["token"]["responseCode"] == "00"
    base64_answer = entries[6]["response"]  # came base64: now text, sizes agree
    assert "encoding" not in base64_answer["content"]
    size = len(base64_answer["content"]["text"].encode())
    assert base64_answer["content"]["size"] == base64_answer["bodySize"] == size
    recorded = session.har["log"]["entries"]
    for untouched in (2, 4):  # a script, a JSON answer with no token nor secret: as they were
        assert (
            entries[untouched]["response"]["content"] == recorded[untouched]["response"]["content"]
        )
    logo = entries[3]["response"]["content"]  # no token, no secret: as it was
    assert logo["encoding"] == "base64" and base64.b64decode(logo["text"]) == LOGO
    request = entries[6]["request"]
    length = next(h["value"] for h in request["headers"] if h["name"] == "content-length")
    assert int(length) == request["bodySize"] == len(request["postData"]["text"].encode())
    assert request["headersSize"] == -1
    status = entries[4]["request"]
    assert "hk-ApiKey" not in status["url"] and status["queryString"][0]["value"].startswith("*")
    assert all(c["value"].startswith("****") for c in status["cookies"])


def test_a_secret_anywhere_is_redacted(session: Session, cli: Invoke) -> None:
    """Not only where credentials travel: a debugging header, a page's title, a gateway
    echoing the request, a base64 page; the key as hex in a note."""
    log = session.har["log"]
    page = log["entries"][1]["response"]["content"]
    page["text"] = base64.b64encode(f"<p>key {SECURE_CODE}</p>".encode()).decode()
    page["encoding"] = "base64"
    page["size"] = len(base64.b64decode(page["text"]))
    log["pages"][0]["title"] = f"console?code={SECURE_CODE}"
    log["entries"][2]["request"]["headers"].append({"name": "X-Debug", "value": API_KEY})
    echo = log["entries"][9]["response"]["content"]  # the gateway's 401
    echo["text"] = json.dumps({"message": "bad key", "sent": {"x-api-key": API_KEY}})
    echo["size"] = len(echo["text"])
    log["comment"] = f"key {KEY.hex()}"
    write(session.har)
    assert leaks_in_bytes(Path("capture.har").read_bytes())  # the capture has them
    assert cli("decrypt", "--har", "capture.har", "--out", "clean.har").exit_code == 0
    data = Path("clean.har").read_bytes()
    assert leaks_in_bytes(data) == []
    assert validate(json.loads(data)) == []


def test_out_refuses_to_overwrite_without_force(session: Session, cli: Invoke) -> None:
    Path("clean.har").write_text("keep me")
    refused = cli("decrypt", "--har", "capture.har", "--out", "clean.har")
    assert_one_line_error(refused, 2, "--out clean.har exists: give --force to replace it")
    assert refused.stdout == "" and Path("clean.har").read_text() == "keep me"
    forced = cli("decrypt", "--har", "capture.har", "--out", "clean.har", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert validate(json.loads(Path("clean.har").read_text())) == []


def test_out_never_overwrites_the_capture(session: Session, cli: Invoke) -> None:
    before = Path("capture.har").read_bytes()
    result = cli("decrypt", "--har", "capture.har", "--out", "./capture.har", "--force")
    assert_one_line_error(result, 2, "is the capture being read")
    assert Path("capture.har").read_bytes() == before


def test_out_with_a_key_but_no_profile_warns_and_still_redacts_the_key(
    session: Session, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIBMO_PROFILE", "nosuch")
    args = ("--key-env", "HARD_KEY", "--out", "clean.har", "-o", "json")
    result = cli("decrypt", "--har", "capture.har", *args)
    assert result.exit_code == 0, result.stderr
    assert "no profile to read secrets from" in result.stderr
    data = Path("clean.har").read_bytes()
    assert not [name for name in leaks_in_bytes(data) if name.startswith("encryption_key")]
    assert b"hk-ApiKey" not in data  # named as a credential: redacted whatever its value


# -- bad input: one line, exit 2 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"<html>not a har</html>", "is not a HAR file: not valid JSON"),
        (b"\xff\xfe\x00garbage", "is not a HAR file"),
        (b'{"entries": []}', 'it has no "log" object'),
        (b'{"log": {"entries": {}}}', 'log has no "entries" list'),
        (b'{"log": {"entries": [{"response": {}}]}}', "log.entries[0] is not a HAR entry"),
        (b"[" * 100000, "is not a HAR file"),
    ],
)
def test_what_is_not_a_har_is_one_line(cli: Invoke, content: bytes, said: str) -> None:
    Path("capture.har").write_bytes(content)
    result = cli("decrypt", "--har", "capture.har")
    assert_one_line_error(result, 2, said)


def test_a_capture_over_the_cap_is_refused_naming_it(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(har, "MAX_HAR", 1 << 20)
    Path("capture.har").write_bytes(b" " * ((1 << 20) + 1))
    result = cli("decrypt", "--har", "capture.har")
    assert_one_line_error(result, 2, "is larger than 1 MiB (HAR files are read whole)")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--har", "nowhere.har"), "--har nowhere.har: no such file"),
        (("--out", "clean.har"), "--out goes with --har"),
        (("--har", "capture.har", "--force"), "--force goes with --out"),
        (("--har", "capture.har", "TOKEN"), "--har reads the capture"),
        (("--har", "capture.har", "--detect"), "--har reads the capture"),
        (("--har", "capture.har", "--out", "nodir/clean.har"), "no such directory"),
        (("--har", ".", "-o", "json"), "is a directory"),
    ],
)
def test_bad_usage_is_one_line(cli: Invoke, args: tuple[str, ...], said: str) -> None:
    Path("capture.har").write_text('{"log": {"version": "1.2", "entries": []}}')
    assert_one_line_error(cli("decrypt", *args), 2, said)


def test_a_capture_without_tokens_says_so(cli: Invoke) -> None:
    Path("capture.har").write_text('{"log": {"version": "1.2", "entries": []}}')
    result = cli("decrypt", "--har", "capture.har")
    assert result.exit_code == 0 and result.stdout == ""
    assert "0 of 0 entries carried the platform's bodies" in result.stderr


# -- the pure parts ------------------------------------------------------------------------------


def test_secret_forms_cover_how_a_secret_travels() -> None:
    forms = secret_forms(["hk-ApiKey-9rT2wQ7zLmX4", b"\x00" * 24, "abc"])
    assert "hk-ApiKey-9rT2wQ7zLmX4" in forms
    assert base64.b64encode(b"hk-ApiKey-9rT2wQ7zLmX4").decode() in forms
    assert ("00" * 24) in forms and "abc" not in forms  # too short to look for
    assert list(forms) == sorted(forms, key=len, reverse=True)


def test_a_body_is_read_in_any_envelope() -> None:
    token = codec().encrypt_json({"responseCode": "00"})
    for key in ("token", "result", "encdata"):
        assert har.read_body(json.dumps({key: token})).token == token
    assert har.read_body('{"responseCode": "00"}').plain
    assert har.read_body("<html>").token is None
    assert har.read_body("[1, 2]").envelope is None


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_BODIES = st.sampled_from(
    [
        json.dumps({"token": codec().encrypt_json({"clientTxnId": "T1", "responseCode": "00"})}),
        json.dumps({"result": "not base64!", "clientId": "FintechA"}),
        json.dumps({"responseCode": 5}),
        "{" * 80,
        base64.b64encode(b"\xff\xfe").decode(),
    ]
)
_TEXT = _JUNK | _BODIES
_PAIRS = st.lists(st.fixed_dictionaries({"name": _JUNK | st.just("Cookie"), "value": _JUNK}))
_ENTRY = st.fixed_dictionaries(
    {
        "request": st.fixed_dictionaries(
            {},
            optional={
                "method": _JUNK,
                "url": _JUNK | st.just("http://[::1/x?apiKey=1"),
                "headers": _PAIRS | _JUNK,
                "cookies": _PAIRS | _JUNK,
                "queryString": _PAIRS,
                "postData": st.fixed_dictionaries({}, optional={"text": _TEXT, "params": _PAIRS}),
            },
        )
    },
    optional={
        "response": st.fixed_dictionaries(
            {},
            optional={
                "status": _JUNK,
                "headers": _PAIRS | _JUNK,
                "content": st.fixed_dictionaries(
                    {}, optional={"text": _TEXT, "encoding": st.just("base64") | _JUNK}
                ),
            },
        )
        | _JUNK,
        "startedDateTime": _JUNK | st.just("2026-11-30T09:15:02+05:30"),
        "time": _JUNK,
    },
)


@budget(30)
@given(entries=st.lists(_ENTRY, max_size=4))
def test_any_entry_shapes_end_in_a_result(entries: list[dict[str, Any]]) -> None:
    """Whatever a HAR's entries hold beyond a request object, the timeline, its JSON
    and the cleaned copy are made without an exception (a bug: exit 70)."""
    capture = har.parse(json.dumps({"log": {"entries": entries}}).encode(), "capture.har")
    result = har.timeline(capture, codec)
    json.dumps(har.document(result, reveal=False))
    cleaned = clean(capture, codec, ["FintechA-secret"])
    json.dumps(cleaned.har)


@pytest.mark.parametrize("headers", [5, 1.5, True])
def test_headers_that_are_not_a_list_are_left_as_they_are(headers: Any) -> None:
    """A body rewritten in an entry whose "headers" is a number: cleaned, no TypeError
    (found by the test above: `for row in 5`)."""
    token = codec().encrypt_json({"clientTxnId": "T1", "responseCode": "00"})
    body = json.dumps({"token": token})
    entry = {
        "request": {"method": "POST", "url": "https://x.example/a", "headers": headers,
                    "postData": {"text": body}},
        "response": {"status": 200, "headers": headers, "content": {"text": body}},
    }  # fmt: skip
    capture = har.parse(json.dumps({"log": {"entries": [entry]}}).encode(), "capture.har")
    cleaned = clean(capture, codec, ["FintechA-secret"])
    (done,) = cleaned.har["log"]["entries"]
    assert done["response"]["headers"] == headers
    assert "T1" in done["response"]["content"]["text"]

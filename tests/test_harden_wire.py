"""Issue 9, the answer side: whatever a server sends ends in a documented outcome.

Against `hostile.Hostile` on loopback: answers nested thousands deep, a `Retry-After`
of `²`, bodies too big for memory, a gzip bomb, bytes dripped one at a time, an update
answered for another clientTxnId or with a 5xx. Each ends in one line on stderr, the
documented exit code, in bounded time; an update that may have been applied is exit 5
with its clientTxnId and the lookup to check, and its audit entry is completed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hostile import OTHER_TXN, Hostile, unanswered
from support import (
    API_KEY,
    BANK_ID,
    CLIENT_ID,
    ENCRYPTION_KEY,
    SECURE_CODE,
    Invoke,
    assert_one_line_error,
    write_profiles,
)
from typer.testing import Result

from wibmo_cli import client as client_module
from wibmo_cli.app import INTERNAL_ERROR
from wibmo_cli.client import Client
from wibmo_cli.errors import OutcomeUnknownError, WibmoError
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.profiles import resolve

LOOKUP = ("lookup", "--urn", "389")
UPDATE = ("update-profile", "--urn", "389", "--email", "wire@example.com")
SEND = ("--yes", "--card-profile-id", "30")
CHECK = "check with: wibmo -p hard lookup --urn 389"
MAX_RETRY_WAIT = 10.0  # profiles.MAX_RETRY_WAIT, as documented
PROFILE = {  # for a `Client` made in the test (literal values: no environment needed)
    "base_url": "http://127.0.0.1",
    "client_id": CLIENT_ID,
    "bank_id": BANK_ID,
    "api_key": API_KEY,
    "secure_code": SECURE_CODE,
    "encryption_key": ENCRYPTION_KEY,
}


def timed(wibmo: Invoke, *args: str) -> tuple[Result, float]:
    started = time.monotonic()
    result = wibmo(*args)
    return result, time.monotonic() - started


def audit_entries() -> list[dict[str, Any]]:
    path = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == "update"]


def assert_outcome_unknown(result: Result, fragment: str) -> dict[str, Any]:
    """Exit 5, one line with the cause, the clientTxnId and the check; audit completed."""
    assert_one_line_error(result, 5, fragment)
    entries = audit_entries()
    assert [e["result"] for e in entries] == ["sending", "outcome unknown"], entries
    txn = entries[0]["clientTxnId"]
    assert entries[1]["clientTxnId"] == txn
    assert fragment in entries[1]["error"]
    assert "may or may not have been applied" in result.stderr
    assert f"clientTxnId {txn}" in result.stderr
    assert CHECK in result.stderr
    return entries[1]


# -- item 2: a malformed answer is never exit 70 ---------------------------------------


def test_a_body_nested_3000_deep_is_a_one_line_error(wibmo: Invoke) -> None:
    with Hostile("deep-body") as server:
        write_profiles(server.url)
        result = wibmo(*LOOKUP)
    assert_one_line_error(result, 4, 'not a {"token": ...} answer')


@pytest.mark.parametrize("depth", [900, 3000])
def test_a_token_whose_answer_nests_deep_is_a_one_line_error(wibmo: Invoke, depth: int) -> None:
    """900 parses with json.loads and then crashed the rendering; 3000 does not parse."""
    with Hostile("deep-token", depth=depth) as server:
        write_profiles(server.url)
        table = wibmo(*LOOKUP)
        as_json = wibmo(*LOOKUP, "-o", "json")
    assert_one_line_error(table, 4, "nested")
    assert_one_line_error(as_json, 4, "nested")


def test_a_verbose_trace_of_a_hostile_answer_is_no_crash(wibmo: Invoke) -> None:
    for mode in ("deep-body", "deep-token", "garbage"):
        with Hostile(mode, depth=900) as server:
            write_profiles(server.url)
            result = wibmo("-v", *LOOKUP)
        assert result.exit_code == 4, (mode, result.stderr)
        assert "Traceback" not in result.stderr


def test_an_html_page_of_unclosed_titles_is_described_in_bounded_time(wibmo: Invoke) -> None:
    """The <title> search was quadratic: 700 KB of `<title>` took minutes."""
    with Hostile("titles", size=700_000) as server:
        write_profiles(server.url)
        result, elapsed = timed(wibmo, *LOOKUP)
    assert_one_line_error(result, 6, "HTTP 503")
    assert elapsed < 2


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [
        (429, "²"),  # "²".isdigit() is True, float("²") raises: was exit 70
        (503, "²"),
        (503, "Wed, 21 Oct 2015 07:28:00 GMT"),  # an HTTP date (past: retry at once)
    ],
)
def test_a_retry_after_that_is_not_a_number_of_seconds_is_no_crash(
    wibmo: Invoke, status: int, retry_after: str
) -> None:
    with Hostile("retry-after", status=status, retry_after=retry_after) as server:
        write_profiles(server.url, retries=1)
        result, elapsed = timed(wibmo, *LOOKUP, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [s.mode for s in server.seen] == ["retry-after", "retry-after"]  # retried
    assert elapsed < MAX_RETRY_WAIT


def test_retry_after_is_seconds_or_an_http_date_and_never_more_than_the_cap() -> None:
    from wibmo_cli import profiles

    assert profiles.MAX_RETRY_WAIT == MAX_RETRY_WAIT
    backoff = client_module.retry_wait
    assert backoff(1, "3") == 3.0
    assert backoff(1, " 0 ") == 0.0
    assert backoff(1, "3600") == MAX_RETRY_WAIT
    assert backoff(1, "99999999999999999999") == MAX_RETRY_WAIT
    soon = datetime.now(UTC) + timedelta(seconds=5)
    assert 3.0 < backoff(1, format_datetime(soon, usegmt=True)) <= 5.0
    late = datetime.now(UTC) + timedelta(days=1)
    assert backoff(1, format_datetime(late, usegmt=True)) == MAX_RETRY_WAIT
    past = datetime(2015, 10, 21, tzinfo=UTC)
    assert backoff(1, format_datetime(past, usegmt=True)) == 0.0
    for junk in ("²", "٣", "1e3", "1.5", "-1", "", "Wed, 99 Foo 2015"):
        assert 0.375 <= backoff(1, junk) <= 0.625  # ignored: the first backoff step
    assert backoff(10_000, None) <= MAX_RETRY_WAIT  # no overflow however many retries


def test_an_update_answered_with_a_deep_body_is_outcome_unknown(wibmo: Invoke) -> None:
    with Hostile("deep-body") as server:
        write_profiles(server.url)
        result = wibmo(*UPDATE, *SEND)
    assert_outcome_unknown(result, 'not a {"token": ...} answer')
    assert len(server.seen) == 1  # never resent


def test_an_update_answered_with_a_deep_token_is_outcome_unknown(wibmo: Invoke) -> None:
    with Hostile("deep-token", depth=900) as server:
        write_profiles(server.url)
        result = wibmo(*UPDATE, *SEND)
    assert_outcome_unknown(result, "nested more than 64 levels deep")


@pytest.mark.parametrize("mode", ["garbage", "html"])
def test_an_update_whose_answer_cannot_be_decrypted_is_outcome_unknown(
    wibmo: Invoke, mode: str
) -> None:
    """Was exit 4: an answer came, unreadable; the update may well have been applied."""
    with Hostile(mode) as server:
        write_profiles(server.url)
        result = wibmo(*UPDATE, *SEND)
    assert_outcome_unknown(result, 'not a {"token": ...} answer')


def test_a_batch_row_with_a_hostile_answer_is_that_rows_error_line(
    wibmo: Invoke, isolated: Path
) -> None:
    rows = isolated / "urns.txt"
    rows.write_text("1001\n1002\n1003\n1004\n1005\n", encoding="utf-8")
    hostile = {"1002": "deep-body", "1003": "deep-token", "1004": "huge"}
    with Hostile("ok", by_urn=hostile, depth=900) as server:
        write_profiles(server.url)
        result = wibmo("lookup", "--file", str(rows))
    assert result.exit_code != INTERNAL_ERROR, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5]
    assert [line["input"] for line in lines] == ["1001", "1002", "1003", "1004", "1005"]
    assert [line["ok"] for line in lines] == [True, False, False, False, True]
    assert [line["error"]["exit_code"] for line in lines[1:4]] == [4, 4, 6]
    assert "max_answer_bytes" in lines[3]["error"]["message"]
    assert result.exit_code == 6  # the worst row


def test_even_a_bug_while_sending_completes_the_update_audit_entry(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Client, payload: dict[str, Any]) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(Client, "update", broken)
    with Hostile("ok") as server:
        write_profiles(server.url)
        result = wibmo(*UPDATE, *SEND)
    assert result.exit_code == INTERNAL_ERROR
    entries = audit_entries()
    assert [e["result"] for e in entries] == ["sending", "outcome unknown"]
    assert entries[1]["error"] == "internal error (ValueError)"


# -- item 6: the timeout bounds each attempt's whole exchange --------------------------


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body"])
@pytest.mark.slow  # waits out a timeout, or many processes
def test_a_dripping_server_cannot_stretch_a_lookup(wibmo: Invoke, mode: str) -> None:
    """A byte every 0.2 s never trips the 0.5 s read timeout; the whole-exchange one does."""
    with Hostile(mode, lifetime=8) as server:
        write_profiles(server.url, timeout=0.5, retries=2)
        result, elapsed = timed(wibmo, *LOOKUP)
    assert_one_line_error(result, 5, "within 0.5s (timeout)")
    assert elapsed < 2
    assert len(server.seen) == 1  # it was answered, slowly: not a connect failure to retry


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body"])
@pytest.mark.slow  # waits out a timeout, or many processes
def test_a_dripping_server_cannot_keep_an_update_waiting(wibmo: Invoke, mode: str) -> None:
    with Hostile(mode, lifetime=8) as server:
        write_profiles(server.url, timeout=0.5, retries=2)
        result, elapsed = timed(wibmo, *UPDATE, *SEND)
    assert_outcome_unknown(result, "within 0.5s (timeout)")
    assert elapsed < 2
    assert len(server.seen) == 1


def test_an_update_whose_connection_never_completes_says_nothing_was_sent(
    wibmo: Invoke,
) -> None:
    with unanswered() as url:
        write_profiles(url, timeout=0.3)
        result, elapsed = timed(wibmo, *UPDATE, *SEND)
    assert_one_line_error(result, 5, "timed out connecting to")
    assert "nothing was sent" in result.stderr
    assert [e["result"] for e in audit_entries()] == ["sending", "not sent"]
    assert elapsed < 2


def test_a_lookup_that_cannot_connect_is_retried_within_its_budget(wibmo: Invoke) -> None:
    with unanswered() as url:
        write_profiles(url, timeout=0.3, retries=1)
        result, elapsed = timed(wibmo, "-v", *LOOKUP)
    assert result.exit_code == 5, result.stderr
    assert result.stderr.count("> POST ") == 2  # retried once
    assert "timed out connecting to" in result.stderr.splitlines()[-1]
    assert elapsed < 2 * 0.3 + MAX_RETRY_WAIT


class Stalls(httpx.AsyncBaseTransport):
    """Reports (as httpcore does) how far the request got, then never answers."""

    def __init__(self, *events: str) -> None:
        self.events = events

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for event in self.events:
            await request.extensions["trace"](event, {})
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("events", "sent"),
    [
        (("connection.connect_tcp.started",), False),
        (("connection.connect_tcp.started", "connection.start_tls.started"), False),
        (("connection.connect_tcp.started", "http11.send_request_headers.started"), True),
        (("http11.send_request_headers.started",), True),  # a kept-alive connection
        ((), True),  # nothing known: it may have left
    ],
)
def test_an_update_past_its_deadline_is_unsent_only_if_it_never_started_sending(
    events: tuple[str, ...], sent: bool
) -> None:
    profile = resolve("p", {**PROFILE, "timeout": 0.2}, {}, source="test")
    payload = {"clientTxnId": "WTXN0000000001", "urn": "389"}

    async def update() -> None:
        async with Client(profile, "http://127.0.0.1:9", transport=Stalls(*events)) as client:
            await client.update(payload)

    with pytest.raises(WibmoError) as caught:
        asyncio.run(update())
    assert caught.value.exit_status == 5
    assert isinstance(caught.value, OutcomeUnknownError) is sent
    assert ("nothing was sent" in caught.value.message) is not sent


def test_the_lookup_budget_is_attempts_times_timeout_plus_the_waits() -> None:
    profile = resolve("b", {"timeout": 4, "retries": 3}, {}, source="test")
    assert profile.lookup_budget() == 4 * 4 + 3 * MAX_RETRY_WAIT
    default = resolve("d", {}, {}, source="test")
    assert default.lookup_budget() == 3 * 15 + 2 * MAX_RETRY_WAIT  # 65 s


# -- item 7: the answer is size-capped --------------------------------------------------


@pytest.mark.parametrize("mode", ["huge", "huge-length", "gzip-bomb"])
def test_an_answer_over_max_answer_bytes_is_refused_with_exit_6(wibmo: Invoke, mode: str) -> None:
    with Hostile(mode) as server:
        write_profiles(server.url, max_answer_bytes=1024 * 1024)
        result, elapsed = timed(wibmo, *LOOKUP)
    assert_one_line_error(result, 6, "bigger than max_answer_bytes (1048576 bytes)")
    assert elapsed < 3


def test_the_default_cap_is_four_mib(wibmo: Invoke) -> None:
    with Hostile("huge", size=4 * 1024 * 1024 + 1) as server:
        write_profiles(server.url)
        result = wibmo(*LOOKUP)
    assert_one_line_error(result, 6, "bigger than max_answer_bytes (4194304 bytes)")


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [("bad-gzip", "not valid gzip data"), ("brotli", "Content-Encoding 'br'")],
)
def test_an_answer_whose_encoding_does_not_decode_is_exit_6(
    wibmo: Invoke, mode: str, fragment: str
) -> None:
    with Hostile(mode) as server:
        write_profiles(server.url)
        result = wibmo(*LOOKUP)
    assert_one_line_error(result, 6, fragment)


@pytest.mark.parametrize("mode", ["huge", "gzip-bomb"])
def test_an_update_whose_answer_is_too_big_is_outcome_unknown(wibmo: Invoke, mode: str) -> None:
    with Hostile(mode) as server:
        write_profiles(server.url, max_answer_bytes=1024 * 1024)
        result = wibmo(*UPDATE, *SEND)
    assert_outcome_unknown(result, "bigger than max_answer_bytes")


def test_a_gzip_bomb_is_stopped_at_the_cap_without_inflating_it(isolated: Path) -> None:
    """128 MiB inflated on offer; what is held at once stays near the 1 MiB cap."""
    profile = resolve("bomb", {**PROFILE, "max_answer_bytes": 1024 * 1024}, {}, source="test")
    payload = lookup_payload(Identifiers.parse(urn="389"))

    async def lookup(url: str) -> None:
        async with Client(profile, url) as client:
            await client.lookup(payload)

    with Hostile("gzip-bomb") as server:
        tracemalloc.start()
        try:
            with pytest.raises(WibmoError, match="bigger than max_answer_bytes") as caught:
                asyncio.run(lookup(server.url))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.exit_status == 6
    assert peak < 8 * 1024 * 1024, peak


# -- item 9: timeouts and caps that make no sense are configuration errors ----------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", 1e9),
        ("max_answer_bytes", 0),
        ("max_answer_bytes", -1),
        ("max_answer_bytes", 10**12),
        ("max_answer_bytes", 1.5),
        ("max_answer_bytes", True),
        ("max_answer_bytes", "4MB"),
    ],
)
def test_a_nonsensical_timeout_or_cap_is_a_configuration_error(
    wibmo: Invoke, key: str, value: Any
) -> None:
    write_profiles("http://127.0.0.1:9", **{key: value})
    assert_one_line_error(wibmo(*LOOKUP), 3, key)
    assert_one_line_error(wibmo("profiles", "check", "hard"), 3, key)


def test_profiles_check_shows_the_limits_and_the_lookup_budget(wibmo: Invoke) -> None:
    write_profiles("http://127.0.0.1:9", timeout=4, retries=3, max_answer_bytes=65536)
    result = wibmo("profiles", "check", "hard", "-o", "json")
    assert result.exit_code == 0, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["limits"]["status"] == "ok"
    assert checks["limits"]["detail"] == (
        "each attempt within 4s, a lookup within 46s (3 retries), answers up to 65536 bytes"
    )


def test_the_example_profiles_file_shows_max_answer_bytes() -> None:
    example = Path(__file__).parent.parent / "profiles.example.toml"
    assert "max_answer_bytes = 4194304" in example.read_text(encoding="utf-8")


# -- items 18 and 21: every "may have been applied" is exit 5 ----------------------------


def test_an_update_answered_for_another_client_txn_id_is_outcome_unknown(
    wibmo: Invoke,
) -> None:
    with Hostile("wrong-txn") as server:
        write_profiles(server.url)
        result = wibmo(*UPDATE, *SEND)
    entry = assert_outcome_unknown(result, f"the answer is for clientTxnId '{OTHER_TXN}'")
    assert "not the one sent" in entry["error"]
    assert result.stdout == ""  # not shown as the update's success


def test_an_update_answered_with_a_5xx_is_outcome_unknown(wibmo: Invoke) -> None:
    with Hostile("5xx") as server:
        write_profiles(server.url, retries=3)
        result = wibmo(*UPDATE, *SEND)
    assert_outcome_unknown(result, "HTTP 502")
    assert len(server.seen) == 1


# -- anything at all ---------------------------------------------------------------------


@pytest.mark.slow  # waits out a timeout, or many processes
def test_random_answers_end_in_documented_outcomes() -> None:
    """Random statuses, lengths, encodings, Retry-Afters and bodies: only WibmoError."""
    profile = resolve(
        "r", {**PROFILE, "timeout": 2, "retries": 1, "max_answer_bytes": 4096}, {}, source="t"
    )
    outcomes: dict[str, int] = {}

    async def nap(delay: float) -> None:
        assert 0 <= delay <= MAX_RETRY_WAIT

    async def exchanges(url: str) -> None:
        async with Client(profile, url, sleep=nap) as client:
            for number in range(100):
                payload = {"clientTxnId": f"WTXN{number:010d}", "urn": "389"}
                for call in (client.lookup, client.update):
                    try:
                        await call(payload)
                        name = "answered"
                    except WibmoError as exc:
                        assert exc.exit_status in (1, 3, 4, 5, 6), exc
                        assert "\n" not in str(exc)
                        name = f"{type(exc).__name__} (exit {int(exc.exit_status)})"
                    outcomes[name] = outcomes.get(name, 0) + 1

    with Hostile("random", seed=9) as server:
        asyncio.run(exchanges(server.url))
    assert sum(outcomes.values()) == 200
    assert len(outcomes) >= 5, outcomes  # the answers were varied


# -- the one parser of network JSON ------------------------------------------------------


def test_load_json_never_raises_recursion_error() -> None:
    from wibmo_cli.crypto import JSONDepthError, load_json

    for text in ("[" * 100_000, "[" * 3000 + "]" * 3000, '{"a":' * 5000):
        with pytest.raises(JSONDepthError):
            load_json(text, max_depth=64)
    with pytest.raises(JSONDepthError, match="more than 64 levels"):
        load_json("[" * 65 + "]" * 65, max_depth=64)
    assert load_json("[" * 64 + "]" * 64, max_depth=64) is not None
    assert load_json(b'{"a": "[[[[[[[[[[[[", "b": [1, {"c": []}]}', max_depth=4) is not None
    with pytest.raises(JSONDepthError):
        load_json(b'{"a": "[[[[[[[[[[[[", "b": [1, {"c": []}]}', max_depth=3)
    with pytest.raises(ValueError, match="Expecting value"):
        load_json("", max_depth=64)

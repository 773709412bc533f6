"""Issue 11, item 9: `responseCode "0000"` is success only where a profile says so.

`codes.is_success(code, success_codes)` is the one decision; every consumer passes the
profile's `success_codes` (default ("00",)): the lookup's exit code and view, the batch
rows, the lookup before an update (send.py) and the update's own exit code. End to end
against a stand-in on loopback (tests/hostile.py) answering "0000", as some closed-loop
pages show.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile, success
from support import Invoke, codec, write_profiles

from wibmo_cli.codes import DEFAULT_SUCCESS_CODES, is_success, normalise_code
from wibmo_cli.views.customer import answer_view

ZEROS = "0000"


# -- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["000", "0000", "00000", "0" * 40])
def test_an_all_zero_code_is_no_longer_guessed_to_be_success(code: str) -> None:
    assert normalise_code(code) == code
    assert not is_success(code)
    assert not is_success(code, DEFAULT_SUCCESS_CODES)


@pytest.mark.parametrize("code", [0, "0", "00", " 00 ", "0\n"])
def test_the_documents_spellings_of_success_are_one_code(code: str | int) -> None:
    assert is_success(code)
    assert is_success(code, ("0",))  # a profile may write success as "0" too


def test_a_profile_that_lists_0000_makes_it_success_and_only_it() -> None:
    accepted = ("00", ZEROS)
    assert is_success(ZEROS, accepted)
    assert is_success(" 0000 ", accepted)
    assert is_success("00", accepted)
    assert not is_success("000", accepted)
    assert not is_success("1303", accepted)
    assert not is_success("00", (ZEROS,))  # the profile's list is the whole truth


@pytest.mark.parametrize("code", [None, "", True, False, [], {}, ["00"], {"00": 1}])
def test_no_code_or_a_container_is_never_success(code: object) -> None:
    assert not is_success(code, ("00", ZEROS))


def test_the_answer_view_asks_the_profile() -> None:
    answer = {"responseCode": ZEROS, "responseMessage": "SUCCESS"}
    assert not answer_view(answer).ok
    assert answer_view(answer, ("00", ZEROS)).ok


# -- end to end: a stand-in answering 0000 ----------------------------------------------


def _zeros_answer() -> tuple[int, str, bytes]:
    """A lookup- and update-shaped answer with responseCode 0000 and no clientTxnId (the
    stand-in answers every request alike: the update's check of clientTxnId is skipped
    when the answer names none, as for a real platform that leaves it out)."""
    answer: dict[str, Any] = {**success("T", "389"), "responseCode": ZEROS}
    del answer["clientTxnId"]
    return 200, "application/json", json.dumps({"token": codec().encrypt_json(answer)}).encode()


@pytest.fixture
def zeros() -> Iterator[Hostile]:
    with Hostile("canned", reply=_zeros_answer()) as server:
        yield server


@pytest.mark.parametrize(("listed", "code"), [(None, 1), (["00", ZEROS], 0)])
def test_lookup_exit_code_follows_success_codes(
    cli: Invoke, zeros: Hostile, listed: list[str] | None, code: int
) -> None:
    write_profiles(zeros.url, success_codes=listed)
    result = cli("lookup", "--urn", "389")
    assert result.exit_code == code, result.stderr
    assert "responseCode 0000" in result.stdout
    said = "The platform answered with an error" in result.stdout
    assert said is (code == 1)


@pytest.mark.parametrize(("listed", "kind"), [(None, "error"), (["00", ZEROS], "answered")])
def test_batch_rows_follow_success_codes(
    cli: Invoke, zeros: Hostile, isolated: Path, listed: list[str] | None, kind: str
) -> None:
    write_profiles(zeros.url, success_codes=listed)
    (isolated / "urns.txt").write_text("389\n390\n")
    result = cli("lookup", "--file", "urns.txt", "--column", "urn")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    if kind == "answered":
        assert result.exit_code == 0, result.stderr
        assert all(row["ok"] and row["responseCode"] == ZEROS for row in rows), rows
    else:
        assert result.exit_code == 1, result.stderr
        assert all(not row["ok"] and row["error"]["code"] == ZEROS for row in rows), rows


def test_an_update_is_not_sent_when_the_lookup_before_it_answers_0000_unlisted(
    cli: Invoke, zeros: Hostile
) -> None:
    write_profiles(zeros.url)
    result = cli("update-profile", "--urn", "389", "--city", "Pune", "--yes")
    assert result.exit_code == 1, result.stderr
    assert "the lookup before the update answered 0000" in result.stderr
    assert len(zeros.seen) == 1  # the lookup only


def test_an_update_answered_0000_succeeds_where_the_profile_lists_it(
    cli: Invoke, zeros: Hostile
) -> None:
    write_profiles(zeros.url, success_codes=["00", ZEROS])
    result = cli("update-profile", "--urn", "389", "--city", "Pune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "see the change" in result.stderr
    assert len(zeros.seen) == 2  # the lookup, then the update

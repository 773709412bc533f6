"""Fuzzing the answer side: random and adversarial answers into lookup, update and batch.

The promise (DESIGN.md, Reliability): whatever the server sends, whatever its status,
headers, length, encoding, nesting or bytes, the command ends in a documented outcome,
never exit 70 and never a traceback; a batch writes one line per row, in row order; an
update's audit entry never stays at "sending"; nothing from the network reaches the
terminal with its control characters. Each example draws a seed for `hostile`'s
`random_answer` (status, Content-Length right or wrong, gzip/deflate/br or none,
truncation, Retry-After, a body from good tokens to nesting thousands deep and bytes
that are not UTF-8). `bench/fuzz_campaign.py` runs these under the fuzz hypothesis
profile (WIBMO_HYPOTHESIS=fuzz: thirty times CI's examples), next to tests/test_fuzz.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile
from hypothesis import given
from hypothesis import strategies as st
from support import Invoke, budget, write_profiles
from typer.testing import Result

from wibmo_cli.app import INTERNAL_ERROR

seeds = st.integers(min_value=0, max_value=2**32 - 1)
outputs = st.sampled_from(["table", "json"])
ROWS = ["1001", "1002", "1003", "1004", "1005", "1006"]
# What a terminal must never be handed raw: ESC, BEL, CSI (C1), backspace, carriage return.
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x08", "\r")


@pytest.fixture(scope="module")
def server() -> Iterator[Hostile]:
    """One server for every example of a test; each example reseeds its answers."""
    with Hostile("random", lifetime=3600) as hostile:
        yield hostile


def _run(wibmo: Invoke, server: Hostile, seed: int, *args: str) -> Result:
    server.reseed(seed)
    # retries 0: a retry's backoff would be real sleeping (the client's own tests fuzz
    # retries with an instant sleep); a small cap so big answers are refused quickly.
    write_profiles(server.url, timeout=2, retries=0, max_answer_bytes=65536)
    return wibmo(*args)


def _assert_documented(result: Result, codes: set[int]) -> None:
    assert result.exit_code != INTERNAL_ERROR, result.stderr
    assert result.exit_code in codes, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for control in RAW_CONTROLS:
        assert control not in result.stderr, (control, result.stderr)


def _audit() -> list[dict[str, Any]]:
    path = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@budget(30)
@given(seed=seeds, output=outputs)
def test_any_answer_to_a_lookup_ends_in_a_documented_outcome(
    wibmo: Invoke, server: Hostile, seed: int, output: str
) -> None:
    result = _run(wibmo, server, seed, "-o", output, "lookup", "--urn", "389")
    _assert_documented(result, {0, 1, 4, 5, 6})
    if result.exit_code > 1:  # an answer with another code (1) is shown on stdout
        assert len(result.stderr.splitlines()) == 1, result.stderr
    if output == "json" and result.stdout:
        json.loads(result.stdout)
    else:
        for control in RAW_CONTROLS:
            assert control not in result.stdout, (control, result.stdout)


@budget(30)
@given(seed=seeds, output=outputs)
def test_any_answer_to_an_update_is_reported_and_audited(
    wibmo: Invoke, server: Hostile, seed: int, output: str
) -> None:
    before = len(_audit())
    result = _run(
        wibmo,
        server,
        seed,
        *("-o", output, "update-profile", "--urn", "389", "--email", "fuzz@example.com"),
        *("--yes", "--card-profile-id", "30"),
    )
    # 0 applied, 1 refused by the platform, 5 may have been applied, 6 a 4xx (not applied)
    _assert_documented(result, {0, 1, 5, 6})
    entries = [e for e in _audit()[before:] if e.get("action") == "update"]
    assert [e["result"] for e in entries][:1] == ["sending"], entries
    assert len(entries) == 2, entries  # the entry before sending, and the outcome
    if result.exit_code == 5:
        assert entries[1]["result"] == "outcome unknown", entries
        assert entries[1]["clientTxnId"] in result.stderr
        assert "check with: wibmo" in result.stderr


@budget(15)
@given(seed=seeds, concurrency=st.sampled_from(["1", "3"]))
def test_any_answers_to_a_batch_give_one_line_per_row_in_order(
    wibmo: Invoke, server: Hostile, isolated: Path, seed: int, concurrency: str
) -> None:
    rows = isolated / "urns.txt"
    rows.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    result = _run(wibmo, server, seed, "lookup", "--file", str(rows), "--concurrency", concurrency)
    _assert_documented(result, {0, 1, 2, 4, 5, 6})
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["row"] for line in lines] == list(range(1, len(ROWS) + 1))
    assert [line["input"] for line in lines] == ROWS
    worst = max((0 if line["ok"] else line["error"]["exit_code"]) for line in lines)
    assert result.exit_code == worst

"""Input files, hardened (issue 9): one input line is one row whatever it holds (item 1),
two runs on one --resume file are refused (item 11), a patch key given twice is refused
(item 20)."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from support import (
    WIBMO,
    lookups,
    records,
    run_capped,
    sandbox_with_profiles,
    start_capped,
    wait_for_lines,
)

from wibmo_cli import batch, batchio
from wibmo_cli.batch import BatchSettings, FileJob
from wibmo_cli.batchio import Row, RowReader
from wibmo_cli.changes import read_patch
from wibmo_cli.client import Exchange
from wibmo_cli.errors import InputError

FOUR_ROWS = 'urn,note\n389,ok\n1000060900,"unterminated\n1000063983,ok\n1000067317,ok\n'


def read_answered(path: Path) -> Any:
    from wibmo_cli import batchresume  # (new: imported here, the tests run on old code too)

    return batchresume.read_answered(path)


def resumed(path: Path) -> Any:
    from wibmo_cli import batchresume

    return batchresume.resumed(path)


def read_rows(text: str, column: str | None = None) -> list[Row]:
    return list(RowReader(io.StringIO(text), column=column, name="in.csv"))


# -- item 1: a stray quote, the reader ---------------------------------------------------------


def test_a_stray_quote_spoils_its_own_row_only() -> None:
    rows = read_rows(FOUR_ROWS)
    assert [(r.number, r.value, r.kind) for r in rows] == [
        (2, "389", "urn"),
        (3, '1000060900,"unterminated', "urn"),  # what the line held, to find it by
        (4, "1000063983", "urn"),
        (5, "1000067317", "urn"),
    ]
    assert [r.problem is not None for r in rows] == [False, True, False, False]
    assert "not closed on its line" in str(rows[1].problem)


def test_a_plain_list_is_never_parsed_as_csv() -> None:
    """One line, one row: quotes and commas in a one-column list are part of the value."""
    listing = '389\n"oops\n1000060900\n"a,b"\n1000063983\n'
    assert read_rows(listing) == [
        Row(1, "389"),
        Row(2, '"oops'),
        Row(3, "1000060900"),
        Row(4, '"a,b"'),
        Row(5, "1000063983"),
    ]
    assert read_rows('urn\n"389\n1000060900\n') == [
        Row(2, '"389', "urn"),
        Row(3, "1000060900", "urn"),
    ]


def test_each_csv_line_is_parsed_on_its_own() -> None:
    text = 'name,urn\n"Rao, A",389\n"B"x,1000060900\n,,\n"",""\nC,1000063983\n'
    rows = read_rows(text)
    assert [(r.number, r.value) for r in rows] == [
        (2, "389"),
        (3, '"B"x,1000060900'),
        (6, "1000063983"),
    ]
    assert rows[1].problem is not None and "cannot read this row as CSV" in rows[1].problem


def test_line_ends_of_every_kind_count_as_lines(tmp_path: Path) -> None:
    text = "389\r\n1000060900\r1000063983\n\n1000067317"
    (tmp_path / "in.txt").write_bytes(text.encode())
    assert batchio.count_lines(str(tmp_path / "in.txt")) == 5  # the progress bar's total
    rows = list(RowReader(io.TextIOWrapper(io.BytesIO(text.encode())), column=None, name="x"))
    assert [(r.number, r.value) for r in rows] == [
        (1, "389"),
        (2, "1000060900"),
        (3, "1000063983"),
        (5, "1000067317"),
    ]


def test_an_over_long_line_is_its_own_rows_error_and_the_next_rows_keep_their_numbers() -> None:
    cap = 64 << 10  # batchio.MAX_ROW_CHARS
    text = "urn\n389\n" + "9" * (cap * 3) + "\n1000060900\n" + "x" * cap + "\n"
    rows = read_rows(text)
    assert [(r.number, r.value) for r in rows] == [
        (2, "389"),
        (3, ""),
        (4, "1000060900"),
        (5, "x" * cap),
    ]
    assert rows[1].problem is not None and "longer than 64 KiB" in rows[1].problem
    first = read_rows("z" * (cap + 1))  # no header can be read: a plain list
    assert [(r.number, r.problem is not None) for r in first] == [(1, True)]


# -- item 1: the whole pipeline, 20,000 rows ---------------------------------------------------


class FakeClient:
    """A `Client` whose lookups answer at once, counting each identifier looked up."""

    def __init__(self, asked: Counter[str]) -> None:
        self.asked = asked

    async def lookup(self, payload: dict[str, Any]) -> Exchange:
        who = str(payload.get("urn") or payload.get("customerMobile") or payload.get("customerId"))
        self.asked[who] += 1
        return Exchange({"responseCode": "00", "who": who}, 200, 0.0, "T", 1)


def fake_connect(asked: Counter[str]) -> Any:
    @asynccontextmanager
    async def connect(count: int) -> AsyncIterator[Sequence[FakeClient]]:
        yield [FakeClient(asked) for _ in range(count)]

    return connect


def run_file(job: FileJob, asked: Counter[str]) -> tuple[list[dict[str, Any]], batch.Summary]:
    out: list[str] = []
    summary = batch.lookup_file(
        job,
        BatchSettings(concurrency=32),
        fake_connect(asked),
        write=out.append,
        notice=lambda _: None,
        warn=lambda _: None,
    )
    return [json.loads(line) for line in out], summary


@pytest.mark.slow  # a big file (1.5 s of CPU); the stray quote on a short list runs by default
def test_twenty_thousand_rows_with_a_stray_quote_on_line_ten(tmp_path: Path) -> None:
    """Every identifier looked up once, one line per row, `row` its line; --resume agrees."""
    values = [str(1_000_000 + n) for n in range(1, 20_001)]
    values[9] = '"oops'
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(values) + "\n")

    asked: Counter[str] = Counter()
    fresh, summary = run_file(FileJob(str(listing)), asked)
    assert [r["row"] for r in fresh] == list(range(1, 20_001))
    assert [r["input"] for r in fresh] == values
    assert set(asked) == set(values) - {'"oops'} and set(asked.values()) == {1}
    assert not fresh[9]["ok"] and fresh[9]["error"]["exit_code"] == 2
    assert summary.done == 20_000 and summary.exit_status == 2

    # An interrupted run wrote every third row: the resumed run answers the rest, with
    # the row numbers a fresh run gives, each identifier once.
    out = tmp_path / "out.jsonl"
    kept = [r for r in fresh if r["row"] % 3 == 0]
    out.write_text("".join(json.dumps(r) + "\n" for r in kept))
    again: Counter[str] = Counter()
    rest, resumed_summary = run_file(FileJob(str(listing), resume=out), again)
    assert resumed_summary.skipped == len(kept)
    assert sorted(r["row"] for r in kept + rest) == list(range(1, 20_001))
    by_row = {r["row"]: r for r in fresh}
    assert all(r == by_row[r["row"]] for r in rest)
    missing = {r["input"] for r in fresh if r["row"] % 3 != 0} - {'"oops'}
    assert set(again) == missing and set(again.values()) == {1}


# -- item 1: the command line, against the sandbox ---------------------------------------------


def test_the_four_row_example_gives_four_lines(tmp_path: Path) -> None:
    """`printf 'urn,note\\n389,ok\\n1000060900,"unterminated\\n...' | wibmo lookup -f -`"""
    with sandbox_with_profiles(tmp_path) as (sandbox, profiles):
        with (tmp_path / "in.csv").open("w+b") as stdin:
            stdin.write(FOUR_ROWS.encode())
            stdin.seek(0)
            done = run_capped(["lookup", "--profiles-file", str(profiles), "-f", "-"], stdin=stdin)
        assert lookups(sandbox) == 3
    lines = records(done.stdout)
    assert [(r["row"], r["input"], r["ok"]) for r in lines] == [
        (2, "389", True),
        (3, '1000060900,"unterminated', False),
        (4, "1000063983", True),
        (5, "1000067317", True),
    ]
    assert "not closed on its line" in lines[1]["error"]["message"]
    assert done.code == 2, done.stderr  # the worst row: bad input
    assert "lookup: 4 rows" in done.stderr and "Traceback" not in done.stderr


def test_a_list_with_a_stray_quote_is_looked_up_line_by_line(wibmo: Any, tmp_path: Path) -> None:
    values = [str(2_000_000 + n) for n in range(1, 401)]
    values[9] = '"oops'
    (tmp_path / "list.txt").write_text("\n".join(values) + "\n")
    with sandbox_with_profiles(tmp_path) as (sandbox, profiles):
        result = wibmo(
            "lookup",
            "--profiles-file",
            str(profiles),
            "-f",
            str(tmp_path / "list.txt"),
            "--concurrency",
            "16",
        )
        assert lookups(sandbox) == 399  # every identifier but "oops, once
    lines = records(result.stdout)
    assert [r["row"] for r in lines] == list(range(1, 401))
    assert [r["input"] for r in lines] == values
    assert [r["row"] for r in lines if r["error"]["exit_code"] == 2] == [10]
    assert result.exit_code == 2


# -- item 11: one run per --resume file --------------------------------------------------------


def test_a_second_run_on_a_locked_resume_file_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text(json.dumps({"row": 1, "input": "389", "ok": True}) + "\n")
    with resumed(out) as answered:
        assert set(answered.rows) == {1}
        with pytest.raises(InputError, match="another wibmo run is using it"):
            read_answered(out)
    assert set(read_answered(out).rows) == {1}  # released when the run ends


# Which of the two runs names --resume: both (two resumed runs would both answer the
# rows missing from the file), or one of them beside a run still writing the file (a
# --resume run beside a plain one answered the rows not yet written, twice: found by an
# attack review). Either way the second run is refused while the first goes on.
@pytest.mark.parametrize(
    ("first_resumes", "second_resumes"),
    [  # many processes: one pair by default, the others in CI's full run
        pytest.param(True, True, id="both-resume"),
        pytest.param(False, True, id="second-resumes", marks=pytest.mark.slow),
        pytest.param(True, False, id="first-resumes", marks=pytest.mark.slow),
    ],
)
def test_two_concurrent_resumed_runs_never_write_a_row_twice(
    tmp_path: Path, first_resumes: bool, second_resumes: bool
) -> None:
    values = [str(3_000_000 + n) for n in range(1, 101)]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(values) + "\n")
    out = tmp_path / "out.jsonl"
    with sandbox_with_profiles(tmp_path) as (sandbox, profiles):
        sandbox.settings.faults.set_from_json({"latency_ms": 25})
        args = ["lookup", "--profiles-file", str(profiles), "-f", str(listing)]
        args += ["--concurrency", "2"]
        resume = ["--resume", str(out)]
        with out.open("ab") as sink:
            first = start_capped(args + (resume if first_resumes else []), stdout=sink)
        try:
            wait_for_lines(out, 5, first)
            with out.open("ab") as sink:
                second = start_capped(args + (resume if second_resumes else []), stdout=sink)
            _, err = second.communicate(timeout=20)
            assert second.returncode == 2, err.decode()
            message = err.decode().strip().splitlines()
            assert len(message) == 1 and "wibmo" in message[0] and "run is" in message[0]
            assert first.poll() is None  # the refusal came while the first was running
            sandbox.settings.faults.set_from_json({"latency_ms": 0})
            first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
    assert first.returncode == 1  # not found: the sandbox has none of these urns
    rows = [r["row"] for r in records(out.read_bytes())]
    assert sorted(rows) == list(range(1, 101))  # each row once


@pytest.mark.slow  # a shell script driving two runs (~3 s)
def test_the_readme_resume_step_works_when_the_shell_keeps_the_file_open(
    tmp_path: Path,
) -> None:
    """`exec >> out` (or a subshell) shares stdout's open file with the shell: a lock on it
    outlived the interrupted run and refused the README's `--resume` step (found by an
    attack review). Two plain runs may also share one output file."""
    values = [str(3_000_000 + n) for n in range(1, 31)]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(values) + "\n")
    out = tmp_path / "out.jsonl"
    with sandbox_with_profiles(tmp_path) as (sandbox, profiles):
        sandbox.settings.faults.set_from_json({"latency_ms": 10})
        wibmo = " ".join(shlex.quote(part) for part in WIBMO)
        run_ = f"{wibmo} lookup --profiles-file {profiles} -f {listing} --concurrency 1"
        script = (
            f"exec >> {out}\n"
            f"{run_} & pid=$!; sleep 0.4; kill -INT $pid; wait $pid\n"
            f"{run_} --resume {out}; echo resume-exit=$? >&2\n"
            f"{run_} & {run_}; wait\n"  # two plain runs on one file, side by side
        )
        done = subprocess.run(["sh", "-c", script], capture_output=True, timeout=60)
    assert b"resume-exit=1\n" in done.stderr, done.stderr.decode()  # 1: rows not found
    rows = [r["row"] for r in records(out.read_bytes())]
    assert sorted(rows[: len(rows) - 60]) == list(range(1, 31))  # each row once
    assert sorted(rows[len(rows) - 60 :]) == sorted(list(range(1, 31)) * 2)


# -- item 20: a patch key given twice ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"emailId": "a@example.com", "city": "Pune", "emailId": "b@example.com"}', "emailId"),
        (
            '{"docList": [{"docType": "PAN", "docNumber": "ABCPE1234F", '
            '"docNumber": "ABCPE9999F"}]}',
            "docNumber",
        ),
    ],
)
def test_a_patch_key_given_twice_is_refused(
    wibmo: Any, tmp_path: Path, text: str, key: str
) -> None:
    with pytest.raises(InputError, match=f'the key "{key}" is given twice'):
        read_patch(text, "p.json")
    (tmp_path / "p.json").write_text(text)
    result = wibmo(
        "update-profile", "--urn", "389", "--from-file", str(tmp_path / "p.json"), "--yes"
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [
        f'error: --from-file {tmp_path / "p.json"}: the key "{key}" is given twice; give it once'
    ]
    piped = wibmo("update-profile", "--urn", "389", "--from-file", "-", "--yes", input=text)
    assert piped.exit_code == 2 and f'"{key}" is given twice' in piped.stderr


def test_a_patch_with_each_key_once_still_reads() -> None:
    patch = read_patch('{"emailId": "a@example.com", "docList": [{"docType": "PAN"}]}', "p")
    assert patch == {"emailId": "a@example.com", "docList": [{"docType": "PAN"}]}


# -- item 8 (resume side): long lines ----------------------------------------------------------


def test_a_resume_line_longer_than_the_cap_is_read_by_its_start(tmp_path: Path) -> None:
    cap = 1 << 20  # batchresume.RESUME_LINE
    out = tmp_path / "out.jsonl"
    big = {
        "row": 1,
        "input": "389",
        "kind": "urn",
        "ok": True,
        "responseCode": "00",
        "answer": {"pad": "x" * (cap + 10)},
    }
    small = {"row": 2, "input": "7", "kind": None, "ok": False, "error": {"exit_code": 2}}
    line = json.dumps(big, separators=(",", ":"), ensure_ascii=False)
    torn = line[: cap + 5]  # a long last line, cut short by a kill
    out.write_text(line + "\n" + json.dumps(small) + "\n" + torn)
    answered = read_answered(out)
    assert set(answered.rows) == {1, 2}
    assert answered.counts == {"found": 1, "failed": 1}
    assert "cut a torn last line" in str(answered.repaired)
    assert out.read_text() == line + "\n" + json.dumps(small) + "\n"


def test_resume_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(InputError, match="not a regular file"):
            read_answered(path)

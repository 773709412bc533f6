"""`wibmo lookup --file`: every row answered once, in order, under failures, interrupted,
killed and resumed; CSV and plain lists; and the streaming decrypt's flat memory.

The engine is driven with fake lookups (order, window, pacing, interruption) and the
CLI against a sandbox on loopback: in-process for the functional cases, as a real
subprocess for SIGKILL and SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import wait_for_lines, write_tables
from typer.testing import Result

from wibmo_cli import batch, batchio
from wibmo_cli.batch import Batch, BatchSettings
from wibmo_cli.batchio import Row, RowReader
from wibmo_cli.batchresume import Answered, read_answered
from wibmo_cli.client import Exchange
from wibmo_cli.endpoint import sandbox_settings
from wibmo_cli.errors import InputError, NetworkError
from wibmo_cli.profiles import DEMO_PROFILE, resolve
from wibmo_cli.sandbox import (
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
    SAMPLE_MOBILE,
    SAMPLE_URN,
    Faults,
    Sandbox,
)

FOUND = (SAMPLE_MOBILE, str(SAMPLE_URN), SAMPLE_CUSTOMER_ID, "abc@xyz.com")
NOT_FOUND = "9000000001"


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def rows_of(records: list[dict[str, Any]]) -> list[int]:
    return [record["row"] for record in records]


# -- the engine, with fake lookups ------------------------------------------------------


def fake_lookup(delays: dict[str, float] | None = None, fail: set[str] | None = None) -> Any:
    """A `Client.lookup` answering 00 for any identifier (1303 for NOT_FOUND)."""

    async def lookup(payload: dict[str, Any]) -> Exchange:
        who = str(payload.get("urn") or payload.get("customerMobile") or payload.get("emailId"))
        await asyncio.sleep((delays or {}).get(who, 0.0))
        if fail and who in fail:
            raise NetworkError(f"no answer for {who}")
        code = "1303" if who.endswith(NOT_FOUND) else "00"
        answer = {"responseCode": code, "docList": [{"docNumber": "ABCDE1234F"}], "who": who}
        return Exchange(answer, 200, 0.0, str(payload["clientTxnId"]), 1)

    return lookup


def run_engine(
    rows: list[Row], lookup: Any, answered: Answered | None = None, **settings: Any
) -> tuple[list[dict[str, Any]], batch.Summary]:
    out: list[str] = []
    engine = Batch([lookup] * 8, out.append, BatchSettings(**settings))
    summary = asyncio.run(engine.run(rows, answered))
    return [json.loads(line) for line in out], summary


def urn_rows(count: int) -> list[Row]:
    return [Row(n, str(1000 + n), "urn") for n in range(1, count + 1)]


def test_lines_come_in_row_order_whatever_order_answers_come_in() -> None:
    rng = random.Random(7)
    rows = urn_rows(300)
    delays = {row.value: rng.uniform(0, 0.01) for row in rows}
    records, summary = run_engine(rows, fake_lookup(delays), concurrency=8)
    assert rows_of(records) == list(range(1, 301))
    assert all(r["ok"] and r["kind"] == "urn" for r in records)
    assert records[0]["answer"]["docList"][0]["docNumber"] == "******234F"  # masked
    assert (summary.count("found"), summary.exit_status) == (300, 0)


def test_failed_rows_get_their_error_line_and_the_worst_code_wins() -> None:
    rows = [
        Row(1, "1001", "urn"),
        Row(2, "1002", "urn"),
        Row(3, "12", "mobile"),  # invalid: answered without a request
        Row(5, NOT_FOUND, "mobile"),
        Row(6, "", "urn", problem="no identifier in this row"),
    ]
    records, summary = run_engine(rows, fake_lookup(fail={"1002"}))
    assert rows_of(records) == [1, 2, 3, 5, 6]
    errors = {r["row"]: r["error"] for r in records if not r["ok"]}
    assert errors[2] == {"code": None, "message": "no answer for 1002", "exit_code": 5}
    assert errors[3]["exit_code"] == 2 and "10-digit" in errors[3]["message"]
    assert errors[5]["code"] == "1303" and errors[5]["exit_code"] == 1
    assert errors[6]["exit_code"] == 2
    assert (summary.count("found"), summary.count("not found"), summary.count("failed")) == (
        1,
        1,
        3,
    )
    assert summary.exit_status == 5


def test_a_slow_row_holds_the_reader_back_not_memory() -> None:
    window = BatchSettings(concurrency=2).window
    read: list[int] = []

    def rows() -> Iterator[Row]:
        for row in urn_rows(window * 3):
            read.append(row.number)
            yield row

    written: list[int] = []

    async def main() -> None:
        out = batch.Batch(
            [fake_lookup({"1001": 0.3})] * 2,
            lambda line: written.append(json.loads(line)["row"]),
            BatchSettings(concurrency=2),
        )
        task = asyncio.create_task(out.run(rows()))
        await asyncio.sleep(0.15)  # row 1 is still out; the others are done
        assert written == [] and len(read) <= window + 1
        await task

    asyncio.run(main())
    assert written == list(range(1, window * 3 + 1))


def test_rate_paces_the_requests() -> None:
    started: list[float] = []

    async def lookup(payload: dict[str, Any]) -> Exchange:
        started.append(time.monotonic())
        return Exchange({"responseCode": "00"}, 200, 0.0, "T", 1)

    run_engine(urn_rows(11), lookup, concurrency=8, rate=50.0)
    assert started[-1] - started[0] >= 10 / 50 * 0.95


def test_interrupted_run_writes_every_finished_row_even_past_a_gap() -> None:
    rows = urn_rows(40)
    delays = {"1003": 5.0, "1004": 5.0}  # rows 3 and 4 never finish
    out: list[str] = []

    async def main() -> batch.Summary:
        engine = Batch([fake_lookup(delays)] * 8, out.append, BatchSettings(concurrency=8))
        task = asyncio.create_task(engine.run(rows))
        await asyncio.sleep(0.2)
        task.cancel()
        return await task

    summary = asyncio.run(main())
    written = rows_of([json.loads(line) for line in out])
    assert summary.interrupted and summary.exit_status == 130
    assert written[:2] == [1, 2] and 3 not in written and 4 not in written
    assert written == sorted(written) and len(written) == summary.done
    assert set(written) == {1, 2, *range(5, 41)}


def test_rows_answered_before_are_skipped() -> None:
    answered = Answered()
    for row in urn_rows(5)[::2]:
        answered.add(
            {"row": row.number, "input": row.value, "ok": False, "error": {"exit_code": 6}}
        )
    records, summary = run_engine(urn_rows(5), fake_lookup(), answered)
    assert rows_of(records) == [2, 4]
    assert summary.skipped == 3 and summary.exit_status == 6  # the earlier rows count
    with pytest.raises(InputError, match="row 3 was answered for another identifier"):
        run_engine([Row(3, "999", "urn")], fake_lookup(), answered)


def test_settings_and_rates_are_checked() -> None:
    assert batch.parse_rate("50/s") == 50.0 and batch.parse_rate(" 2.5 ") == 2.5
    for bad in ("0", "-1/s", "fast", "inf"):
        with pytest.raises(InputError):
            batch.parse_rate(bad)
    with pytest.raises(InputError, match="--concurrency 0"):
        BatchSettings(concurrency=0)


# -- input: CSV and plain lists ----------------------------------------------------------


def read_rows(text: str, column: str | None = None) -> list[Row]:
    import io

    return list(RowReader(io.StringIO(text), column=column, name="in.csv"))


def test_csv_with_a_header_picks_the_identifier_column() -> None:
    text = "name,Customer_ID,Mobile\nA,C1,9897123456\n\nB,,9811100001\nC,C3\n"
    assert read_rows(text) == [
        Row(2, "C1", "customerId"),
        Row(4, "", "customerId", problem="no identifier in this row"),
        Row(5, "C3", "customerId"),
    ]
    assert read_rows(text, "mobile") == [
        Row(2, "9897123456", "mobile"),
        Row(4, "9811100001", "mobile"),
        Row(5, "", "mobile", problem="no identifier in this row"),
    ]
    phones = read_rows("name,phone\nA,9897123456\nB,389\n", "phone")
    assert phones == [Row(2, "9897123456", "mobile"), Row(3, "389", "mobile")]  # phone: mobile
    cities = read_rows("name,city\nA,9897123456\nB,389\n", "city")
    assert cities == [Row(2, "9897123456", None), Row(3, "389", None)]  # kind sniffed
    with pytest.raises(InputError, match="no such column"):
        read_rows(text, "urn")


def test_plain_lists_and_headerless_csv() -> None:
    assert read_rows("9897123456\n389\n  \nabc@xyz.com\n") == [
        Row(1, "9897123456"),
        Row(2, "389"),
        Row(4, "abc@xyz.com"),
    ]
    assert read_rows("389,x\n1000060900,y\n", "urn") == [
        Row(1, "389", "urn"),
        Row(2, "1000060900", "urn"),
    ]
    with pytest.raises(InputError, match="no header row naming it"):
        read_rows("389\n", "card")
    kinds = [batchio.sniff_kind(v) for v in ("a@b.in", "+91 98971 23456", "389", "IN0001")]
    assert kinds == ["email", "mobile", "urn", "customerId"]


# -- resume file -------------------------------------------------------------------------


def test_a_torn_last_line_is_cut_and_a_whole_one_ended(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    first = json.dumps({"row": 1, "input": "389", "ok": True}) + "\n"
    path.write_text(first + '{"row": 2, "inp')
    answered = read_answered(path)
    assert set(answered.rows) == {1} and "cut a torn last line" in str(answered.repaired)
    assert path.read_text() == first
    path.write_text(first + json.dumps({"row": 2, "input": "7", "ok": True}))
    assert set(read_answered(path).rows) == {1, 2} and path.read_text().endswith("}\n")
    assert read_answered(tmp_path / "none.jsonl").rows == {}


# -- the CLI against a sandbox -----------------------------------------------------------


@pytest.fixture
def sandbox(db_path: Path) -> Iterator[Sandbox]:
    profile = resolve("t", DEMO_PROFILE, {}, source="test")
    settings = sandbox_settings(profile, db_path, faults=Faults(seed=5))
    with Sandbox(settings) as running:
        yield running


@pytest.fixture
def profiles_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    values = {**DEMO_PROFILE, "base_url": sandbox.url}
    return write_tables({"t": values}, default="t", path=tmp_path / "profiles.toml")


def mixed_rows(count: int) -> list[str]:
    cycle = (*FOUND, NOT_FOUND)
    return [cycle[n % len(cycle)] for n in range(count)]


def lookup_file(wibmo: Any, profiles: Path, *args: str, input: str | None = None) -> Result:
    return wibmo("lookup", "--profiles-file", str(profiles), *args, input=input)


def test_every_row_once_in_order_under_20_percent_failures(
    wibmo: Any, sandbox: Sandbox, profiles_file: Path, tmp_path: Path
) -> None:
    sandbox.settings.faults.set_from_json({"fail_rate": 0.2, "fail_status": 500})
    values = mixed_rows(150)
    (tmp_path / "in.txt").write_text("\n".join(values) + "\n")
    result = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "in.txt"), "--concurrency", "8")
    records = lines_of(result.stdout)
    assert rows_of(records) == list(range(1, 151))
    assert [r["input"] for r in records] == values
    failed = [r for r in records if not r["ok"] and r["error"]["exit_code"] == 6]
    assert 10 <= len(failed) <= 50  # about 20% answered HTTP 500, not retried
    assert all(r["error"]["code"] is None for r in failed)
    assert result.exit_code == 6
    assert "lookup: 150 rows" in result.stderr and "failed" in result.stderr


@pytest.mark.slow  # statistical or many processes: CI runs it (pytest -m slow)
def test_retried_503s_mostly_succeed(
    wibmo: Any, sandbox: Sandbox, profiles_file: Path, tmp_path: Path
) -> None:
    sandbox.settings.faults.set_from_json({"fail_rate": 0.2, "fail_status": 503})
    (tmp_path / "in.txt").write_text("\n".join([str(SAMPLE_URN)] * 60) + "\n")
    result = lookup_file(
        wibmo, profiles_file, "-f", str(tmp_path / "in.txt"), "--concurrency", "16"
    )
    records = lines_of(result.stdout)
    assert rows_of(records) == list(range(1, 61))
    assert sum(r["ok"] for r in records) >= 55  # three tries each: few fail all three
    retried = [r for r in sandbox.requests if r.fault is not None]
    assert retried and len(sandbox.requests) > 60


def test_csv_with_header_and_without(
    wibmo: Any, sandbox: Sandbox, profiles_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "with.csv").write_text(
        f"name,urn,Mobile\nA,{SAMPLE_URN},{SAMPLE_MOBILE}\nB,5,{DUPLICATE_MOBILE}\n"
    )
    by_urn = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "with.csv"))
    assert [(r["row"], r["kind"], r["ok"]) for r in lines_of(by_urn.stdout)] == [
        (2, "urn", True),
        (3, "urn", False),
    ]
    by_mobile = lookup_file(
        wibmo, profiles_file, "-f", str(tmp_path / "with.csv"), "--column", "mobile"
    )
    records = lines_of(by_mobile.stdout)
    assert [r["input"] for r in records] == [SAMPLE_MOBILE, DUPLICATE_MOBILE]
    assert records[1]["error"]["code"] == "1237" and by_mobile.exit_code == 1

    (tmp_path / "bare.csv").write_text(f"{SAMPLE_URN},x\n389,y\n")
    bare = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "bare.csv"), "--column", "urn")
    assert [(r["row"], r["ok"]) for r in lines_of(bare.stdout)] == [(1, True), (2, True)]
    assert bare.exit_code == 0

    missing = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "with.csv"), "--column", "x")
    assert missing.exit_code == 2 and "no such column" in missing.stderr
    assert missing.stdout == ""


def test_stdin_input(wibmo: Any, sandbox: Sandbox, profiles_file: Path) -> None:
    text = f"{SAMPLE_MOBILE}\n{SAMPLE_CUSTOMER_ID}\nnot an id!\nabc@xyz.com\n"
    result = lookup_file(wibmo, profiles_file, "--file", "-", input=text)
    records = lines_of(result.stdout)
    assert [(r["row"], r["kind"], r["ok"]) for r in records] == [
        (1, "mobile", True),
        (2, "customerId", True),
        (3, "customerId", False),
        (4, "email", True),
    ]
    assert records[2]["error"]["exit_code"] == 2 and result.exit_code == 2


def test_usage_errors(wibmo: Any, profiles_file: Path, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("389\n")
    both = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "in.txt"), "--urn", "389")
    assert both.exit_code == 2 and "--file looks up each row" in both.stderr
    alone = lookup_file(wibmo, profiles_file, "--urn", "389", "--concurrency", "4")
    assert alone.exit_code == 2 and "go with --file" in alone.stderr
    nofile = lookup_file(wibmo, profiles_file, "-f", str(tmp_path / "nope.csv"))
    assert nofile.exit_code == 2 and "no such file" in nofile.stderr


# -- a real process: killed, resumed, interrupted ----------------------------------------


def start_cli(profiles: Path, rows_path: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    with out.open("ab") as sink:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "wibmo_cli", "lookup"),
                *("--profiles-file", str(profiles), "--file", str(rows_path)),
                *("--concurrency", "4", *extra),
            ],
            stdout=sink,
            stderr=subprocess.PIPE,
        )


@pytest.mark.slow  # a process stopped mid-run and run again (~1.6 s)
def test_killed_then_resumed_gives_every_row_exactly_once(
    sandbox: Sandbox, profiles_file: Path, tmp_path: Path
) -> None:
    sandbox.settings.faults.set_from_json({"latency_ms": 15})
    values = mixed_rows(400)
    rows_path = tmp_path / "in.txt"
    rows_path.write_text("\n".join(values) + "\n")
    out = tmp_path / "out.jsonl"
    first = start_cli(profiles_file, rows_path, out)
    wait_for_lines(out, 40, first)
    first.kill()  # SIGKILL: no chance to flush anything
    first.communicate()
    assert first.returncode == -signal.SIGKILL
    before = out.read_bytes().count(b"\n")
    assert before < 400

    sandbox.settings.faults.set_from_json({"latency_ms": 0})
    second = start_cli(profiles_file, rows_path, out, "--resume", str(out))
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1, err.decode()  # NOT_FOUND rows: the worst code is 1
    records = [json.loads(line) for line in out.read_text().splitlines()]  # all valid
    assert sorted(rows_of(records)) == list(range(1, 401))
    assert all(r["input"] == values[r["row"] - 1] for r in records)
    assert "skipped (answered before)" in err.decode()


@pytest.mark.slow  # a process stopped mid-run and run again (~1.6 s)
def test_ctrl_c_flushes_the_finished_rows_and_exits_130(
    sandbox: Sandbox, profiles_file: Path, tmp_path: Path
) -> None:
    sandbox.settings.faults.set_from_json({"latency_ms": 40})
    rows_path = tmp_path / "in.txt"
    rows_path.write_text("\n".join(mixed_rows(400)) + "\n")
    out = tmp_path / "out.jsonl"
    process = start_cli(profiles_file, rows_path, out)
    wait_for_lines(out, 20, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130, err.decode()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    written = rows_of(records)
    assert len(set(written)) == len(written) and 20 <= len(written) < 400
    assert written == sorted(written)
    summary = err.decode().strip().splitlines()[-1]
    assert summary.startswith(f"lookup: {len(written)} rows") and "interrupted" in summary
    assert "--resume" in summary

    sandbox.settings.faults.set_from_json({"latency_ms": 0})
    resumed = start_cli(profiles_file, rows_path, out, "--resume", str(out))
    resumed.communicate(timeout=60)
    final = rows_of([json.loads(line) for line in out.read_text().splitlines()])
    assert sorted(final) == list(range(1, 401))


# -- streaming decrypt: memory ------------------------------------------------------------


@pytest.mark.slow  # statistical or many processes: CI runs it (pytest -m slow)
def test_streaming_decrypt_memory_stays_flat(tmp_path: Path) -> None:
    """Peak RSS of `wibmo decrypt FILE` for 20,000 and 200,000 tokens: the same."""
    from wibmo_cli.crypto import IvScheme, TokenCodec
    from wibmo_cli.crypto import parse_key as key_of

    codec = TokenCodec(key_of(DEMO_PROFILE["encryption_key"]), IvScheme("zero"))
    block = "".join(
        codec.encrypt_json({"n": n, "docNumber": "ABCDE1234F", "pad": "x" * (n % 90)}) + "\n"
        for n in range(1000)
    )

    def peak_kib(count: int) -> int:
        path = tmp_path / f"{count}.txt"
        path.write_text(block * (count // 1000))
        code = (
            "import resource, subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-m', 'wibmo_cli', 'decrypt', sys.argv[1]],"
            " stdout=subprocess.DEVNULL)\n"
            "assert done.returncode == 0\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
        )
        return int(done.stdout)

    small, large = peak_kib(20_000), peak_kib(200_000)
    assert large < small + 8 * 1024, (small, large)  # ten times the input, same memory
    assert large < 150 * 1024


def test_a_bad_row_is_named_by_its_field_not_a_command_line_option(
    wibmo: Any, tmp_path: Path
) -> None:
    listing = tmp_path / "rows.txt"
    listing.write_text("12345\n")
    result = wibmo("lookup", "--file", str(listing), "--column", "mobile")
    line = json.loads(result.stdout.splitlines()[0])
    assert result.exit_code == 2
    assert line["error"]["message"].startswith("mobile '12345':")
    assert "--mobile" not in line["error"]["message"]


def test_a_csv_whose_header_names_no_identifier_column_is_refused_before_any_request(
    wibmo: Any, tmp_path: Path
) -> None:
    table = tmp_path / "people.csv"
    table.write_text("name,city\nAsha,Pune\n")
    result = wibmo("lookup", "--file", str(table))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no header naming an identifier column" in result.stderr
    assert "first record: name, city" in result.stderr
    # Saying what the first column holds is the way out for a headerless file.
    listing = tmp_path / "headerless.csv"
    listing.write_text("12345,Asha\n")
    named = wibmo("lookup", "--file", str(listing), "--column", "mobile")
    assert json.loads(named.stdout)["error"]["message"].startswith("mobile '12345'")

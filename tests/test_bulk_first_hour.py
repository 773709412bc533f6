"""Issue 12, items 19-22: what a script author meets in the first hour of `lookup --file`.

19: JSON lines on a terminal with the progress bar running are written as they are (a
real pty at 80, 120 and 200 columns: each line parses). 20: the cells' separator is
sniffed, a one-column file's heading is read, a header naming no identifier stops the run
before anything is sent, `-o table` is refused. 21: `--rate` per second, minute or hour.
22: the audit log of `--file --reveal` (rows and masked identifiers), customer ids masked,
`--audit-log` on lookup and decrypt.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest
from support import (
    WIBMO,
    Invoke,
    StartSandbox,
    assert_one_line_error,
    audit_entries,
    child_env,
    codec,
    lookups,
    records,
)

from wibmo_cli.batch import parse_rate
from wibmo_cli.batchio import RowReader
from wibmo_cli.errors import InputError
from wibmo_cli.masking import mask_identifier
from wibmo_cli.sandbox.seed import SAMPLE_CUSTOMER_ID, SAMPLE_MOBILE, SAMPLE_URN
from wibmo_cli.sandbox.settings import Faults

# -- 19: stdout's data on a terminal, under the progress bar -----------------------------------

_CONTROL = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def _run_on_a_pty(args: tuple[str, ...], columns: int) -> tuple[int, bytes]:
    """wibmo with stdout and stderr on one pseudo-terminal `columns` wide: (status, bytes)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = child_env(TERM="xterm-256color", COLUMNS=str(columns), LINES="24")
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [*WIBMO, *args], stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    seen = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child and its terminal are gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    return process.wait(timeout=30), bytes(seen)


def _screen_lines(seen: bytes) -> list[str]:
    """What stays on each line: control sequences dropped, each line's text after its
    last carriage return (what was drawn over before it is gone)."""
    plain = _CONTROL.sub(b"", seen).decode("utf-8", "replace")
    return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in plain.split("\n")]


@pytest.mark.parametrize(
    "columns",
    [80, pytest.param(120, marks=pytest.mark.slow), pytest.param(200, marks=pytest.mark.slow)],
)
def test_json_lines_under_the_progress_bar_are_whole(
    start_sandbox: StartSandbox, tmp_path: Path, columns: int
) -> None:
    start_sandbox(profile={}, faults=Faults(latency_ms=40))  # slow enough for the bar to be drawn
    rows = [str(SAMPLE_URN), SAMPLE_MOBILE, "1000000000001", SAMPLE_CUSTOMER_ID] * 6
    source = tmp_path / "rows.txt"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    status, seen = _run_on_a_pty(("lookup", "--file", str(source), "--concurrency", "2"), columns)
    lines = _screen_lines(seen)
    data = [line for line in lines if line.startswith("{")]
    parsed = [json.loads(line) for line in data]  # each one whole: not wrapped at `columns`
    assert [record["row"] for record in parsed] == list(range(1, len(rows) + 1))
    assert status == max(r["error"]["exit_code"] for r in parsed if not r["ok"]) > 0
    assert max(len(line) for line in data) > 200  # longer than any width tried
    assert b"lookup" in seen and any(line.startswith("lookup: 24 rows") for line in lines)


def test_the_bar_leaves_stdout_alone_when_it_is_not_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wibmo_cli.views.batch import ProgressBar

    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    bar = ProgressBar(2)
    with bar:
        time.sleep(3 * bar.REFRESH)
        with bar.aside():
            pass
        drawn = stderr.getvalue()
        assert "lookup" in drawn and not drawn.endswith("\x1b[K\r\x1b[K")  # not cleared
    assert stderr.getvalue().endswith("\r\x1b[K")  # gone when the run ends


# -- 20: separators, headings, -o table ------------------------------------------------------


def _rows(text: str, column: str | None = None) -> list[tuple[str, str | None]]:
    reader = RowReader(io.StringIO(text), column=column, name="in.csv")
    return [(row.value, row.kind) for row in reader]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_sniffed(separator: str) -> None:
    text = separator.join(["name", "mobile", "city"]) + "\n"
    text += separator.join(["Asha, K", SAMPLE_MOBILE, "Pune"]) + "\n"
    if separator == ",":
        text = text.replace("Asha, K", '"Asha, K"')
    assert _rows(text) == [(SAMPLE_MOBILE, "mobile")]


def test_a_one_column_file_is_read_by_its_heading() -> None:
    assert _rows(f"phone\n{SAMPLE_MOBILE}\n") == [(SAMPLE_MOBILE, "mobile")]
    assert _rows("URN\n389\n") == [("389", "urn")]
    assert _rows("Customer ID\nC1\n") == [("C1", "customerId")]
    assert _rows("email_address\na@b.io\n") == [("a@b.io", "email")]
    assert _rows(f"{SAMPLE_MOBILE}\n389\n") == [(SAMPLE_MOBILE, None), ("389", None)]


def test_a_semicolon_file_is_looked_up_by_its_column(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    Path("excel.csv").write_text(f"Name;Phone;City\nAsha;{SAMPLE_MOBILE};Pune\n", "utf-8")
    result = cli("lookup", "--file", "excel.csv")
    assert result.exit_code == 0, result.stderr
    [record] = records(result.stdout)
    assert record["ok"] and record["kind"] == "mobile" and record["input"] == SAMPLE_MOBILE


def test_a_heading_alone_is_never_sent(cli: Invoke, start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    Path("phones.txt").write_text(f"phone\n{SAMPLE_MOBILE}\n", "utf-8")
    result = cli("lookup", "--file", "phones.txt")
    assert result.exit_code == 0, result.stderr
    assert [r["input"] for r in records(result.stdout)] == [SAMPLE_MOBILE]


def test_a_header_naming_no_identifier_stops_before_sending(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={})
    Path("people.csv").write_text("name;city\nAsha;Pune\n", "utf-8")
    result = cli("lookup", "--file", "people.csv")
    assert_one_line_error(result, 2, "no header naming an identifier column")
    assert lookups(sandbox) == 0 and result.stdout == ""
    result = cli("lookup", "--file", "people.csv", "--column", "customer_id")
    assert result.exit_code == 1  # no header: each line's first cell is a customer id
    assert [r["input"] for r in records(result.stdout)] == ["name", "Asha"]


@pytest.mark.parametrize("where", ["after", "before"])
def test_o_table_with_file_is_refused(cli: Invoke, start_sandbox: StartSandbox, where: str) -> None:
    sandbox = start_sandbox(profile={})
    Path("in.txt").write_text(f"{SAMPLE_MOBILE}\n", "utf-8")
    args = ("lookup", "--file", "in.txt")
    result = cli(*((*args, "-o", "table") if where == "after" else ("-o", "table", *args)))
    assert_one_line_error(result, 2, "-o table: lookup --file writes one JSON line per row")
    assert lookups(sandbox) == 0
    for given in ((), ("-o", "json")):
        assert cli(*args, *given).exit_code == 0


# -- 21: --rate ------------------------------------------------------------------------------


def test_rate_per_second_minute_or_hour() -> None:
    assert parse_rate("50") == parse_rate("50/s") == parse_rate(" 50 / S ") == 50.0
    assert parse_rate("120/m") == 2.0
    assert parse_rate("3000/h") == pytest.approx(3000 / 3600)
    for bad in ("50/d", "/m", "50/", "m/50", "0/h", "-1/m", "inf/h"):
        with pytest.raises(InputError, match=re.escape(f"--rate {bad}")):
            parse_rate(bad)


def test_rate_per_minute_paces_the_run(cli: Invoke, start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    Path("in.txt").write_text(f"{SAMPLE_MOBILE}\n{SAMPLE_URN}\n", "utf-8")
    started = time.monotonic()
    result = cli("lookup", "--file", "in.txt", "--rate", "120/m")  # one each half second
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started >= 0.45


# -- 22: the audit log -----------------------------------------------------------------------


def test_file_reveal_logs_the_rows_and_their_identifiers_masked(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    Path("in.csv").write_text(
        f"mobile,urn\n{SAMPLE_MOBILE},\n,{SAMPLE_URN}\n", "utf-8"
    )  # row 3 has no mobile: an error row, nothing revealed
    result = cli("lookup", "--file", "in.csv", "--reveal")
    assert result.exit_code == 2, result.stderr
    started, done = audit_entries()[-2:]
    assert started["result"] == "started" and started["file"] == "in.csv"
    assert done["command"] == "lookup" and done["action"] == "reveal"
    assert done["result"] == "done" and done["rows"] == 1
    assert done["identifiers"] == [f"mobile {mask_identifier('mobile', '91' + SAMPLE_MOBILE)}"]
    assert SAMPLE_MOBILE not in json.dumps(done)


def test_customer_ids_are_masked_like_urns(cli: Invoke, start_sandbox: StartSandbox) -> None:
    start_sandbox(profile={})
    assert mask_identifier("customer_id", "custid_V3_juyWqcUUxz") == "*" * 16 + "UUxz"
    assert mask_identifier("customerId", "C123456") == mask_identifier("urn", "C123456")
    result = cli("lookup", "--customer-id", SAMPLE_CUSTOMER_ID, "--reveal")
    assert result.exit_code == 0, result.stderr
    entry = audit_entries()[-1]
    assert entry["identifiers"] == "customer id " + "*" * 16 + SAMPLE_CUSTOMER_ID[-4:]
    assert SAMPLE_CUSTOMER_ID not in json.dumps(audit_entries())


def test_audit_log_option_on_lookup_and_decrypt(
    cli: Invoke, start_sandbox: StartSandbox, tmp_path: Path
) -> None:
    start_sandbox(profile={})
    log = tmp_path / "elsewhere" / "audit.jsonl"
    token = codec().encrypt_json({"responseCode": "00", "pan": "ABCDE1234A"})
    runs = [
        ("lookup", "--urn", str(SAMPLE_URN), "--reveal", "--audit-log", str(log)),
        ("decrypt", token, "--reveal", "--audit-log", str(log)),
    ]
    for args in runs:
        assert cli(*args).exit_code == 0
    assert [entry["command"] for entry in audit_entries(log)] == ["lookup", "decrypt"]
    assert audit_entries() == []  # not the default log

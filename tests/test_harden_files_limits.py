"""Special and huge files read within bounds (issue 9, item 8): each case is a real process
whose address space is capped (`support.MEMORY_LIMIT`, 600 MiB) and whose time is
bounded. Where a small file is expected (a key, a patch, an earlier run's output) more is
refused with one line; where a big one is (the rows of `lookup --file`) it is streamed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import interrupt_after, records, run_capped, start_capped, wait_for_lines

ZERO = "/dev/zero"


def assert_refused(done_code: int, stderr: str, code: int, fragment: str) -> None:
    assert done_code == code, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines
    assert "Traceback" not in stderr


def test_a_key_file_that_never_ends_is_refused() -> None:
    done = run_capped(["decrypt", "--key-file", ZERO, "AAAAAAAAAAAAAAAAAAAAAA=="], timeout=20)
    assert_refused(done.code, done.stderr, 3, "--key-file /dev/zero: larger than 8 KiB")
    assert done.seconds < 15


def test_a_patch_file_that_never_ends_is_refused() -> None:
    done = run_capped(["update-profile", "--urn", "389", "--from-file", ZERO, "--yes"], timeout=20)
    assert_refused(done.code, done.stderr, 2, "--from-file /dev/zero: larger than 1 MiB")
    with Path(ZERO).open("rb") as zeros:
        piped = run_capped(
            ["update-profile", "--urn", "389", "--from-file", "-", "--yes"], stdin=zeros
        )
    assert_refused(piped.code, piped.stderr, 2, "--from-file -: larger than 1 MiB")


def test_a_resume_file_that_is_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("389\n")
    done = run_capped(["lookup", "-f", str(tmp_path / "in.txt"), "--resume", ZERO], timeout=20)
    assert_refused(done.code, done.stderr, 2, "--resume /dev/zero: not a regular file")
    assert done.stdout == b""


@pytest.mark.slow
def test_a_huge_resume_line_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """A 768 MiB last line (sparse: no disk used) starting like a record: cut, not slurped."""
    (tmp_path / "in.txt").write_text("389\n")
    out = tmp_path / "out.jsonl"
    with out.open("wb") as handle:
        handle.write(b'{"row": 5, "input": "x"')
        handle.truncate(768 << 20)
    done = run_capped(["lookup", "-f", str(tmp_path / "in.txt"), "--resume", str(out)], timeout=60)
    assert done.code == 0, done.stderr
    assert "cut a torn last line" in done.stderr
    assert [r["row"] for r in records(done.stdout)] == [1]
    assert out.stat().st_size == 0


@pytest.mark.slow
def test_rows_from_a_file_that_never_ends_stream_in_bounded_memory(tmp_path: Path) -> None:
    """`lookup --file /dev/zero`: row 1 (one line that never ends) is answered with its
    error at once, the rest of the line is read and dropped in constant memory, and
    Ctrl-C ends the run as usual."""
    out = tmp_path / "out.jsonl"
    with out.open("wb") as sink:
        process = start_capped(["lookup", "--file", ZERO], stdout=sink)
        wait_for_lines(out, 1, process)
        done = interrupt_after(process, 1.0)  # still alive (not out of memory) a second on
    assert done.code == 130, done.stderr
    lines = records(out.read_bytes())
    assert [(r["row"], r["ok"]) for r in lines] == [(1, False)]
    assert "longer than 64 KiB" in lines[0]["error"]["message"]
    assert lines[0]["error"]["exit_code"] == 2
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr


def test_stdin_rows_stop_at_the_end_of_input() -> None:
    """The stream reader still ends with its input (a pipe closed by its writer)."""
    process = start_capped(["lookup", "--file", "-"], stdin=subprocess.PIPE)
    out, err = process.communicate(b"not an id!\n" + b"y" * (200 << 10), timeout=20)
    assert process.returncode == 2, err.decode()
    assert [r["row"] for r in (json.loads(line) for line in out.splitlines())] == [1, 2]


@pytest.mark.parametrize("source", ["fifo", "stdin"])
def test_ctrl_c_never_waits_for_input_that_does_not_come(tmp_path: Path, source: str) -> None:
    """A pipe or FIFO whose writer stays open but quiet: Ctrl-C ends the run at once
    (before: leaving waited on the blocked read forever, or stdin's lock aborted the
    interpreter at exit)."""
    out = tmp_path / "out.jsonl"
    read_end, write_end = os.pipe()
    try:
        with out.open("wb") as sink:
            if source == "fifo":
                fifo = tmp_path / "rows"
                os.mkfifo(fifo)
                process = start_capped(["lookup", "--file", str(fifo)], stdout=sink)
                writer = fifo.open("wb")
            else:
                process = start_capped(["lookup", "--file", "-"], stdin=read_end, stdout=sink)
                writer = os.fdopen(os.dup(write_end), "wb")
            with writer:
                writer.write(b"389\n")
                writer.flush()
                wait_for_lines(out, 1, process)
                done = interrupt_after(process, 0.2)  # the writer still open
    finally:
        os.close(read_end)
        os.close(write_end)
    assert done.code == 130, done.stderr
    assert done.seconds < 10 and "Fatal Python error" not in done.stderr
    assert [(r["row"], r["ok"]) for r in records(out.read_bytes())] == [(1, True)]


def test_rows_from_a_closed_stdin_are_an_input_error() -> None:
    """`wibmo lookup -f - <&-`: one line, exit 2 (was: internal error, exit 70)."""
    import sys

    done = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m wibmo_cli lookup -f - <&-', sys.executable],
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert_refused(done.returncode, done.stderr.decode(), 2, "--file -: there is no stdin to read")

"""`wibmo decrypt --scan` in constant memory (issue 13): peak RSS of the process for a
small log, a log fifteen times bigger, and a 100 MB line with no line feed, the same.
Slow: each writes and scans a big file (CI runs it: `pytest -m slow`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.crypto import parse_key as key_of
from wibmo_cli.profiles import DEMO_PROFILE

pytestmark = pytest.mark.slow

MIB = 1 << 20
CODEC = TokenCodec(key_of(DEMO_PROFILE["encryption_key"]), IvScheme("zero"))
ANSWER = {"responseCode": "00", "docList": [{"docNumber": "ABCDE1234F", "docType": "Pancard"}]}


def log_block(lines: int = 2000) -> tuple[bytes, int]:
    """A service's log: a token in one line of eight, the rest text. (bytes, tokens)"""
    out = []
    tokens = 0
    for n in range(lines):
        if n % 8 == 0:
            token = CODEC.encrypt_json({**ANSWER, "clientTxnId": f"T{n}"})
            out.append(f'2024-06-19 INFO <-- 200 {{"token":"{token}"}} in {n % 97} ms\n')
            tokens += 1
        else:
            out.append(f"2024-06-19 DEBUG worker-{n % 7} handled request {n:08x} for client 42\n")
    return "".join(out).encode(), tokens


def write_repeated(path: Path, block: bytes, size: int) -> int:
    """`block` written over and over to `size` bytes or just past: how many times."""
    times = -(-size // len(block))
    with path.open("wb") as out:
        for _ in range(times):
            out.write(block)
    return times


def scan_peak(path: Path) -> tuple[int, str]:
    """(peak RSS in KiB, stderr) of `wibmo decrypt --scan PATH > /dev/null`."""
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'wibmo_cli', 'decrypt', '--scan',"
        " sys.argv[1]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
        "assert done.returncode == 0, done.stderr\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(done.stderr, end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    peak, _, err = done.stdout.partition("\n")
    return int(peak), err


def test_memory_stays_flat_for_big_logs_and_long_lines(tmp_path: Path) -> None:
    block, per_block = log_block()
    small_path, big_path, line_path = (
        tmp_path / "small.log",
        tmp_path / "big.log",
        tmp_path / "line.log",
    )
    small_times = write_repeated(small_path, block, 10 * MIB)
    big_times = write_repeated(big_path, block, 150 * MIB)
    # one line of 100 MB: the same text with its line feeds taken out
    line_times = write_repeated(line_path, block.replace(b"\n", b" "), 100 * MIB)

    small, small_said = scan_peak(small_path)
    big, big_said = scan_peak(big_path)
    long_line, line_said = scan_peak(line_path)

    for said, times in ((small_said, small_times), (big_said, big_times), (line_said, line_times)):
        count = per_block * times
        assert f"{count} tokens found: {count} decrypted, 0 left" in said, said
    assert big < small + 16 * 1024, (small, big)  # fifteen times the log, the same memory
    assert long_line < small + 16 * 1024, (small, long_line)  # a line is cut in pieces
    assert max(small, big, long_line) < 150 * 1024

"""Issue 9, items 4 and 5: output streams that fail.

- stderr's reader going away (`-v ... 2>&1 >out | head -c 490`) loses the trace, never
  the answer, the audit entry or a row;
- stdout that cannot be written (disk full, `ulimit -f`, closed) is one line and exit 74
  (a reader that went away stays the quiet 141), and a batch still prints its summary
  and the --resume hint.
"""

from __future__ import annotations

import errno
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from support import audit_entries, no_traceback, served, shell, spawn

from wibmo_cli import app as app_module
from wibmo_cli.render import Renderer

# Exhaustive (every stream failure, each in its own process): slow, run by CI.
pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OUTPUT_ERROR = 74


def read_then_close(stream: Any, marker: bytes, limit: int = 490) -> bytes:
    """Read stderr until `marker` has shown (or `limit` bytes), then close it: the reader
    goes away, as `| head -c 490` does."""
    got = b""
    while marker not in got and len(got) < 1 << 20:
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            break
        got += chunk
    stream.close()
    return got[:limit]


# -- item 4: stderr's reader goes away ---------------------------------------------------


def test_an_update_whose_trace_reader_goes_away_still_answers_and_audits(
    tmp_path: Path,
    db_path: Path,
) -> None:
    out = tmp_path / "out.json"
    with served(db_path, latency_ms=400), out.open("wb") as sink:
        process = spawn(
            "-v", "update-profile", "--urn", "389", "--city", "Pune",
            "--card-profile-id", "150", "--yes", "-o", "json",
            stdout=sink,
        )  # fmt: skip
        assert process.stderr is not None
        read_then_close(process.stderr, b"> decrypted:")  # the request's trace, then gone
        process.wait(timeout=30)
    assert process.returncode == 0
    answer = json.loads(out.read_text())
    assert answer["responseCode"] == "00"
    assert [e["result"] for e in audit_entries()] == ["sending", "answered"]


def test_a_batch_whose_trace_reader_goes_away_writes_every_row(
    tmp_path: Path, db_path: Path
) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("389\n" * 12)
    out = tmp_path / "out.jsonl"
    with served(db_path, latency_ms=100), out.open("wb") as sink:
        process = spawn("-v", "lookup", "--file", str(rows), "--concurrency", "2", stdout=sink)
        assert process.stderr is not None
        read_then_close(process.stderr, b"> decrypted:")
        process.wait(timeout=30)
    assert process.returncode == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["row"] for r in records] == list(range(1, 13))


class _Gone(io.StringIO):
    """A stream whose reader went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_every_stderr_writer_of_the_renderer_tolerates_a_closed_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wibmo_cli.render import MessageStream

    monkeypatch.setattr("sys.stderr", _Gone())
    render = Renderer(verbose=True)
    render.info("info")
    render.warn("warn")
    render.error("error")
    render.trace("trace")
    render.err_console.print("a preview")
    MessageStream().write("direct")
    monkeypatch.setattr("sys.stderr", None)  # started with 2>&-
    Renderer(verbose=True).trace("nothing to write to")


def test_the_progress_bar_tolerates_a_closed_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    from wibmo_cli.views.batch import ProgressBar

    monkeypatch.setattr("sys.stderr", _Gone())
    with ProgressBar(3) as bar:
        for _ in range(3):
            bar.advance("found")


# -- item 5: stdout cannot be written ----------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("lookup", "--urn", "389", "-o", "json"),
        ("lookup", "--urn", "389"),
        ("codes", "1303"),
        ("encrypt", '{"a": 1}', "--profile", "hard"),
    ],
    ids=["lookup-json", "lookup-table", "codes-table", "encrypt-line"],
)
def test_a_full_disk_is_one_line_and_exit_74(db_path: Path, args: tuple[str, ...]) -> None:
    with served(db_path):
        result = shell('exec "$@" >/dev/full', *args)
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_ERROR, err
    assert err.splitlines() == ["error: cannot write the output: No space left on device"]


@pytest.mark.parametrize("output", ["json", "table"])
def test_a_closed_stdout_is_an_error_not_a_silent_success(db_path: Path, output: str) -> None:
    with served(db_path):
        result = shell('exec "$@" >&-', "lookup", "--urn", "389", "-o", output)
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_ERROR, err
    assert err.splitlines() == ["error: cannot write the output: stdout is closed"]


@pytest.mark.parametrize(
    "args", [("--help",), ("lookup", "--help"), ("--version",), ("codes", "1303")]
)
def test_help_into_a_closed_stdout_is_an_error_not_a_silent_success(
    args: tuple[str, ...],
) -> None:
    """Help was exit 0 with nothing written (found by an attack review); one line, once."""
    result = shell('exec "$@" >&-', *args)
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_ERROR, err
    assert err.splitlines() == ["error: cannot write the output: stdout is closed"]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("-p", "nosuch", "lookup", "--urn", "1"), 3, "unknown profile 'nosuch'"),
        (("lookup", "--bogus"), 2, "No such option: --bogus"),
    ],
)
def test_an_error_with_stdout_closed_is_its_own_line_only(
    args: tuple[str, ...], code: int, fragment: str
) -> None:
    """Nothing was meant for stdout: no second 'stdout is closed' line (an attack
    re-check saw one after the closed-stdout fix)."""
    result = shell('exec "$@" >&-', *args)
    err = result.stderr.decode().splitlines()
    assert result.returncode == code, err
    assert len(err) == 1 and fragment in err[0], err


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("args", [("codes",), ("lookup", "--urn", "389")], ids=["big", "small"])
def test_a_file_size_limit_is_one_line_and_exit_74(
    tmp_path: Path, args: tuple[str, ...], unbuffered: str, db_path: Path
) -> None:
    big = tmp_path / "out.txt"
    with served(db_path):
        # dash counts 512-byte blocks, bash 1024: either way less than the output
        script = f'ulimit -f 1; exec "$@" >{big}'
        result = shell(script, *args, env={"PYTHONUNBUFFERED": unbuffered})
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_ERROR, (result.returncode, err)
    assert err.splitlines() == ["error: cannot write the output: File too large"]


@pytest.mark.parametrize("redirect", [">/dev/full", ">&-"])
def test_a_batch_whose_stdout_fails_still_prints_its_summary(
    tmp_path: Path, redirect: str, db_path: Path
) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("389\n9897123456\n389\n")
    with served(db_path):
        result = shell(f'exec "$@" {redirect}', "lookup", "--file", str(rows))
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_ERROR, err
    assert no_traceback(result.stderr)
    lines = err.splitlines()
    assert lines[0].startswith("error: cannot write the output: ")
    assert lines[-1].startswith("lookup: ") and "--resume" in lines[-1]
    # what was written, not what was answered; not called an interruption (a new user's
    # review: "1 found ...; interrupted" for a row that never reached the file)
    assert "0 rows written before the output failed" in lines[-1], lines
    assert "interrupted" not in err


def test_a_batch_whose_reader_goes_away_still_exits_141(tmp_path: Path, db_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("389\n" * 300)
    with served(db_path):
        process = spawn("lookup", "--file", str(rows))
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # the reader goes away
        _, err = process.communicate(timeout=30)
    assert process.returncode == 141, err
    assert no_traceback(err)


def test_an_update_whose_reader_goes_away_still_says_it_was_answered(db_path: Path) -> None:
    """`update-profile ... | (exec <&-; ...)`: exit 141 as for any closed pipe, and stderr
    still says the update was applied and how to see it (was: nothing said)."""
    with served(db_path, latency_ms=300):
        process = spawn(
            "update-profile", "--urn", "389", "--email", "pipe@example.com",
            "--card-profile-id", "150", "--yes", "-o", "json",
        )  # fmt: skip
        assert process.stdout is not None
        process.stdout.close()  # the reader goes away before the answer comes
        _, err_bytes = process.communicate(timeout=30)
    err = err_bytes.decode()
    assert process.returncode == 141, err
    assert "the update was answered: responseCode 00" in err and "clientTxnId W" in err
    assert no_traceback(err_bytes)
    assert [e["result"] for e in audit_entries()] == ["sending", "answered"]


class _Full(io.StringIO):
    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_stdout_flushed_at_exit_is_checked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdout", _Full())
    assert app_module.flush_at_exit(0) == OUTPUT_ERROR
    assert app_module.flush_at_exit(5) == 5  # a more specific code is kept
    assert "cannot write the output: No space left on device" in capsys.readouterr().err


def test_output_stream_types_its_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    from wibmo_cli.errors import OutputError
    from wibmo_cli.render import OutputStream

    monkeypatch.setattr("sys.stdout", _Gone())
    with pytest.raises(BrokenPipeError):
        OutputStream().write("x")
    monkeypatch.setattr("sys.stdout", None)
    with pytest.raises(OutputError, match="stdout is closed"):
        OutputStream().write("x")


def test_decrypting_a_file_to_a_full_disk_is_exit_74(tmp_path: Path, db_path: Path) -> None:
    from support import codec

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("".join(codec().encrypt_json({"n": n}) + "\n" for n in range(50)))
    with served(db_path):
        result = shell('exec "$@" >/dev/full', "decrypt", str(tokens), "--profile", "hard")
    assert result.returncode == OUTPUT_ERROR, result.stderr.decode()
    assert result.stderr.decode().splitlines() == [
        "error: cannot write the output: No space left on device"
    ]


@pytest.mark.parametrize(
    "args", [("--version",), ("--help",), ("codes", "--help")], ids=["version", "help", "sub"]
)
def test_help_and_version_into_a_full_disk_are_exit_74(args: tuple[str, ...]) -> None:
    result = shell('exec "$@" >/dev/full', *args)
    assert result.returncode == OUTPUT_ERROR, result.stderr.decode()
    assert result.stderr.decode().splitlines() == [
        "error: cannot write the output: No space left on device"
    ]


@pytest.mark.parametrize("args", [("--version",), ("--help",)], ids=["version", "help"])
def test_help_and_version_into_a_closed_pipe_are_exit_141(args: tuple[str, ...]) -> None:
    process = spawn(*args)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before wibmo writes anything
    _, err = process.communicate(timeout=30)
    assert process.returncode == 141, err.decode()
    assert err == b""


def test_a_batch_stopped_by_a_file_size_limit_is_finished_by_resume(
    tmp_path: Path, db_path: Path
) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("389\n9897123456\n" * 10)
    out = tmp_path / "out.jsonl"
    with served(db_path):
        first = shell(f'ulimit -f 2; exec "$@" >>{out}', "lookup", "--file", str(rows))
        err = first.stderr.decode()
        assert first.returncode == OUTPUT_ERROR, err
        assert "cannot write the output: File too large (after " in err
        assert "--resume" in err.splitlines()[-1]
        written = int(err.split("(after ")[1].split()[0])
        assert 0 < written < 20
        assert out.read_bytes().count(b"\n") == written
        again = shell(f'exec "$@" >>{out}', "lookup", "--file", str(rows), "--resume", str(out))
        assert again.returncode == 0, again.stderr.decode()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["row"] for r in records) == list(range(1, 21))

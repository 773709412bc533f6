"""Issue 9, item 12: the audit log is opened safely (no symbolic link followed, never
waiting on a FIFO, a regular file only), and an update, a dry run or a --reveal whose
entry cannot be written fails (exit 3, one line) before anything is sent or shown."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import WIBMO, Invoke, assert_one_line_error, child_env, codec, served, spawn

from wibmo_cli.audit import AuditLog
from wibmo_cli.errors import ConfigError

pytestmark = pytest.mark.e2e


DRY_RUN = ("update-profile", "--urn", "389", "--city", "Pune", "--card-profile-id", "150")


def test_a_symlinked_audit_log_is_refused_and_its_target_left_alone(
    wibmo: Invoke, tmp_path: Path, db_path: Path
) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious\n")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(target)
    with served(db_path) as running:
        result = wibmo(*DRY_RUN, "--dry-run", "--audit-log", str(link))
        assert_one_line_error(result, 3, "symbolic link")
        assert result.stdout == ""
        assert running.requests == []
    assert target.read_text() == "precious\n"


def test_a_fifo_as_audit_log_is_refused_at_once(tmp_path: Path, db_path: Path) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    with served(db_path) as running:
        process = spawn(*DRY_RUN, "--yes", "--audit-log", str(fifo))
        try:
            out, err = process.communicate(timeout=20)  # it used to wait forever
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert running.requests == []
    assert process.returncode == 3, err.decode()
    assert err.decode().splitlines() == [
        f"error: cannot write the audit log {fifo}: not a regular file; nothing was sent"
    ]
    assert out == b""


def test_reading_a_fifo_as_audit_log_does_not_wait(tmp_path: Path) -> None:
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    result = subprocess.run(
        [*WIBMO, "audit", "--audit-log", str(fifo)],
        env=child_env(),
        capture_output=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 3, result.stderr.decode()
    assert "not a regular file" in result.stderr.decode()


def test_a_dry_run_whose_entry_cannot_be_written_shows_nothing(
    wibmo: Invoke, tmp_path: Path, db_path: Path
) -> None:
    blocked = tmp_path / "a-directory"
    blocked.mkdir()
    with served(db_path):
        result = wibmo(*DRY_RUN, "--dry-run", "--audit-log", str(blocked))
    assert_one_line_error(result, 3, f"cannot write the audit log {blocked}")
    assert result.stdout == ""  # no token, no curl


def test_a_dry_run_that_looks_up_first_fails_before_the_lookup(
    wibmo: Invoke, tmp_path: Path, db_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with served(db_path) as running:
        result = wibmo("update-profile", "--urn", "389", "--city", "Pune", "--dry-run",
                       "--audit-log", str(blocker / "audit.jsonl"))  # fmt: skip
        assert running.requests == []
    assert_one_line_error(result, 3, "is not a directory")
    assert result.stdout == ""


def test_a_lookup_reveal_whose_entry_cannot_be_written_sends_nothing(
    wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    link = tmp_path / "audit.jsonl"
    link.symlink_to(tmp_path / "target")
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(link))
    with served(db_path) as running:
        result = wibmo("lookup", "--urn", "389", "--reveal")
        assert running.requests == []
    assert_one_line_error(result, 3, "--reveal is audited: nothing was sent")
    assert result.stdout == ""
    assert not (tmp_path / "target").exists()


def test_a_batch_reveal_whose_entry_cannot_be_written_sends_nothing(
    wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text("389\n")
    fifo = tmp_path / "audit.fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(fifo))
    with served(db_path) as running:
        result = wibmo("lookup", "--file", str(rows), "--reveal")
        assert running.requests == []
    assert_one_line_error(result, 3, "not a regular file")
    assert result.stdout == ""


def test_a_decrypt_reveal_whose_entry_cannot_be_written_shows_nothing(
    wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    link = tmp_path / "audit.jsonl"
    link.symlink_to(tmp_path / "target")
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(link))
    with served(db_path):
        token = codec().encrypt_json({"docNumber": "ABCPE1234F"})
        result = wibmo("decrypt", token, "--reveal")
    assert_one_line_error(result, 3, "symbolic link")
    assert result.stdout == ""


def test_a_regular_log_is_still_appended_and_created_0600(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "new" / "audit.jsonl", "p")
    log.check()
    assert not log.path.exists()  # checking creates nothing
    log.record(command="x", action="y")
    log.record(command="x", action="z")
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
    assert [e["action"] for e in log.tail(10)] == ["y", "z"]


def test_a_symlinked_log_is_not_read_either(tmp_path: Path) -> None:
    target = tmp_path / "target.jsonl"
    target.write_text('{"action": "forged"}\n')
    (tmp_path / "audit.jsonl").symlink_to(target)
    with pytest.raises(ConfigError, match="symbolic link"):
        AuditLog(tmp_path / "audit.jsonl").tail(10)


def test_an_entry_after_a_torn_line_starts_a_line_of_its_own(tmp_path: Path) -> None:
    """A write cut short (ulimit -f, a full disk, kill -9) leaves half a line; the next
    entry used to be glued onto it and lost to `wibmo audit` (found by an attack review)."""
    from wibmo_cli.audit import AuditLog

    path = tmp_path / "audit.jsonl"
    path.write_text('{"action":"update","result":"sending"}\n{"time":"2026-11-30T1', "utf-8")
    log = AuditLog(path, "p")
    log.record(action="update", result="sending", clientTxnId="WAFTERTORN0001")
    log.record(action="update", result="answered", clientTxnId="WAFTERTORN0001")
    shown = [entry.get("result") for entry in log.tail(10)]
    assert shown == ["sending", "sending", "answered"]
    assert path.read_bytes().endswith(b"\n")


@pytest.mark.skipif(shutil.which("capsh") is None, reason="needs capsh to drop root's reads")
def test_a_log_that_may_be_appended_to_but_not_read_still_takes_entries(tmp_path: Path) -> None:
    """Mode 0200 (a shared append-only log): opening it to read its last byte was
    refused, so every update stopped with exit 3 (found by an attack re-check)."""
    path = tmp_path / "audit.jsonl"
    path.write_text('{"action":"update","result":"sending"}\n', "utf-8")
    path.chmod(0o200)
    code = (
        "from pathlib import Path; from wibmo_cli.audit import AuditLog; "
        f"log = AuditLog(Path({str(path)!r}), 'p'); log.check(); "
        "log.record(action='update', result='answered')"
    )
    done = subprocess.run(
        [
            "capsh",
            "--drop=cap_dac_override,cap_dac_read_search",
            "--",
            "-c",
            f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}",
        ],
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = path.read_text("utf-8").splitlines()
    assert [json.loads(line)["result"] for line in lines] == ["sending", "answered"]

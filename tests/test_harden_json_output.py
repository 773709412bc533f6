"""JSON written by the tool (stdout, batch lines, decrypt, the audit log) is valid UTF-8
that a terminal never obeys, holding the same data: a lone surrogate (`"\\ud800"`, which
json.loads accepts), DEL, C1 controls (U+009B is CSI on some terminals), bidi controls
and line separators are written as \\u escapes. Before, a decrypted answer holding a lone
surrogate was exit 70 (UnicodeEncodeError), and C1 and bidi controls went out raw."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from support import KEY, codec

from wibmo_cli.audit import AuditLog
from wibmo_cli.textsafe import UNSAFE_UTF8, json_text

HOSTILE = "\ud800 \x7f \x9b2J \u202e \u2028 \u061c done"
RAW_BYTES = (b"\x7f", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x80\xa8", b"\xed\xa0\x80")


def _wibmo(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {"PATH": "/usr/bin:/bin", "KK": KEY.decode(), "HOME": str(Path.cwd())}
    return subprocess.run(
        [sys.executable, "-m", "wibmo_cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=30,
    )


def _clean(out: bytes) -> str:
    text = out.decode("utf-8")  # strict: a lone surrogate would fail here
    for raw in RAW_BYTES:
        assert raw not in out, raw
    return text


@given(st.recursive(st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids)))
def test_json_text_keeps_the_data_and_is_safe_utf8(value: object) -> None:
    for pretty in (False, True):
        text = json_text(value, pretty=pretty)
        assert json.loads(text) == value
        assert UNSAFE_UTF8.search(text.encode("utf-8")) is None  # encodes strictly, too


def test_decrypting_a_hostile_answer_writes_safe_json() -> None:
    escaped = codec().encrypt(json.dumps({"name": HOSTILE}).encode())  # \\ud800 as text
    raw = codec().encrypt(json.dumps({"name": HOSTILE[2:]}, ensure_ascii=False).encode())
    for args in (("--key-env", "KK", escaped), ("--key-env", "KK", raw)):
        for output in ("table", "json"):
            done = _wibmo("-o", output, "decrypt", *args)
            assert done.returncode == 0, done.stderr  # before: 70 for the surrogate
            assert json.loads(_clean(done.stdout))["name"] in (HOSTILE, HOSTILE[2:])
    tokens = f"{escaped}\n{raw}\n".encode()
    done = _wibmo("decrypt", "--key-env", "KK", "-", stdin=tokens)
    assert done.returncode == 0, done.stderr
    lines = _clean(done.stdout).splitlines()
    assert [json.loads(line)["name"] for line in lines] == [HOSTILE, HOSTILE[2:]]


def test_an_audit_entry_holding_a_lone_surrogate_is_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", "p")
    log.record(action="update", responseCode=HOSTILE)  # before: UnicodeEncodeError
    line = (tmp_path / "audit.jsonl").read_bytes()
    assert json.loads(_clean(line))["responseCode"] == HOSTILE

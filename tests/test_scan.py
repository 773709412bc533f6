"""`wibmo decrypt --scan FILE|-` (issue 13, "Decrypt what was captured"): every token in
free text decrypted where it stands.

The log is generated from real traffic: lookups sent to two sandboxes on loopback, the
profile's (its key, zero IV) and another environment's (another key, IV in front), their
request and answer bodies written as a service logs them (log lines, curl commands, JSON
bodies, `token=` pairs, quoted values, URL-safe and unpadded tokens), with noise that must
be left alone (hex ids, UUIDs, a JWT, hashes, paths, words, random base64).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import random
import re
import select
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import (
    ENCRYPTION_KEY,
    KEY,
    LOOKUP,
    SAMPLE_ENTRY,
    WIBMO,
    Invoke,
    Platform,
    StartSandbox,
    assert_one_line_error,
    audit_entries,
    child_env,
    credential_headers,
    records,
)

from wibmo_cli import tokenscan, tokentext
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.masking import mask

OTHER_KEY = b"AnotherEnvironmentKey24!"  # the other environment's key: 24 bytes of text
DOC = SAMPLE_ENTRY["docList"][0]["docNumber"]  # in the sample customer's answer, masked


def codec(iv: str = "zero", key: bytes = KEY) -> TokenCodec:
    return TokenCodec(key, IvScheme.parse(iv))


def unpadded_urlsafe(token: str) -> str:
    return base64.urlsafe_b64encode(base64.b64decode(token)).decode().rstrip("=")


# -- the generated log ---------------------------------------------------------------------------


@dataclass
class Line:
    """One log line: `before`, the token, `after` (or only `before`: a line without one).
    `value`: what the token holds when the profile's key reads it, else None."""

    before: str
    token: str = ""
    after: str = ""
    value: Any = None

    @property
    def text(self) -> str:
        return self.before + self.token + self.after


@dataclass
class Log:
    lines: list[Line] = field(default_factory=list)

    def add(self, before: str, token: str = "", after: str = "", value: Any = None) -> None:
        self.lines.append(Line(before, token, after, value))

    def write(self, path: Path) -> Path:
        path.write_text("".join(line.text + "\n" for line in self.lines), encoding="utf-8")
        return path

    @property
    def tokens(self) -> list[tuple[int, Line]]:
        return [(number, line) for number, line in enumerate(self.lines, 1) if line.token]


NOISE = [
    "2024-06-19 15:19:55.620 INFO  request id 3f2b9c1e-8d4a-4f6b-9e2d-7a1c5b3e9f01 accepted",
    "2024-06-19 15:19:55.621 DEBUG trace "
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "2024-06-19 15:19:55.622 DEBUG span a3f1c2d4e5b60718293a4b5c6d7e8f90 parent 0123456789abcdef",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwi"
    "bmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    '<script src="app.js" '
    'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC">',
    "\x1b[32mINFO\x1b[0m \x1b[1;36mretrieveCustRecord\x1b[0m 200 in 41 ms",
    "GET https://pp-sandbox.example/mob1/api/onboarding/v2/retrieveCustRecord HTTP/1.1 200",
    "INFO  ConfigurationPropertiesBindingPostProcessorRegistrar ready; internationalization done",
    "WARN  /var/lib/app/cache/session/7c9e6679742540de944be07fc1f0b4d1/state.json stale",
    "INFO  dGhpcyBpcyBub3QgYSB0b2tlbiBhdCBhbGw= is base64 of text, no whole block",
    "",
    "\tat com.example.wallet.Client.send(Client.java:42)",
]


def traffic(sandbox_url: str, other_url: str) -> Log:
    """A service's log of real exchanges with the two sandboxes, in every form a token
    takes in text, noise between them."""
    ours, theirs = Platform(sandbox_url), Platform(other_url, IvScheme("prepend"))
    theirs.codec = codec("prepend", OTHER_KEY)
    rng = random.Random(13)
    log = Log()
    try:
        for n, urn in enumerate((389, 389, 1000099810, 1000104854, 389)):
            payload = {
                "messageCode": 1930,
                "clientTxnId": f"T13-{n}",
                "requestDateTime": "20240619151955",
                "urn": str(urn),
            }
            sent = ours.codec.encrypt_json(payload)
            answer = ours.http.post(LOOKUP, json={"token": sent}, headers=credential_headers())
            assert answer.status_code == 200, answer.text
            back = answer.json()["token"]
            value = ours.codec.decrypt_json(back)
            log.add(f"2024-06-19 15:19:5{n}.000 INFO  --> POST {LOOKUP} body=", sent, "", payload)
            if n % 2:
                log.add(
                    "curl -sS -X POST 'http://127.0.0.1/x' -H 'x-api-key: $KEY' "
                    '--data \'{"token":"',
                    sent,
                    "\"}'",
                    payload,
                )
            log.add(rng.choice(NOISE))
            log.add('2024-06-19 INFO  <-- 200 {"token": "', back, '"}', value)
            log.add("answer token=", unpadded_urlsafe(back), "&status=200", value)
            log.add("cached value '", back, "' (quoted)", value)
            log.add(rng.choice(NOISE))
            # the other environment's traffic: its key, its IV scheme; in the same log
            other = theirs.send("POST", LOOKUP, payload, headers=credential_headers())
            assert other.status_code == 200, other.text
            log.add("uat <-- 200 ", other.json()["token"], " (uat)")
            log.add(rng.choice(NOISE))
    finally:
        ours.close()
        theirs.close()
    return log


@pytest.fixture
def captured(start_sandbox: StartSandbox, isolated: Path) -> tuple[Log, Path]:
    """The log of real traffic, written to capture.log; ./profiles.toml's profile `hard`
    is the first sandbox's."""
    mine = start_sandbox(profile={})
    other = start_sandbox(key=OTHER_KEY, iv="prepend")
    log = traffic(mine.url, other.url)
    return log, log.write(isolated / "capture.log")


# -- the text, decrypted in place ----------------------------------------------------------------


def test_every_token_of_the_key_is_replaced_by_its_masked_json(
    cli: Invoke, captured: tuple[Log, Path]
) -> None:
    log, path = captured
    result = cli("decrypt", "--scan", str(path))
    out = result.stdout.split("\n")
    assert out[-1] == "" and len(out) - 1 == len(log.lines)
    for shown, line in zip(out, log.lines, strict=False):
        if line.value is None:
            assert shown == line.text  # noise, and the other environment's tokens: as they were
            continue
        assert shown.startswith(line.before) and shown.endswith(line.after), shown
        middle = shown[len(line.before) : len(shown) - len(line.after)]
        assert "\n" not in middle and json.loads(middle) == mask(line.value)
    assert DOC not in result.stdout and "******3456" in result.stdout  # masked, as decrypt does
    ours = sum(1 for _, line in log.tokens if line.value is not None)
    theirs = len(log.tokens) - ours
    said = f"{len(log.tokens)} tokens found: {ours} decrypted, {theirs} left as they were"
    assert said in result.stderr


def test_json_lines_give_line_column_and_answer_or_error(
    cli: Invoke, captured: tuple[Log, Path]
) -> None:
    log, path = captured
    result = cli("-o", "json", "decrypt", "--scan", str(path))
    found = records(result.stdout)
    assert [(r["line"], r["column"], r["length"]) for r in found] == [
        (number, len(line.before) + 1, len(line.token)) for number, line in log.tokens
    ]
    for record, (_, line) in zip(found, log.tokens, strict=True):
        if line.value is not None:
            assert record["answer"] == mask(line.value) and "error" not in record
        else:
            assert record["token"] == line.token and "padding is invalid" in record["error"]


def test_jq_and_fields_work_per_line(cli: Invoke, captured: tuple[Log, Path]) -> None:
    log, path = captured
    result = cli("decrypt", "--scan", str(path), "--jq", "select(.error) | .line")
    assert result.stdout.split() == [str(n) for n, line in log.tokens if line.value is None]
    result = cli("decrypt", "--scan", str(path), "--fields", "line,answer.messageCode")
    first = json.loads(result.stdout.splitlines()[0])
    assert first == {"line": 1, "answer.messageCode": 1930}


def test_the_other_environments_tokens_left_exit_0_unless_sent_as_tokens(
    cli: Invoke, captured: tuple[Log, Path], isolated: Path
) -> None:
    """Tokens of another key are left and counted: they may be any look-alike (exit 0).
    One under an envelope key (`"token":`, `token=`) was a token the platform carried,
    and this key cannot read it: exit 4, as for decrypt."""
    log, path = captured
    assert cli("decrypt", "--scan", str(path)).exit_code == 0
    _, theirs = next((n, line) for n, line in log.tokens if line.value is None)
    sent = isolated / "sent.log"
    sent.write_text(f'uat <-- 200 {{"token":"{theirs.token}"}}\n', encoding="utf-8")
    result = cli("decrypt", "--scan", str(sent))
    assert result.exit_code == 4, result.stderr
    assert "1 of those left were sent as tokens" in result.stderr
    assert "another environment's? scan again with its profile" in result.stderr
    assert "IV scheme" not in result.stderr  # the key does not fit: not a scheme question
    assert result.stdout == sent.read_text(encoding="utf-8")


def test_the_profiles_key_with_another_iv_scheme_is_exit_4(cli: Invoke, isolated: Path) -> None:
    """Valid padding with this key, not JSON: a token of ours read with the wrong IV."""
    token = codec("prepend").encrypt_json({"messageCode": 1930, "clientTxnId": "T1"})
    path = isolated / "app.log"
    path.write_text(f"INFO body {token} end\n", encoding="utf-8")
    result = cli("decrypt", "--scan", str(path), "--key-env", "HARD_KEY")
    assert result.exit_code == 4 and result.stdout == path.read_text(encoding="utf-8")
    assert "1 of those left fit the key but are not JSON: another IV scheme?" in result.stderr
    result = cli("decrypt", "--scan", str(path), "--key-env", "HARD_KEY", "--iv", "prepend")
    assert (
        result.exit_code == 0
        and result.stdout == 'INFO body {"messageCode":1930,"clientTxnId":"T1"} end\n'
    )


def test_no_token_at_all_is_exit_0_and_the_text_unchanged(cli: Invoke, isolated: Path) -> None:
    path = isolated / "noise.log"
    path.write_text("\n".join(NOISE) + "\n", encoding="utf-8")
    result = cli("decrypt", "--scan", str(path), "--key-env", "HARD_KEY")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == path.read_text(encoding="utf-8")
    assert "0 tokens found: 0 decrypted, 0 left as they were" in result.stderr


def test_reveal_shows_document_numbers_and_is_audited(
    cli: Invoke, captured: tuple[Log, Path]
) -> None:
    _, path = captured
    result = cli("decrypt", "--scan", str(path), "--reveal")
    assert result.exit_code == 0 and DOC in result.stdout
    (entry,) = audit_entries()
    assert entry["command"] == "decrypt" and entry["action"] == "reveal"


def test_stdin_and_usage_errors(cli: Invoke, isolated: Path) -> None:
    token = codec().encrypt_json({"a": 1})
    result = cli("decrypt", "--scan", "-", "--key-env", "HARD_KEY", input=f"x={token};\n")
    assert result.exit_code == 0 and result.stdout == 'x={"a":1};\n'
    assert_one_line_error(cli("decrypt", "--scan", "missing.log"), 2, "no such file: missing.log")
    assert_one_line_error(cli("decrypt", token, "--scan", "-"), 2, "--scan reads its own FILE")
    assert_one_line_error(cli("decrypt", "--detect", "--scan", "-"), 2, "no --detect")


def test_a_live_pipe_is_answered_line_by_line(isolated: Path) -> None:
    """`tail -f app.log | wibmo decrypt --scan -`: each line out as soon as it is in."""
    token = codec().encrypt_json({"messageCode": 1931, "responseCode": "00"})
    env = child_env()
    env.pop("PYTHONUNBUFFERED", None)  # stdout a pipe, buffered: only a flush sends a line
    process = subprocess.Popen(
        [*WIBMO, "decrypt", "--scan", "-", "--key-env", "HARD_KEY"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(f"<-- {token}\n".encode())
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "no output while the input stays open"
        line = os.read(process.stdout.fileno(), 4096)
        assert line == b'<-- {"messageCode":1931,"responseCode":"00"}\n'
    finally:
        _, err = process.communicate(timeout=20)  # closes stdin: the end of the input
    assert process.returncode == 0, err


# -- the scanner, unit by unit -------------------------------------------------------------------


def scan(data: bytes, **options: Any) -> tuple[bytes, tokenscan.ScanSummary]:
    out = io.BytesIO()
    summary = tokenscan.scan_stream(codec(), io.BytesIO(data), out.write, reveal=False, **options)
    return out.getvalue(), summary


def test_bytes_are_kept_as_they_came_and_made_visible_on_a_terminal() -> None:
    token = codec().encrypt_json({"a": "b"})
    data = b"\x1b[2J\xff\xfe caf\xc3\xa9\t" + token.encode() + b" \x07end\r\r\n"
    out, _ = scan(data)
    assert out == b'\x1b[2J\xff\xfe caf\xc3\xa9\t{"a":"b"} \x07end\r\r\n'
    shown, _ = scan(data, terminal=True)  # a tab and a CRLF kept: harmless, in every log
    assert shown == b'\\x1b[2J\\xff\\xfe caf\xc3\xa9\t{"a":"b"} \\x07end\\r\r\n'


def test_padding_percent_encoded_in_a_url_is_part_of_the_token() -> None:
    """`?token=...%3D%3D&x=1`: the whole token, its encoded padding included, is replaced
    (nothing dangling after the JSON); plain `decrypt` of the line reads it too."""
    token = codec().encrypt_json({"a": 1})
    assert token.endswith("==")
    encoded = token.replace("=", "%3D").encode()
    out, summary = scan(b"GET /p?token=" + encoded + b"&x=1 HTTP/1.1\n")
    assert out == b'GET /p?token={"a":1}&x=1 HTTP/1.1\n'
    assert summary.decrypted == 1
    lower = token.replace("=", "%3d")
    assert tokentext.token_in_line(f"?token={lower}&x=1") == token.rstrip("=")


def test_columns_count_characters_from_1() -> None:
    token = codec().encrypt_json({"a": 1}).encode()
    out, _ = scan("é€ x=".encode() + token + b"\nab " + token + b"\n", as_json=True)
    assert [(r["line"], r["column"]) for r in records(out)] == [(1, 6), (2, 4)]


def test_a_line_longer_than_a_piece_is_cut_between_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line with no line feed for longer than MAX_PIECE: cut where no token is, so every
    token is found, at its column; memory bounded by the piece."""
    monkeypatch.setattr(tokenscan, "MAX_PIECE", 300)
    monkeypatch.setattr(tokenscan, "READ_SIZE", 64)
    token = codec().encrypt_json({"messageCode": 1930}).encode()
    piece = b"some text, " + token + b" more text; "
    data = piece * 40 + b"\n" + piece + b"\n"
    out, summary = scan(data)
    assert out == data.replace(token, b'{"messageCode":1930}')
    assert summary.found == summary.decrypted == 41
    found = records(scan(data, as_json=True)[0])
    assert [r["column"] for r in found[:3]] == [12 + k * len(piece) for k in range(3)]
    assert (found[-1]["line"], found[-1]["column"]) == (2, 12)


def test_a_run_of_base64_longer_than_a_piece_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenscan, "MAX_PIECE", 300)
    monkeypatch.setattr(tokenscan, "READ_SIZE", 64)
    token = codec().encrypt_json({"messageCode": 1930, "n": "0123456"}).encode()
    assert b"=" not in token  # 48 bytes: 64 characters, no padding
    data = b"x " + token * 20 + b" y " + token + b"\n"  # 20 tokens end to end: one long run
    out, summary = scan(data)
    assert out == data.replace(b" " + token + b"\n", b' {"messageCode":1930,"n":"0123456"}\n')
    assert summary.found == 1


@pytest.mark.parametrize(
    "noise",
    [
        b"0123456789abcdef0123456789abcdef0123456789ab",  # hex, 44 digits: 2 blocks as base64
        b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        b"api.example.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c.internal",
        b"shortwords and-some-words-joined",
        b"A" * 21,
    ],
)
def test_noise_is_not_taken_for_a_token(noise: bytes) -> None:
    out, summary = scan(b"x " + noise + b" y\n")
    assert out == b"x " + noise + b" y\n" and summary.found == 0


_PLAIN_RUN = re.compile(rb"([A-Za-z0-9+/_-]{22,})={0,2}")


def plain_token_runs(data: bytes) -> list[tuple[int, int]]:
    """`tokentext.token_runs` written the plain way (a regex over the text, each match
    checked), for text without terminal colour codes: its fast path is pinned to this."""
    found = []
    for match in _PLAIN_RUN.finditer(data):
        run = match[1]
        whole_blocks = len(run) % 4 != 1 and (len(run) * 3 // 4) % 16 == 0
        hex_only = re.fullmatch(rb"[0-9A-Fa-f]+", run) is not None
        before, after = data[: match.start()], data[match.end() :]
        dotted = re.search(rb"[A-Za-z0-9+/_-]\.\Z", before) or re.match(
            rb"\.[A-Za-z0-9+/_-]", after
        )
        if whole_blocks and not hex_only and not dotted:
            found.append(match.span())
    return found


_RUN_PIECES = [b"Zy9+/Q", b"G" * 21, b"ab12" * 11, b"k", b"-_", b"=", b"==", b".", b" ", b"\xff"]


@given(st.lists(st.sampled_from(_RUN_PIECES), max_size=40))
def test_token_runs_is_the_plain_regex(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    assert list(tokentext.token_runs(data)) == plain_token_runs(data)


@given(st.binary(max_size=2000))
def test_text_without_tokens_passes_through_byte_for_byte(data: bytes) -> None:
    out, summary = scan(data)
    assert out == data
    assert summary.decrypted == 0


# Text no token holds; not `.` (a run joined to a dot is a name: `tokentext.token_runs`).
_SEPARATORS = st.text(alphabet=" \t\n,;:\"'{}[]()<>|&?!#*~^é€\x07\x00", min_size=1, max_size=12)


@given(st.lists(st.tuples(_SEPARATORS, st.integers(0, 3)), max_size=12), _SEPARATORS)
def test_every_token_between_any_separators_is_found(
    pieces: list[tuple[str, int]], last: str
) -> None:
    """Tokens (standard, URL-safe, unpadded, of 1 to 4 blocks of plaintext) between any
    text no token holds: each replaced, everything else byte for byte."""
    plaintexts = [{"n": "x" * (17 * size)} for size in range(4)]
    tokens = [codec().encrypt_json(p) for p in plaintexts]
    tokens[1] = unpadded_urlsafe(tokens[1])
    data = expected = b""
    for text, which in pieces:
        data += text.encode() + tokens[which].encode()
        expected += text.encode() + json.dumps(plaintexts[which], separators=(",", ":")).encode()
    data += last.encode()
    expected += last.encode()
    out, summary = scan(data)
    assert out == expected
    assert summary.found == summary.decrypted == len(pieces)


def test_a_profile_and_its_scheme_are_used(
    cli: Invoke, start_sandbox: StartSandbox, isolated: Path
) -> None:
    start_sandbox(profile={"iv": "key"})
    token = codec("key").encrypt_json({"urn": "389"})
    path = isolated / "a.log"
    path.write_text(f"token={token}\n", encoding="utf-8")
    result = cli("decrypt", "--scan", str(path))
    assert result.exit_code == 0 and result.stdout == 'token={"urn":"389"}\n'
    assert ENCRYPTION_KEY not in result.stdout + result.stderr


def test_the_output_file_keeps_the_logs_mode_of_writing(isolated: Path) -> None:
    """Output to a file: the log's bytes, a control character included (not a terminal)."""
    token = codec().encrypt_json({"a": 1})
    path = isolated / "a.log"
    path.write_bytes(b"\x1b[31m" + token.encode() + b"\x1b[0m\n")
    out = isolated / "out.log"
    with out.open("wb") as sink:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "wibmo_cli",
                "decrypt",
                "--scan",
                str(path),
                "--key-env",
                "HARD_KEY",
            ],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=child_env(),
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == b'\x1b[31m{"a":1}\x1b[0m\n'


def test_decrypt_of_one_line_reads_tokens_by_the_same_rule(cli: Invoke) -> None:
    """`decrypt "a log line"` finds its token with `--scan`'s rule (`tokentext.token_runs`):
    a longer run of hex digits (a sha256, 48 bytes as base64: whole blocks) is no token."""
    token = codec().encrypt_json({"a": 1})
    line = f"trace {'9f86d081884c7d65' * 4} body {token}"
    result = cli("decrypt", line, "--key-env", "HARD_KEY")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"a": 1}


def test_hashes_whose_padding_happens_to_check_out_are_not_ours() -> None:
    """A sha256 as base64 is two blocks; about one in 256 has valid padding with any key.
    Such a look-alike is left and counted, not exit 4: only a plaintext whose blocks after
    the first read as text (the wrong IV garbles the first block alone) is ours."""
    lines = [
        b"etag=" + base64.b64encode(hashlib.sha256(str(n).encode()).digest()) + b"\n"
        for n in range(2000)
    ]
    _, summary = scan(b"".join(lines))
    assert summary.found == 2000 and summary.decrypted == 0
    assert (summary.ours, summary.exit_status) == (0, 0)
    wrong_iv = codec("prepend").encrypt_json({"messageCode": 1930, "clientTxnId": "T1"})
    _, ours = scan(f"body {wrong_iv}\n".encode())
    assert (ours.fits, ours.exit_status) == (1, 4)

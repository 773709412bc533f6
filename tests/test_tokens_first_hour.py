"""Issue 12, items 1, 3, 4 and 5: an engineer's first hour with `encrypt` and `decrypt`.

Wrapped tokens (openssl wraps at 64, MIME at 76) decrypt as one token from a file, stdin
and `--detect`; a path that does not exist is said to be one; a token inside a line of
text is found; blank lines are skipped; masking is said on a terminal; `decrypt -` on a
terminal reads a paste until Ctrl-D (a real pty).
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support import WIBMO, Invoke, child_env

from wibmo_cli import tokenstream, tokentext
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.errors import CryptoError
from wibmo_cli.profiles import DEMO_PROFILE

DEMO_KEY = DEMO_PROFILE["encryption_key"].encode()
DEMO = TokenCodec(DEMO_KEY, IvScheme("zero"))
OTHER = TokenCodec(bytes(range(24)), IvScheme("zero"))
DOC = "ABCDE1234F"
ANSWER = {
    "messageCode": 1931,
    "responseCode": "00",
    "customer": {"name": "Asha Rao", "mobile": "919897123456"},
    "documents": [{"docType": "PAN", "docNumber": DOC}],
    "note": "x" * 60,
}
MASKED = {**ANSWER, "documents": [{"docType": "PAN", "docNumber": "******234F"}]}


def wrap(token: str, width: int = 64) -> str:
    """`openssl enc -base64` (64) or MIME (76): the token over lines of `width`."""
    return "\n".join(token[i : i + width] for i in range(0, len(token), width))


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


def stream(data: bytes, codec: TokenCodec = DEMO, reveal: bool = False) -> tuple[list[Any], Any]:
    out = io.BytesIO()
    summary = tokenstream.decrypt_stream(codec, io.BytesIO(data), out.write, reveal=reveal)
    return json_lines(out.getvalue().decode()), summary


# -- 1. wrapped tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("width", [64, 76])
def test_a_file_holding_one_wrapped_token_decrypts_as_one(
    cli: Invoke, isolated: Path, width: int
) -> None:
    token = DEMO.encrypt_json(ANSWER)
    assert len(token) > 2 * width  # three lines at least
    (isolated / "tok.txt").write_text(wrap(token, width) + "\n")
    result = cli("decrypt", "tok.txt")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json_lines(result.stdout) == [MASKED]
    assert "1 token wrapped over several lines: joined" in result.stderr
    piped = cli("decrypt", "-", input=wrap(token, width) + "\n")
    assert piped.exit_code == 0 and json_lines(piped.stdout) == [MASKED]


def test_a_token_whose_lines_are_all_full_width_joins_too() -> None:
    token = DEMO.encrypt_json({"n": "y" * 175})  # 192 bytes of ciphertext: 256 characters
    assert len(token) == 256
    out, summary = stream((wrap(token) + "\n").encode())
    assert out == [{"n": "y" * 175}] and summary.joined == 1 and summary.failed == 0


def test_wrapped_and_one_line_tokens_mixed_keep_their_order() -> None:
    one = DEMO.encrypt_json({"n": 1})
    two = DEMO.encrypt_json({"n": 2, "pad": "p" * 120})
    three = DEMO.encrypt_json({"n": 3})
    four = DEMO.encrypt_json({"n": 4, "pad": "q" * 200})
    data = f"{one}\n{wrap(two)}\n\n{three}\n{wrap(four, 76)}\n".encode()
    out, summary = stream(data)
    assert [r["n"] for r in out] == [1, 2, 3, 4]
    assert (summary.joined, summary.failed) == (2, 0)


def test_many_one_line_tokens_keep_one_line_each() -> None:
    """Tokens of exactly 64 characters on their own lines are not joined."""
    tokens = [DEMO.encrypt_json({"n": n, "p": "z" * 20}) for n in range(30)]
    assert {len(t) for t in tokens} == {64}
    out, summary = stream(("\n".join(tokens) + "\n").encode())
    assert out == [{"n": n, "p": "z" * 20} for n in range(30)]
    assert (summary.lines, summary.joined) == (30, 0)


def test_lines_that_do_not_decrypt_together_stay_apart() -> None:
    """A wrapped token for another key: each line its own error, numbered as in the
    input; never joined into one line that hides which lines were given."""
    lines = wrap(OTHER.encrypt_json(ANSWER)).splitlines()
    out, summary = stream(("\n".join(lines) + "\n").encode())
    assert [r["line"] for r in out] == list(range(1, len(lines) + 1))
    assert (summary.failed, summary.joined) == (len(lines), 0)


def test_a_wrapped_token_across_two_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    token = DEMO.encrypt_json(ANSWER)
    data = f"{DEMO.encrypt_json({'n': 0})}\n{wrap(token)}\n{DEMO.encrypt_json({'n': 9})}\n"
    for size in (7, 65, 130, 200):  # reads that end inside the wrapped lines
        monkeypatch.setattr(tokenstream, "READ_SIZE", size)
        out, summary = stream(data.encode())
        assert out == [{"n": 0}, MASKED, {"n": 9}], size
        assert summary.joined == 1


def test_detect_joins_a_wrapped_file(cli: Invoke, isolated: Path) -> None:
    token = TokenCodec(DEMO_KEY, IvScheme("prepend")).encrypt_json(ANSWER)
    (isolated / "tok.txt").write_text("\n" + wrap(token) + "\n")
    result = cli("decrypt", "--detect", "tok.txt")
    assert result.exit_code == 0, result.stdout
    assert 'iv = "prepend"' in result.stdout
    assert "the key is probably wrong" not in result.stdout
    assert "lines read as one token wrapped at 64 characters" in result.stdout
    report = json.loads(cli("decrypt", "--detect", "-", "-o", "json", input=wrap(token)).stdout)
    assert [w["iv"] for w in report["working"]] == ["prepend"]
    assert report["read_as"].endswith("lines read as one token wrapped at 64 characters")


def test_detect_of_a_file_of_one_line_tokens_reads_the_first() -> None:
    """Joined lines first, then the first line alone: a file of 64-character tokens."""
    tokens = [DEMO.encrypt_json({"n": n, "p": "z" * 20}) for n in range(3)]
    lines = [t.encode() for t in tokens]
    candidates = tokentext.first_token(lines)
    assert [c.text for c in candidates] == ["".join(tokens), tokens[0]]


# -- 3. a path that does not exist ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("decrypt", "tok.txt"), ("decrypt", "--detect", "tok.txt"), ("decrypt", "../tok")],
)
def test_a_missing_token_file_is_said_to_be_missing(cli: Invoke, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: no such file: {args[-1]}, and it is not a token either (")


def test_a_missing_payload_file_is_said_to_be_missing(cli: Invoke) -> None:
    result = cli("encrypt", "nosuch.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no such file: nosuch.json, and it is not JSON either")
    detect = cli("decrypt", "--detect", DEMO.encrypt_json({}), "--plaintext", "req.json")
    assert detect.exit_code == 2
    assert "--plaintext: no such file: req.json, and it is not JSON either" in detect.stderr


def test_what_is_no_path_keeps_its_token_error(cli: Invoke) -> None:
    """Not a path: a word, a token cut short (all base64, perhaps with a `/`)."""
    assert cli("decrypt", "abc").exit_code == 4
    cut = DEMO.encrypt_json(ANSWER)[:-8]
    result = cli("decrypt", cut)
    assert result.exit_code == 4 and "16-byte AES blocks" in result.stderr


# -- 4. a token inside a line of text ----------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "token={t}",
        "2024-06-19 10:00:01 INFO sent token={t} status=200",
        '"{t}"',
        "'{t}',",
        '{{"level": "info", "body": "{{\\"token\\":\\"{t}\\"}}"}}',
        "curl -X POST https://pp-sandbox.example/api/v2/customer/retrieveCustRecord "
        "-H 'x-api-key: hk-ApiKey-9rT2wQ7zLmX4' -H 'content-type: application/json' "
        '--data-raw \'{{"token":"{t}"}}\'',
        "result: {t}",
    ],
    ids=["key=value", "log line", "quoted", "single-quoted", "json log", "curl", "result"],
)
def test_a_token_inside_a_line_is_found(cli: Invoke, isolated: Path, template: str) -> None:
    line = template.format(t=DEMO.encrypt_json(ANSWER))
    result = cli("decrypt", line)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == MASKED
    (isolated / "log.txt").write_text(f"{line}\n{DEMO.encrypt_json({'n': 2})}\n")
    from_file = cli("decrypt", "log.txt")
    assert from_file.exit_code == 0, from_file.stdout
    assert json_lines(from_file.stdout) == [MASKED, {"n": 2}]


def test_the_token_found_in_a_line_for_detect(cli: Invoke) -> None:
    token = TokenCodec(DEMO_KEY, IvScheme("key")).encrypt_json(ANSWER)
    result = cli("decrypt", "--detect", f"token={token}", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [w["iv"] for w in json.loads(result.stdout)["working"]] == ["key"]


def test_a_line_with_two_tokens_of_one_length_is_refused() -> None:
    a, b = DEMO.encrypt_json({"n": 1}), DEMO.encrypt_json({"n": 2})
    with pytest.raises(CryptoError, match="2 different tokens"):
        tokentext.token_in_line(f"first {a} then {b}")
    assert tokentext.token_in_line(f"token={a} other={b}") == a  # the envelope key decides


def test_a_token_for_another_key_in_a_line_says_why_it_failed(cli: Invoke) -> None:
    result = cli("decrypt", f"token={OTHER.encrypt_json(ANSWER)}")
    assert result.exit_code == 4
    assert "padding is invalid" in result.stderr and "--detect" in result.stderr


# -- 5. blank lines, the masking note, a paste ----------------------------------------------------


def test_blank_lines_are_skipped(cli: Invoke, isolated: Path) -> None:
    tokens = [DEMO.encrypt_json({"n": n}) for n in range(3)]
    (isolated / "t.txt").write_text(f"\n{tokens[0]}\n\n  \n{tokens[1]}\r\n\n{tokens[2]}\n\n")
    result = cli("decrypt", "t.txt")
    assert result.exit_code == 0, result.stdout
    assert json_lines(result.stdout) == [{"n": 0}, {"n": 1}, {"n": 2}]
    (isolated / "blank.txt").write_text("\n \n")
    empty = cli("decrypt", "blank.txt")
    assert empty.exit_code == 2 and "no input" in empty.stderr


def test_error_lines_keep_the_input_line_numbers(cli: Invoke, isolated: Path) -> None:
    (isolated / "t.txt").write_text(f"\n\n{DEMO.encrypt_json({'n': 1})}\n\nnot a token\n")
    result = cli("decrypt", "t.txt")
    assert result.exit_code == 4
    assert json_lines(result.stdout)[1]["line"] == 5


def test_the_masking_note_is_for_a_terminal_only(cli: Invoke) -> None:
    """Under CliRunner stderr is no terminal: no note (the pty test below has it)."""
    result = cli("decrypt", DEMO.encrypt_json(ANSWER))
    assert result.exit_code == 0 and "masked" not in result.stderr


def _run_in_pty(args: list[str], typed: list[bytes], *, wait_for: bytes) -> tuple[int, bytes]:
    """wibmo with a pty as its terminal (stdin, stdout, stderr): what it wrote, its exit."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [*WIBMO, *args],
        stdin=child,
        stdout=child,
        stderr=child,
        env=child_env(NO_COLOR="1", COLUMNS="100"),
        start_new_session=True,
    )
    os.close(child)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while wait_for not in seen:
            assert time.monotonic() < deadline, seen
            seen += os.read(parent, 4096)
        for chunk in typed:
            os.write(parent, chunk)
            time.sleep(0.05)
        code = process.wait(timeout=30)
        while True:
            try:
                data = os.read(parent, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            seen += data
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(parent)
    return code, seen


def test_decrypt_dash_on_a_terminal_reads_a_paste_until_ctrl_d() -> None:
    token = DEMO.encrypt_json(ANSWER)
    typed = [wrap(token).replace("\n", "\r").encode() + b"\r", b"\x04"]  # Enter, then Ctrl-D
    code, seen = _run_in_pty(["decrypt", "-"], typed, wait_for=b"Ctrl-D")
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    assert code == 0, text
    assert "paste the token, then press Enter and Ctrl-D" in text
    assert '"docNumber": "******234F"' in text  # pretty on a terminal, masked
    assert DOC not in text
    assert "document numbers are masked (last four shown); --reveal shows them whole" in text
    assert "Traceback" not in text


def test_scan_dash_on_a_terminal_reads_a_paste_as_decrypt_dash_does() -> None:
    """`decrypt --scan -` at a terminal: the same hint as `decrypt -`, then the pasted text
    scanned line by line until Ctrl-D (it used to refuse a terminal)."""
    token = DEMO.encrypt_json({"a": 1})
    typed = [f"log x={token} y\r".encode(), b"\x04"]
    code, seen = _run_in_pty(["decrypt", "--scan", "-", "-p", "demo"], typed, wait_for=b"Ctrl-D")
    assert code == 0, seen
    assert b'log x={"a":1} y' in seen and b"1 token found: 1 decrypted" in seen

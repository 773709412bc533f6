"""`wibmo encrypt` and `wibmo decrypt` end to end through the CLI, and the streaming
decrypt loop's memory use."""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from support import Invoke
from typer.testing import Result

from wibmo_cli import tokenio, tokenstream
from wibmo_cli.crypto import IvScheme, TokenCodec, parse_key
from wibmo_cli.profiles import DEMO_PROFILE

DEMO_KEY = DEMO_PROFILE["encryption_key"].encode()
DEMO = TokenCodec(DEMO_KEY, IvScheme("zero"))
OTHER_KEY = bytes(range(24))
FIXED_IV = "00112233445566778899aabbccddeeff"
DOC = "ABCDE1234F"
CUSTOMER = {
    "messageCode": 1931,
    "responseCode": "00",
    "customer": {"name": "Asha Rao", "mobile": "919897123456"},
    "documents": [{"docType": "PAN", "docNumber": DOC}],
}
SECRETS = (DEMO_PROFILE["api_key"], DEMO_PROFILE["secure_code"], DEMO_PROFILE["encryption_key"])


def token(payload: Any = None, codec: TokenCodec = DEMO) -> str:
    return codec.encrypt_json(CUSTOMER if payload is None else payload)


def error_of(result: Result, code: int) -> str:
    """The one-line error of a failed run (checked to be exactly one line)."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


# -- encrypt -------------------------------------------------------------------------


def test_encrypt_an_argument(cli: Invoke) -> None:
    result = cli("encrypt", '{"messageCode": 1930, "urn": "389"}')
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert DEMO.decrypt(result.stdout.strip()) == b'{"messageCode": 1930, "urn": "389"}'
    assert result.stderr == ""


def test_encrypt_a_file(cli: Invoke, isolated: Path) -> None:
    text = json.dumps(CUSTOMER, indent=2)
    (isolated / "payload.json").write_text(text + "\n\n", encoding="utf-8")
    result = cli("encrypt", "payload.json")
    assert result.exit_code == 0, result.stderr
    assert DEMO.decrypt(result.stdout.strip()) == text.encode()  # as written, stripped
    assert DEMO.decrypt_json(result.stdout.strip()) == CUSTOMER


@pytest.mark.parametrize("args", [("encrypt", "-"), ("encrypt",)], ids=["dash", "no argument"])
def test_encrypt_stdin(cli: Invoke, args: tuple[str, ...]) -> None:
    result = cli(*args, input='  {"a": [1, 2]}\n')
    assert result.exit_code == 0, result.stderr
    assert DEMO.decrypt(result.stdout.strip()) == b'{"a": [1, 2]}'


def test_encrypt_wrap_and_compact(cli: Invoke) -> None:
    result = cli("encrypt", '{ "a" : 1,\n "b": [1, 2] }', "--wrap", "--compact")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1
    body = json.loads(result.stdout)
    assert list(body) == ["token"]
    assert DEMO.decrypt(body["token"]) == b'{"a":1,"b":[1,2]}'
    plain = cli("encrypt", '{ "a" : 1 }')
    assert DEMO.decrypt(plain.stdout.strip()) == b'{ "a" : 1 }'


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (("encrypt", '{"a": 1'), None, "the payload is not valid JSON"),
        (("encrypt", "[1, 2]"), None, "the payload is JSON but not an object"),
        (("encrypt", '"text"'), None, "the payload is JSON but not an object"),
        (("encrypt", "   "), None, "the payload is empty: give a JSON object"),
        (("encrypt", "-"), "", "stdin is empty: give a JSON object"),
        (("encrypt",), "\n\n", "stdin is empty: give a JSON object"),
        (("encrypt", "-"), "nope", "stdin is not valid JSON"),
        (("encrypt", "[" * 100_000), None, "the payload is not valid JSON: nested too deeply"),
    ],
)
def test_encrypt_bad_input_is_exit_2(
    cli: Invoke, args: tuple[str, ...], stdin: str | None, expected: str
) -> None:
    assert expected in error_of(cli(*args, input=stdin), 2)


def test_encrypt_bad_files(cli: Invoke, isolated: Path) -> None:
    (isolated / "latin1.json").write_bytes(b'{"name": "Jos\xe9"}')
    assert "latin1.json is not UTF-8 text" in error_of(cli("encrypt", "latin1.json"), 2)
    (isolated / "dir").mkdir()
    assert "dir is a directory, not a file" in error_of(cli("encrypt", "dir"), 2)


def test_encrypt_then_decrypt_with_another_scheme(cli: Invoke) -> None:
    made = cli("encrypt", json.dumps(CUSTOMER), "--iv", "ecb")
    assert made.exit_code == 0, made.stderr
    assert TokenCodec(DEMO_KEY, IvScheme("ecb")).decrypt_json(made.stdout.strip()) == CUSTOMER
    back = cli("decrypt", made.stdout.strip(), "--iv", "ecb", "--reveal")
    assert json.loads(back.stdout) == CUSTOMER
    assert error_of(cli("decrypt", made.stdout.strip()), 4)  # the profile's zero IV fails


# -- decrypt one ---------------------------------------------------------------------


def test_decrypt_a_token_masks_document_numbers(cli: Invoke) -> None:
    result = cli("decrypt", token())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n") == 1  # not a terminal: one line
    decoded = json.loads(result.stdout)
    assert decoded["documents"][0]["docNumber"] == "******234F"
    assert decoded["customer"] == CUSTOMER["customer"]
    assert DOC not in result.stdout
    assert not (Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl").exists()


def test_decrypt_a_body(cli: Invoke) -> None:
    result = cli("decrypt", json.dumps({"token": token()}))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["documents"][0]["docNumber"] == "******234F"


def test_decrypt_a_pretty_printed_body_file(cli: Invoke, isolated: Path) -> None:
    body = {"token": token(), "status": "captured from the proxy"}
    (isolated / "body.json").write_text(json.dumps(body, indent=4) + "\n", encoding="utf-8")
    result = cli("decrypt", "body.json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["messageCode"] == 1931
    assert DOC not in result.stdout


def test_decrypt_a_wrapped_token_with_line_breaks(cli: Invoke) -> None:
    text = token()
    wrapped = "\n".join(text[i : i + 20] for i in range(0, len(text), 20))
    result = cli("decrypt", wrapped.replace("+", "-").replace("/", "_").rstrip("="))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "00"


def test_reveal_shows_document_numbers_and_is_audited(cli: Invoke) -> None:
    result = cli("decrypt", token(), "--reveal")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["documents"][0]["docNumber"] == DOC
    log = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text(encoding="utf-8")
    (entry,) = json_lines(text)
    assert entry["command"] == "decrypt"
    assert entry["action"] == "reveal"
    assert entry["profile"] == "demo"
    assert entry["user"] and entry["time"]
    for secret in (*SECRETS, DOC, DEMO_KEY.hex()):
        assert secret not in text
    cli("decrypt", token(), "--reveal")
    assert len(json_lines(log.read_text(encoding="utf-8"))) == 2  # appended


# -- decrypt many -----------------------------------------------------------------------


def test_decrypt_a_file_of_tokens(cli: Invoke, isolated: Path) -> None:
    lines = [
        token({"n": 1}),
        token({"n": 2, "docNumber": DOC}),
        "not a token!",
        "",
        json.dumps({"token": token({"n": 5})}),
        token({"n": 6}, TokenCodec(OTHER_KEY, IvScheme("zero"))),
        "   " + token({"n": 7}) + "\r",
    ]
    (isolated / "tokens.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("decrypt", "tokens.txt")
    assert result.exit_code == 4
    out = json_lines(result.stdout)
    assert len(out) == len(lines) - 1  # the blank line is skipped (issue 12, item 5)
    assert out[0] == {"n": 1}
    assert out[1] == {"n": 2, "docNumber": "******234F"}
    assert out[2]["line"] == 3 and "not base64" in out[2]["error"] and out[2]["exit_code"] == 4
    assert out[3] == {"n": 5}
    assert out[4]["line"] == 6 and "--detect" in out[4]["error"] and out[4]["exit_code"] == 4
    assert out[5] == {"n": 7}
    assert set(out[2]) == {"line", "error", "exit_code"}
    assert result.stderr.strip() == "2 of 6 lines could not be decrypted"


def test_decrypt_a_clean_file_exits_0(cli: Invoke, isolated: Path) -> None:
    tokens = [token({"n": n}) for n in range(50)]
    (isolated / "tokens.txt").write_text("\n".join(tokens), encoding="utf-8")  # no final \n
    result = cli("decrypt", "tokens.txt")
    assert result.exit_code == 0, result.stderr
    assert json_lines(result.stdout) == [{"n": n} for n in range(50)]


@pytest.mark.parametrize("args", [("decrypt", "-"), ("decrypt",)], ids=["dash", "no argument"])
def test_decrypt_stdin(cli: Invoke, args: tuple[str, ...]) -> None:
    stdin = f"{token({'n': 1})}\n{token({'n': 2, 'pan': 'ABCDE1234F'})}\n"
    result = cli(*args, input=stdin)
    assert result.exit_code == 0, result.stderr
    assert json_lines(result.stdout) == [{"n": 1}, {"n": 2, "pan": "******234F"}]


def test_decrypt_empty_input_is_exit_2(cli: Invoke, isolated: Path) -> None:
    assert "no input" in error_of(cli("decrypt", "-", input=""), 2)
    (isolated / "empty.txt").write_bytes(b"")
    assert "no input" in error_of(cli("decrypt", "empty.txt"), 2)
    (isolated / "dir").mkdir()
    assert "dir is a directory" in error_of(cli("decrypt", "dir"), 2)


def test_stream_masks_plaintext_the_probes_cannot_read(cli: Invoke, isolated: Path) -> None:
    """json.loads takes UTF-16 and a BOM; masking and the JSON-lines output must hold."""
    utf16 = DEMO.encrypt(json.dumps({"docNumber": DOC}).encode("utf-16-le"))
    bom = DEMO.encrypt(b"\xef\xbb\xbf" + json.dumps({"n": 2}).encode())
    (isolated / "odd.txt").write_text(f"{utf16}\n{bom}\n", encoding="ascii")
    masked = cli("decrypt", "odd.txt")
    assert masked.exit_code == 0, masked.stderr
    assert json_lines(masked.stdout) == [{"docNumber": "******234F"}, {"n": 2}]
    revealed = cli("decrypt", "odd.txt", "--reveal")
    assert json_lines(revealed.stdout) == [{"docNumber": DOC}, {"n": 2}]


# -- keys and schemes ----------------------------------------------------------------


def test_key_env_from_environment_and_dotenv(
    cli: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tok = token({"n": 1}, TokenCodec(OTHER_KEY, IvScheme("zero")))
    monkeypatch.setenv("MY_KEY", OTHER_KEY.hex())
    result = cli("decrypt", tok, "--key-env", "MY_KEY")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 1}
    (isolated / ".env").write_text(f"DOTENV_KEY={OTHER_KEY.hex()}\n", encoding="utf-8")
    assert json.loads(cli("decrypt", tok, "--key-env", "DOTENV_KEY").stdout) == {"n": 1}


def test_key_file(cli: Invoke, isolated: Path) -> None:
    tok = token({"n": 1}, TokenCodec(OTHER_KEY, IvScheme("zero")))
    (isolated / "key.b64").write_text(base64.b64encode(OTHER_KEY).decode() + "\n")
    result = cli("decrypt", tok, "--key-file", "key.b64")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"n": 1}
    made = cli("encrypt", '{"n":2}', "--key-file", "key.b64", "--iv", "key")
    assert TokenCodec(OTHER_KEY, IvScheme("key")).decrypt(made.stdout.strip()) == b'{"n":2}'
    missing = error_of(cli("decrypt", tok, "--key-file", "nope.key"), 3)
    assert "--key-file nope.key: no such file" in missing


def test_key_encoding_override(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    text_key = "0123456789ABCDEFGHIJKLMN"
    tok = token({"n": 1}, TokenCodec(text_key.encode(), IvScheme("zero")))
    monkeypatch.setenv("TEXT_KEY", text_key)
    ok = cli("decrypt", tok, "--key-env", "TEXT_KEY", "--key-encoding", "text")
    assert json.loads(ok.stdout) == {"n": 1}
    bad = error_of(cli("decrypt", tok, "--key-env", "TEXT_KEY", "--key-encoding", "hex"), 3)
    assert "not hex (24 characters)" in bad
    assert text_key not in bad
    profile = error_of(cli("decrypt", token(), "--key-encoding", "base64"), 3)
    assert "not base64 (24 characters)" in profile


@pytest.mark.parametrize("scheme", ["key", "ecb", "prepend", FIXED_IV])
def test_iv_overrides_the_profile(cli: Invoke, scheme: str) -> None:
    tok = token(codec=TokenCodec(DEMO_KEY, IvScheme.parse(scheme)))
    result = cli("decrypt", tok, "--iv", scheme)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["messageCode"] == 1931
    assert "--detect" in error_of(cli("decrypt", tok), 4)


def test_bad_iv_option_is_refused(cli: Invoke) -> None:
    result = cli("decrypt", token(), "--iv", "cbc")
    assert result.exit_code in (2, 3)  # a bad option value: usage or configuration
    assert "iv 'cbc' is not one of zero, key, prepend, ecb or 32 hex digits" in result.stderr


def test_key_env_and_key_file_together_is_exit_2(cli: Invoke, isolated: Path) -> None:
    (isolated / "k").write_text(OTHER_KEY.hex())
    message = error_of(cli("decrypt", token(), "--key-env", "X", "--key-file", "k"), 2)
    assert "give --key-env or --key-file, not both" in message


def test_missing_key_env_variable_is_exit_3(cli: Invoke) -> None:
    message = error_of(cli("decrypt", token(), "--key-env", "NOPE_KEY"), 3)
    assert "--key-env NOPE_KEY: the variable is not set (nor in .env)" in message
    assert "NOPE_KEY" in error_of(cli("encrypt", "{}", "--key-env", "NOPE_KEY"), 3)


def test_wrong_key_is_exit_4_and_points_at_detect(cli: Invoke) -> None:
    tok = token(codec=TokenCodec(OTHER_KEY, IvScheme("zero")))
    message = error_of(cli("decrypt", tok), 4)
    assert "--detect" in message
    assert "wrong key or wrong iv scheme" in message
    assert error_of(cli("decrypt", "not a token!"), 4).startswith("error: the token is not base64")


# -- --detect ----------------------------------------------------------------------------


def test_detect_table(cli: Invoke, isolated: Path) -> None:
    tok = token(codec=TokenCodec(DEMO_KEY, IvScheme("key")))
    result = cli("decrypt", tok, "--detect")
    assert result.exit_code == 0, result.stderr
    assert 'key_encoding = "text"' in result.stdout
    assert 'iv = "key"' in result.stdout
    assert "works: valid padding and JSON" in result.stdout
    assert "******234F" in result.stdout and DOC not in result.stdout
    (isolated / "tok.txt").write_text(tok + "\n")
    from_file = cli("decrypt", "--detect", "tok.txt")
    assert from_file.exit_code == 0 and 'iv = "key"' in from_file.stdout


def test_detect_json(cli: Invoke) -> None:
    tok = token(codec=TokenCodec(DEMO_KEY, IvScheme("prepend")))
    result = cli("decrypt", tok, "--detect", "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(w["key_encoding"], w["iv"]) for w in report["working"]] == [("text", "prepend")]
    assert report["working"][0]["plaintext"]["documents"][0]["docNumber"] == "******234F"
    assert {t["iv"] for t in report["tried"]} == {"zero", "key", "prepend", "ecb"}
    assert 'iv = "prepend"' in report["advice"]
    revealed = json.loads(cli("decrypt", tok, "--detect", "-o", "json", "--reveal").stdout)
    assert revealed["working"][0]["plaintext"]["documents"][0]["docNumber"] == DOC


def test_detect_nothing_works_is_exit_4(cli: Invoke) -> None:
    tok = token(codec=TokenCodec(OTHER_KEY, IvScheme("zero")))
    result = cli("decrypt", tok, "--detect", "-o", "json")
    assert result.exit_code == 4
    report = json.loads(result.stdout)
    assert report["working"] == []
    assert len(report["tried"]) == 4 and not any(t["ok"] for t in report["tried"])
    table = cli("decrypt", tok, "--detect")
    assert table.exit_code == 4
    assert "the key is probably wrong" in table.stdout


def test_detect_spots_an_unknown_fixed_iv(cli: Invoke) -> None:
    tok = token(codec=TokenCodec(DEMO_KEY, IvScheme.parse(FIXED_IV)))
    result = cli("decrypt", tok, "--detect")
    assert result.exit_code == 4
    assert "fixed IV" in result.stdout
    told = cli("decrypt", tok, "--detect", "--iv", FIXED_IV, "-o", "json")
    assert told.exit_code == 0
    assert [w["iv"] for w in json.loads(told.stdout)["working"]] == [FIXED_IV]


# -- global options and profiles ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("-p", "demo", "decrypt", "{tok}"),
        ("decrypt", "{tok}", "-p", "demo"),
        ("decrypt", "--profile", "demo", "{tok}"),
        ("-o", "json", "decrypt", "{tok}", "--detect"),
        ("decrypt", "{tok}", "--detect", "-o", "json"),
    ],
)
def test_global_options_before_and_after_the_command(cli: Invoke, args: tuple[str, ...]) -> None:
    tok = token()
    result = cli(*(tok if a == "{tok}" else a for a in args))
    assert result.exit_code == 0, result.stderr
    value = json.loads(result.stdout)
    assert value.get("messageCode") == 1931 or value["working"][0]["iv"] == "zero"


def test_profile_from_a_profiles_file(
    cli: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated / "ops.toml"
    path.write_text(
        '[profiles.uat]\nbase_url = "https://pp-uat.example"\nclient_id = "C"\n'
        'bank_id = "1"\napi_key = "${K1}"\nsecure_code = "${K2}"\n'
        'encryption_key = "${UAT_KEY}"\niv = "key"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("UAT_KEY", OTHER_KEY.hex())
    monkeypatch.setenv("K1", "x")
    monkeypatch.setenv("K2", "y")
    tok = token({"n": 1}, TokenCodec(OTHER_KEY, IvScheme("key")))
    before = cli("--profiles-file", str(path), "-p", "uat", "decrypt", tok)
    after = cli("decrypt", tok, "--profiles-file", str(path), "-p", "uat")
    monkeypatch.setenv("WIBMO_PROFILES", str(path))
    monkeypatch.setenv("WIBMO_PROFILE", "uat")
    from_env = cli("decrypt", tok)
    for result in (before, after, from_env):
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == {"n": 1}


def test_unknown_profile_is_exit_3(cli: Invoke) -> None:
    message = error_of(cli("-p", "nope", "decrypt", token()), 3)
    assert "unknown profile 'nope'" in message and "known profiles: demo" in message
    assert "unknown profile 'nope'" in error_of(cli("encrypt", "{}", "-p", "nope"), 3)


def test_too_deep_json_is_an_error_not_a_crash(cli: Invoke) -> None:
    body = '{"token": ' + "[" * 100_000
    assert "not a JSON body" in error_of(cli("decrypt", body), 4)
    deep = DEMO.encrypt(b"[" * 900 + b"]" * 900)  # parses, and must mask without recursing
    result = cli("decrypt", deep)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "[" * 900 + "]" * 900


# -- streaming memory ------------------------------------------------------------------


def _stream_peak(path: Path) -> tuple[int, int, int]:
    """Run decrypt_stream over `path`: (peak traced bytes, output lines, failures)."""
    lines = 0

    def write(data: bytes) -> None:
        nonlocal lines
        lines += data.count(b"\n")

    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            summary = tokenstream.decrypt_stream(DEMO, stream, write, reveal=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, lines, summary.failed


def _token_file(path: Path, count: int) -> Path:
    """Distinct tokens, some needing masking, and one bad line in every 1,000."""
    sample = [
        token({"n": n, "docNumber": DOC} if n % 3 == 0 else {"n": n, "x": "x" * (n % 40)})
        for n in range(999)
    ]
    sample.append("bad token!")
    block = ("\n".join(sample) + "\n").encode()
    with path.open("wb") as fh:
        for _ in range(count // len(sample)):
            fh.write(block)
    return path


def test_decrypt_stream_memory_is_flat(tmp_path: Path) -> None:
    small = _stream_peak(_token_file(tmp_path / "small.txt", 1_000))
    large = _stream_peak(_token_file(tmp_path / "large.txt", 6_000))
    assert small[1:] == (1_000, 1) and large[1:] == (6_000, 6)
    assert large[0] < 2 * 1024 * 1024, f"peak {large[0]} bytes"
    # Six times the input, no more memory (garbage kept alive per batch would show here).
    assert large[0] < small[0] + 128 * 1024, f"peaks {small[0]} then {large[0]} bytes"


def test_decrypt_stream_skips_an_over_long_line() -> None:
    data = token({"n": 1}).encode() + b"\n" + b"A" * (tokenio.MAX_LINE + 10) + b"\n"
    data += token({"n": 3}).encode() + b"\n"
    out = io.BytesIO()
    summary = tokenstream.decrypt_stream(DEMO, io.BytesIO(data), out.write, reveal=False)
    records = json_lines(out.getvalue().decode())
    assert records[0] == {"n": 1} and records[2] == {"n": 3}
    assert records[1]["line"] == 2 and "longer than 1 MiB" in records[1]["error"]
    assert (summary.lines, summary.failed) == (3, 1)


def test_a_token_that_starts_with_a_slash_is_a_token_not_a_path(cli: Invoke) -> None:
    """One token in 64 starts with "/": read with the wrong IV scheme it is a token's error
    (exit 4), never "no such file" (a CI run hit this at random)."""
    codec = TokenCodec(parse_key(DEMO_PROFILE["encryption_key"]), IvScheme("prepend"))
    token = next(t for t in (codec.encrypt_json({"a": n}) for n in range(10_000)) if t[0] == "/")
    result = cli("decrypt", token, "-p", "demo")  # the demo's scheme is zero: wrong here
    assert result.exit_code == 4, result.stderr
    assert "no such file" not in result.stderr

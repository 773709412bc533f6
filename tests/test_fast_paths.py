"""The fast paths give exactly what the plain ones give.

`TokenCodec.decrypt_many` against `decrypt`, `mask_json_bytes` against `mask`, the
batched `decrypt_stream` against the line-at-a-time loop it replaced, and option
values converted without pydantic against typer's own conversion.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import budget

from wibmo_cli import tokenio, tokenstream
from wibmo_cli.crypto import ALL_SCHEMES, IvScheme, TokenCodec, extract_token, parse_plaintext
from wibmo_cli.errors import CryptoError, ExitStatus
from wibmo_cli.masking import MASKED_KEYS, mask, mask_json_bytes, may_need_masking

KEY = bytes(range(24))
OTHER_KEY = bytes(range(1, 25))
SCHEMES = (*ALL_SCHEMES, IvScheme.parse("00112233445566778899aabbccddeeff"))


def outcome(codec: TokenCodec, token: bytes) -> bytes | str:
    try:
        return codec.decrypt(token)
    except CryptoError as exc:
        return str(exc)


mangle = st.sampled_from(["", "strip=", "urlsafe", "cut", "space", "junk", "other-key", "short"])


@budget(60)
@given(
    scheme=st.sampled_from(SCHEMES),
    items=st.lists(st.tuples(st.binary(max_size=80), mangle), min_size=1, max_size=40),
)
def test_decrypt_many_is_decrypt(scheme: IvScheme, items: list[tuple[bytes, str]]) -> None:
    codec, other = TokenCodec(KEY, scheme), TokenCodec(OTHER_KEY, scheme)
    tokens = []
    for plaintext, how in items:
        token = (other if how == "other-key" else codec).encrypt(plaintext)
        token = {
            "strip=": token.rstrip("="),
            "urlsafe": token.replace("+", "-").replace("/", "_"),
            "cut": token[:-4],
            "space": f" {token[:8]}\t{token[8:]}",
            "junk": token + "!",
            "short": token[:6],
        }.get(how, token)
        tokens.append(token.encode())
    got = [r if isinstance(r, bytes) else str(r) for r in codec.decrypt_many(tokens)]
    assert got == [outcome(codec, token) for token in tokens]


# -- masking in place -------------------------------------------------------------------

keys = st.sampled_from([*sorted(MASKED_KEYS), "docNumber", "PAN", "panNumber", "name", "x"])
scalars = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=25,
)


@budget(300)
@given(value=documents, spaced=st.booleans())
def test_mask_json_bytes_is_mask(value: Any, spaced: bool) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=None if not spaced else 1)
    plaintext = text.replace("\n", " ").encode()
    masked = mask_json_bytes(plaintext)
    if masked is None:
        # only escapes, or a masked key holding a list or object, send it to the full parse
        assert b"\\" in plaintext or re.search(
            rb'"(?i:' + b"|".join(k.encode() for k in MASKED_KEYS) + rb')"\s*:\s*[\[{]', plaintext
        )
        return
    assert json.loads(masked) == mask(json.loads(plaintext))
    if not may_need_masking(plaintext):
        assert masked == plaintext


def test_mask_json_bytes_examples() -> None:
    sent = b'{"PAN": 1234567890, "x": {"docNumber" : "AB 123456"}, "pan": 1.5, "a": "pan"}'
    assert mask_json_bytes(sent) == (
        b'{"PAN": "******7890", "x": {"docNumber" : "** **3456"}, "pan": 1.5, "a": "pan"}'
    )
    assert mask_json_bytes(b'{"doc\\u004eumber": "ABCDE1234F"}') is None
    kelvin = '{"c\u212aycNo": "ABCDE1234F"}'.encode()  # a Kelvin sign lowers to "k"
    assert may_need_masking(kelvin) and mask_json_bytes(kelvin) is None


# -- the batched stream against the loop it replaced --------------------------------------


def reference_stream(codec: TokenCodec, data: bytes, *, reveal: bool) -> tuple[bytes, int]:
    """The line-at-a-time loop `decrypt_stream` was, before it was batched."""
    out = []
    failed = 0
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        try:
            if len(line) > tokenio.MAX_LINE:
                raise CryptoError(f"line is longer than {tokenio.MAX_LINE >> 20} MiB: not a token")
            token: bytes | str = line.strip()
            if not token:
                continue  # a blank line is skipped (issue 12, item 5)
            if token[:1] == b"{":
                token = extract_token(line.decode("utf-8", "replace"))
            plaintext = codec.decrypt(token)
            value = parse_plaintext(plaintext)
            if not reveal and may_need_masking(plaintext):
                shown = mask(value)
                out.append(json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode())
            else:  # written as sent where it can be: the same JSON either way
                out.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        except CryptoError as exc:
            failed += 1
            error = {"line": number, "error": str(exc), "exit_code": ExitStatus.CRYPTO}
            out.append(json.dumps(error).encode())
    return b"".join(line + b"\n" for line in out), failed


def same_json_lines(a: bytes, b: bytes) -> bool:
    return [json.loads(x) for x in a.splitlines()] == [json.loads(x) for x in b.splitlines()]


line_kinds = st.sampled_from(["plain", "masked", "body", "bad", "blank", "crlf", "not-json"])


@budget(60)
@given(
    kinds=st.lists(line_kinds, max_size=60),
    read_size=st.sampled_from([7, 64, 1000, 32 << 10]),
    reveal=st.booleans(),
    final_newline=st.booleans(),
)
def test_decrypt_stream_matches_the_line_loop(
    kinds: list[str], read_size: int, reveal: bool, final_newline: bool
) -> None:
    codec = TokenCodec(KEY, IvScheme("zero"))
    lines = []
    for n, kind in enumerate(kinds):
        value = {"n": n, "docNumber": f"ABCDE{n:04d}F"} if kind == "masked" else {"n": n}
        token = codec.encrypt_json(value)
        lines.append(
            {
                "body": json.dumps({"token": token}),
                "bad": "not a token!",
                "blank": "  ",
                "crlf": token + "\r",
                "not-json": codec.encrypt(b"plain text"),
            }.get(kind, token)
        )
    data = "\n".join(lines).encode() + (b"\n" if final_newline and lines else b"")
    out = io.BytesIO()
    original = tokenstream.READ_SIZE
    tokenstream.READ_SIZE = read_size
    try:
        summary = tokenstream.decrypt_stream(codec, io.BytesIO(data), out.write, reveal=reveal)
    finally:
        tokenstream.READ_SIZE = original
    expected, failed = reference_stream(codec, data, reveal=reveal)
    assert same_json_lines(out.getvalue(), expected)
    assert (summary.lines, summary.failed) == (len([k for k in kinds if k != "blank"]), failed)


# -- option values converted without pydantic --------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("lookup", "-f", "x.csv", "--concurrency", "lots"), 2, "'--concurrency'"),
        (("-o", "yaml", "codes"), 2, "yaml"),
        (("sandbox", "--port", "-5"), 2, "--port -5"),
    ],
)
def test_bad_option_values_are_still_typers_usage_errors(
    wibmo: Any, args: tuple[str, ...], code: int, says: str
) -> None:
    result = wibmo(*args)
    assert result.exit_code == code and says in result.stderr


def test_option_values_convert(wibmo: Any) -> None:
    result = wibmo("-o", "json", "codes", "1303")
    assert result.exit_code == 0 and json.loads(result.stdout)["code"] == "1303"

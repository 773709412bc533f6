"""The token codec: key readings, IV schemes, tolerant base64, errors, detection, and
interoperability with an independent AES implementation (the openssl command line)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st
from support import budget

from wibmo_cli.crypto import (
    ALL_SCHEMES,
    IvScheme,
    TokenCodec,
    decode_base64,
    detect,
    extract_token,
    key_interpretations,
    parse_key,
    parse_plaintext,
)
from wibmo_cli.errors import ConfigError, CryptoError, ExitStatus
from wibmo_cli.views.tokens import advise

TEXT_KEY = "wibmo-test-key-24-bytes!"
KEY = TEXT_KEY.encode()
HEX_KEY = KEY.hex()
B64_KEY = base64.b64encode(KEY).decode()
FIXED_IV = "00112233445566778899aabbccddeeff"
OTHER_IV = "ffeeddccbbaa99887766554433221100"

# (key_encoding, configured value): every one reads as the same 24 bytes, KEY.
KEY_FORMS = [
    ("text", TEXT_KEY),
    ("hex", HEX_KEY),
    ("base64", B64_KEY),
    ("auto", TEXT_KEY),
    ("auto", HEX_KEY),
    ("auto", B64_KEY),
]
SCHEME_NAMES = ["zero", "key", "prepend", "ecb", FIXED_IV]
# Several blocks, so a garbled first block cannot hide which scheme is right.
PAYLOAD = {
    "messageCode": 1931,
    "clientTxnId": "T20240101000001",
    "responseCode": "00",
    "customer": {"firstName": "Asha", "mobile": "919897123456"},
}


def codec(scheme: str = "zero", key: bytes = KEY) -> TokenCodec:
    return TokenCodec(key, IvScheme.parse(scheme))


# -- keys --------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "value"), KEY_FORMS)
def test_parse_key_reads_every_encoding(encoding: str, value: str) -> None:
    assert parse_key(value, encoding) == KEY
    assert parse_key(f"  {value}\n", encoding) == KEY  # as read from a file or .env


def test_auto_reads_hex_base64_and_text_as_documented() -> None:
    raw = bytes(range(24))
    assert parse_key(raw.hex(), "auto") == raw
    assert parse_key(raw.hex().upper(), "auto") == raw
    assert parse_key(base64.b64encode(raw).decode(), "auto") == raw
    assert parse_key("é" * 12, "auto") == ("é" * 12).encode()  # 24 bytes of UTF-8 text
    assert key_interpretations(HEX_KEY) == [("hex", KEY)]
    assert key_interpretations(B64_KEY) == [("base64", KEY)]
    assert key_interpretations(TEXT_KEY) == [("text", KEY)]


@pytest.mark.parametrize(
    ("value", "encoding", "expected"),
    [
        ("short", "auto", "got 5 characters"),
        ("a" * 47, "auto", "got 47 characters"),
        ("é" * 13, "auto", "got 13 characters (26 bytes as text)"),
        (KEY[:16].hex(), "hex", "decodes (hex) to 16 bytes"),
        ("zz" * 24, "hex", "not hex (48 characters)"),
        ("abc", "hex", "not hex (3 characters)"),
        (base64.b64encode(bytes(16)).decode(), "base64", "decodes (base64) to 16 bytes"),
        ("!!!!not base64", "base64", "not base64 (14 characters)"),
        ("ten chars!", "text", "decodes (text) to 10 bytes"),
        (TEXT_KEY + "x", "text", "decodes (text) to 25 bytes"),
    ],
)
def test_parse_key_errors_name_the_length_they_got(
    value: str, encoding: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_key(value, encoding)
    assert expected in caught.value.message
    assert caught.value.exit_status is ExitStatus.CONFIG
    assert value not in str(caught.value)  # the key itself is never echoed


def test_parse_key_rejects_empty_and_unknown_encoding() -> None:
    with pytest.raises(ConfigError, match="empty"):
        parse_key("   ", "auto")
    with pytest.raises(ConfigError, match=r"key_encoding 'rot13' is not one of auto, text"):
        parse_key(TEXT_KEY, "rot13")


def test_codec_refuses_a_key_of_the_wrong_size_and_never_shows_the_key() -> None:
    with pytest.raises(ConfigError, match="is 16 bytes; AES-192 needs 24"):
        TokenCodec(bytes(16), IvScheme("zero"))
    shown = repr(codec("key"))
    assert shown == "TokenCodec(scheme=key)"
    assert TEXT_KEY not in shown and HEX_KEY not in shown


# -- IV schemes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        ("zero", "zero", "zero"),
        ("ZERO", "zero", "zero"),
        (" key ", "key", "key"),
        ("prepend", "prepend", "prepend"),
        ("Ecb", "ecb", "ecb"),
        (FIXED_IV, "fixed", FIXED_IV),
        (FIXED_IV.upper(), "fixed", FIXED_IV),
    ],
)
def test_iv_scheme_parse(value: str, kind: str, text: str) -> None:
    scheme = IvScheme.parse(value)
    assert scheme.kind == kind
    assert str(scheme) == text
    assert IvScheme.parse(str(scheme)) == scheme
    if kind == "fixed":
        assert scheme.fixed == bytes.fromhex(FIXED_IV)


@pytest.mark.parametrize("value", ["cbc", "", "fixed", "00" * 15, "zz" * 16, "00" * 17])
def test_iv_scheme_parse_errors(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IvScheme.parse(value)
    assert f"iv {value!r} is not one of zero, key, prepend, ecb or 32 hex digits" == str(
        caught.value
    )


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEME_NAMES)
@pytest.mark.parametrize(("encoding", "value"), KEY_FORMS)
def test_round_trip_every_scheme_and_key_encoding(scheme: str, encoding: str, value: str) -> None:
    tokens = TokenCodec(parse_key(value, encoding), IvScheme.parse(scheme))
    token = tokens.encrypt_json(PAYLOAD)
    raw = base64.b64decode(token, validate=True)  # standard base64, '=' padded
    plaintext = json.dumps(PAYLOAD, separators=(",", ":")).encode()
    expected_blocks = len(plaintext) // 16 + 1  # PKCS#7 always adds 1..16 bytes
    assert len(raw) == 16 * (expected_blocks + (scheme == "prepend"))
    assert tokens.decrypt_json(token) == PAYLOAD
    assert tokens.decrypt(token) == plaintext
    again = tokens.encrypt_json(PAYLOAD)
    if scheme == "prepend":
        assert again != token  # a fresh IV each time
    else:
        assert again == token


def test_schemes_mean_what_they_say() -> None:
    """Check each scheme's IV against AES-CBC/ECB built by hand."""
    plaintext = b'{"a":"0123456789abcdef"}'
    padded = plaintext + bytes([8]) * 8

    def cbc(iv: bytes) -> bytes:
        enc = Cipher(algorithms.AES(KEY), modes.CBC(iv)).encryptor()
        return enc.update(padded) + enc.finalize()

    ecb = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor()  # noqa: S305
    assert decode_base64(codec("zero").encrypt(plaintext)) == cbc(bytes(16))
    assert decode_base64(codec("key").encrypt(plaintext)) == cbc(KEY[:16])
    assert decode_base64(codec(FIXED_IV).encrypt(plaintext)) == cbc(bytes.fromhex(FIXED_IV))
    assert decode_base64(codec("ecb").encrypt(plaintext)) == ecb.update(padded) + ecb.finalize()
    raw = decode_base64(codec("prepend").encrypt(plaintext))
    assert raw[16:] == cbc(raw[:16])


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 31, 32, 33])
def test_padding_at_block_boundaries(length: int) -> None:
    plaintext = b"x" * length
    for scheme in SCHEME_NAMES:
        tokens = codec(scheme)
        assert tokens.decrypt(tokens.encrypt(plaintext)) == plaintext


# -- tolerant base64 --------------------------------------------------------------


def _token_with_plus_slash_and_padding() -> tuple[str, bytes]:
    tokens = codec("zero")
    for n in range(500):
        plaintext = json.dumps({"n": n, "pad": "x" * (n % 7)}).encode()
        token = tokens.encrypt(plaintext)
        if "+" in token and "/" in token and token.endswith("="):
            return token, plaintext
    raise AssertionError("no token with '+', '/' and '=' found")


TOLERATED = {
    "spaces": lambda t: " ".join(t[i : i + 4] for i in range(0, len(t), 4)),
    "line breaks": lambda t: "\n".join(t[i : i + 16] for i in range(0, len(t), 16)) + "\n",
    "crlf and tabs": lambda t: "\t" + "\r\n".join(t[i : i + 10] for i in range(0, len(t), 10)),
    "url-safe": lambda t: t.replace("+", "-").replace("/", "_"),
    "no padding": lambda t: t.rstrip("="),
    "all of them": lambda t: "\n".join(
        t.replace("+", "-").replace("/", "_").rstrip("=")[i : i + 8] for i in range(0, len(t), 8)
    ),
}


@pytest.mark.parametrize("mangle", list(TOLERATED), ids=list(TOLERATED))
def test_tolerant_base64(mangle: str) -> None:
    token, plaintext = _token_with_plus_slash_and_padding()
    mangled = TOLERATED[mangle](token)
    assert mangled != token
    assert decode_base64(mangled) == base64.b64decode(token)
    assert decode_base64(mangled.encode()) == base64.b64decode(token)
    assert codec("zero").decrypt(mangled) == plaintext


# -- errors ------------------------------------------------------------------------


def _crypto_error(call: Any, *args: Any) -> CryptoError:
    with pytest.raises(CryptoError) as caught:
        call(*args)
    assert caught.value.exit_status is ExitStatus.CRYPTO == 4
    return caught.value


def test_truncated_token() -> None:
    raw = decode_base64(codec("zero").encrypt_json(PAYLOAD))
    error = _crypto_error(codec("zero").decrypt, base64.b64encode(raw[:-5]))
    assert f"token is {len(raw) - 5} bytes, not a whole number of 16-byte AES blocks" in str(error)
    assert "truncated" in str(error)
    short = _crypto_error(codec("prepend").decrypt, base64.b64encode(raw[:16]))
    assert 'token is 16 bytes; with iv = "prepend"' in str(short)


def test_truncated_base64_text() -> None:
    token = codec("zero").encrypt_json(PAYLOAD).rstrip("=")
    cut = token[: len(token) - (len(token) % 4) - 3]  # length = 1 mod 4: impossible base64
    error = _crypto_error(decode_base64, cut)
    assert f"{len(cut)} characters is not a valid length" in str(error)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("abc$defg", "not base64: it contains '$'"),
        ("tökén", "not base64: it contains 'ö'"),
        ("ab=cd===", "not base64: it contains '='"),
        ("", "the token is empty"),
        (" \n\t= ", "the token is empty"),
    ],
)
def test_not_base64(token: str, expected: str) -> None:
    assert expected in str(_crypto_error(codec("zero").decrypt, token))


def _raw_cbc(plaintext_blocks: bytes, key: bytes = KEY) -> str:
    """Encrypt without adding padding, to make tokens whose padding is wrong."""
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return base64.b64encode(enc.update(plaintext_blocks) + enc.finalize()).decode()


@pytest.mark.parametrize(
    "block",
    [b"0123456789abcde\x00", b"0123456789abcde\x11", b"0123456789abc\x01\x03\x03"],
    ids=["pad 0", "pad 17", "inconsistent"],
)
def test_bad_padding_points_at_detect(block: bytes) -> None:
    error = _crypto_error(codec("zero").decrypt, _raw_cbc(block))
    assert error.message == "padding is invalid"
    assert "--detect" in str(error)
    assert "wrong key or wrong iv scheme" in str(error)


@pytest.mark.parametrize(
    ("plaintext", "expected"),
    [
        (b"hello, not json", "decrypted, but the plaintext is not JSON"),
        (b"\x80\x81 binary", "decrypted, but the plaintext is not UTF-8 text"),
        (b"[" * 100_000, "decrypted, but the plaintext is not JSON"),  # too deep to parse
    ],
)
def test_plaintext_that_is_not_json(plaintext: bytes, expected: str) -> None:
    token = codec("zero").encrypt(plaintext)
    error = _crypto_error(codec("zero").decrypt_json, token)
    assert error.message == expected
    assert "--detect" in str(error)
    assert expected in str(_crypto_error(parse_plaintext, plaintext))


def test_extract_token() -> None:
    assert extract_token("  abc+/==\n") == "abc+/=="
    assert extract_token('{"token": "abc+/=="}') == "abc+/=="
    assert extract_token('{\n  "token": "abc",\n  "other": 1\n}\n') == "abc"
    assert 'no "token" string field' in str(_crypto_error(extract_token, '{"tok": "x"}'))
    assert 'no "token" string field' in str(_crypto_error(extract_token, '{"token": 5}'))
    assert "starts with '{' but is not a JSON body" in str(
        _crypto_error(extract_token, '{"token": "abc"')
    )
    deep = '{"token": ' + "[" * 100_000
    assert "not a JSON body" in str(_crypto_error(extract_token, deep))


# -- detect --------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["zero", "key", "prepend", "ecb"])
@pytest.mark.parametrize(("encoding", "value"), [("hex", HEX_KEY), ("base64", B64_KEY)])
def test_detect_finds_scheme_and_key_encoding(scheme: str, encoding: str, value: str) -> None:
    token = codec(scheme).encrypt_json(PAYLOAD)
    results = detect(token, key_interpretations(value))
    working = [r for r in results if r.ok]
    assert [(r.key_encoding, str(r.scheme)) for r in working] == [(encoding, scheme)]
    assert results[0] == working[0]
    assert working[0].plaintext == PAYLOAD
    assert len(results) == len(ALL_SCHEMES)
    assert f'iv = "{scheme}"' in advise(results, working)
    assert f'key_encoding = "{encoding}"' in advise(results, working)


def test_detect_accepts_a_body_and_a_text_key() -> None:
    token = codec("key").encrypt_json(PAYLOAD)
    results = detect(json.dumps({"token": token}), key_interpretations(TEXT_KEY))
    assert [(r.key_encoding, str(r.scheme)) for r in results if r.ok] == [("text", "key")]


def test_detect_reports_padding_valid_but_garbled_for_an_unknown_fixed_iv() -> None:
    token = codec(FIXED_IV).encrypt_json(PAYLOAD)
    results = detect(token, key_interpretations(HEX_KEY))
    assert not any(r.ok for r in results)
    garbled = {str(r.scheme) for r in results if r.padding_ok}
    assert {"zero", "key"} <= garbled  # CBC: only the first block depends on the IV
    for result in results:
        if result.padding_ok:
            assert result.error.startswith("decrypted, but the plaintext is not")
    advice = advise(results, [])
    assert "fixed IV" in advice
    assert 'key_encoding = "hex"' in advice
    told = detect(token, key_interpretations(HEX_KEY), (IvScheme.parse(FIXED_IV),))
    assert [str(r.scheme) for r in told if r.ok] == [FIXED_IV]


def test_detect_with_the_wrong_key_finds_nothing() -> None:
    token = codec("zero", key=bytes(range(24))).encrypt_json(PAYLOAD)
    results = detect(token, key_interpretations(HEX_KEY))
    assert not any(r.ok for r in results)
    assert not any(r.padding_ok for r in results)
    assert "the key is probably wrong" in advise(results, [])


def test_detect_rejects_input_that_is_no_token() -> None:
    assert "not base64" in str(_crypto_error(detect, "not a token!", key_interpretations(HEX_KEY)))


# -- properties (hypothesis) ----------------------------------------------------------

schemes = st.sampled_from([IvScheme.parse(s) for s in SCHEME_NAMES])
keys = st.binary(min_size=24, max_size=24)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@given(key=keys, scheme=schemes, plaintext=st.binary(max_size=200))
def test_any_bytes_round_trip(key: bytes, scheme: IvScheme, plaintext: bytes) -> None:
    tokens = TokenCodec(key, scheme)
    assert tokens.decrypt(tokens.encrypt(plaintext)) == plaintext


@given(key=keys, scheme=schemes, payload=st.dictionaries(st.text(), json_values, max_size=6))
def test_any_json_object_round_trips(key: bytes, scheme: IvScheme, payload: dict[str, Any]) -> None:
    tokens = TokenCodec(key, scheme)
    assert tokens.decrypt_json(tokens.encrypt_json(payload)) == payload


def _only_crypto_errors(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except CryptoError as exc:
        assert exc.message  # and a message to show
    # any other exception fails the test


# Random text, and base64 of random whole blocks (which gets past the decoding).
token_like = st.text() | st.binary(max_size=96).map(
    lambda b: base64.b64encode(b[: len(b) // 16 * 16]).decode()
)


@budget(200)
@given(data=st.text() | st.binary())
def test_decode_base64_raises_only_crypto_errors(data: str | bytes) -> None:
    _only_crypto_errors(decode_base64, data)


@budget(200)
@given(text=st.text() | st.builds(lambda body: "{" + body, st.text()))
def test_extract_token_raises_only_crypto_errors(text: str) -> None:
    _only_crypto_errors(extract_token, text)


@given(scheme=schemes, token=token_like | st.binary())
def test_decrypt_raises_only_crypto_errors(scheme: IvScheme, token: str | bytes) -> None:
    _only_crypto_errors(TokenCodec(KEY, scheme).decrypt_json, token)


@given(token=token_like)
def test_detect_raises_only_crypto_errors(token: str) -> None:
    _only_crypto_errors(detect, token, key_interpretations(HEX_KEY))


# -- interop with openssl enc ----------------------------------------------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(
    OPENSSL is None, reason="openssl is not on PATH: the interop tests need its command line"
)
INTEROP_SCHEMES = ["zero", "key", FIXED_IV, "ecb", "prepend"]
INTEROP_PLAINTEXTS = [b"{}", b'{"messageCode":1930,"x":"ab"}', json.dumps(PAYLOAD).encode()]


def _iv_hex(scheme: str) -> str:
    return {"zero": "00" * 16, "key": KEY[:16].hex()}.get(scheme, scheme)


def _openssl(*args: str, data: bytes) -> bytes:
    assert OPENSSL is not None
    done = subprocess.run(
        [OPENSSL, "enc", *args], input=data, capture_output=True, check=False, timeout=30
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def _openssl_cipher_args(scheme: str, iv: str | None = None) -> list[str]:
    if scheme == "ecb":
        return ["-aes-192-ecb", "-K", HEX_KEY]
    return ["-aes-192-cbc", "-K", HEX_KEY, "-iv", iv or _iv_hex(scheme)]


@needs_openssl
@pytest.mark.parametrize("plaintext", INTEROP_PLAINTEXTS, ids=["2 bytes", "29 bytes", "long"])
@pytest.mark.parametrize("scheme", INTEROP_SCHEMES)
def test_openssl_tokens_decrypt_with_the_tool(scheme: str, plaintext: bytes) -> None:
    if scheme == "prepend":
        iv = bytes(range(100, 116))
        body = _openssl(*_openssl_cipher_args("cbc", iv.hex()), data=plaintext)
        token = base64.b64encode(iv + body).decode()
    else:
        token = _openssl(*_openssl_cipher_args(scheme), "-base64", "-A", data=plaintext).decode()
    assert codec(scheme).decrypt(token.strip()) == plaintext
    assert codec(scheme).decrypt_json(token) == json.loads(plaintext)


@needs_openssl
@pytest.mark.parametrize("plaintext", INTEROP_PLAINTEXTS, ids=["2 bytes", "29 bytes", "long"])
@pytest.mark.parametrize("scheme", INTEROP_SCHEMES)
def test_tool_tokens_decrypt_with_openssl(scheme: str, plaintext: bytes) -> None:
    token = codec(scheme).encrypt(plaintext)
    if scheme == "prepend":
        raw = base64.b64decode(token)
        decrypted = _openssl("-d", *_openssl_cipher_args("cbc", raw[:16].hex()), data=raw[16:])
    else:
        decrypted = _openssl(
            "-d", *_openssl_cipher_args(scheme), "-base64", "-A", data=token.encode() + b"\n"
        )
    assert decrypted == plaintext

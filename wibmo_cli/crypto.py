"""AES-192 token codec: bytes and str in, bytes and str out, no I/O.

A token is standard base64 of AES-192 ciphertext with PKCS#7 padding. The
platform's documents never say how the IV is chosen or how the key is encoded,
so both are settings (DESIGN.md, Tokens):

    key_encoding  auto | text | hex | base64      -> 24 key bytes
    iv            zero | key | prepend | ecb | <32 hex digits>

Decoding is tolerant of what tokens pick up in logs and mail: whitespace, line
breaks, the URL-safe alphabet and missing ``=`` padding.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wibmo_cli.errors import ConfigError, CryptoError

KEY_SIZE: Final = 24
BLOCK: Final = 16
KEY_ENCODINGS: Final = ("auto", "text", "hex", "base64")
IvKind = Literal["zero", "key", "prepend", "ecb", "fixed"]
IV_KINDS: Final[tuple[IvKind, ...]] = ("zero", "key", "prepend", "ecb")

_HEX_RE: Final = re.compile(r"[0-9a-fA-F]+")
_B64_RE: Final = re.compile(rb"[A-Za-z0-9+/]*")
_WHITESPACE: Final = b" \t\r\n\f\v"
_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_ZERO_IV: Final = bytes(BLOCK)
_PADDING: Final = tuple(bytes((n,)) * n for n in range(BLOCK + 1))  # _PADDING[n]: n bytes of n
_DETECT_HINT: Final = "wrong key or wrong iv scheme; try `wibmo decrypt --detect`"


def parse_key(value: str, encoding: str = "auto") -> bytes:
    """Turn a configured key into 24 bytes, or raise `ConfigError` naming what it got."""
    value = value.strip()
    if encoding not in KEY_ENCODINGS:
        raise ConfigError(
            f"key_encoding {encoding!r} is not one of {', '.join(KEY_ENCODINGS)}",
        )
    if not value:
        raise ConfigError("the encryption key is empty")
    if encoding == "auto":
        key = _auto_key(value)
        if key is None:
            raise ConfigError(
                f"the encryption key does not come to 24 bytes: got {len(value)} characters "
                f"({len(value.encode())} bytes as text); AES-192 needs 48 hex digits, "
                "base64 of 24 bytes (32 characters) or 24 characters of text",
            )
        return key
    if encoding == "text":
        key = value.encode()
    elif encoding == "hex":
        if len(value) % 2 or not _HEX_RE.fullmatch(value):
            raise ConfigError(f"the encryption key is not hex ({len(value)} characters)")
        key = bytes.fromhex(value)
    else:
        key = _b64_strict(value)
        if key is None:
            raise ConfigError(f"the encryption key is not base64 ({len(value)} characters)")
    if len(key) != KEY_SIZE:
        raise ConfigError(
            f"the encryption key decodes ({encoding}) to {len(key)} bytes; AES-192 needs 24",
        )
    return key


def key_interpretations(value: str) -> list[tuple[str, bytes]]:
    """Every reading of a key string that gives 24 bytes: (encoding, key) pairs."""
    value = value.strip()
    found: list[tuple[str, bytes]] = []
    if len(value) == 2 * KEY_SIZE and _HEX_RE.fullmatch(value):
        found.append(("hex", bytes.fromhex(value)))
    decoded = _b64_strict(value)
    if decoded is not None and len(decoded) == KEY_SIZE:
        found.append(("base64", decoded))
    if len(value.encode()) == KEY_SIZE:
        found.append(("text", value.encode()))
    return found


def _auto_key(value: str) -> bytes | None:
    found = key_interpretations(value)
    return found[0][1] if found else None


def _b64_strict(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class IvScheme:
    """How the IV is chosen: zero, key, prepend, ecb, or a fixed 16-byte value."""

    kind: IvKind
    fixed: bytes = b""

    @classmethod
    def parse(cls, value: str) -> IvScheme:
        value = value.strip()
        lowered = value.lower()
        for kind in IV_KINDS:
            if lowered == kind:
                return cls(kind)
        if len(value) == 2 * BLOCK and _HEX_RE.fullmatch(value):
            return cls("fixed", bytes.fromhex(value))
        raise ConfigError(
            f"iv {value!r} is not one of zero, key, prepend, ecb or 32 hex digits",
        )

    def __str__(self) -> str:
        return self.fixed.hex() if self.kind == "fixed" else self.kind


ALL_SCHEMES: Final = tuple(IvScheme(kind) for kind in IV_KINDS)


class TokenCodec:
    """Encrypts and decrypts tokens with one key and one IV scheme."""

    __slots__ = ("_algorithm", "_iv", "key", "scheme")

    def __init__(self, key: bytes, scheme: IvScheme) -> None:
        if len(key) != KEY_SIZE:
            raise ConfigError(f"the encryption key is {len(key)} bytes; AES-192 needs 24")
        self.key = key
        self.scheme = scheme
        self._algorithm = algorithms.AES(key)
        if scheme.kind == "zero":
            self._iv = _ZERO_IV
        elif scheme.kind == "key":
            self._iv = key[:BLOCK]
        else:
            self._iv = scheme.fixed

    def __repr__(self) -> str:  # never show the key
        return f"TokenCodec(scheme={self.scheme})"

    # -- bytes ------------------------------------------------------------------

    def encrypt(self, plaintext: bytes) -> str:
        """Pad, encrypt and base64-encode `plaintext`."""
        pad = BLOCK - len(plaintext) % BLOCK
        padded = plaintext + bytes((pad,)) * pad
        if self.scheme.kind == "ecb":
            encryptor = Cipher(self._algorithm, modes.ECB()).encryptor()  # noqa: S305
            body = encryptor.update(padded) + encryptor.finalize()
        elif self.scheme.kind == "prepend":
            iv = os.urandom(BLOCK)
            encryptor = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
            body = iv + encryptor.update(padded) + encryptor.finalize()
        else:
            encryptor = Cipher(self._algorithm, modes.CBC(self._iv)).encryptor()
            body = encryptor.update(padded) + encryptor.finalize()
        return base64.b64encode(body).decode("ascii")

    def decrypt(self, token: str | bytes) -> bytes:
        """Decode, decrypt and unpad a token; `CryptoError` says what went wrong."""
        raw = decode_base64(token)
        return self.decrypt_raw(raw)

    def decrypt_raw(self, raw: bytes) -> bytes:
        """Decrypt ciphertext bytes (already base64-decoded) and strip the padding."""
        kind = self.scheme.kind
        if kind == "prepend":
            if len(raw) < 2 * BLOCK or len(raw) % BLOCK:
                raise CryptoError(
                    f'token is {len(raw)} bytes; with iv = "prepend" it must be a 16-byte IV '
                    "and at least one 16-byte block (truncated, or another iv scheme?)",
                )
            mode: modes.CBC | modes.ECB = modes.CBC(raw[:BLOCK])
            raw = raw[BLOCK:]
        else:
            if not raw or len(raw) % BLOCK:
                raise CryptoError(
                    f"token is {len(raw)} bytes, not a whole number of 16-byte AES blocks: "
                    "truncated or not a token",
                )
            mode = modes.ECB() if kind == "ecb" else modes.CBC(self._iv)  # noqa: S305
        decryptor = Cipher(self._algorithm, mode).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes((pad,)) * pad:
            raise CryptoError("padding is invalid", hint=_DETECT_HINT)
        return padded[:-pad]

    def decrypt_many(self, tokens: Sequence[bytes]) -> list[bytes | CryptoError]:
        """`decrypt` for many tokens at once: for each, its plaintext or the error.

        The same results as calling `decrypt` on each token, several times faster on
        short tokens: one cipher context and one pass for all of them instead of one
        per token. CBC decrypts each block with the previous ciphertext block, so the
        tokens go end to end, each behind its IV as an extra block (the IV a
        `prepend` token carries, else the scheme's); the extra block decrypts to
        nothing of use and is dropped. A token this path does not take as it stands
        (whitespace, URL-safe alphabet, missing `=`, a bad length) goes through
        `decrypt`, so its error is exactly the one `decrypt` raises.
        """
        results: list[bytes | CryptoError] = [b""] * len(tokens)  # every slot is set below
        kind = self.scheme.kind
        shortest = 2 * BLOCK if kind == "prepend" else BLOCK
        a2b = binascii.a2b_base64
        raws: list[bytes] = []
        where: list[int] = []
        for index, token in enumerate(tokens):
            try:
                raw = a2b(token, strict_mode=True)
            except binascii.Error:
                raw = b""
            if len(raw) < shortest or len(raw) % BLOCK:
                try:
                    results[index] = self.decrypt(token)
                except CryptoError as exc:  # kept without its traceback: no frame cycles
                    results[index] = exc.with_traceback(None)
                continue
            raws.append(raw)
            where.append(index)
        if not raws:
            return results
        if kind == "ecb":
            skip = 0
            decryptor = Cipher(self._algorithm, modes.ECB()).decryptor()  # noqa: S305
            plain = decryptor.update(b"".join(raws))
        else:
            skip = BLOCK
            decryptor = Cipher(self._algorithm, modes.CBC(_ZERO_IV)).decryptor()
            iv = b"" if kind == "prepend" else self._iv
            plain = decryptor.update(iv + iv.join(raws) if iv else b"".join(raws))
        start = 0
        for index, raw in zip(where, raws, strict=True):
            end = start + len(raw) + (skip if kind != "prepend" else 0)
            pad = plain[end - 1]
            if 1 <= pad <= BLOCK and plain[end - pad : end] == _PADDING[pad]:
                results[index] = plain[start + skip : end - pad]
            else:
                results[index] = CryptoError("padding is invalid", hint=_DETECT_HINT)
            start = end
        return results

    # -- JSON -------------------------------------------------------------------

    def encrypt_json(self, payload: Any) -> str:
        """Serialise `payload` compactly and encrypt it."""
        return self.encrypt(json.dumps(payload, separators=(",", ":")).encode())

    def decrypt_json(self, token: str | bytes, *, max_depth: int | None = None) -> Any:
        """Decrypt a token whose plaintext is JSON (nested at most `max_depth` deep)."""
        return parse_plaintext(self.decrypt(token), max_depth=max_depth)


class JSONDepthError(ValueError):
    """JSON nested deeper than allowed (or than Python's json module can parse)."""


def load_json(data: str | bytes, *, max_depth: int | None = None) -> Any:
    """`json.loads` that never raises `RecursionError`: the one parser of text that
    came from the network.

    Every failure is a `ValueError`: `JSONDepthError` when the value is nested more
    than `max_depth` deep (a container in a container is depth 2), or too deep for
    `json.loads` at all; `UnicodeDecodeError` for bytes that are not UTF-8 (or -16/-32).
    A value that passes is shallow enough for any recursive code downstream.
    """
    try:
        value = json.loads(data)
    except RecursionError:
        raise JSONDepthError("nested too deeply to parse") from None
    if max_depth is not None and _deeper_than(data, value, max_depth):
        raise JSONDepthError(f"nested more than {max_depth} levels deep")
    return value


def _deeper_than(data: str | bytes, value: Any, limit: int) -> bool:
    """Whether `value` (parsed from `data`) nests containers more than `limit` deep."""
    if isinstance(data, str):
        opened = data.count("[") + data.count("{")
    else:
        opened = data.count(b"[") + data.count(b"{")
    if opened <= limit:  # the common case: too few brackets to be that deep
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:  # iterative: the value may be nested several hundred deep
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return isinstance(value, dict | list) and limit < 1


def parse_plaintext(plaintext: bytes, *, max_depth: int | None = None) -> Any:
    """Parse decrypted bytes as JSON, or raise `CryptoError` with a hint."""
    try:
        return load_json(plaintext, max_depth=max_depth)
    except UnicodeDecodeError:
        raise CryptoError(
            "decrypted, but the plaintext is not UTF-8 text",
            hint=_DETECT_HINT,
        ) from None
    except JSONDepthError as exc:
        if max_depth is None:  # too deep for json.loads: as before, "not JSON"
            raise CryptoError(
                "decrypted, but the plaintext is not JSON", hint=_DETECT_HINT
            ) from None
        raise CryptoError(f"decrypted, but the plaintext is JSON {exc}") from None
    except ValueError:
        raise CryptoError(
            "decrypted, but the plaintext is not JSON",
            hint=_DETECT_HINT,
        ) from None


def decode_base64(token: str | bytes) -> bytes:
    """Standard or URL-safe base64, with whitespace, line breaks and missing `=` tolerated."""
    if isinstance(token, str):
        if not token.isascii():
            bad = next(c for c in token if not c.isascii())
            raise CryptoError(f"the token is not base64: it contains {bad!r}")
        data = token.encode("ascii")
    else:
        data = token
    data = data.translate(_URLSAFE, _WHITESPACE).rstrip(b"=")
    if not data:
        raise CryptoError("the token is empty")
    if not _B64_RE.fullmatch(data):
        bad = next(chr(c) for c in data if not _B64_RE.fullmatch(bytes((c,))))
        raise CryptoError(f"the token is not base64: it contains {bad!r}")
    if len(data) % 4 == 1:
        raise CryptoError(f"the token is not base64: {len(data)} characters is not a valid length")
    data += b"=" * (-len(data) % 4)
    return base64.b64decode(data)


# The keys a token travels under in a request or answer body, the documents' first: the
# closed-loop wallet pages answer {"result": ...}, some gateways {"encdata": ...}
# (spec/public-notes.md). The client and `decrypt` both read bodies through this table.
ENVELOPE_KEYS: Final = ("token", "result", "encdata")
# What marks a JSON body as an answer sent in the clear (the platform's decrypt helper,
# some proxies): the platform's answers all carry it.
PLAIN_ANSWER_KEY: Final = "responseCode"
_ENVELOPES_SAID: Final = '"token" string field (nor "result" or "encdata")'


def envelope_token(body: Any) -> str | None:
    """The token a JSON body carries under one of `ENVELOPE_KEYS` (the first found), or
    None when it carries none."""
    if isinstance(body, dict):
        for key in ENVELOPE_KEYS:
            value = body.get(key)
            if isinstance(value, str):
                return value
    return None


def is_plain_answer(body: Any) -> bool:
    """A JSON body that is an answer as it stands, not encrypted: an object with a
    responseCode and no token."""
    return isinstance(body, dict) and PLAIN_ANSWER_KEY in body and envelope_token(body) is None


def unwrap(text: str) -> str | dict[str, Any]:
    """What a pasted input holds: a bare token, the token of a request or answer body in
    any envelope (`ENVELOPE_KEYS`), or a plain JSON answer (returned as the dict)."""
    text = text.strip()
    if not text.startswith("{"):
        return text
    try:
        body = load_json(text)
    except ValueError:  # nested too deeply included
        raise CryptoError("the input starts with '{' but is not a JSON body") from None
    token = envelope_token(body)
    if token is not None:
        return token
    if is_plain_answer(body):
        return dict(body)
    raise CryptoError(
        f"the JSON body has no {_ENVELOPES_SAID}, and no {PLAIN_ANSWER_KEY}: "
        "neither an encrypted body nor a plain answer"
    )


def extract_token(text: str) -> str:
    """A bare token, or the token of a request or answer body in any envelope; a plain
    JSON answer has none, and says so (`CryptoError`)."""
    found = unwrap(text)
    if isinstance(found, dict):
        code = found.get(PLAIN_ANSWER_KEY)
        shown = repr(code) if isinstance(code, str | int) else "of another type"
        raise CryptoError(
            f"the input is a plain JSON answer (responseCode {shown[:40]}), not encrypted: "
            "it carries no token"
        )
    return found


@dataclass(frozen=True, slots=True)
class Detection:
    """One key reading and IV scheme tried by `detect`, and what it gave."""

    key_encoding: str
    scheme: IvScheme
    ok: bool
    padding_ok: bool
    plaintext: Any = None
    error: str = ""


def detect(
    token: str,
    key_readings: list[tuple[str, bytes]],
    extra_schemes: tuple[IvScheme, ...] = (),
) -> list[Detection]:
    """Try every key reading with every IV scheme; working ones first."""
    raw = decode_base64(extract_token(token))
    schemes = ALL_SCHEMES + tuple(s for s in extra_schemes if s not in ALL_SCHEMES)
    results: list[Detection] = []
    for encoding, key in key_readings:
        for scheme in schemes:
            codec = TokenCodec(key, scheme)
            try:
                plaintext = codec.decrypt_raw(raw)
            except CryptoError as exc:
                results.append(Detection(encoding, scheme, False, False, error=exc.message))
                continue
            try:
                value = parse_plaintext(plaintext)
            except CryptoError as exc:
                results.append(Detection(encoding, scheme, False, True, error=exc.message))
                continue
            results.append(Detection(encoding, scheme, True, True, plaintext=value))
    results.sort(key=lambda d: (not d.ok, not d.padding_ok))
    return results

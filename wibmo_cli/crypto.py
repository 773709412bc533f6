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
from typing import Any, Final, Literal, NamedTuple

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wibmo_cli.bodies import JSONDepthError, extract_token, load_json
from wibmo_cli.errors import ConfigError, CryptoError
from wibmo_cli.lazyre import lazy

KEY_SIZE: Final = 24
BLOCK: Final = 16
KEY_ENCODINGS: Final = ("auto", "text", "hex", "base64")
IvKind = Literal["zero", "key", "prepend", "ecb", "fixed"]
IV_KINDS: Final[tuple[IvKind, ...]] = ("zero", "key", "prepend", "ecb")

_HEX_RE: Final = lazy(r"[0-9a-fA-F]+")
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


class IvScheme(NamedTuple):
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

    __slots__ = ("_algorithm", "_cipher", "_iv", "key", "scheme")

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
        # one Cipher for every token when the IV never changes (each call makes its own
        # encryptor or decryptor from it): building one costs ~5 us, a token ~10
        self._cipher: Cipher[modes.CBC | modes.ECB] | None = None
        if scheme.kind == "ecb":
            self._cipher = Cipher(self._algorithm, modes.ECB())  # noqa: S305
        elif scheme.kind != "prepend":
            self._cipher = Cipher(self._algorithm, modes.CBC(self._iv))

    def __repr__(self) -> str:  # never show the key
        return f"TokenCodec(scheme={self.scheme})"

    # -- bytes ------------------------------------------------------------------

    def encrypt(self, plaintext: bytes) -> str:
        """Pad, encrypt and base64-encode `plaintext`."""
        pad = BLOCK - len(plaintext) % BLOCK
        padded = plaintext + bytes((pad,)) * pad
        if self._cipher is None:  # prepend: a fresh IV, written in front
            iv = os.urandom(BLOCK)
            encryptor = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
            body = iv + encryptor.update(padded) + encryptor.finalize()
        else:
            encryptor = self._cipher.encryptor()
            body = encryptor.update(padded) + encryptor.finalize()
        return base64.b64encode(body).decode("ascii")

    def decrypt(self, token: str | bytes) -> bytes:
        """Decode, decrypt and unpad a token; `CryptoError` says what went wrong."""
        raw = decode_base64(token)
        return self.decrypt_raw(raw)

    def decrypt_raw(self, raw: bytes) -> bytes:
        """Decrypt ciphertext bytes (already base64-decoded) and strip the padding."""
        cipher = self._cipher
        if cipher is None:  # prepend
            if len(raw) < 2 * BLOCK or len(raw) % BLOCK:
                raise CryptoError(
                    f'token is {len(raw)} bytes; with iv = "prepend" it must be a 16-byte IV '
                    "and at least one 16-byte block (truncated, or another iv scheme?)",
                )
            cipher = Cipher(self._algorithm, modes.CBC(raw[:BLOCK]))
            raw = raw[BLOCK:]
        elif not raw or len(raw) % BLOCK:
            raise CryptoError(
                f"token is {len(raw)} bytes, not a whole number of 16-byte AES blocks: "
                "truncated or not a token",
            )
        decryptor = cipher.decryptor()
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
        return self.encrypt(compact_json(payload))

    def decrypt_json(self, token: str | bytes, *, max_depth: int | None = None) -> Any:
        """Decrypt a token whose plaintext is JSON (nested at most `max_depth` deep)."""
        return parse_plaintext(self.decrypt(token), max_depth=max_depth)


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


def compact_json(payload: Any) -> bytes:
    """A payload as the codec encrypts it (and the platform's published tokens hold it)."""
    return json.dumps(payload, separators=(",", ":")).encode()


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


class Detection(NamedTuple):
    """One key reading and IV scheme tried by `detect`, and what it gave. `fits_length`:
    False when the token's length already rules this scheme out (`LengthEvidence`)."""

    key_encoding: str
    scheme: IvScheme
    ok: bool
    padding_ok: bool
    plaintext: Any = None
    error: str = ""
    fits_length: bool = True


class LengthEvidence(NamedTuple):
    """What a token's length alone says about its IV scheme, before any key is tried.

    The platform's published tokens are exactly one block longer than PKCS#7 of their
    plaintext's compact JSON: an IV in front (`prepend`). That is an inference from
    lengths (spec/public-notes.md), so `prepend` is tried first where it fits; only what
    the length proves is ruled out.
    """

    size: int  # bytes, once base64-decoded
    ruled_out: frozenset[IvKind]
    notes: tuple[str, ...]

    @property
    def blocks(self) -> int:
        return self.size // BLOCK

    def order(self, schemes: Sequence[IvScheme]) -> list[IvScheme]:
        """`schemes` in the order to try them: prepend first where the length allows
        it, then the others as given; those the length rules out last."""
        fitting = [s for s in schemes if s.kind not in self.ruled_out]
        fitting.sort(key=lambda s: s.kind != "prepend")  # stable: the rest keep their order
        return fitting + [s for s in schemes if s.kind in self.ruled_out]


_NOT_PREPEND: Final[frozenset[IvKind]] = frozenset({"zero", "key", "ecb", "fixed"})


def padded_blocks(plaintext_size: int) -> int:
    """The 16-byte blocks PKCS#7 pads a plaintext of this size to (always one more byte)."""
    return plaintext_size // BLOCK + 1


def length_evidence(size: int, plaintext: bytes | None = None) -> LengthEvidence:
    """What `size` bytes of token rule in or out; with the `plaintext` the token is
    known to hold (e.g. a request the platform's helper encrypted), how its padded
    length compares."""
    blocks = size // BLOCK
    if size == 0 or size % BLOCK:
        note = (
            f"{size} bytes is not a whole number of 16-byte AES blocks: no scheme can "
            "decrypt it (truncated, or not a token)"
        )
        return LengthEvidence(size, frozenset({*_NOT_PREPEND, "prepend"}), (note,))
    shown = f"{blocks} block{'s' if blocks > 1 else ''} ({size} bytes)"
    if blocks == 1:
        note = (
            f"the token is {shown}: no room for an IV in front of a ciphertext block, so "
            "not prepend"
        )
        return LengthEvidence(size, frozenset({"prepend"}), (note,))
    if plaintext is None:
        note = (
            f"the token is {shown}: its length alone rules no scheme out; prepend is tried "
            "first (the platform's published tokens are one block longer than their padded "
            "plaintext: an IV in front)"
        )
        return LengthEvidence(size, frozenset(), (note,))
    need = padded_blocks(len(plaintext))
    said = f"the expected plaintext ({len(plaintext)} bytes) pads to {need} blocks"
    if blocks == need + 1:
        note = f"{said} and the token is {shown}: one block more, an IV in front: prepend"
        return LengthEvidence(size, _NOT_PREPEND, (note,))
    if blocks == need:
        note = f"{said}, as many as the token's {shown}: no IV in front, so not prepend"
        return LengthEvidence(size, frozenset({"prepend"}), (note,))
    note = (
        f"{said} ({need + 1} with an IV in front) but the token is {shown}: it does not "
        "hold that plaintext (or the platform serialised it differently); nothing ruled out"
    )
    return LengthEvidence(size, frozenset(), (note,))


def token_evidence(token: str, plaintext: bytes | None = None) -> LengthEvidence:
    """`length_evidence` of a token, a body or a file's first line, as `detect` reads it."""
    return length_evidence(len(decode_base64(extract_token(token))), plaintext)


def detect(
    token: str,
    key_readings: list[tuple[str, bytes]],
    extra_schemes: tuple[IvScheme, ...] = (),
    *,
    plaintext: bytes | None = None,
) -> list[Detection]:
    """Try every key reading with every IV scheme; working ones first, then those whose
    padding checks out; within each, in the order the token's length suggests
    (`LengthEvidence.order`: prepend first where it fits). `plaintext`: what the token
    is known to hold, when known; its length can rule schemes in or out."""
    raw = decode_base64(extract_token(token))
    evidence = length_evidence(len(raw), plaintext)
    schemes = evidence.order(ALL_SCHEMES + tuple(s for s in extra_schemes if s not in ALL_SCHEMES))
    results: list[Detection] = []
    for encoding, key in key_readings:
        for scheme in schemes:
            fits = scheme.kind not in evidence.ruled_out
            plain: bytes | None = None
            try:
                plain = TokenCodec(key, scheme).decrypt_raw(raw)
                value = parse_plaintext(plain)
            except CryptoError as exc:  # padding_ok: it decrypted, but is not JSON
                padding = plain is not None
                results.append(Detection(encoding, scheme, False, padding, None, exc.message, fits))
                continue
            results.append(Detection(encoding, scheme, True, True, value, fits_length=fits))
    results.sort(key=lambda d: (not d.ok, not d.padding_ok))
    return results

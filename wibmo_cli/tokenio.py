"""Token work for `encrypt` and `decrypt`: where the key comes from, reading the
input, and the streaming decrypt loop (constant memory, one output line per input line).
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from wibmo_cli.bodies import unwrap
from wibmo_cli.crypto import (
    KEY_ENCODINGS,
    IvScheme,
    TokenCodec,
    compact_json,
    key_interpretations,
    parse_key,
    parse_plaintext,
)
from wibmo_cli.errors import ConfigError, CryptoError, ExitStatus, InputError
from wibmo_cli.masking import mask, mask_json_bytes, may_need_masking
from wibmo_cli.paths import user_path
from wibmo_cli.textsafe import UNSAFE_UTF8, json_text

if TYPE_CHECKING:
    from wibmo_cli.profiles import Profile

MAX_KEY_FILE: Final = 8 << 10  # a key is 16-32 bytes, 64 as hex: 8 KiB is ample
MAX_LINE: Final = 1 << 20  # a token line longer than 1 MiB is not a token
MAX_DOCUMENT: Final = 16 << 20  # a whole-input JSON payload or body
READ_SIZE: Final = 32 << 10  # streaming decrypt reads (and decrypts) this much at a time
_BRACE: Final = ord("{")


def _not_json_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# (value, end) of the JSON text at the start; NaN / Infinity are not JSON: such a line
# takes the general path, which writes them as text (bodies.NumberText)
_raw_decode = json.JSONDecoder(parse_constant=_not_json_constant).raw_decode


@dataclass(frozen=True)
class KeyOptions:
    """`--key-env`, `--key-file`, `--key-encoding` and `--iv` as given (None: not given)."""

    key_env: str | None = None
    key_file: str | None = None
    key_encoding: str | None = None
    iv: str | None = None

    def __post_init__(self) -> None:
        if self.key_env and self.key_file:
            raise InputError("give --key-env or --key-file, not both")
        if self.key_encoding is not None and self.key_encoding not in KEY_ENCODINGS:
            raise InputError(
                f"--key-encoding {self.key_encoding!r}: must be one of {', '.join(KEY_ENCODINGS)}"
            )
        if self.iv is not None:
            try:
                IvScheme.parse(self.iv)
            except ConfigError as exc:
                raise InputError(f"--iv: {exc.message}") from None

    @property
    def explicit_key(self) -> bool:
        return bool(self.key_env or self.key_file)


def _key_text(options: KeyOptions, env: Mapping[str, str]) -> str:
    if options.key_env:
        value = env.get(options.key_env)
        if not value:
            raise ConfigError(
                f"--key-env {options.key_env}: the variable is not set (nor in .env)",
            )
        return value
    assert options.key_file
    path = user_path(options.key_file)
    try:
        with path.open("rb") as handle:  # a pipe too: --key-file <(pass show key)
            data = handle.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise ConfigError(
                f"--key-file {options.key_file}: larger than {MAX_KEY_FILE >> 10} KiB: "
                "not a key file (it holds one key, as hex, base64 or text)"
            )
        return data.decode("utf-8").strip()
    except FileNotFoundError:
        raise ConfigError(f"--key-file {options.key_file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:  # never the bytes: they are the key
        reason = (exc.strerror or "error") if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"--key-file {options.key_file}: cannot read it ({reason})") from None


def build_codec(
    options: KeyOptions, env: Mapping[str, str], profile: Callable[[], Profile]
) -> TokenCodec:
    """The codec from --key-env/--key-file, else from the profile; --iv overrides the scheme."""
    if options.explicit_key:
        key = parse_key(_key_text(options, env), options.key_encoding or "auto")
        scheme = IvScheme.parse(options.iv or "zero")
        return TokenCodec(key, scheme)
    chosen = profile()
    if options.key_encoding:
        key = parse_key(chosen.get("encryption_key"), options.key_encoding)
    else:
        key = chosen.key_bytes()
    scheme = IvScheme.parse(options.iv) if options.iv else chosen.iv_scheme
    return TokenCodec(key, scheme)


def detect_inputs(
    options: KeyOptions, env: Mapping[str, str], profile: Callable[[], Profile]
) -> tuple[list[tuple[str, bytes]], tuple[IvScheme, ...]]:
    """Key readings and extra (fixed) IV schemes for `decrypt --detect`."""
    extra: list[IvScheme] = []
    if options.explicit_key:
        text = _key_text(options, env)
    else:
        chosen = profile()
        text = chosen.get("encryption_key")
        if chosen.iv_scheme.kind == "fixed":
            extra.append(chosen.iv_scheme)
    if options.iv:
        extra.append(IvScheme.parse(options.iv))
    if options.key_encoding and options.key_encoding != "auto":
        readings = [(options.key_encoding, parse_key(text, options.key_encoding))]
    else:
        readings = key_interpretations(text)
    if not readings:
        parse_key(text, "auto")  # raises the error that names the length it got
    return readings, tuple(extra)


# -- input ---------------------------------------------------------------------


def existing_file(argument: str) -> Path | None:
    """`argument` as a path, if it names a readable regular file (or a FIFO)."""
    if argument in ("", "-") or argument.lstrip().startswith("{") or "\n" in argument:
        return None
    try:
        path = user_path(argument)
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        raise InputError(f"{argument} is a directory, not a file")
    return path


def open_binary(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def read_limited(stream: IO[bytes], what: str) -> bytes:
    data = stream.read(MAX_DOCUMENT + 1)
    if len(data) > MAX_DOCUMENT:
        raise InputError(f"{what} is larger than {MAX_DOCUMENT >> 20} MiB")
    return data


def parse_json_payload(
    data: bytes | str,
    what: str,
    *,
    expected: str = "the platform's payloads are {...} objects",
    unique_keys: bool = False,
) -> dict[str, Any]:
    """The JSON object in `data` (what `encrypt` encrypts, an update's --from-file patch),
    or `InputError` saying what is wrong with it, `what` naming the input.

    `expected`: what the message says when the JSON is not an object. `unique_keys`:
    a key given twice in any object is refused (json would keep the last), for input
    that names fields one meaning each.
    """
    text = data.strip()
    if not text:
        raise InputError(f"{what} is empty: give a JSON object")
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys if unique_keys else None)
    except _DuplicateKey as exc:
        key = str(exc.args[0])
        shown = json.dumps(key if len(key) <= 60 else key[:57] + "...")
        raise InputError(f"{what}: the key {shown} is given twice; give it once") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} is not UTF-8 text") from None
    except ValueError as exc:
        raise InputError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(f"{what} is not valid JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise InputError(f"{what} is JSON but not an object: {expected}")
    return value


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refused if a key comes twice."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


def expected_plaintext(argument: str) -> bytes:
    """`decrypt --detect --plaintext JSON|FILE`: the payload the token is known to hold,
    serialised as the codec (and the platform's published tokens) would."""
    path = existing_file(argument)
    if path is None:
        data = argument.encode()
    else:
        with open_binary(path) as handle:
            data = read_limited(handle, str(path))
    return compact_json(parse_json_payload(data, "--plaintext"))


# -- decrypt ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """What one input decoded to (masked unless revealed); `plain`: it was a plain JSON
    answer, not encrypted, shown as it is with no key used."""

    value: Any
    plain: bool = False


def decrypt_text(codec: Callable[[], TokenCodec], text: str, *, reveal: bool) -> Decoded:
    """One token, request or answer body in any envelope, or plain JSON answer -> the
    JSON. `codec` is called only when there is something to decrypt: a plain answer (what
    the platform's decrypt helper answers) needs no key."""
    found = unwrap(text)
    plain = isinstance(found, dict)
    value = found if isinstance(found, dict) else codec().decrypt_json(found)
    return Decoded(value if reveal else mask(value), plain)


def _line_batches(stream: IO[bytes], first: bytes = b"") -> Iterator[list[bytes | None]]:
    """The input's lines without their `\\n`, a batch per read; None for an over-long line.

    Reads at most `READ_SIZE` bytes at a time, with `read1` where the stream has it so
    that a pipe's lines come out as soon as they arrive; memory stays bounded by
    `READ_SIZE` plus one line of at most `MAX_LINE` bytes. `first` is input already
    read (see `first_document`).
    """
    read = getattr(stream, "read1", None) or stream.read
    partial: list[bytes] = []  # the start of a line whose end is not read yet
    partial_size = 0
    skipping = False  # inside a line already reported as over-long: drop up to its end
    data = first
    while True:
        if not data:
            data = read(READ_SIZE)
            if not data:
                break
        parts = data.split(b"\n")
        data = b""
        if skipping:
            if len(parts) == 1:
                continue
            del parts[0]
            skipping = False
        tail = parts.pop()
        if partial and parts:
            parts[0] = b"".join([*partial, parts[0]])
            partial, partial_size = [], 0
        lines: list[bytes | None] = [line if len(line) <= MAX_LINE else None for line in parts]
        if tail:
            partial.append(tail)
            partial_size += len(tail)
            if partial_size > MAX_LINE:
                lines.append(None)
                partial, partial_size = [], 0
                skipping = True
        if lines:
            yield lines
    if partial:
        yield [b"".join(partial)]


def _compact(value: Any) -> bytes:
    return json_text(value).encode()


@dataclass
class StreamSummary:
    lines: int = 0
    failed: int = 0
    plain: int = 0  # plain JSON answers: not encrypted, written as they are (masked)

    @property
    def exit_status(self) -> ExitStatus:
        return ExitStatus.CRYPTO if self.failed else ExitStatus.OK


def _as_sent_ok(plaintext: bytes) -> bool:
    """True if the plaintext can be written unchanged as one line of UTF-8 JSON.

    json.loads also takes UTF-16/32 and a UTF-8 BOM; those are re-serialised.
    """
    return (
        b"\n" not in plaintext
        and b"\r" not in plaintext
        and b"\x00" not in plaintext
        and not plaintext.startswith(b"\xef\xbb\xbf")
        and UNSAFE_UTF8.search(plaintext) is None
    )


def _error_line(number: int, message: str, status: ExitStatus = ExitStatus.CRYPTO) -> bytes:
    record = {"line": number, "error": message, "exit_code": int(status)}
    return json_text(record).encode() + b"\n"


def decrypt_stream(
    codec: TokenCodec,
    stream: IO[bytes],
    write: Callable[[bytes], object],
    *,
    reveal: bool,
    first: bytes = b"",
    flush: Callable[[], object] | None = None,
) -> StreamSummary:
    """Decrypt one token (or body) per input line, writing one JSON line per input line.

    Output lines keep input order; a line that fails gives `{"line", "error",
    "exit_code"}`; a plain JSON answer is written as it is (masked) and counted.
    Plaintext that is one line of JSON is written as the platform sent it, with document
    numbers masked where they stand; anything else is re-serialised.

    Constant memory and full speed: the input is read `READ_SIZE` bytes at a time, the
    tokens of each read are decrypted together (`TokenCodec.decrypt_many`) and their
    lines written with one `write` (and one `flush`, when given: live input).
    """
    summary = StreamSummary()
    for lines in _line_batches(stream, first):
        number = summary.lines
        summary.lines += len(lines)
        tokens = [b"" if line is None else line.strip() for line in lines]
        plaintexts = iter(codec.decrypt_many([t for t in tokens if t and t[0] != _BRACE]))
        out: list[bytes] = []
        for line, token in zip(lines, tokens, strict=True):
            number += 1
            try:
                if line is None:
                    raise CryptoError(f"line is longer than {MAX_LINE >> 20} MiB: not a token")
                if not token:
                    raise CryptoError("empty line")
                if token[0] == _BRACE:
                    found = unwrap(line.decode("utf-8", "replace"))
                    if isinstance(found, dict):
                        summary.plain += 1
                        out.append(_compact(found if reveal else mask(found)) + b"\n")
                        continue
                    result: bytes | CryptoError = codec.decrypt(found)
                else:
                    result = next(plaintexts)
                if isinstance(result, bytes):
                    out.append(_json_line(result, reveal=reveal))
                    continue
                error = str(result)
            except CryptoError as exc:
                error = str(exc)
            summary.failed += 1
            out.append(_error_line(number, error))
        write(b"".join(out))
        if flush is not None:
            flush()
    return summary


def _json_line(plaintext: bytes, *, reveal: bool) -> bytes:
    """The output line for one plaintext; `CryptoError` when it is not JSON."""
    if (  # one line of UTF-8 JSON (as `_as_sent_ok`, inline: this runs once per token)
        b"\n" not in plaintext
        and b"\r" not in plaintext
        and b"\x00" not in plaintext
        and not plaintext.startswith(b"\xef\xbb\xbf")
        and UNSAFE_UTF8.search(plaintext) is None
    ):
        try:
            text = plaintext.decode()
            _, end = _raw_decode(text)  # validates, a little faster than json.loads
            if end != len(text) and text[end:].strip(" \t\n\r"):
                raise ValueError("extra data after the JSON value")
        except (ValueError, RecursionError):
            pass  # the general path below says what is wrong (or takes what this did not)
        else:
            shown = plaintext if reveal else mask_json_bytes(plaintext)
            if shown is not None:
                return shown + b"\n"
    if not reveal and may_need_masking(plaintext):
        return _compact(mask(parse_plaintext(plaintext))) + b"\n"
    value = parse_plaintext(plaintext)
    return (plaintext if _as_sent_ok(plaintext) else _compact(value)) + b"\n"


def first_document(stream: IO[bytes]) -> tuple[bytes, bool]:
    """Peek at the input: (data, whole) where `whole` means one multi-line JSON body.

    A file whose first line opens a JSON object that does not close on that line is
    a pretty-printed `{"token": ...}` body, read whole; otherwise it is one token per
    line and only the first line is returned (the caller streams the rest).
    """
    first = stream.readline(MAX_LINE + 1)
    stripped = first.strip()
    if stripped.startswith(b"{"):
        try:
            json.loads(stripped)
        except (ValueError, RecursionError):
            return first + read_limited(stream, "the input"), True
    return first, False

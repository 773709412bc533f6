"""Token work for `encrypt` and `decrypt`: where the key comes from, and reading the
input (an argument, a file, stdin, a paste at the terminal; what `--detect` reads; the
JSON payload `encrypt` and `call` take). The streaming decrypt of a
file of tokens is `tokenstream.py`.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from wibmo_cli import tokentext
from wibmo_cli.crypto import (
    KEY_ENCODINGS,
    IvScheme,
    TokenCodec,
    compact_json,
    key_interpretations,
    parse_key,
)
from wibmo_cli.errors import ConfigError, InputError, WibmoError
from wibmo_cli.masking import mask
from wibmo_cli.paths import user_path

if TYPE_CHECKING:
    from wibmo_cli.profiles import Profile

MAX_KEY_FILE: Final = 8 << 10  # a key is 16-32 bytes, 64 as hex: 8 KiB is ample
MAX_LINE: Final = 1 << 20  # a token line longer than 1 MiB is not a token
MAX_DOCUMENT: Final = 16 << 20  # a whole-input JSON payload or body


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


def looks_like_path(argument: str) -> bool:
    """Whether an argument that names no file was probably meant as one (`tok.txt` in
    the wrong directory): one word, not JSON's opening, with a `.`, a path separator or
    a leading `~`."""
    return (
        bool(argument)
        and not any(char.isspace() for char in argument)
        and argument[0] not in '{["'
        and (any(char in argument for char in "./\\") or argument.startswith("~"))
    )


def meant_a_token_file(argument: str) -> bool:
    """Whether a `decrypt` argument that is neither a file nor a token was meant as a
    file: it `looks_like_path`, and has a character no token has (`tok.txt`) or starts
    as a path does (`/`, `./`, `../`, `~`); a token cut short, all base64, stays one, and
    so does a whole token that happens to start with "/"."""
    if tokentext.is_whole_token(argument):  # a token may start with "/" (1 in 64)
        return False
    starts = argument.startswith(("/", "./", "../", "~"))
    return looks_like_path(argument) and (starts or not tokentext.could_be_token(argument))


def no_such_file(argument: str, what: str, problem: WibmoError, *, option: str = "") -> InputError:
    """An argument that names no file, and is not `what` either (`problem`: what reading
    it as that said): usage, exit 2, saying both (issue 12, item 3)."""
    said = f"no such file: {argument}, and it is not {what} either ({problem.message})"
    return InputError(f"{option}: {said}" if option else said)


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


def read_paste(say: Callable[[str], None], what: str, more: str = "") -> bytes:
    """stdin at a terminal: how to end the paste said (`say`: on stderr), then what is
    pasted or typed, read to the end of input (Ctrl-D) within MAX_DOCUMENT."""
    say(f"paste {what}, then press Enter and Ctrl-D{more}")
    return read_limited(sys.stdin.buffer, "stdin")


def read_json_argument(
    source: str, read_stdin: Callable[[], bytes]
) -> tuple[dict[str, Any], bytes]:
    """A JSON payload given as an argument (`encrypt`, `call`): `-` stdin (`read_stdin`
    reads it), a file holding it, or the JSON text. The object and the bytes it was read
    from; an argument that names no file and is not JSON either, but looks like a path,
    is said to be both (`no_such_file`)."""
    maybe_path: str | None = None
    if source == "-":
        data, what = read_stdin(), "stdin"
    elif (found := existing_file(source)) is not None:
        with open_binary(found) as handle:
            data, what = read_limited(handle, str(found)), str(found)
    else:
        data, what = source.encode(), "the payload"
        maybe_path = source if looks_like_path(source) else None
    try:
        return parse_json_payload(data, what), data
    except InputError as exc:
        if maybe_path is None:
            raise
        raise no_such_file(maybe_path, "JSON", exc) from None


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
        try:
            return compact_json(parse_json_payload(argument.encode(), "--plaintext"))
        except InputError as exc:
            if looks_like_path(argument):
                raise no_such_file(argument, "JSON", exc, option="--plaintext") from None
            raise
    with open_binary(path) as handle:
        data = read_limited(handle, str(path))
    return compact_json(parse_json_payload(data, "--plaintext"))


# -- decrypt ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """What one input decoded to (masked unless revealed); `plain`: it was a plain JSON
    answer, not encrypted, shown as it is with no key used; `masked`: masking changed it."""

    value: Any
    plain: bool = False
    masked: bool = False


def decrypt_text(codec: Callable[[], TokenCodec], text: str, *, reveal: bool) -> Decoded:
    """One token, request or answer body in any envelope, plain JSON answer, or line of
    text holding a token (`tokentext.resolve`) -> the JSON. `codec` is called only when
    there is something to decrypt: a plain answer (what the platform's decrypt helper
    answers) needs no key."""
    found = tokentext.resolve(text)
    plain = isinstance(found, dict)
    value = found if isinstance(found, dict) else codec().decrypt_json(found)
    if reveal:
        return Decoded(value, plain)
    shown = mask(value)
    return Decoded(shown, plain, shown != value)


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


def first_token_lines(stream: IO[bytes], first: bytes) -> list[bytes]:
    """What `decrypt --detect` reads of a file or stdin after `first` (its first line,
    read): the first line that is not blank, and the lines after it that may continue
    it as a wrapped token (`tokentext.continues`), stripped. Blank lines only: [b""]."""
    line = first.strip()
    while not line:
        data = stream.readline(MAX_LINE + 1)
        if not data:
            return [b""]
        line = data.strip()
    lines = [line]
    while True:
        following = stream.readline(MAX_LINE + 1).strip()
        if not tokentext.continues(lines, following):
            return lines
        lines.append(following)

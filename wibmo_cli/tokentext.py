"""Where the one token is in what an engineer hands `decrypt`: a bare token, a body, a
line of text around it, or a token wrapped over several lines.

Tokens come from logs, proxies, mail and `openssl enc -base64`, not only from the
platform's bodies (issue 12, items 1 and 4):

    resolve          one input: a bare token, a body in any envelope, a plain answer
                     (`bodies.unwrap`), else the token inside a line of text: under an
                     envelope key (`token=...`, `"token":"..."`, a curl `--data-raw`), else
                     the longest run of base64 that is whole AES blocks
    token_runs       where tokens may be in any text (`resolve`'s bare runs, and every
                     token `decrypt --scan` finds): the one rule for what counts as one
    join_wrapped     among lines that each failed to decrypt, the runs that decrypt
                     together: every line but the last a full 64- or 76-character base64
                     line (openssl wraps at 64, MIME at 76)
    first_token      what `decrypt --detect` reads from a file: the first line, and the
                     lines it may be wrapped over
    only_token       a paste at the terminal that is one token (one line, or one wrapped)

Pure: no I/O; `join_wrapped` takes the codec whose key says which lines belong together.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from wibmo_cli.bodies import ENVELOPE_KEYS, extract_token, unwrap
from wibmo_cli.crypto import BLOCK, TokenCodec, decode_base64
from wibmo_cli.errors import CryptoError

T = TypeVar("T")

WRAP_WIDTHS: Final = (64, 76)  # openssl enc -base64 (and PEM), MIME (RFC 2045)
MAX_WRAPPED_LINES: Final = 1024  # a wrapped token of 48-57 KiB of ciphertext at most
_MIN_RUN: Final = 22  # base64 characters of one 16-byte block: the shortest token

# A token under an envelope key in any text: `token=X`, `"token": "X"`, `'token':'X'`,
# `\"token\":\"X\"` (a body inside a JSON string), `result: X`...
_KEY_BEFORE: Final = (
    r"(?i)(?<![A-Za-z0-9_])(?:" + "|".join(ENVELOPE_KEYS) + r")\\?[\"']?\s*[:=]\s*\\?[\"']?"
)
_ENVELOPED: Final = re.compile(_KEY_BEFORE + r"([A-Za-z0-9+/_-]+={0,2})")
_ENVELOPE_ENDS: Final = re.compile((_KEY_BEFORE + r"\Z").encode())
_ENVELOPE_REACH: Final = 40  # bytes before a token that `under_envelope_key` looks at
BASE64_BYTES: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
)
# Text seen as runs (what `token_runs` searches, at C speed): every base64 character
# (standard or URL-safe) an "A", "=" itself, anything else a space.
_AS_RUNS: Final = bytes(
    ord("A") if byte in BASE64_BYTES else byte if byte == ord("=") else ord(" ")
    for byte in range(256)
)
_SHORTEST_RUN: Final = b"A" * _MIN_RUN
_RUN_END: Final = re.compile(rb"A*")
_HEX: Final = re.compile(rb"[0-9A-Fa-f]+")
# A terminal's colour code (`ESC[1;31m`): its last letter would start the run after it.
_CSI: Final = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")
_DOT: Final = ord(".")
_WRAP_LINE: Final = re.compile(rb"[A-Za-z0-9+/_-]+={0,2}")
_BASE64_TEXT: Final = re.compile(r"[A-Za-z0-9+/_=-]+")


def could_be_token(text: str) -> bool:
    """Whether `text` is only base64 characters (standard or URL-safe, `=`): a token,
    perhaps cut short, rather than a path or a word."""
    return _BASE64_TEXT.fullmatch(text) is not None


def is_whole_token(text: str) -> bool:
    """Whether `text` decodes (`crypto.decode_base64`) to one or more whole AES blocks."""
    try:
        size = len(decode_base64(text))
    except CryptoError:
        return False
    return size > 0 and size % BLOCK == 0


def token_in_line(text: str) -> str | None:
    """The one token inside a line of text, or None when it holds none.

    One under an envelope key (`bodies.ENVELOPE_KEYS`) wins; else the longest run of
    base64 characters that is whole AES blocks (a URL path, a header value or an id in
    the same line is shorter than any real token). Two different runs of that length:
    `CryptoError`, since guessing would decrypt the wrong one.
    """
    for match in _ENVELOPED.finditer(text):
        if is_whole_token(match[1]):
            return match[1]
    data = text.encode()
    runs = {run_token(data[start:end]).decode() for start, end in token_runs(data)}
    if not runs:
        return None
    longest = max(map(len, runs))
    found = [run for run in runs if len(run) == longest]
    if len(found) > 1:
        raise CryptoError(
            f"the text holds {len(found)} different tokens of {longest} characters: "
            "give the one to decrypt"
        )
    return found[0]


def token_runs(data: bytes) -> Iterator[tuple[int, int]]:
    """Where tokens may be in `data`: (start, end) of each run of base64 that could be one.

    A run is all of a stretch of base64 characters (standard or URL-safe, up to two `=`
    after it), at least `_MIN_RUN` long (one 16-byte block: the shortest token), that
    decodes to whole AES blocks (from its length: nothing is decoded here). Left alone:
    a run of hex digits only (ids, hashes: a real token of 22 or more characters is all
    hex about once in 10**10), and a run joined by a dot to more base64 (a JWT's parts,
    a host or file name: `eyJh...J9.eyJz...fQ.SflK...`). A terminal colour code in front
    (`ESC[31m` in a coloured log) is not part of the run. Padding percent-encoded in a
    URL (`token=...%3D%3D`) is part of it: `run_token` gives the token without it.
    """
    seen = _CSI.sub(_blank, data) if b"\x1b[" in data else data  # a coloured log
    runs = seen.translate(_AS_RUNS)
    find, run_end = runs.find, _RUN_END.match
    start = find(_SHORTEST_RUN)
    while start >= 0:  # once per word of 22 characters or more, at its first character
        bare = run_end(runs, start).end()  # type: ignore[union-attr]  # A* always matches
        length = bare - start
        # decodes to a whole number of blocks (a length of 4n+1 decodes to nothing)
        if (length * 3 // 4) % BLOCK == 0 and length % 4 != 1:
            end = bare + (runs[bare : bare + 2] == b"==") + (runs[bare : bare + 1] == b"=")
            if end == bare and data[bare : bare + 1] == b"%":  # a URL's query: %3D for =
                end = _PERCENT_PAD.match(data, bare).end()  # type: ignore[union-attr]  # {0,2}
            if not _HEX.fullmatch(data, start, bare) and not _dotted(data, start, end):
                yield start, end
        start = find(_SHORTEST_RUN, bare)  # after a run's end: never inside the next one


_PERCENT_PAD: Final = re.compile(rb"(?:%3[dD]){0,2}")


def run_token(run: bytes) -> bytes:
    """The token of a run `token_runs` found: its percent-encoded padding dropped (a
    token without its `=` decodes all the same)."""
    return run[: run.index(b"%")] if b"%" in run else run


def _blank(code: re.Match[bytes]) -> bytes:
    return b" " * len(code[0])


def _dotted(data: bytes, start: int, end: int) -> bool:
    """Whether the run at `start:end` is one part of a dotted name (a JWT, a host)."""
    before = start >= 2 and data[start - 1] == _DOT and data[start - 2] in BASE64_BYTES
    after = end + 1 < len(data) and data[end] == _DOT and data[end + 1] in BASE64_BYTES
    return before or after


def under_envelope_key(data: bytes, start: int) -> bool:
    """Whether the token at `start` in `data` stands under an envelope key (`token=`,
    `"token":"`, `result: `...): a token the platform's bodies carried, not a look-alike."""
    return _ENVELOPE_ENDS.search(data, max(0, start - _ENVELOPE_REACH), start) is not None


def resolve(text: str) -> str | dict[str, Any]:
    """What one input holds: `bodies.unwrap`'s bare token, body token or plain answer;
    where that is not a token (a log line, a quoted value, a curl command), the token
    inside the text (`token_in_line`). With none inside, the input as `unwrap` read it,
    so that decrypting it says what is wrong with it."""
    try:
        found = unwrap(text)
    except CryptoError:
        inner = token_in_line(text)
        if inner is None:
            raise
        return inner
    if isinstance(found, dict) or is_whole_token(found):
        return found
    return token_in_line(found) or found


def resolve_token(text: str) -> str:
    """`resolve` for `decrypt --detect`: the token; a plain answer has none, and says
    so (`bodies.extract_token`'s error)."""
    found = resolve(text)
    return extract_token(text) if isinstance(found, dict) else found


# -- wrapped tokens ---------------------------------------------------------------------------


def full_width(line: bytes) -> int:
    """The wrap width of a line that can continue onto the next: exactly 64 or 76 base64
    characters, no `=` (padding ends a token); else 0."""
    if len(line) in WRAP_WIDTHS and b"=" not in line and _WRAP_LINE.fullmatch(line):
        return len(line)
    return 0


def _decoded(line: bytes) -> bytes | None:
    """A line's bytes when it is a piece of base64 (a full line is whole 4-character
    groups, so each line decodes alone); None when it is not."""
    if not _WRAP_LINE.fullmatch(line):
        return None
    try:
        return decode_base64(line)
    except CryptoError:
        return None


def join_wrapped(
    lines: Sequence[bytes], codec: TokenCodec, accept: Callable[[bytes], T]
) -> list[tuple[int, int, T]]:
    """The runs of `lines` that decrypt together: (first, last, accept(plaintext)).

    `lines`: consecutive input lines (stripped) that each failed to decrypt alone.
    A run is a full 64- or 76-character base64 line, more of the same width, and a last
    line no wider (a token of exactly that many lines ends on a full one). It is
    joined only when the joined token decrypts and `accept` takes its plaintext
    (`CryptoError` otherwise: e.g. not JSON); the shortest such run from each start wins.

    Linear in the lines for input that holds no wrapped token (a file of tokens for
    another key): a run can only end where its last three blocks give valid padding
    after a closing `}` or `]`, checked once per line; only such ends are decrypted
    whole (about one line in 30,000 of random data).
    """
    count = len(lines)
    raw = [_decoded(line) for line in lines]
    # A line that decrypts alone with valid padding (it failed only as JSON) is a whole
    # token (a first or middle line of a wrapped one has valid padding 1 time in ~256):
    # it may end a run, never start or continue one. Without this, a file of short
    # tokens of another IV scheme (every line padded, ending in "}") tried runs of up to
    # MAX_WRAPPED_LINES from every line: quadratic.
    width = [
        0 if _whole(codec, piece) else full_width(line)
        for line, piece in zip(lines, raw, strict=True)
    ]
    offset = [0]  # offset[i]: bytes of lines[:i], for each run's length
    for piece in raw:
        offset.append(offset[-1] + len(piece or b""))
    run_end = list(range(count))  # the last line of the full-width lines from i
    for index in range(count - 2, -1, -1):
        if width[index] and width[index + 1] == width[index]:
            run_end[index] = run_end[index + 1]
    ends = [e for e in range(1, count) if width[e - 1] and _may_end(codec, raw[e - 1], raw[e])]
    joined: list[tuple[int, int, T]] = []
    start = 0
    while start < count:
        found = _first_join(lines, raw, width, offset, run_end, ends, start, codec, accept)
        if found is None:
            start += 1
            continue
        joined.append(found)
        start = found[1] + 1
    return joined


def _whole(codec: TokenCodec, piece: bytes | None) -> bool:
    if piece is None or not piece or len(piece) % BLOCK:
        return False
    try:
        codec.decrypt_raw(piece)
    except CryptoError:
        return False
    return True


def _may_end(codec: TokenCodec, before: bytes | None, last: bytes | None) -> bool:
    """Whether a joined token could end with these two lines: its last three blocks
    (CBC: each decrypts with the block before it, whatever came earlier) give valid
    padding, and what they end with closes a JSON object or array."""
    if before is None or last is None:
        return False
    tail = (before + last)[-3 * BLOCK :]
    try:
        plain = codec.decrypt_raw(tail)
    except CryptoError:
        return False
    return plain.rstrip(b" \t\r\n")[-1:] in (b"}", b"]")


def _first_join(
    lines: Sequence[bytes],
    raw: list[bytes | None],
    width: list[int],
    offset: list[int],
    run_end: list[int],
    ends: list[int],
    start: int,
    codec: TokenCodec,
    accept: Callable[[bytes], T],
) -> tuple[int, int, T] | None:
    """The shortest run from `start` that decrypts together, or None."""
    wide = width[start]
    if not wide:
        return None
    last = run_end[start]
    after = last + 1
    if after < len(lines) and raw[after] is not None and len(lines[after]) <= wide:
        last = after  # the shorter line that ends a wrapped token
    last = min(last, start + MAX_WRAPPED_LINES - 1)
    for end in ends[bisect_right(ends, start) :]:
        if end > last:
            break
        size = offset[end + 1] - offset[start]
        if size % BLOCK:
            continue
        try:
            plaintext = codec.decrypt_raw(b"".join(p or b"" for p in raw[start : end + 1]))
            return start, end, accept(plaintext)
        except CryptoError:
            continue
    return None


# -- what --detect reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One reading of a file's first token for `decrypt --detect`; `said`: how it was
    read, when that is worth saying (lines joined)."""

    text: str
    said: str = ""


def continues(lines: Sequence[bytes], line: bytes) -> bool:
    """Whether `line` may come next in a token wrapped over `lines` so far: the line
    before it full (the width of the first), the token not yet `MAX_WRAPPED_LINES`
    long, `line` a piece of base64 no wider."""
    wide = full_width(lines[0])
    return (
        bool(wide)
        and full_width(lines[-1]) == wide
        and len(lines) < MAX_WRAPPED_LINES
        and 0 < len(line) <= wide
        and _decoded(line) is not None
    )


def first_token(lines: Sequence[bytes]) -> list[Candidate]:
    """How to read a file's first token, most likely first: `lines` (its first
    non-blank line, and those `continues` took after it) joined, then the first line
    alone."""
    first = lines[0].decode("utf-8", "replace")
    if len(lines) < 2:
        return [Candidate(first)]
    joined = b"".join(lines).decode("ascii")
    said = f"{len(lines)} lines read as one token wrapped at {len(lines[0])} characters"
    return [Candidate(joined, said), Candidate(first)]


def only_token(data: bytes) -> str | None:
    """The one token of a paste: its one line that is not blank, or its lines when they
    are one wrapped token; None when it holds more (or nothing)."""
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    if not lines or len(lines) > MAX_WRAPPED_LINES:
        return None
    for index in range(1, len(lines)):
        if not continues(lines[:index], lines[index]):
            return None
    return b"\n".join(lines).decode("utf-8", "replace")

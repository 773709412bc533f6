"""`wibmo decrypt --scan FILE|-`: every token in free text (log lines, curl commands,
JSON bodies, `token=` pairs, quoted values) decrypted where it stands.

    scan_stream   the text again with each token replaced by its decrypted JSON (compact,
                  masked unless revealed), or one JSON line per token found
    _chunks       the input cut into pieces of whole lines, in constant memory

What counts as a token is `tokentext.token_runs` (the rule `decrypt` uses for a token
inside a line of text); the answer shown for one is `tokenstream.json_line` (as
`decrypt FILE` shows it). Tokens of a read are decrypted in one cipher pass
(`TokenCodec.decrypt_many`).

Memory stays bounded whatever the input: it is read `READ_SIZE` bytes at a time and cut
after its last line feed; a line longer than `MAX_PIECE` (a 100 MB line with no line
feed) is cut after its last byte that no token holds, so no token is cut in two; a run
of base64 longer than `MAX_PIECE` is not taken for a token (no answer is that long).

The text around the tokens is the input's own: bytes as they came (invalid UTF-8 and
control characters included) to a file or a pipe; on a terminal (`terminal=True`) control
characters are shown escaped (`textsafe.visible`; tabs and CRLF kept) and bytes that are
not UTF-8 as `\\xNN`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import IO, Final

from wibmo_cli import tokentext
from wibmo_cli.crypto import BLOCK, TokenCodec
from wibmo_cli.errors import CryptoError, ExitStatus
from wibmo_cli.masking import secret_byte_forms, without_secret_bytes
from wibmo_cli.textsafe import json_text, visible
from wibmo_cli.tokenio import MAX_LINE
from wibmo_cli.tokenstream import json_line

READ_SIZE: Final = 64 << 10
MAX_PIECE: Final = MAX_LINE  # a longer line is scanned in pieces of at most this much
_NEWLINE: Final = ord("\n")
# A byte where a long line may be cut: ASCII that no token holds (never inside a UTF-8
# character, never inside a run of base64 or its `=`).
_BREAK: Final = re.compile(rb"[\x00-\x2a\x2c\x2e\x3a-\x3c\x3e-\x40\x5b-\x5e\x60\x7b-\x7f]")
_RUN_BYTES: Final = tokentext.BASE64_BYTES | {ord("=")}


@dataclass
class ScanSummary:
    """What a scan found. `ours`: tokens left as they were that were ours all the same:
    the key gives valid padding (another IV scheme, or a plaintext that is not JSON), or
    they stood under an envelope key (`token=`, `"token":`...) as the platform's bodies
    carry them."""

    found: int = 0
    decrypted: int = 0
    left: int = 0
    ours: int = 0
    fits: int = 0  # of `ours`: the key fits (see `_fits`; the rest: sent as tokens)
    masked: int = 0  # answers where masking changed something

    @property
    def exit_status(self) -> ExitStatus:
        """4 when a token of ours could not be read; else 0, no token found included (a
        look-alike that is no token of this key (an id, a hash) is left and counted)."""
        return ExitStatus.CRYPTO if self.ours else ExitStatus.OK


def _chunks(stream: IO[bytes]) -> Iterator[tuple[bytes, bool, bool]]:
    """(data, starts_mid_run, ends_mid_run): the input in pieces that end after a line
    feed, or inside a line longer than `MAX_PIECE` after a `_BREAK` byte; with none in
    it, the piece is cut where it is and the run of base64 on each side of the cut is
    flagged (too long to be a token)."""
    read = getattr(stream, "read1", None) or stream.read
    pending = bytearray()
    mid_run = False
    while data := read(READ_SIZE):
        newline = data.rfind(b"\n")
        cut = len(pending) + newline + 1 if newline >= 0 else 0
        pending += data
        if cut:
            yield bytes(pending[:cut]), mid_run, False
            del pending[:cut]
            mid_run = False
        while len(pending) > MAX_PIECE:
            found = _BREAK.search(pending[::-1])  # the last break: the first, reversed
            cut = len(pending) - found.start() if found else len(pending)
            ends_mid_run = pending[cut - 1] in _RUN_BYTES
            yield bytes(pending[:cut]), mid_run, ends_mid_run
            del pending[:cut]
            mid_run = ends_mid_run
    if pending:
        yield bytes(pending), mid_run, False


def _chars(data: bytes) -> int:
    """Characters in `data` as UTF-8 reads them (a byte that is not UTF-8: one)."""
    return len(data) if data.isascii() else len(data.decode("utf-8", "replace"))


def scan_stream(
    codec: TokenCodec,
    stream: IO[bytes],
    write: Callable[[bytes], object],
    *,
    reveal: bool,
    as_json: bool = False,
    terminal: bool = False,
    flush: Callable[[], object] | None = None,
    hide: Collection[str] = (),
) -> ScanSummary:
    """Decrypt every token in the text of `stream`, writing through `write`.

    Text (default): the input with each token that decrypts to JSON replaced by that
    JSON on one line (masked unless `reveal`); every other byte as it came, tokens that
    do not decrypt included. `terminal`: control characters made visible.
    `as_json`: one JSON line per token found, in input order: `line` (1-based), `column`
    (1-based, in characters), `length` (its characters), then `answer` (the JSON) or
    `error` and the `token` itself (to try `wibmo decrypt --detect` on).
    `flush`, when given, after each piece (live input: `tail -f app.log | ...`).
    `hide`: secrets (the profile's) redacted in each decrypted answer (a request may
    carry them); the log's own text is written as it came.
    """
    summary = ScanSummary()
    forms = secret_byte_forms(hide)
    line = 1  # the line the next piece starts on
    column = 0  # characters of that line in the pieces before (a line cut in pieces)
    for data, starts_mid_run, ends_mid_run in _chunks(stream):
        spans = list(tokentext.token_runs(data))
        if spans and starts_mid_run and spans[0][0] == 0:
            del spans[0]  # the end of a run longer than MAX_PIECE
        if spans and ends_mid_run and spans[-1][1] == len(data):
            del spans[-1]  # the start of one
        results = codec.decrypt_many([tokentext.run_token(data[s:e]) for s, e in spans])
        out: list[bytes] = []
        done = 0  # data[:done] is written (text) or counted (JSON)
        for (start, end), result in zip(spans, results, strict=True):
            shown, error = _shown(result, reveal, summary)
            if forms and shown is not None:  # a request's credentials: never shown
                shown = without_secret_bytes(shown, forms)
            if error is not None:
                fits = isinstance(result, bytes) and _fits(result)
                summary.fits += fits
                summary.ours += fits or tokentext.under_envelope_key(data, start)
            if as_json:
                before = data.rfind(b"\n", done, start)
                if before >= 0:
                    line += data.count(b"\n", done, start)
                    column = _chars(data[before + 1 : start])
                else:
                    column += _chars(data[done:start])
                out.append(_record(line, column + 1, data[start:end], shown, error))
                done = start
            else:
                out += (data[done:start], data[start:end] if shown is None else shown[:-1])
                done = end
        if as_json:
            before = data.rfind(b"\n", done)
            if before >= 0:
                line += data.count(b"\n", done)
                column = _chars(data[before + 1 :])
            else:
                column += _chars(data[done:])
        else:
            out.append(data[done:])
            if terminal:
                out = [_for_terminal(b"".join(out))]
        write(b"".join(out))
        if flush is not None:
            flush()
    return summary


def _fits(plaintext: bytes) -> bool:
    """Whether a token whose padding checked out but which is not JSON is ours all the
    same, read with the wrong IV scheme: CBC garbles only the first block then, so the
    rest reads as text. Valid padding alone proves nothing (any run of base64 has it
    about once in 256: a log of hashes would exit 4)."""
    rest = plaintext[BLOCK:]
    if not rest:
        return False
    try:
        text = rest.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable()


def _for_terminal(data: bytes) -> bytes:
    """The text as a terminal should get it: control characters shown escaped
    (`textsafe.visible`) but for tabs and the CR of a CRLF (harmless, and in every log);
    bytes that are not UTF-8 as `\\xNN`."""
    shown = []
    for line in data.decode("utf-8", "backslashreplace").split("\n"):
        crlf = line.endswith("\r")
        parts = (line[:-1] if crlf else line).split("\t")
        shown.append("\t".join(visible(part) for part in parts) + ("\r" if crlf else ""))
    return "\n".join(shown).encode()


def _shown(
    result: bytes | CryptoError, reveal: bool, summary: ScanSummary
) -> tuple[bytes | None, CryptoError | None]:
    """(the answer's JSON line, None) for a token that decrypted to JSON, else (None,
    why not); counted in `summary`."""
    summary.found += 1
    if isinstance(result, CryptoError):
        summary.left += 1
        return None, result
    try:
        shown, masked = json_line(result, reveal=reveal)
    except CryptoError as exc:
        summary.left += 1
        return None, exc
    summary.decrypted += 1
    summary.masked += masked
    return shown, None


def _record(
    line: int, column: int, token: bytes, shown: bytes | None, error: CryptoError | None
) -> bytes:
    """One JSON line of `-o json`, written as bytes: the answer's JSON is already text."""
    head = b'{"line":%d,"column":%d,"length":%d,' % (line, column, len(token))
    if shown is not None:
        return head + b'"answer":' + shown[:-1] + b"}\n"
    said = json_text(str(error)).encode()
    return head + b'"error":' + said + b',"token":"' + token + b'"}\n'

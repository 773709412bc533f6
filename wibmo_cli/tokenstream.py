"""The streaming decrypt of `wibmo decrypt FILE|-`: one JSON line per token, in input
order, in constant memory and at full speed (bench/bench.py's `decrypt FILE` figure).

    decrypt_stream   lines read `READ_SIZE` bytes at a time, each read's tokens decrypted
                     in one cipher pass (`TokenCodec.decrypt_many`), written with one write
    _settle          the second look at lines that failed alone: a token wrapped over
                     several lines (`tokentext.join_wrapped`), a token inside a line of text
    json_line        what one plaintext is shown as (as sent, masked in place where it can
                     be): also each answer of `decrypt --scan` (tokenscan.py)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final

from wibmo_cli import tokentext
from wibmo_cli.bodies import unwrap
from wibmo_cli.crypto import TokenCodec, parse_plaintext
from wibmo_cli.errors import CryptoError, ExitStatus
from wibmo_cli.masking import mask, mask_json_bytes, may_need_masking
from wibmo_cli.textsafe import UNSAFE_UTF8, json_text
from wibmo_cli.tokenio import MAX_LINE

READ_SIZE: Final = 32 << 10  # streaming decrypt reads (and decrypts) this much at a time
_BRACE: Final = ord("{")


def _not_json_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# (value, end) of the JSON text at the start; NaN / Infinity are not JSON: such a line
# takes the general path, which writes them as text (bodies.NumberText)
_raw_decode = json.JSONDecoder(parse_constant=_not_json_constant).raw_decode


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
    lines: int = 0  # lines that held something (blank lines are skipped)
    failed: int = 0
    plain: int = 0  # plain JSON answers: not encrypted, written as they are (masked)
    joined: int = 0  # tokens wrapped over several lines, joined: one output line each
    masked: int = 0  # output lines where masking changed something

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


@dataclass(slots=True)
class _Failure:
    """A line that did not decrypt alone; `output` (None until settled): its error line,
    the line of a wrapped token it starts, or nothing (joined into the line before)."""

    number: int
    token: bytes
    error: str
    slot: int = -1  # where its output goes among its read's lines
    output: bytes | None = field(default=None)


def decrypt_stream(
    codec: TokenCodec,
    stream: IO[bytes],
    write: Callable[[bytes], object],
    *,
    reveal: bool,
    first: bytes = b"",
    flush: Callable[[], object] | None = None,
) -> StreamSummary:
    """Decrypt one token (or body) per input line, writing one JSON line per token.

    Output lines keep input order; a line that fails gives `{"line", "error",
    "exit_code"}`; a plain JSON answer is written as it is (masked) and counted; blank
    lines are skipped. Plaintext that is one line of JSON is written as the platform
    sent it, with document numbers masked where they stand; anything else is
    re-serialised. Lines that fail alone get a second look (`_settle`): a token wrapped
    over several lines, a token inside a line of text.

    Constant memory and full speed: the input is read `READ_SIZE` bytes at a time, the
    tokens of each read are decrypted together (`TokenCodec.decrypt_many`) and their
    lines written with one `write` (and one `flush`, when given: live input).
    """
    summary = StreamSummary()
    held: list[_Failure] = []  # full-width lines that failed at the end of the last read
    number = 0
    for lines in _line_batches(stream, first):
        tokens = [b"" if line is None else line.strip() for line in lines]
        plaintexts = iter(codec.decrypt_many([t for t in tokens if t and t[0] != _BRACE]))
        out: list[bytes] = []
        failures: list[_Failure] = []
        blank = masked_lines = 0  # counted in locals: this loop runs once per token
        for line, token in zip(lines, tokens, strict=True):
            number += 1
            if not token and line is not None:
                blank += 1  # a blank line: skipped
                continue
            try:
                if line is None:
                    raise CryptoError(f"line is longer than {MAX_LINE >> 20} MiB: not a token")
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
                    shown, masked = json_line(result, reveal=reveal)
                    out.append(shown)
                    masked_lines += masked
                    continue
                error = str(result)
            except CryptoError as exc:
                error = str(exc)
            failures.append(_Failure(number, token, error, len(out)))
            out.append(b"")
        summary.lines += len(lines) - blank
        summary.masked += masked_lines
        if failures or held:
            earlier, pending = held, [*held, *failures]
            held = _wrapped_tail(pending, number)
            _settle(codec, pending[: len(pending) - len(held)], reveal, summary)
            for failure in failures:
                out[failure.slot] = failure.output or b""
            out[:0] = [failure.output or b"" for failure in earlier]
        write(b"".join(out))
        if flush is not None:
            flush()
    if held:
        _settle(codec, held, reveal, summary)
        write(b"".join(failure.output or b"" for failure in held))
    return summary


def _wrapped_tail(failures: list[_Failure], last: int) -> list[_Failure]:
    """The failures at the very end of a read that may be a wrapped token's first lines
    (full-width base64, up to line `last`): held for the lines the next read brings."""
    tail: list[_Failure] = []
    for failure in reversed(failures):
        if (
            failure.number != last - len(tail)
            or not tokentext.full_width(failure.token)
            or len(tail) == tokentext.MAX_WRAPPED_LINES - 1
        ):
            break
        tail.append(failure)
    tail.reverse()
    return tail


def _settle(
    codec: TokenCodec, failures: list[_Failure], reveal: bool, summary: StreamSummary
) -> None:
    """Each failed line's output: lines that decrypt together as a wrapped token
    (`tokentext.join_wrapped`) give one line; a line of text holding a token gives that
    token's; the rest their error."""

    def accept(plaintext: bytes) -> tuple[bytes, bool]:
        return json_line(plaintext, reveal=reveal)

    runs: list[list[_Failure]] = []
    for failure in failures:
        if runs and failure.number == runs[-1][-1].number + 1:
            runs[-1].append(failure)
        else:
            runs.append([failure])
    for run in runs:
        for start, end, (shown, masked) in tokentext.join_wrapped(
            [failure.token for failure in run], codec, accept
        ):
            run[start].output = shown
            for joined in run[start + 1 : end + 1]:
                joined.output = b""
            summary.joined += 1
            summary.masked += masked
        for failure in run:
            if failure.output is None:
                failure.output = _token_in_text(codec, failure, reveal, summary)


def _token_in_text(
    codec: TokenCodec, failure: _Failure, reveal: bool, summary: StreamSummary
) -> bytes:
    """A failed line's output when it is a line of text around a token (a log line, a
    curl command): that token's JSON line; else its error line."""
    error = failure.error
    try:
        inner = tokentext.token_in_line(failure.token.decode("utf-8", "replace"))
        if inner is not None and inner.encode() != failure.token:
            shown, masked = json_line(codec.decrypt(inner), reveal=reveal)
            summary.masked += masked
            return shown
    except CryptoError as exc:  # the token inside: its error says more than the line's
        error = str(exc)
    summary.failed += 1
    return _error_line(failure.number, error)


def json_line(plaintext: bytes, *, reveal: bool) -> tuple[bytes, bool]:
    """The output line for one plaintext, and whether masking changed it; `CryptoError`
    when it is not JSON."""
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
                return shown + b"\n", shown is not plaintext
    if not reveal and may_need_masking(plaintext):
        value = parse_plaintext(plaintext)
        masked = mask(value)
        return _compact(masked) + b"\n", masked != value
    value = parse_plaintext(plaintext)
    return (plaintext if _as_sent_ok(plaintext) else _compact(value)) + b"\n", False

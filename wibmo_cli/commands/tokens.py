"""`wibmo encrypt` and `wibmo decrypt`."""

from __future__ import annotations

import io
import sys
from typing import IO, TYPE_CHECKING, Annotated

import typer

from wibmo_cli.commands.options import AuditLogPath, command_options
from wibmo_cli.errors import ConfigError, CryptoError, ExitStatus, InputError
from wibmo_cli.runtime import Runtime
from wibmo_cli.streams import is_regular_file, is_terminal

if TYPE_CHECKING:  # imported when a command runs: the codec is not needed for --help
    from wibmo_cli import tokenio, tokentext
    from wibmo_cli.crypto import Detection

KeyEnv = Annotated[
    str | None,
    typer.Option(
        "--key-env",
        metavar="VAR",
        help="Read the key from this environment variable (or .env) instead of the profile.",
        show_default=False,
    ),
]
KeyFile = Annotated[
    str | None,
    typer.Option(
        "--key-file",
        metavar="PATH",
        help="Read the key from this file instead of the profile.",
        show_default=False,
    ),
]
KeyEncoding = Annotated[
    str | None,
    typer.Option(
        "--key-encoding",
        metavar="auto|text|hex|base64",
        help="How the key is written (default: the profile's, else auto).",
        show_default=False,
    ),
]
Iv = Annotated[
    str | None,
    typer.Option(
        "--iv",
        metavar="zero|key|prepend|ecb|HEX",
        help="IV scheme, overriding the profile's.",
        show_default=False,
    ),
]


JOINED_SAID = "wrapped over several lines: joined, one output line each"


def _stdin_or_error(what: str) -> None:
    if sys.stdin is None or is_terminal(sys.stdin):
        raise InputError(f"no input: give {what} as an argument, a file, or on stdin")


@command_options
def encrypt(
    rt: Runtime,
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[JSON|FILE|-]", help="JSON text, a file holding it, or - for stdin."
        ),
    ] = None,
    wrap: Annotated[
        bool, typer.Option("--wrap", help='Print the request body {"token": "..."}.')
    ] = False,
    compact: Annotated[
        bool,
        typer.Option("--compact", help="Re-serialise the JSON compactly before encrypting."),
    ] = False,
    key_env: KeyEnv = None,
    key_file: KeyFile = None,
    key_encoding: KeyEncoding = None,
    iv: Iv = None,
) -> None:
    """Encrypt a JSON payload into a token.

    \b
    Examples:
      wibmo encrypt '{"messageCode":1930,"clientTxnId":"T1","urn":"389"}'
      wibmo encrypt payload.json --wrap
      cat payload.json | wibmo -p uat encrypt - --iv key   # uat: a profile of yours
      wibmo encrypt payload.json --key-env MY_KEY --iv ecb
    """
    from wibmo_cli import tokenio

    keys = tokenio.KeyOptions(key_env, key_file, key_encoding, iv)

    def read_stdin() -> bytes:
        _stdin_or_error("a JSON payload")
        return tokenio.read_limited(sys.stdin.buffer, "stdin")

    payload, data = tokenio.read_json_argument("-" if source is None else source, read_stdin)
    codec = tokenio.build_codec(keys, rt.env, rt.profile)
    token = codec.encrypt_json(payload) if compact else codec.encrypt(data.strip())
    if wrap or rt.json:  # -o json (and --jq, --fields): the JSON form, as --wrap
        rt.render.json({"token": token}, pretty=False)
    else:
        rt.render.line(token)


def _help_if_asked(ctx: typer.Context, value: str | None) -> str | None:
    """`decrypt --har --help`: click takes --help for the option's value; it means help,
    so click's own help option is handed it (it shows the help and ends the run, 0)."""
    help_option = ctx.command.get_help_option(ctx) if value in ctx.help_option_names else None
    if help_option is not None and help_option.callback is not None:
        help_option.callback(ctx, help_option, True)  # click's show_help
    return value


@command_options
def decrypt(
    rt: Runtime,
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[TOKEN|FILE|-]",
            help='A token, a request or answer body ({"token"|"result"|"encdata": ...}), '
            "a file of them one per line, or - for stdin.",
        ),
    ] = None,
    detect_scheme: Annotated[
        bool,
        typer.Option("--detect", help="Try every key encoding and IV scheme; say which works."),
    ] = False,
    expected: Annotated[
        str | None,
        typer.Option(
            "--plaintext",
            metavar="JSON|FILE",
            help="With --detect: the JSON the token is known to hold (e.g. the request "
            "sent); its length rules IV schemes in or out.",
            show_default=False,
        ),
    ] = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show identity document numbers whole (audited).")
    ] = False,
    key_env: KeyEnv = None,
    key_file: KeyFile = None,
    key_encoding: KeyEncoding = None,
    iv: Iv = None,
    audit_log: AuditLogPath = None,
    scan: Annotated[
        str | None,
        typer.Option(
            "--scan",
            callback=_help_if_asked,
            metavar="FILE|-",
            help="Every token in a log or any text, replaced by its decrypted JSON (masked); "
            "-o json: one JSON line per token (line, column, answer or error). Exit 4 when a "
            "token of this key could not be read.",
            show_default=False,
        ),
    ] = None,
    har: Annotated[
        str | None,
        typer.Option(
            "--har",
            callback=_help_if_asked,
            metavar="CAPTURE.har|-",
            help="A browser's or proxy's HAR capture (- for stdin): every token in it "
            "decrypted, shown as a timeline (-o json: one document).",
            show_default=False,
        ),
    ] = None,
    har_out: Annotated[
        str | None,
        typer.Option(
            "--out",
            metavar="CLEAN.har",
            help="With --har: write the capture with its tokens decrypted, personal data "
            "masked and credentials redacted whole, to attach to a ticket (mode 0600).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --out: replace an existing file.")
    ] = False,
) -> int | None:
    """Decrypt tokens to JSON.

    A single token prints pretty JSON on a terminal and one line otherwise. A file
    (or stdin) gives one JSON line per input line, in order; a line that fails gives
    {"line": N, "error": "...", "exit_code": 4} and the run exits 4. Blank lines are
    skipped; a token wrapped over several lines (openssl: 64 characters, MIME: 76) is
    joined; a line of text around one token (a log line, a curl command) gives that
    token. `-` on a terminal: paste, then Enter and Ctrl-D.

    A body may carry its token as "token", "result" or "encdata". A plain JSON answer
    (with a responseCode: what the platform's decrypt helper answers) is not encrypted:
    it is shown as it is (masked), stderr says so, and no key is needed for it.

    \b
    Examples:
      wibmo decrypt 'bhPbPdQDo7D1QHDUZmU+uiorLTlXOgfY2N9dhO33wnxrIpTIq1veM8oYg3RN8UxO'
      wibmo decrypt '{"token": "bhPbPdQDo7D1QHDUZmU+uiorLTlXOgfY2N9dhO33wnxrIpTIq1veM8oYg3RN8UxO"}'
      wibmo decrypt captured-tokens.txt > decoded.jsonl
      wibmo decrypt '{"result": "bhPbPdQDo7D1QHDUZmU+uiorLTlXOgfY2N9dhO33wnxrIpTIq1veM8oYg3RN8UxO"}'
      wibmo decrypt --detect token.txt --key-env UAT_KEY
      wibmo decrypt --detect token.txt --plaintext request.json
      wibmo decrypt --scan app.log > app.decrypted.log
      cat app.log | wibmo decrypt --scan - -o json --jq 'select(.error)'
      wibmo decrypt --har capture.har
      wibmo decrypt --har capture.har --out clean.har
    """
    from wibmo_cli import tokenio, tokenstream, tokentext

    keys = tokenio.KeyOptions(key_env, key_file, key_encoding, iv)
    if expected is not None and not detect_scheme:
        raise InputError("--plaintext goes with --detect")
    if scan is not None and har is not None:
        raise InputError("--scan and --har read one input each: give one of them")
    if scan is not None and (source is not None or detect_scheme):
        raise InputError("--scan reads its own FILE: give no TOKEN, and no --detect")
    if har is not None or har_out is not None or force:
        from wibmo_cli.commands import har_cmd  # not on decrypt's start-up path

        har_cmd.check_options(har, har_out, force, source=source, detect=detect_scheme)
    if reveal:
        _audit_reveal(rt, "decrypt", audit_log)
    if scan is None:  # --scan redacts them in what it decrypts, not in the log's own text
        rt.hide_profile_secrets()  # a captured request may carry them (credentials in body)
    if scan is not None:
        from wibmo_cli.commands import decrypt_scan

        scanned = decrypt_scan.scan(rt, keys, scan, reveal=reveal)
        _say_masked(rt, scanned.masked)
        return scanned.exit_status or None
    if har is not None:
        from wibmo_cli.commands import har_cmd

        return har_cmd.decrypt_har(rt, keys, har, out=har_out, force=force, reveal=reveal)

    def one(text: str) -> int | None:
        if detect_scheme:
            candidates = [tokentext.Candidate(text)]
            return _detect(rt, keys, candidates, reveal=reveal, expected=expected)
        return _decrypt_one(rt, keys, text, reveal=reveal)

    if source is not None and source != "-" and tokenio.existing_file(source) is None:
        try:
            return one(source)
        except CryptoError as exc:
            if tokenio.meant_a_token_file(source):
                raise tokenio.no_such_file(source, "a token", exc) from None
            raise
    stream: IO[bytes]
    live = False
    if source == "-" and is_terminal(sys.stdin):
        pasted = tokenio.read_paste(rt.render.info, "the token", " (several tokens: one per line)")
        if not detect_scheme and (token := tokentext.only_token(pasted)) is not None:
            return one(token)
        stream = io.BytesIO(pasted)
    elif source is None or source == "-":
        _stdin_or_error("a token")
        stream = sys.stdin.buffer
        live = not is_regular_file(stream)
    else:
        path = tokenio.existing_file(source)
        assert path is not None
        stream = tokenio.open_binary(path)
    with stream:
        first, whole = tokenio.first_document(stream)
        if whole:
            return one(first.decode("utf-8", "replace"))
        if detect_scheme:
            candidates = tokentext.first_token(tokenio.first_token_lines(stream, first))
            return _detect(rt, keys, candidates, reveal=reveal, expected=expected)
        codec = tokenio.build_codec(keys, rt.env, rt.profile)
        out = rt.render.stdout_bytes  # a failed write: exit 74 (a closed pipe: 141)
        summary = tokenstream.decrypt_stream(
            codec,
            stream,
            out.write,
            reveal=reveal,
            first=first,
            flush=out.flush if live else None,
        )
        out.flush()
    if summary.lines == 0:
        raise InputError("no input: the file or stdin is empty (or only blank lines)")
    if summary.plain:
        from wibmo_cli.views.tokens import PLAIN_SAID

        rt.render.info(f"{summary.plain} of {summary.lines} lines: {PLAIN_SAID}")
    if summary.joined:
        tokens = "1 token" if summary.joined == 1 else f"{summary.joined} tokens"
        rt.render.info(f"{tokens} {JOINED_SAID}")
    _say_masked(rt, summary.masked)
    if summary.failed:
        rt.render.info(f"{summary.failed} of {summary.lines} lines could not be decrypted")
        return summary.exit_status
    return None


def _decrypt_one(rt: Runtime, keys: tokenio.KeyOptions, text: str, *, reveal: bool) -> int | None:
    from wibmo_cli import tokenio
    from wibmo_cli.views.tokens import show_decoded

    decoded = tokenio.decrypt_text(
        lambda: tokenio.build_codec(keys, rt.env, rt.profile), text, reveal=reveal
    )
    show_decoded(rt.render, decoded)
    return None


def _say_masked(rt: Runtime, masked: int) -> None:
    from wibmo_cli.views.tokens import say_masked

    say_masked(rt.render, masked)


def _detect(
    rt: Runtime,
    keys: tokenio.KeyOptions,
    candidates: list[tokentext.Candidate],
    *,
    reveal: bool,
    expected: str | None,
) -> int | None:
    """Every scheme tried, in the order the token's length suggests, on each reading of
    the input (a wrapped token's lines joined, then its first line alone) until one
    works; the first reading is reported when none does. Exit 4 when none works."""
    from wibmo_cli import tokenio, tokentext
    from wibmo_cli.crypto import detect, token_evidence

    plaintext = None if expected is None else tokenio.expected_plaintext(expected)
    readings, extra = tokenio.detect_inputs(keys, rt.env, rt.profile)
    reported: tuple[tokentext.Candidate, str, list[Detection]] | None = None
    problem: CryptoError | None = None
    for candidate in candidates:
        try:
            token = tokentext.resolve_token(candidate.text)
            results = detect(token, readings, extra, plaintext=plaintext)
        except CryptoError as exc:
            problem = problem or exc
            continue
        if reported is None or any(r.ok for r in results):
            reported = (candidate, token, results)
        if any(r.ok for r in results):
            break
    if reported is None:
        assert problem is not None
        raise problem
    candidate, token, results = reported
    evidence = token_evidence(token, plaintext)
    working = [r for r in results if r.ok]
    from wibmo_cli.masking import mask
    from wibmo_cli.views.tokens import detection_report

    report = detection_report(
        results, working, reveal=reveal, evidence=evidence, read_as=candidate.said
    )
    if rt.json:
        rt.render.json(
            {
                "working": [
                    {
                        "key_encoding": r.key_encoding,
                        "iv": str(r.scheme),
                        "plaintext": r.plaintext if reveal else mask(r.plaintext),
                    }
                    for r in working
                ],
                "tried": [_tried(r) for r in results],
                "length": {
                    "bytes": evidence.size,
                    "blocks": evidence.blocks,
                    "ruled_out": sorted(evidence.ruled_out),
                    "notes": list(evidence.notes),
                },
                **({"read_as": candidate.said} if candidate.said else {}),
                "advice": report.advice,
            }
        )
    else:
        rt.render.print(*report.renderables)
    return None if working else ExitStatus.CRYPTO


def _tried(result: Detection) -> dict[str, object]:
    return {
        "key_encoding": result.key_encoding,
        "iv": str(result.scheme),
        "ok": result.ok,
        "padding_ok": result.padding_ok,
        "error": result.error,
        "fits_length": result.fits_length,
    }


def _audit_reveal(rt: Runtime, command: str, audit_log: str | None) -> None:
    try:
        rt.audit_log(audit_log).record(command=command, action="reveal")
    except ConfigError as exc:  # --reveal is audited: nothing is shown without an entry
        raise ConfigError(f"{exc.message}; --reveal is audited: nothing was decrypted") from None

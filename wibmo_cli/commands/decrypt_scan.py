"""`wibmo decrypt --scan FILE|-`: the input opened, the scan run (`tokenscan`), the
summary said on stderr. The `--scan` option itself is declared on `decrypt`
(commands/tokens.py), which hands over here."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

from wibmo_cli.errors import InputError
from wibmo_cli.runtime import Runtime
from wibmo_cli.streams import is_regular_file, is_terminal

if TYPE_CHECKING:
    from wibmo_cli.tokenio import KeyOptions
    from wibmo_cli.tokenscan import ScanSummary

FITS_SAID = (
    "fit the key but are not JSON: another IV scheme? try `wibmo decrypt --detect` on one "
    "(-o json gives each token)"
)
SENT_SAID = (
    'were sent as tokens (token=, "token":) but not with this key: another environment\'s? '
    "scan again with its profile (-p) or key (--key-env), or try `wibmo decrypt --detect`"
)


def scan(rt: Runtime, keys: KeyOptions, source: str, *, reveal: bool) -> ScanSummary:
    """Scan a file, or stdin for `-`; the summary on stderr (what masking did: the
    caller's, as for every decrypt)."""
    from wibmo_cli import tokenio, tokenscan

    stream: IO[bytes]
    if source == "-":
        if sys.stdin is None:
            raise InputError("--scan -: no input: pipe a log in (`... | wibmo decrypt --scan -`)")
        if is_terminal(sys.stdin):
            rt.render.info("paste the text, then press Enter and Ctrl-D")
        stream = sys.stdin.buffer
    else:
        path = tokenio.existing_file(source)
        if path is None:
            raise InputError(f"--scan: no such file: {source}")
        stream = tokenio.open_binary(path)
    out = rt.render.stdout_bytes  # a failed write: exit 74 (a closed pipe: 141)
    live = source == "-" and not is_regular_file(stream)
    with stream:
        codec = tokenio.build_codec(keys, rt.env, rt.profile)  # may fail: the file closed
        summary = tokenscan.scan_stream(
            codec,
            stream,
            out.write,
            reveal=reveal,
            as_json=rt.json,
            terminal=rt.render.stdout_is_terminal,
            flush=out.flush if live else None,
            hide=rt.profile_secrets(),
        )
    out.flush()
    rt.render.info(_said(summary))
    if summary.fits:
        rt.render.info(f"{summary.fits} of those left {FITS_SAID}")
    if sent := summary.ours - summary.fits:
        rt.render.info(f"{sent} of those left {SENT_SAID}")
    return summary


def _said(summary: ScanSummary) -> str:
    tokens = "1 token" if summary.found == 1 else f"{summary.found} tokens"
    return f"{tokens} found: {summary.decrypted} decrypted, {summary.left} left as they were"

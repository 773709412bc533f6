"""`decrypt --har CAPTURE [--out CLEAN.har]`: the part of `decrypt` that reads a HAR
capture (commands/tokens.py parses the options and calls `decrypt_har`)."""

from __future__ import annotations

import contextlib
import functools
import sys
from typing import TYPE_CHECKING, Any

from wibmo_cli.errors import ConfigError, ExitStatus, InputError
from wibmo_cli.runtime import Runtime
from wibmo_cli.streams import is_terminal

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from wibmo_cli import tokenio
    from wibmo_cli.crypto import TokenCodec
    from wibmo_cli.har import Timeline
    from wibmo_cli.har_clean import Cleaned

NO_PROFILE_SAID = (
    "no profile to read secrets from: credentials are redacted by name, and the key "
    "given by its value; other secrets the capture may hold are not looked for"
)


def check_options(
    har: str | None, out: str | None, force: bool, *, source: str | None, detect: bool
) -> None:
    """--har, --out and --force given together as they must be (exit 2 otherwise)."""
    if har is None and out is not None:
        raise InputError("--out goes with --har (the capture to clean)")
    if force and out is None:
        raise InputError("--force goes with --out")
    if har is not None and (source is not None or detect):
        raise InputError("--har reads the capture: give no TOKEN, FILE or --detect with it")


def decrypt_har(
    rt: Runtime,
    keys: tokenio.KeyOptions,
    source: str,
    *,
    out: str | None,
    force: bool,
    reveal: bool,
) -> int | None:
    """The timeline of the capture's tokens on stdout (a table, or one JSON document);
    with `out`, the capture written cleaned. Exit 4 when a token did not decrypt.
    `source` "-" reads the capture from stdin (within the same cap as a file)."""
    from wibmo_cli import har, har_clean, outfile, tokenio
    from wibmo_cli.paths import user_path

    path = None if source == "-" else tokenio.existing_file(source)
    if path is None and source != "-":
        raise InputError(f"--har {source}: no such file")
    target = user_path(out) if out is not None else None
    if target is not None:
        outfile.check_target(target, source=path, force=force)
    capture = _read(source, path)

    @functools.cache
    def codec() -> TokenCodec:  # built when the first token is found, once
        return tokenio.build_codec(keys, rt.env, rt.profile)

    result = har.timeline(capture, codec)
    if target is not None:
        cleaned = har_clean.clean(capture, codec, _secrets(rt, keys, codec))
        outfile.write(target, har_clean.text(cleaned.har), source=path, force=force)
    name = "stdin" if path is None else path.name
    _show(rt, result, title=f"{name}: the platform's exchanges", reveal=reveal)
    if target is not None:
        rt.render.info(_written(target, cleaned))
    return ExitStatus.CRYPTO if result.failed else None


def _read(source: str, path: Path | None) -> dict[str, Any]:
    from wibmo_cli import har

    if path is not None:
        return har.load(path, f"--har {source}")
    if sys.stdin is None or is_terminal(sys.stdin):
        raise InputError("--har -: no input: pipe a capture in (`... | wibmo decrypt --har -`)")
    return har.read(sys.stdin.buffer, "--har - (stdin)")


def _written(target: Path, cleaned: Cleaned) -> str:
    """What --out wrote, on stderr: what was decrypted, masked and redacted."""
    from wibmo_cli.har_clean import PERSONAL_SAID

    kept = f", {cleaned.kept} left encrypted (not decryptable)" if cleaned.kept else ""
    return (
        f"wrote {target} (mode 0600): {cleaned.tokens} tokens decrypted{kept}; "
        f"personal data masked ({PERSONAL_SAID}); {cleaned.redacted} credentials redacted whole"
    )


def _show(rt: Runtime, result: Timeline, *, title: str, reveal: bool) -> None:
    from wibmo_cli import har
    from wibmo_cli.views.har import summary, timeline_view

    if rt.json:
        rt.render.json(har.document(result, reveal=reveal), rows=har.ROWS)
    elif result.exchanges:
        rt.render.print(*timeline_view(result, title, rt.render.console.width))
    rt.render.info(summary(result))


def _secrets(
    rt: Runtime, keys: tokenio.KeyOptions, codec: Callable[[], TokenCodec]
) -> list[str | bytes]:
    """What --out redacts by value: the key in use (in every form: a key written as hex
    in the profile is base64 elsewhere), and the profile's secrets."""
    found: list[str | bytes] = []
    with contextlib.suppress(ConfigError):  # no key to be had: then nothing was decrypted
        found.append(codec().key)
    try:
        profile = rt.profile()
    except ConfigError:
        if keys.explicit_key:  # the key came from --key-env/--key-file: no profile needed
            rt.render.warn(NO_PROFILE_SAID)
            return found
        raise
    found.extend(profile.secret_values())
    return found

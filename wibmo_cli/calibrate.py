"""The platform's own helper endpoints asked how it encrypts (issue 11, item 7).

    encrypt   POST encrypt_path: a known plaintext JSON body, every credential header ->
              {"token": T}. `crypto.detect` runs on T with every reading of the profile's
              encryption_key: the IV scheme and key encoding that give back exactly the
              plaintext sent are the platform's own, proved by the platform, not guessed.
    decrypt   POST decrypt_path: {"token": one this profile encrypted}, x-api-key only ->
              the bare JSON. Equal to the plaintext: the platform reads our tokens.

The helpers change nothing on the platform; each is asked once. A helper that is not there
(HTTP 404, or its path "" in the profile) is said in one line: the lookup round trip then
checks the key and iv instead (online_check.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.answer import describe_body, short, status_error
from wibmo_cli.bodies import load_json
from wibmo_cli.codes import explain
from wibmo_cli.crypto import Detection, IvScheme, detect, key_interpretations
from wibmo_cli.errors import CryptoError, WibmoError
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile
from wibmo_cli.wire import credentials

if TYPE_CHECKING:
    from wibmo_cli.client import Client

ENCRYPT: Final = "calibrate"
DECRYPT: Final = "calibrate decrypt"
_MAX_DEPTH: Final = 64
# What the decrypt helper needs, per spec/public-notes.md: x-api-key, no other credential.
_DECRYPT_HEADERS: Final = ("x-api-key", "Content-Type", "Accept")


@dataclass(frozen=True)
class Calibration:
    """The lines to show, and whether the encrypt helper answered a token (when it did not,
    the key and iv are left to the lookup round trip)."""

    checks: tuple[Check, ...]
    answered: bool
    proved: Detection | None = None  # the scheme the helper's token proved (profiles add)


async def calibrate(
    client: Client, profile: Profile, plaintext: Mapping[str, Any], *, asked: bool
) -> Calibration:
    """Ask the platform to encrypt `plaintext` and to decrypt it as this profile encrypts
    it. `asked`: the user asked for calibration (--calibrate), so a profile without a
    helper is a warning rather than a plain statement."""
    encrypt_path = str(profile.values.get("encrypt_path", ""))
    if not encrypt_path:
        detail = (
            'encrypt_path = "": no helper endpoint named in the profile; the lookup round '
            "trip checks the key and iv (where the environment has one, e.g. "
            '"/api/v2/encrypt", set encrypt_path and decrypt_path to have it proved)'
        )
        return Calibration((Check(ENCRYPT, "warn" if asked else "ok", detail),), False)
    headers, _ = credentials(profile, "headers")
    try:
        status, content = await client.helper(encrypt_path, plaintext, headers)
    except WibmoError as exc:
        return Calibration((Check(ENCRYPT, "warn", f"the encrypt helper: {exc}"),), False)
    if status == 404:
        detail = (
            f"no encrypt helper at {encrypt_path} (HTTP 404); the lookup round trip checks "
            'the key and iv (write encrypt_path = "" if this environment has none)'
        )
        return Calibration((Check(ENCRYPT, "warn", detail),), False)
    token, problem = _token(status, content, profile.secret_values())
    if token is None:
        return Calibration(
            (Check(ENCRYPT, "warn", f"the encrypt helper at {encrypt_path} {problem}"),), False
        )
    checks = [read_platform_token(profile, token, plaintext)]
    proved: Detection | None = None
    with contextlib.suppress(CryptoError):
        proved = platform_detection(profile, token, plaintext)
    decrypt_path = str(profile.values.get("decrypt_path", ""))
    if decrypt_path:
        ours = {"token": profile.codec().encrypt_json(dict(plaintext))}
        only_key = {name: headers[name] for name in _DECRYPT_HEADERS}
        try:
            status, content = await client.helper(decrypt_path, ours, only_key)
        except WibmoError as exc:
            checks.append(Check(DECRYPT, "warn", f"the decrypt helper: {exc}"))
        else:
            checks.append(read_decrypted(profile, decrypt_path, status, content, plaintext))
    return Calibration(tuple(checks), True, proved)


def _token(status: int, content: bytes, secrets: tuple[str, ...]) -> tuple[str | None, str]:
    """The token of the encrypt helper's answer, or what came instead."""
    data: Any = None
    with contextlib.suppress(ValueError):
        data = load_json(content, max_depth=_MAX_DEPTH)
    if not 200 <= status < 300:
        return None, f"answered {status_error(status, data, content, secrets).message}"
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str):
        return (
            None,
            f'answered HTTP {status}, not {{"token": ...}}: {_said(data, content, secrets)}',
        )
    return token, ""


def platform_detection(
    profile: Profile, token: str, plaintext: Mapping[str, Any]
) -> Detection | None:
    """The IV scheme and key reading that turn the platform's `token` back into
    `plaintext` (None: none does); `CryptoError` for what is no token."""
    found = [d for d in detect_for(profile, token) if d.ok and same_values(d.plaintext, plaintext)]
    return found[0] if found else None


def read_platform_token(profile: Profile, token: str, plaintext: Mapping[str, Any]) -> Check:
    """Which IV scheme and key reading turn the platform's `token` back into `plaintext`,
    and whether the profile already says so."""
    try:
        proved = platform_detection(profile, token, plaintext)
    except CryptoError as exc:
        return Check(ENCRYPT, "fail", f"the encrypt helper's token cannot be read: {exc.message}")
    if proved is None:
        return Check(
            ENCRYPT,
            "fail",
            "the platform's token for a known plaintext decrypts with no iv scheme (zero, key, "
            "prepend, ecb) and no reading of encryption_key: this encryption_key is not this "
            "environment's, or the platform uses a fixed IV (iv = 32 hex digits)",
        )
    lines = lines_to_write(profile, proved)
    said = (
        f"the platform encrypts with {lines} (key read as {proved.key_encoding}), "
        "proved by its encrypt helper"
    )
    key = dict(key_interpretations(str(profile.values["encryption_key"])))[proved.key_encoding]
    if same_iv(proved.scheme, profile.iv_scheme, key):
        return Check(ENCRYPT, "ok", f"{said}; the profile matches")
    return Check(
        ENCRYPT,
        "fail",
        f'{said}; profile {profile.name!r} has iv = "{profile.iv_scheme}": write {lines} in it',
    )


def read_decrypted(
    profile: Profile, path: str, status: int, content: bytes, plaintext: Mapping[str, Any]
) -> Check:
    """What the decrypt helper made of a token this profile encrypted."""
    if status == 404:
        return Check(DECRYPT, "warn", f"no decrypt helper at {path} (HTTP 404)")
    data: Any = None
    with contextlib.suppress(ValueError):
        data = load_json(content, max_depth=_MAX_DEPTH)
    if not 200 <= status < 300:
        return Check(
            DECRYPT,
            "warn",
            "the decrypt helper answered "
            + status_error(status, data, content, profile.secret_values()).message,
        )
    if same_values(data, plaintext):
        return Check(
            DECRYPT,
            "ok",
            "the platform's decrypt helper reads a token this profile encrypted "
            f'(iv = "{profile.iv_scheme}"): our encryption is proved',
        )
    return Check(
        DECRYPT,
        "fail",
        f"the platform's decrypt helper did not give back the plaintext of a token this "
        f'profile encrypted (iv = "{profile.iv_scheme}"): it answered '
        + _said(data, content, profile.secret_values()),
    )


def detect_for(profile: Profile, token: str) -> list[Detection]:
    """`crypto.detect` with every reading of the profile's key, and its own scheme too (a
    fixed IV is known only from the profile); `CryptoError` for what is no token."""
    readings = key_interpretations(str(profile.values["encryption_key"]))
    return detect(token, readings, (profile.iv_scheme,))


def lines_to_write(profile: Profile, found: Detection) -> str:
    """The profile lines a working detection says to write: ``iv = "..."``, and the key
    encoding when the profile names one (with "auto" the key reads itself)."""
    lines = f'iv = "{found.scheme}"'
    if profile.values["key_encoding"] != "auto":
        lines += f' and key_encoding = "{found.key_encoding}"'
    return lines


def same_values(got: Any, sent: Any) -> bool:
    """Whether the platform gave back what was sent, as the platform keeps values: it
    flips strings and numbers ("1930" for 1930) and may add empty (null) keys
    (spec/public-notes.md), none of which says the key or IV differs."""
    return bool(_loose(got) == _loose(sent))


def _loose(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _loose(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_loose(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def same_iv(found: IvScheme, written: IvScheme, key: bytes) -> bool:
    """Whether two schemes give the same IV with this key: a fixed IV of sixteen zero
    bytes is "zero", one equal to the key's first 16 bytes is "key"."""
    if found == written:
        return True
    ivs = [_iv_of(scheme, key) for scheme in (found, written)]
    return ivs[0] is not None and ivs[0] == ivs[1]


def _iv_of(scheme: IvScheme, key: bytes) -> bytes | None:
    """The IV a scheme always uses with `key`; None for prepend (fresh) and ecb (none)."""
    return {"zero": bytes(16), "key": key[:16], "fixed": scheme.fixed}.get(scheme.kind)


def _said(data: Any, content: bytes, secrets: tuple[str, ...]) -> str:
    """A helper's answer in a few words: its responseCode and name when it has one."""
    if isinstance(data, dict) and "responseCode" in data:
        code = short(str(data["responseCode"]))
        known = explain(code)
        name = known.name if known else short(str(data.get("responseMessage", "")))
        return f"responseCode {code} {name}"
    return describe_body(data, content, secrets)

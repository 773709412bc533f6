"""Every masking and redaction rule of wibmo, in one place. Pure.

One "last four" rule (`mask_value`): a value shows only its last four characters, every
other character a ``*`` (spaces kept, so the shape stays readable); a value of four
characters or fewer shows none. It is how identity document numbers appear in answers,
traces, previews and messages (`mask`, `mask_json_bytes`, `validate`'s messages), and
how mobiles, URNs and customer ids appear in the audit log (`mask_identifier`).

Secrets are redacted, not masked (`redact`): a fixed ``****`` that hides their length,
then the last four characters of a long one; `redact_url` does it to the password in a
URL's userinfo (``http://svc:PASS@host``). A header or body field is a secret by its
name (`SECRET_NAMES`: x-api-key, secureCode, Authorization, Cookie, ...) or by its value
(one of the profile's secrets): `shown_value` is how the trace, a dry run's curl and
`call`'s preview show one. `CREDENTIAL_NAMES` adds the names that say whose account it
is (clientId, X-Consumer-Custom-ID), redacted too in what is made to leave the machine
(a cleaned HAR).

Applied to any decoded JSON (lookup answers, decrypted tokens, traces) unless the
user asks for `--reveal`. Card numbers arrive masked from the platform and are left
as they are.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Sequence
from typing import Any, Final

from wibmo_cli.lazyre import lazy

# Keys (compared case-insensitively) whose values are identity-document numbers.
MASKED_KEYS: Final = frozenset(
    {
        "docnumber",
        "ckycdocno",
        "ckycno",
        "ckycnumber",
        "pan",
        "pannumber",
        "aadhaar",
        "aadhar",
        "aadhaarnumber",
        "aadharnumber",
        "passportnumber",
        "voteridnumber",
        "epicnumber",
        "drivinglicencenumber",
        "drivinglicensenumber",
        "dlnumber",
    }
)
_QUOTE: Final = ord('"')
_KELVIN: Final = "\u212a".encode()  # K (Kelvin sign): str.lower() makes it a "k"

_Container = dict[Any, Any] | list[Any]


def mask_value(value: str, *, width: int | None = None) -> str:
    """`ABCDE1234A` -> `******234A`; spaces inside are kept so the shape stays readable.

    `width`: at most that many characters, the masked ones in front dropped (a message
    quoting a value typed a thousand characters long).
    """
    if width is not None and len(value) > width:
        return mask_value(value, width=None)[-width:] if width > 0 else ""
    if len(value) > 4 and value.isalnum():  # the usual case, without the loop below
        return "*" * (len(value) - 4) + value[-4:]
    chars = list(value)
    keep = 4
    for index in range(len(chars) - 1, -1, -1):
        if chars[index].isspace():
            continue
        if keep:
            keep -= 1
            continue
        chars[index] = "*"
    if len(value.replace(" ", "")) <= 4:
        return "*" * len(value)
    return "".join(chars)


def mask(value: Any) -> Any:
    """A copy of `value` with every document number masked.

    A document number is any scalar under a masked key, however it is wrapped: the
    value itself, or every string and integer inside a list or object under that key
    (``"docNumber": ["ABCPE1234F"]``, ``{"docNumber": {"a": "ABCPE1234F"}}``).

    Iterative, not recursive: JSON nested deeper than Python's recursion limit allows
    for (json.loads accepts several hundred levels) must not crash the masking.
    """
    if not isinstance(value, dict | list):
        return value
    root: _Container = {} if isinstance(value, dict) else []
    # (source, its copy, whether it sits under a masked key)
    pending: list[tuple[_Container, _Container, bool]] = [(value, root, False)]
    while pending:
        source, target, under = pending.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            masked = under or (
                isinstance(target, dict) and isinstance(key, str) and key.lower() in MASKED_KEYS
            )
            copy: Any
            if isinstance(item, dict | list):
                copy = {} if isinstance(item, dict) else []
                pending.append((item, copy, masked))
            elif masked:
                copy = _mask_scalar(item)
            else:
                copy = item
            if isinstance(target, dict):
                target[key] = copy
            else:
                target.append(copy)
    return root


def _mask_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return mask_value(str(value))
    return value


def may_need_masking(plaintext: bytes) -> bool:
    """Cheap pre-check on raw JSON bytes: False means `mask` would change nothing."""
    if b"\\u" in plaintext:  # an escaped key could hide from the probes: parse to be sure
        return True
    if b"\x00" in plaintext:  # UTF-16/32 JSON (json.loads takes it): probes cannot see keys
        return True
    if not plaintext.isascii() and _KELVIN in plaintext:  # K lowers to "k": "cKycNo"
        return True
    return _key_pattern().search(plaintext.lower()) is not None


@functools.cache
def _key_pattern() -> re.Pattern[bytes]:
    """`"docnumber"|"pan"|...` as a trie (fast to search), for ASCII-lowered JSON text."""
    trie: dict[str, Any] = {}
    for key in MASKED_KEYS:
        node = trie
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(node[char]) for char in sorted(node) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return f"(?:{'|'.join(branches)})" + ("?" if "" in node else "")

    return re.compile(f'"{pattern(trie)}"'.encode())


@functools.cache
def _member_pattern() -> re.Pattern[bytes]:
    """A masked key, its colon, and its value when a string or a number (group 1)."""
    number = rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
    return re.compile(_key_pattern().pattern + rb'\s*:\s*("[^"\\]*"|' + number + b")?")


def mask_json_bytes(plaintext: bytes) -> bytes | None:
    """`mask` done on valid JSON text in place, or None where this needs the full parse.

    For a plaintext already known to be valid UTF-8 JSON: each masked key's string or
    integer value is masked where it stands (an integer becomes the masked string, as
    `mask` makes it), and everything else is left byte for byte as it was sent. A
    masked key holding a list or an object gives None (all its scalars are masked).
    Without any backslash in the text every `"` delimits a string, so a key pattern
    followed by `:` can only be an object key. Text with a backslash (escaped keys or
    values) or a Kelvin sign gives None: the caller parses, masks and re-serialises.
    """
    if b"\\" in plaintext or (not plaintext.isascii() and _KELVIN in plaintext):
        return None
    pieces: list[bytes] = []
    done = 0
    for member in _member_pattern().finditer(plaintext.lower()):
        start, end = member.span(1)
        if start < 0:
            if plaintext[member.end() : member.end() + 1] in (b"[", b"{"):
                return None  # a list or object of document numbers: `mask` masks it all
            continue  # a literal (true, false, null)
        if plaintext[start] == _QUOTE:
            masked = mask_value(plaintext[start + 1 : end - 1].decode())
        else:
            number = plaintext[start:end]
            if b"." in number or b"e" in number or b"E" in number:
                continue  # a float: `mask` leaves it as it is
            masked = mask_value(str(int(number)))
        pieces += (plaintext[done:start], b'"', masked.encode(), b'"')
        done = end
    if not pieces:
        return plaintext
    pieces.append(plaintext[done:])
    return b"".join(pieces)


def mask_identifier(kind: str, value: str) -> str:
    """An identifier in the audit log and in messages: an email its first letter and
    domain; any other (mobile, URN, customer id) by the last-four rule. A customer id
    finds a customer as surely as a URN does, so it is hidden alike."""
    if not value:
        return value
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return mask_value(value)


# Names of headers, query parameters and body fields whose value is a secret, as
# `name_key` spells them (lower case, letters and digits only): spec/public-notes.md's
# credentials, HTTP's own (Authorization, Proxy-Authorization, Cookie, Set-Cookie) and a
# browser session's around them (logins, OAuth, CSRF, card secrets). The one list: the
# trace, a dry run, call's preview, every answer shown and a cleaned HAR read it.
SECRET_NAMES: Final = frozenset(
    {
        *("xapikey", "apikey", "securecode", "encryptionkey", "privatekey"),
        *("cookie", "setcookie", "authorization", "proxyauthorization"),
        *("password", "passwd", "pwd", "pin", "mpin", "otp", "cvv", "cvv2"),
        *("accesstoken", "refreshtoken", "idtoken", "clientsecret", "apisecret", "secret"),
        *("sessionid", "xauthtoken", "csrftoken", "xcsrftoken", "xsrftoken", "xxsrftoken"),
    }
)
# ... a name holding one of these is one too (newPassword, x-api-secret, apiKeyId) ...
_SECRET_PARTS: Final = (
    *("password", "passwd", "secret", "apikey", "securecode", "encryptionkey"),
    *("privatekey", "accesstoken", "refreshtoken", "authtoken", "csrf", "xsrf"),
)
# ... and every name that carries a credential, the account's identity included: what a
# file made to be attached to a ticket (`decrypt --har --out`) redacts.
CREDENTIAL_NAMES: Final = SECRET_NAMES | {"clientid", "xconsumercustomid"}
_NOT_IN_NAME: Final = re.compile(r"[^a-z0-9]")


def name_key(name: str) -> str:
    """`X-API-Key`, `x_api_key`, `xApiKey `, `api.key` -> `xapikey`/`apikey`: how the name
    lists spell a name (lower case, letters and digits only)."""
    return _NOT_IN_NAME.sub("", name.lower())


@functools.lru_cache(maxsize=4096)  # the same few names, again and again
def is_secret_name(name: str) -> bool:
    """Whether a field or header of this name holds a secret: one of `SECRET_NAMES`, a
    name holding one of `_SECRET_PARTS`, a PIN (cardPin; not pinCode, an address's), an
    OTP or a CVV (otpValue, cvv2)."""
    key = name_key(name)
    return (
        key in SECRET_NAMES
        or any(part in key for part in _SECRET_PARTS)
        or key.endswith("pin")
        or key.startswith(("otp", "cvv"))
    )


def is_credential_name(name: str) -> bool:
    """A secret's name (`is_secret_name`), or one that says whose account it is."""
    return is_secret_name(name) or name_key(name) in CREDENTIAL_NAMES


def shown_value(name: str, value: Any, secrets: Collection[str] = ()) -> Any:
    """A header's or body field's value as shown anywhere: redacted when `name` is a
    secret's (`is_secret_name`) or the value is one of `secrets` (the profile's); else as
    it is."""
    if is_secret_name(name) or (secrets and str(value) in secrets):
        return redact(str(value))
    return value


def secrets_hidden(value: Any, secrets: Collection[str] = ()) -> Any:
    """Decoded JSON (an answer, a payload) as shown anywhere: a copy with each field named
    in `SECRET_NAMES` redacted (at any depth), and each of the profile's `secrets` inside
    any string redacted (an answer that echoes the x-api-key in its responseMessage).
    Iterative: any depth a JSON reader let through."""
    wanted = [s for s in secrets if s]
    holder = [value]
    pending: list[tuple[Any, Any]] = [(holder, 0)]
    while pending:
        container, key = pending.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _without(item, wanted)
        elif isinstance(item, dict):
            copied = dict(item)
            container[key] = copied
            for name, inner in copied.items():
                if isinstance(name, str) and is_secret_name(name) and inner not in ("", None):
                    copied[name] = redact(str(inner))
                else:
                    pending.append((copied, name))
        elif isinstance(item, list):
            copied_list = list(item)
            container[key] = copied_list
            pending.extend((copied_list, index) for index in range(len(copied_list)))
    return holder[0]


def secret_byte_forms(secrets: Collection[str]) -> tuple[tuple[bytes, bytes], ...]:
    """(each secret as its bytes appear in output, as typed and as JSON writes it; how it
    is shown instead): what `without_secret_bytes` replaces."""
    forms = {s: redact(s) for s in secrets if s} | {
        json.dumps(s, ensure_ascii=False)[1:-1]: redact(s) for s in secrets if s
    }
    return tuple((a.encode(), b.encode()) for a, b in forms.items() if a)


def without_secret_bytes(data: Any, forms: Sequence[tuple[Any, Any]]) -> Any:
    """`data` (bytes, or text with the forms decoded) with each form of
    `secret_byte_forms` replaced by how it is shown."""
    for secret, shown in forms:
        if secret in data:
            data = data.replace(secret, shown)
    return data


def _without(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, redact(secret))
    return text


_REDACTED: Final = "****"  # how `redact` starts
_SHORT_SECRET: Final = 12  # below this, not even the last four show


def redact(secret: str) -> str:
    """A secret as shown anywhere: ``****`` and the last four characters of a long one."""
    if not secret:
        return ""
    if len(secret) < _SHORT_SECRET:
        return _REDACTED
    return _REDACTED + secret[-4:]


# scheme://user:password@host, the password taken as typed, not as a URL would encode
# it (a space, "/", "#", "?", "@" in it included): see `_password_end`.
_SCHEME: Final = lazy(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_USER: Final = lazy(r"""[^:@/?#\s'"<>]*:""")  # the user name and its colon
_HOST: Final = lazy(  # what follows the "@" that ends a password
    r"""[A-Za-z0-9\-._~%]*(?:\[[0-9A-Fa-f:.]*\])?(?::[0-9]*)?(?:[/?#\s'"<>]|$)"""
)
_PORT: Final = lazy(r"""[0-9]+[/?#\s'"<>]""")  # host:PORT/path, then an "@" later on
_WHITESPACE: Final = lazy(r"\s")
MAX_PASSWORD: Final = 4096


def redact_url(text: str) -> str:
    """`text` with the password of every URL's userinfo redacted.

    ``http://svc:s3cret-passw0rd@host/x`` -> ``http://svc:****w0rd@host/x`` (as
    `redact` shows any secret); the user name stays, it says which account.
    Works on one URL or on a message quoting URLs; text without one is returned as is.
    """
    if "://" not in text or "@" not in text:
        return text
    pieces: list[str] = []
    done = 0
    for scheme in _SCHEME.finditer(text):
        user = _USER.match(text, scheme.end()) if scheme.start() >= done else None
        if user is None:
            continue
        start = user.end()
        end = _password_end(text, start)
        if end is None:
            continue
        password = text[start:end]
        if password.startswith(_REDACTED) or _PORT.match(password):
            continue  # redacted already, or host:port/path with an "@" later on
        pieces += (text[done:start], redact(password))
        done = end
    return "".join(pieces) + text[done:]


def _password_end(text: str, start: int) -> int | None:
    """The index of the "@" that ends a password starting at `start`, or None: of the
    "@"s that a host follows, the last one before any whitespace (`p@ss/x@host`), else the
    first one (a password typed with spaces); never past another scheme:// or
    MAX_PASSWORD characters."""
    limit = min(len(text), start + MAX_PASSWORD)
    following = text.find("://", start, limit)
    if following != -1:
        limit = following
    space = _WHITESPACE.search(text, start, limit)
    token_end = space.start() if space else limit
    ends = [
        at
        for at in range(start, limit)
        if text[at] == "@" and _HOST.match(text, at + 1) is not None
    ]
    if not ends:
        return None
    in_token = [at for at in ends if at < token_end]
    return in_token[-1] if in_token else ends[0]

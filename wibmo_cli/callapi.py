"""`wibmo call`'s request, built from what was typed: pure, no network, no terminal.

payload    the JSON given (argument, file or stdin), then each `-f key=value` (a
           string) and `-F key=value` (typed), then `messageCode` (--message-code),
           `clientTxnId` and `requestDateTime` filled unless given
keys       gh's syntax: `a[b]=1` sets {"a": {"b": 1}}; `a[]=1` appends to a list;
           `a[][k]=1` appends an object (a key it already has starts the next one);
           `a[]` alone is an empty list. A field overrides the JSON's key; the same
           field given twice is refused.
-F values  true, false, null; an integer (no leading zero, at most 15 digits: a
           mobile number with a leading 0 or a 20-digit id stays text); `@FILE`
           (or `@-`, stdin) the file's text, without its last line break; anything
           else text
a read?    KNOWN_MESSAGES says which message codes only read (and the profile's own
           lookup_message_code is Retrieve Cust Record); everything else is a write
           unless --read-only says so
route      a path that is the profile's lookup_path or update_path takes that API's
           method and credential placement; any other path POST and the profile's
           `credentials`; --method and --credentials override both
headers    `-H NAME:VALUE`, refused for a secret (x-api-key, secureCode: they come
           from the profile, never the command line) and for what HTTP frames itself
"""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from wibmo_cli.codes import Called
from wibmo_cli.errors import InputError
from wibmo_cli.masking import name_key
from wibmo_cli.messages import Identifiers, new_client_txn_id, request_datetime
from wibmo_cli.wire import Route


@dataclass(frozen=True)
class Message:
    """A message code the public material names: what it is, and whether it only reads."""

    name: str
    read: bool


# Every message code the public material names (spec/public-notes.md and the two API
# documents). A read is retried like a lookup and neither confirmed nor audited; every
# other code, known or not, is a write: sent at most once, audited, guarded on production.
KNOWN_MESSAGES: Final[Mapping[int, Message]] = {
    1930: Message("Retrieve Cust Record", read=True),
    3422: Message("Retrieve Cust Record (mob1 v2)", read=True),
    1280: Message("Update Profile", read=False),
    1080: Message("Credit Account (load)", read=False),
    1190: Message("Cardholder Profile", read=False),
}

METHODS: Final = ("POST", "PATCH")
PLACEMENTS: Final = ("headers", "body")
MAX_MESSAGE_CODE: Final = 9999  # Numeric(4) in both documents
MAX_INTEGER_DIGITS: Final = 15  # exact in every JSON reader (below 2**53)
MAX_DEPTH: Final = 32  # a[b][c]...: levels of one -f/-F key (the platform nests two or three)
_INTEGER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
_KEY: Final = re.compile(r"([^\[\]=]+)((?:\[[^\[\]]*\])*)")
_SEGMENT: Final = re.compile(r"\[([^\[\]]*)\]")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_SECRET_HEADERS: Final = frozenset({"xapikey", "apikey", "securecode"})  # as name_key spells
_FRAMING_HEADERS: Final = frozenset({"host", "content-length", "transfer-encoding", "connection"})

ReadFile = Callable[[str], str]  # "@FILE" / "@-": the text, or InputError


@dataclass(frozen=True)
class Call:
    """One `wibmo call`: where it goes, what it sends (the plaintext payload), and
    whether it is a read (retried, not guarded) or a write (sent at most once)."""

    route: Route
    payload: dict[str, Any]
    message_code: int
    read: bool
    own_txn_id: bool = False  # the user gave the clientTxnId: a read's retries keep it

    @property
    def client_txn_id(self) -> str:
        return str(self.payload["clientTxnId"])

    def describe(self) -> str:
        """`1930 Retrieve Cust Record at /api/...`: the message and the path, for titles."""
        known = KNOWN_MESSAGES.get(self.message_code)
        name = f" {known.name}" if known else ""
        return f"{self.message_code}{name} at {self.route.path}"

    def audit_fields(self, action: str) -> dict[str, Any]:
        """What the audit log keeps of it: who it is about (the payload's identifiers,
        masked as update-profile's are), never another value the payload carries (only
        its keys), never a header's value."""
        who = Identifiers.in_payload(self.payload).describe()
        return {
            "command": "call",
            "action": action,
            "messageCode": self.message_code,
            "method": self.route.method,
            "path": self.route.path,
            **({"identifiers": who} if who else {}),
            "clientTxnId": self.client_txn_id,
            "fields": list(self.given_fields),
        }

    @property
    def given_fields(self) -> tuple[str, ...]:
        """The payload's keys, sorted, without those wibmo fills."""
        return tuple(sorted(k for k in self.payload if k not in _FILLED))

    def called(self) -> Called:
        """What the advice on an error answer names (`codes.advice`)."""
        return Called(self.message_code, self.route.path, self.given_fields)


_FILLED: Final = ("messageCode", "clientTxnId", "requestDateTime")


# -- the payload ---------------------------------------------------------------------------


def build_payload(
    base: Mapping[str, Any] | None,
    *,
    raw_fields: Iterable[str] = (),
    typed_fields: Iterable[str] = (),
    message_code: int | None,
    read_file: ReadFile,
    client_txn_id: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], int]:
    """(the payload, its message code): `base` (the JSON given) with the fields set in
    it, -f's before -F's, each in the order given, then what is filled. InputError for a
    field that cannot be read, a message code given twice differently or not at all."""
    payload: dict[str, Any] = dict(base or {})
    seen: set[tuple[str, ...]] = set()
    for text in raw_fields:
        _set_field(payload, "-f", text, lambda value: value, seen)
    for text in typed_fields:
        _set_field(payload, "-F", text, lambda value: typed_value(value, read_file), seen)
    code = _message_code(payload.get("messageCode"), message_code)
    filled: dict[str, Any] = {
        "messageCode": code,
        "clientTxnId": client_txn_id or new_client_txn_id(),
        "requestDateTime": request_datetime(now),
    }
    for key, value in payload.items():  # the given ones keep their place and their type
        filled[key] = value
    return filled, code


def typed_value(text: str, read_file: ReadFile) -> Any:
    """-F's value as gh reads it (see the module's docstring)."""
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _INTEGER.fullmatch(text) and len(text.lstrip("-")) <= MAX_INTEGER_DIGITS:
        return int(text)
    if text.startswith("@"):
        content = read_file(text[1:])
        return content.removesuffix("\n").removesuffix("\r")
    return text


def _set_field(
    payload: dict[str, Any],
    flag: str,
    text: str,
    convert: Callable[[str], Any],
    seen: set[tuple[str, ...]],
) -> None:
    key, has_value, raw = text.partition("=")
    path = _key_path(flag, key, text)
    if not has_value:
        if path[-1] != "" or "" in path[:-1]:
            raise InputError(f"{flag} {_shown(text)}: give KEY=VALUE (or KEY[] for an empty list)")
        _ensure_list(payload, path, flag, text)
        return
    if "" not in path:
        if tuple(path) in seen:
            raise InputError(f"{flag} {_shown(key)}: given twice; give each field once")
        seen.add(tuple(path))
    _put(payload, path, convert(raw), flag, text)


def _key_path(flag: str, key: str, text: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; InputError for a key that is not one."""
    match = _KEY.fullmatch(key)
    if match is None or not match.group(1).strip():
        raise InputError(
            f"{flag} {_shown(text)}: not KEY=VALUE (nested keys as a[b]=1, lists as a[]=1)"
        )
    path = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if len(path) > MAX_DEPTH:
        raise InputError(f"{flag} {_shown(key)}: nested deeper than {MAX_DEPTH} levels")
    if any(a == "" and b == "" for a, b in itertools.pairwise(path)):
        raise InputError(f"{flag} {_shown(text)}: a list of lists (a[][]) cannot be built")
    return path


def _put(target: dict[str, Any], path: list[str], value: Any, flag: str, text: str) -> None:
    name, rest = path[0], path[1:]
    if not rest:
        target[name] = value
        return
    if rest[0] == "":  # a list: append the value, or to an object at its end
        items = _child(target, name, list, flag, text)
        if len(rest) == 1:
            items.append(value)
            return
        if not items or not isinstance(items[-1], dict) or rest[1] in items[-1]:
            items.append({})
        _put(items[-1], rest[1:], value, flag, text)
        return
    _put(_child(target, name, dict, flag, text), rest, value, flag, text)


def _ensure_list(payload: dict[str, Any], path: list[str], flag: str, text: str) -> None:
    """`a[b][]` with no value: a[b] is a list (an empty one unless it has items)."""
    target = payload
    for name in path[:-2]:
        target = _child(target, name, dict, flag, text)
    _child(target, path[-2], list, flag, text)


def _child(target: dict[str, Any], name: str, kind: type, flag: str, text: str) -> Any:
    found = target.setdefault(name, kind())
    if not isinstance(found, kind):
        what = "a list" if kind is list else "an object"
        raise InputError(f"{flag} {_shown(text)}: {_shown(name)} is already a value, not {what}")
    return found


def _message_code(in_body: Any, option: int | None) -> int:
    """The message code: --message-code's, or the JSON's `messageCode` (they must agree)."""
    if option is not None and not 0 < option <= MAX_MESSAGE_CODE:
        raise InputError(f"--message-code {option}: give the API's code, 1 to {MAX_MESSAGE_CODE}")
    if in_body is None:
        if option is None:
            raise InputError("say which API: give --message-code N (e.g. 1930)")
        return option
    text = str(in_body).strip()
    if isinstance(in_body, bool) or not text.isascii() or not text.isdigit():
        raise InputError(f"messageCode {_shown(str(in_body))} in the payload is not a number")
    if option is not None and int(text) != option:
        raise InputError(
            f"the payload's messageCode {text} is not --message-code {option}: give one"
        )
    return _message_code(None, int(text))


# -- what it is and where it goes ------------------------------------------------------------


def is_read(
    message_code: int, *, lookup_message_code: int, read_only: bool, to_update: bool = False
) -> bool:
    """A read: --read-only, a code KNOWN_MESSAGES calls a read, or the profile's own
    Retrieve Cust Record code; never what goes to the profile's Update Profile path
    (`to_update`), whatever its code says: whether the platform routes by path or by
    message code is not known, so that path is always a write (guarded, sent once)."""
    if to_update:
        return False
    known = KNOWN_MESSAGES.get(message_code)
    return read_only or (known is not None and known.read) or message_code == lookup_message_code


def api_at(path: str, profile: Mapping[str, Any]) -> str | None:
    """ "lookup" or "update" when `path` is that API's path in the profile; else None."""
    path = checked_path(path)
    return next((a for a in ("lookup", "update") if _same(path, str(profile[f"{a}_path"]))), None)


def route_for(
    path: str,
    profile: Mapping[str, Any],
    *,
    method: str | None = None,
    credentials: str | None = None,
    headers: Iterable[str] = (),
) -> Route:
    """Where the call goes (see the module's docstring); `profile`: its resolved values."""
    path = checked_path(path)
    api = api_at(path, profile)
    default_method = "POST"
    placement = str(profile["credentials"])
    if api is not None:
        default_method = "POST" if api == "lookup" else str(profile["update_method"])
        placement = str(profile[f"{api}_credentials"])
    if method is not None:
        method = method.strip().upper()
        if method not in METHODS:
            raise InputError(f"--method {_shown(method)}: give {' or '.join(METHODS)}")
    if credentials is not None:
        credentials = credentials.strip().lower()
        if credentials not in PLACEMENTS:
            raise InputError(f"--credentials {_shown(credentials)}: give headers or body")
    return Route(
        method or default_method,
        path,
        credentials or placement,
        extra_headers=parse_headers(headers),
    )


def checked_path(path: str) -> str:
    """PATH as sent after the profile's base URL, with one leading slash. A whole URL is
    refused: the host is the profile's, so its credentials go nowhere else."""
    text = path.strip()
    if "://" in text or text.startswith("//"):
        raise InputError(
            f"PATH {_shown(text)}: give the path only (e.g. /api/v2/customer/"
            "retrieveCustRecord); the host is the profile's base_url"
        )
    if not text.strip("/") or not text.isascii() or not text.isprintable() or " " in text:
        raise InputError(
            f"PATH {_shown(path)}: give the API's path, e.g. /api/v2/customer/retrieveCustRecord"
        )
    decoded = text.split("?")[0]
    for _ in range(3):  # %252e%252e: escapes of escapes too
        decoded = urllib.parse.unquote(decoded)
    segments = decoded.replace("\\", "/").split("/")
    if "#" in text or "\x00" in decoded or any(segment in (".", "..") for segment in segments):
        raise InputError(
            f"PATH {_shown(path)}: give the API's path as it is, without . or .. segments "
            "or a #fragment (the path goes after the profile's base_url)"
        )
    return "/" + text.lstrip("/")


def _same(path: str, profile_path: str) -> bool:
    """Whether two paths name one API, however spelled: a query or ;params, repeated or
    trailing slashes, percent-escapes and case do not make another API (a gateway or
    server may read them as one; the write guard must not be walked around by them)."""
    return _api_key(path) == _api_key(profile_path)


def _api_key(path: str) -> str:
    text = path
    for _ in range(3):  # %252F: escapes of escapes too
        text = urllib.parse.unquote(text)
    text = re.split(r"[?;#]", text, maxsplit=1)[0].replace("\\", "/")
    return "/" + "/".join(part for part in text.lower().split("/") if part)


def parse_headers(headers: Iterable[str]) -> dict[str, str]:
    """`-H NAME:VALUE` each; a later one for the same name (any case) wins."""
    parsed: dict[str, str] = {}
    for text in headers:
        name, colon, value = text.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise InputError(f"-H {_shown(text)}: give NAME:VALUE (e.g. -H 'X-Request-Id: 42')")
        lower = name.lower()
        if name_key(name) in _SECRET_HEADERS:
            raise InputError(
                f"-H {name}: secrets come from the profile (api_key, secure_code), never "
                "from the command line"
            )
        if lower in _FRAMING_HEADERS:
            raise InputError(f"-H {name}: set by wibmo for each request; leave it out")
        if not value.isascii() or not value.isprintable():
            raise InputError(f"-H {name}: the value must be printable ASCII on one line")
        for known in [k for k in parsed if k.lower() == lower]:
            del parsed[known]
        parsed[name] = value
    return parsed


def _shown(text: str) -> str:
    """User input quoted in a message: control characters escaped (repr), long text cut."""
    return repr(text if len(text) <= 80 else text[:77] + "...")

"""A HAR capture made safe to attach to a ticket: `decrypt --har F --out CLEAN.har`.

Every token is replaced by its decrypted JSON, in place of the token's string:
``{"token": {"messageCode": ...}}``. A token the key does not open stays as it was (it
is ciphertext) and is counted.

A ticket needs no one's personal data, so every JSON body (decrypted or plain) has it
masked by the rules of `lookup -o md`, found by field name at any depth (`PERSONAL`):
a mobile to its last four and an email to its first letter and domain
(`masking.mask_identifier`), document numbers to their last four (`masking.mask`);
names, date of birth and address, which nothing in a ticket needs, are hidden whole
(``***``). Query parameters and form fields of those names too. The URN, customer id
and clientTxnId stay: they are what the platform's support asks for.

Credentials are redacted whole (``****``: not even the last four characters, which
`profiles show` prints, go into a file meant for others), wherever they travel:

- headers, query parameters and JSON body fields (at any depth, the decrypted JSON
  included) named as a credential
  (`CREDENTIAL_NAMES`: x-api-key, secureCode, clientId, X-Consumer-Custom-ID, Cookie,
  Set-Cookie, Authorization, compared without case, "-" or "_");
- every cookie's value (request.cookies, response.cookies);
- any text anywhere in the file holding one of the profile's secrets, in the forms a
  secret travels in (as typed, base64, hex: `secret_forms`), a base64 body included.

The file stays a HAR 1.2 that browsers open: no required field is removed; a changed
body's `text`, `size` and `bodySize` agree (a changed answer is written as text, its
`encoding` and `compression` dropped; its `bodySize` -1, "not known", when the answer
came compressed), a Content-Length header follows its body, and `headersSize` is -1
where a header changed. `write` puts it on disk atomically, mode 0600.
"""

from __future__ import annotations

import base64
import copy
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wibmo_cli.bodies import ENVELOPE_KEYS
from wibmo_cli.crypto import TokenCodec
from wibmo_cli.errors import InputError, OutputError
from wibmo_cli.har import REQUEST, RESPONSE, body_text, decrypt_body, entries, read_body
from wibmo_cli.masking import mask, mask_identifier
from wibmo_cli.textsafe import json_text

# Names (lower case, without "-" and "_") of headers, query parameters and body fields
# that carry a credential (spec/public-notes.md: where the credentials go).
CREDENTIAL_NAMES: Final = frozenset(
    {
        "xapikey",
        "apikey",
        "securecode",
        "clientid",
        "xconsumercustomid",
        "cookie",
        "setcookie",
        "authorization",
        "proxyauthorization",
    }
)
MIN_SECRET_FORM: Final = 6  # shorter forms would redact ordinary text
REDACTED: Final = "****"
HIDDEN: Final = "***"

# Names (lower case, without "-" and "_") of fields holding a customer's personal data,
# and how each kind is masked: "mobile" and "email" by `masking.mask_identifier`, the
# rest hidden whole. Spellings of the documents, the sandbox and the platform's variants
# ("name" alone is not one: a variant's, an entity's, a file's).
PERSONAL: Final = {
    **dict.fromkeys(
        ("mobile", "mobileno", "mobilenumber", "customermobile", "newmobile",
         "alternatemobile", "phone", "phoneno", "phonenumber", "msisdn"),
        "mobile",
    ),
    **dict.fromkeys(
        ("email", "emailid", "emailaddress", "alternateemail", "alternateemailid"), "email"
    ),
    **dict.fromkeys(
        ("firstname", "middlename", "lastname", "fullname", "ovdfullname",
         "customername", "cardholdername", "nameoncard", "embossname", "embossingname",
         "dob", "dateofbirth", "birthdate",
         "address", "cardholderaddress", "addressline1", "addressline2", "addressline3",
         "zipcode", "cardholderzipcode", "pincode", "postalcode"),
        "hidden",
    ),
}  # fmt: skip
PERSONAL_SAID: Final = "mobile, email, names, date of birth, address, document numbers"


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def is_credential(name: str) -> bool:
    return _normal(name) in CREDENTIAL_NAMES


def personal_kind(name: str) -> str | None:
    """The kind of personal data a field holds ("mobile", "email", "hidden"), or None."""
    return PERSONAL.get(_normal(name))


def masked_personal(kind: str, value: Any) -> Any:
    """A scalar of personal data masked by its kind's rule; None, "" and booleans (no
    data) as they are."""
    if value in (None, "") or isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    return HIDDEN if kind == "hidden" else mask_identifier(kind, str(value))


def secret_forms(secrets: Iterable[str | bytes]) -> tuple[str, ...]:
    """Each secret as it may be written: as is, base64 (standard, URL-safe, unpadded),
    hex (either case); longest first, so a form inside another is not redacted first."""
    forms: set[str] = set()
    for secret in secrets:
        raw = secret.encode() if isinstance(secret, str) else secret
        if isinstance(secret, str):
            forms.add(secret)
        encoded = base64.b64encode(raw).decode()
        urlsafe = base64.urlsafe_b64encode(raw).decode()
        forms.update((encoded, urlsafe, encoded.rstrip("="), urlsafe.rstrip("=")))
        forms.update((raw.hex(), raw.hex().upper()))
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_FORM), key=len, reverse=True))


@dataclass
class Cleaned:
    har: dict[str, Any]
    tokens: int = 0  # replaced by their decrypted JSON
    kept: int = 0  # could not be decrypted: left as they were
    redacted: int = 0  # credentials and secrets redacted


class _Cleaner:
    def __init__(self, codec: Callable[[], TokenCodec], forms: tuple[str, ...]) -> None:
        self.codec = codec
        self.forms = forms
        self.result = Cleaned({})

    # -- strings ---------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """`text` with every secret form in it redacted."""
        for form in self.forms:
            if form in text:
                self.result.redacted += text.count(form)
                text = text.replace(form, REDACTED)
        return text

    def scrub_all(self, value: Any) -> Any:
        """Every string in `value` (keys too) scrubbed; iterative: any depth."""
        if isinstance(value, str):
            return self.scrub(value)
        pending = [value]
        while pending:
            node = pending.pop()
            items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            if isinstance(node, dict):
                node.clear()
            for key, item in items:
                if isinstance(item, str):
                    item = self.scrub(item)
                elif isinstance(item, dict | list):
                    pending.append(item)
                if isinstance(node, dict):
                    node[self.scrub(key) if isinstance(key, str) else key] = item
                else:
                    node[key] = item
        return value

    def credential(self) -> str:
        self.result.redacted += 1
        return REDACTED

    def parameter(self, name: Any, value: str) -> str:
        """A query parameter's or a form field's value: a credential's redacted, personal
        data masked, any other as it is."""
        name = str(name)
        if is_credential(name):
            return self.credential()
        kind = personal_kind(name)
        return value if kind is None else masked_personal(kind, value)

    # -- parts of an entry -------------------------------------------------------

    def pairs(self, rows: Any, *, every: bool = False) -> bool:
        """A HAR list of {name, value} (headers, queryString, cookies, params): values of
        credentials (of every row when `every`) redacted, of personal data masked;
        whether any changed."""
        changed = False
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict) or not isinstance(row.get("value"), str):
                continue
            if not row["value"]:
                continue
            value = self.credential() if every else self.parameter(row.get("name"), row["value"])
            changed |= value != row["value"]
            row["value"] = value
        return changed

    def url(self, url: Any) -> Any:
        """A URL's query parameters named as credentials redacted, as personal data
        masked."""
        if not isinstance(url, str) or "?" not in url:
            return url
        try:
            parts = urlsplit(url)
        except ValueError:  # not a URL urllib can split: the scrub still sees it
            return url
        query = parse_qsl(parts.query, keep_blank_values=True)
        cleaned = [(name, self.parameter(name, value)) for name, value in query]
        if cleaned == query:
            return url
        return urlunsplit(parts._replace(query=urlencode(cleaned)))

    def body(self, text: str | None) -> str | None:
        """A body with its token decrypted (masked) in place and its credential fields
        redacted; None when it is not a JSON object, or none of that changed it (then
        it is left as it was written)."""
        found = read_body(text)
        if found.envelope is None:
            return None
        envelope = mask(found.envelope)  # a copy, its document numbers masked
        opened = decrypt_body(found, self.codec)
        if opened is not None and not opened.plain:
            key = next(k for k in ENVELOPE_KEYS if envelope.get(k) == found.token)
            if opened.error:
                self.result.kept += 1
            else:
                envelope[key] = mask(opened.value)
                self.result.tokens += 1
        self.fields_in(envelope)
        return json_text(envelope) if envelope != found.envelope else None

    def fields_in(self, value: Any) -> None:
        """At any depth of a JSON body (the decrypted JSON in it included: answers echo
        clientId), in place: every field named as a credential redacted, every value
        under a name of personal data (each scalar of a list or object under it too)
        masked."""
        pending: list[tuple[Any, str | None]] = [(value, None)]
        while pending:
            node, kind = pending.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for name, item in list(items):
                named = isinstance(name, str) and isinstance(node, dict)
                if named and is_credential(name) and item not in ("", None):
                    node[name] = self.credential()
                    continue
                under = (personal_kind(name) if named else None) or kind
                if isinstance(item, dict | list):
                    pending.append((item, under))
                elif under is not None:
                    node[name] = masked_personal(under, item)

    def entry(self, entry: dict[str, Any]) -> None:
        request = entry[REQUEST]
        if self.pairs(request.get("headers")):
            request["headersSize"] = -1
        self.pairs(request.get("cookies"), every=True)
        self.pairs(request.get("queryString"))
        if "url" in request:
            request["url"] = self.url(request["url"])
        post = request.get("postData")
        if isinstance(post, dict):
            self.pairs(post.get("params"))
            new = self.cleaned_body(body_text(entry, REQUEST))
            if new is not None:
                post["text"] = new
                size = len(new.encode())
                request["bodySize"] = size
                _content_length(request, size)
        response = entry.get(RESPONSE)
        if not isinstance(response, dict):
            return
        if self.pairs(response.get("headers")):
            response["headersSize"] = -1
        self.pairs(response.get("cookies"), every=True)
        content = response.get("content")
        if isinstance(content, dict):
            new = self.cleaned_body(body_text(entry, RESPONSE))
            if new is not None:
                _set_answer(response, content, new)

    def cleaned_body(self, text: str | None) -> str | None:
        """A body (as text: a base64 one decoded) with its token decrypted, its
        credentials and secrets redacted; None when nothing changed (or it is no text)."""
        if text is None:
            return None
        new = self.scrub(self.body(text) or text)
        return new if new != text else None


def _set_answer(response: dict[str, Any], content: dict[str, Any], text: str) -> None:
    size = len(text.encode())
    compressed = _header(response, "content-encoding") not in (None, "", "identity")
    content["text"] = text
    content["size"] = size
    content.pop("encoding", None)
    content.pop("compression", None)
    response["bodySize"] = -1 if compressed else size
    if not compressed:
        _content_length(response, size)


def _header(part: dict[str, Any], name: str) -> str | None:
    for row in part.get("headers") or ():
        if isinstance(row, dict) and str(row.get("name", "")).lower() == name:
            return str(row.get("value", ""))
    return None


def _content_length(part: dict[str, Any], size: int) -> None:
    for row in part.get("headers") or ():
        if isinstance(row, dict) and str(row.get("name", "")).lower() == "content-length":
            row["value"] = str(size)


def clean(
    har: dict[str, Any], codec: Callable[[], TokenCodec], secrets: Iterable[str | bytes]
) -> Cleaned:
    """A copy of `har` with its tokens decrypted and its credentials redacted."""
    cleaner = _Cleaner(codec, secret_forms(secrets))
    copied = copy.deepcopy(har)
    for entry in entries(copied):
        cleaner.entry(entry)
    cleaner.result.har = cleaner.scrub_all(copied)
    return cleaner.result


def check_target(path: Path, *, source: Path | None, force: bool) -> None:
    """Refuse an `--out` that would overwrite the capture (`source`; None: stdin), a
    directory, or (without `force`) any existing file; and one whose directory does not
    exist."""
    same = source is not None and (path.resolve() == source.resolve() or _same(path, source))
    if path.exists() and same:
        raise InputError(f"--out {path} is the capture being read: give another file")
    if path.is_dir():
        raise InputError(f"--out {path} is a directory: give a file name")
    if path.exists() and not force:
        raise InputError(f"--out {path} exists: give --force to replace it")
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: no such directory {path.parent}")


def write(path: Path, har: dict[str, Any], *, source: Path | None, force: bool) -> None:
    """`har` written to `path` atomically (a temporary file beside it, then renamed),
    mode 0600: it still holds customers' data, masked. `check_target` first."""
    check_target(path, source=source, force=force)
    data = (json_text(har, pretty=True) + "\n").encode()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None


def _same(path: Path, source: Path) -> bool:
    try:
        return path.samefile(source)
    except OSError:
        return False

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

- headers, query parameters, form parameters and JSON body fields (at any depth, the
  decrypted JSON included) named as a credential (`masking.is_credential_name`: the platform's
  x-api-key, secureCode, clientId, X-Consumer-Custom-ID; a browser session's Cookie,
  Authorization, password, pin, otp, cvv, OAuth and CSRF tokens..., compared on their
  letters and digits only); a "token" that is no token of the platform's (a JWT);
- the same names as parameters in any URL or form text anywhere in the file (a Referer,
  a Location, redirectURL, a page's title, a comment): ``?apiKey=****``;
- every cookie's value (request.cookies, response.cookies);
- any text anywhere in the file holding one of the profile's secrets, in the forms a
  secret travels in (as typed, base64, hex, URL-encoded, JSON-escaped: `secret_forms`);
  JSON bodies are swept decoded (no escape hides a secret), a base64 body in its bytes.

The file stays a HAR 1.2 that browsers open: no required field is removed; a changed
body's `text`, `size` and `bodySize` agree (a changed text answer is written as text,
its `encoding` and `compression` dropped; a binary one stays base64; its `bodySize` -1,
"not known", when the answer came compressed), a Content-Length header follows its
body, and `headersSize` is -1 where a header changed. `outfile.write` puts it on disk.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, quote_plus, unquote_plus

from wibmo_cli.bodies import ENVELOPE_KEYS, load_json
from wibmo_cli.crypto import TokenCodec, decode_base64
from wibmo_cli.errors import CryptoError
from wibmo_cli.har import (
    MAX_DEPTH,
    REQUEST,
    RESPONSE,
    body_text,
    decrypt_body,
    entries,
    read_body,
)
from wibmo_cli.masking import is_credential_name, mask, mask_identifier, name_key, redact_url
from wibmo_cli.textsafe import json_text

# Names (lower case, letters and digits only) of headers, query parameters, form fields
# and JSON fields that carry a credential: the platform's (spec/public-notes.md: where the
# credentials go) and a browser session's around it (logins, OAuth, CSRF, card secrets).
# "token" is also the platform's envelope key: the body's own token is not judged by it.
MIN_SECRET_FORM: Final = 6  # shorter forms would redact ordinary text
AES_BLOCK: Final = 16
# name=value in a URL's query or a form body (the whole text, or after ?, & or ;): a
# name as typed or URL-encoded, a value up to what ends it in a URL, HTML or JSON text
_QUERY_PAIR: Final = re.compile(r"""(?:^|(?<=[?&;]))([^\s=&?#;"'<>\\]{1,64})=([^\s&#;"'<>\\]+)""")
_REDACTED: Final = "****"  # a credential's or a secret's value, whole
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


def is_credential(name: str) -> bool:
    """`name` carries a credential (`masking.is_credential_name`: the one list), however
    it is cased, separated or padded (``X-API-KEY ``, ``access_token``, ``api.key``); or
    is "token", which a session's JWT goes under (the platform's own token under it is
    judged by its envelope, not by this)."""
    return is_credential_name(name) or name_key(name) == "token"


def personal_kind(name: str) -> str | None:
    """The kind of personal data a field holds ("mobile", "email", "hidden"), or None."""
    return PERSONAL.get(name_key(name))


def masked_personal(kind: str, value: Any) -> Any:
    """A scalar of personal data masked by its kind's rule; None, "" and booleans (no
    data) as they are."""
    if value in (None, "") or isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    return HIDDEN if kind == "hidden" else mask_identifier(kind, str(value))


def secret_forms(secrets: Iterable[str | bytes]) -> tuple[str, ...]:
    """Each secret as it may be written: as is, base64 (standard, URL-safe, unpadded),
    hex (either case); each of those URL-encoded (as a path or a query value, "+" for a
    space or not, hex upper or lower case) and escaped as JSON writers escape ("\\/");
    longest first, so a form inside another is not redacted first."""
    forms: set[str] = set()
    for secret in secrets:
        raw = secret.encode() if isinstance(secret, str) else secret
        written = {secret} if isinstance(secret, str) else set()
        encoded = base64.b64encode(raw).decode()
        urlsafe = base64.urlsafe_b64encode(raw).decode()
        written.update((encoded, urlsafe, encoded.rstrip("="), urlsafe.rstrip("=")))
        written.update(_inside_base64(raw))
        written.update((raw.hex(), raw.hex().upper()))
        for form in written:
            forms.update(_url_encoded(form))
            forms.update((json.dumps(form)[1:-1], json.dumps(form)[1:-1].replace("/", "\\/")))
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_FORM), key=len, reverse=True))


def _inside_base64(raw: bytes) -> set[str]:
    """The base64 characters a secret makes wherever it sits in a longer text that was
    encoded (`user:secret` in a Basic header): at each of the three alignments, the
    characters made of the secret's bits alone (standard and URL-safe)."""
    found: set[str] = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode()
        start = -(-8 * offset // 6)  # the first character made of the secret's bits only
        end = 8 * (offset + len(raw)) // 6
        part = encoded[start:end]
        found.update((part, part.replace("+", "-").replace("/", "_")))
    return found


def _url_encoded(text: str) -> set[str]:
    """`text` and its URL-encodings: in a path ("/" kept) or a query value ("/" encoded,
    a space as "%20" or "+"), with upper- or lower-case hex."""
    encoded = {text, quote(text), quote(text, safe=""), quote_plus(text, safe="")}
    return encoded | {_PERCENT.sub(lambda m: m.group().lower(), form) for form in encoded}


_PERCENT: Final = re.compile(r"%[0-9A-F]{2}")


def secret_byte_forms(secrets: Iterable[str | bytes]) -> tuple[bytes, ...]:
    """`secret_forms` as UTF-8 bytes, and each secret given as bytes (a key) as it is:
    what a binary body is searched for; longest first."""
    forms = {form.encode() for form in secret_forms(secrets)}
    forms.update(s for s in secrets if isinstance(s, bytes) and len(s) >= MIN_SECRET_FORM)
    return tuple(sorted(forms, key=len, reverse=True))


def redacted(value: Any) -> str:
    """A credential's value as the cleaned file shows it: nothing of it."""
    return _REDACTED


def redact_credentials(value: Any, *, spare: str | None = None) -> int:
    """Every field of `value` (decoded JSON) named as a credential, at any depth,
    redacted in place, whatever it holds (a list or object under a credential's name is
    redacted whole); how many. `spare`: a key of the top object not judged by its name:
    the envelope key that carried the platform's token (what is inside it still is).
    Iterative: any depth."""
    count = 0
    pending = [(value, True)]
    while pending:
        node, top = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for name, item in list(items):
            judged = isinstance(node, dict) and not (top and name == spare)
            if judged and isinstance(name, str) and is_credential(name) and item not in ("", None):
                node[name] = redacted(item)
                count += 1
            elif isinstance(item, dict | list):
                pending.append((item, False))
    return count


@dataclass
class Cleaned:
    har: dict[str, Any]
    tokens: int = 0  # replaced by their decrypted JSON
    kept: int = 0  # could not be decrypted: left as they were
    redacted: int = 0  # credentials and secrets redacted


class _Cleaner:
    def __init__(
        self,
        codec: Callable[[], TokenCodec],
        forms: tuple[str, ...],
        byte_forms: tuple[bytes, ...],
    ) -> None:
        self.codec = codec
        self.forms = forms
        self.byte_forms = byte_forms
        self.result = Cleaned({})

    # -- strings ---------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """`text` with every parameter named as a credential in a URL's query or a form
        (``?apiKey=...``, ``&password=...``, a form body's ``pin=...``), and every secret
        form, redacted; a URL's userinfo password too (``https://agent:****@host``)."""
        if "=" in text:
            text = _QUERY_PAIR.sub(self.query_pair, text)
        if "@" in text and "://" in text:
            shown = redact_url(text)
            if shown != text:
                self.result.redacted += 1
                text = shown
        for form in self.forms:
            if form in text:
                self.result.redacted += text.count(form)
                text = text.replace(form, _REDACTED)
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

    def query_pair(self, pair: re.Match[str]) -> str:
        name = unquote_plus(pair[1]) if "%" in pair[1] or "+" in pair[1] else pair[1]
        if not is_credential(name):
            kind = personal_kind(name)
            if kind is None:
                return pair[0]
            masked = masked_personal(kind, unquote_plus(pair[2]))
            return f"{pair[1]}={quote(str(masked), safe='*@')}"
        value = unquote_plus(pair[2])
        if value.startswith(_REDACTED):
            return pair[0]
        return f"{pair[1]}={quote(self.credential(value), safe='*')}"

    def credential(self, value: Any) -> str:
        self.result.redacted += 1
        return redacted(value)

    def sweep(self, value: Any, *, spare: str | None = None) -> None:
        """Decoded JSON (a body, the decrypted JSON in it) cleaned in place: fields named
        as credentials redacted (`redact_credentials`), then every string scrubbed as
        decoded, so no JSON escape ("\\/", "\\u0068") hides a secret."""
        self.result.redacted += redact_credentials(value, spare=spare)
        _personal_in(value)
        self.scrub_all(value)

    # -- parts of an entry -------------------------------------------------------

    def pairs(self, rows: Any, *, every: bool = False) -> bool:
        """A HAR list of {name, value} (headers, queryString, cookies, params): values of
        credentials (of every row when `every`) redacted, the others scrubbed; whether
        any changed."""
        changed = False
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict) or not isinstance(row.get("value"), str):
                continue
            value = row["value"]
            kind = personal_kind(str(row.get("name", "")))
            if value and (every or is_credential(str(row.get("name", "")))):
                row["value"] = self.credential(value)
            elif value and kind is not None:  # a query's or a form's mobile, name...
                row["value"] = str(masked_personal(kind, value))
            else:  # a Referer's or a Location's URL, a debugging header quoting a secret
                row["value"] = self.scrub(value)
            changed = changed or row["value"] != value
        return changed

    def body(self, text: str | None) -> str | None:
        """A body with its token decrypted (masked) in place and its credential fields
        redacted, its strings scrubbed; None when it is not JSON, or none of that changed
        it (then it is left as it was written). A value under "token" that is no token
        (not base64 of whole AES blocks: a session's JWT) is a credential, redacted."""
        found = read_body(text)
        if found.envelope is None:
            return self.json_array(text)
        envelope = copy.deepcopy(found.envelope)
        opened = decrypt_body(found, self.codec)
        spare = None  # the envelope key holding the platform's token
        if opened is not None and not opened.plain:
            key = next(k for k in ENVELOPE_KEYS if envelope.get(k) == found.token)
            if not opened.error:
                envelope[key] = mask(opened.value)
                self.result.tokens += 1
                spare = key
            elif not is_credential(key) or _may_be_ciphertext(str(found.token)):
                self.result.kept += 1
                spare = key
        else:
            envelope = mask(envelope)
        self.sweep(envelope, spare=spare)
        return json_text(envelope) if envelope != found.envelope else None

    def json_array(self, text: str | None) -> str | None:
        """A body that is a JSON array, masked and swept as an object is; None when it
        is none, or nothing changed."""
        if text is None or not text.lstrip().startswith("["):
            return None
        try:
            value = load_json(text, max_depth=MAX_DEPTH)
        except ValueError:
            return None
        cleaned = mask(value)
        self.sweep(cleaned)
        return json_text(cleaned) if cleaned != value else None

    def binary(self, response: dict[str, Any], content: dict[str, Any]) -> None:
        """A base64 answer that is not text (an image, a file): every secret form
        redacted in its bytes, which are written back as base64 (a redaction written
        into the base64 itself would corrupt it, and miss two alignments in three)."""
        text = content.get("text")
        if content.get("encoding") != "base64" or not isinstance(text, str):
            return
        try:
            raw = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return
        new = raw
        for form in self.byte_forms:
            if form in new:
                self.result.redacted += new.count(form)
                new = new.replace(form, _REDACTED.encode())
        if new != raw:
            content["text"] = base64.b64encode(new).decode()
            content.pop("compression", None)
            _resized(response, content, len(new))

    def entry(self, entry: dict[str, Any]) -> None:
        request = entry[REQUEST]
        if self.pairs(request.get("headers")):
            request["headersSize"] = -1
        self.pairs(request.get("cookies"), every=True)
        self.pairs(request.get("queryString"))
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
            else:
                self.binary(response, content)

    def cleaned_body(self, text: str | None) -> str | None:
        """A body (as text: a base64 one decoded) with its token decrypted, its
        credentials and secrets redacted; None when nothing changed (or it is no text)."""
        if text is None:
            return None
        new = self.scrub(self.body(text) or text)
        return new if new != text else None


def _personal_in(value: Any) -> None:
    """At any depth of decoded JSON, in place: every value under a name of personal data
    (each scalar of a list or object under it too) masked by its kind."""
    pending: list[tuple[Any, str | None]] = [(value, None)]
    while pending:
        node, kind = pending.pop()
        if not isinstance(node, dict | list):
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for name, item in list(items):
            named = isinstance(name, str) and isinstance(node, dict)
            under = (personal_kind(name) if named else None) or kind
            if isinstance(item, dict | list):
                pending.append((item, under))
            elif under is not None:
                node[name] = masked_personal(under, item)


def _set_answer(response: dict[str, Any], content: dict[str, Any], text: str) -> None:
    content["text"] = text
    content.pop("encoding", None)
    content.pop("compression", None)
    _resized(response, content, len(text.encode()))


def _resized(response: dict[str, Any], content: dict[str, Any], size: int) -> None:
    """An answer's sizes after its body changed: unknown on the wire when it came
    compressed, else the body's, in Content-Length too."""
    compressed = _header(response, "content-encoding") not in (None, "", "identity")
    content["size"] = size
    response["bodySize"] = -1 if compressed else size
    if not compressed:
        _content_length(response, size)


def _may_be_ciphertext(text: str) -> bool:
    """Whether `text` could be one of the platform's tokens: base64 of whole AES blocks."""
    try:
        size = len(decode_base64(text))
    except CryptoError:
        return False
    return size >= AES_BLOCK and size % AES_BLOCK == 0


def _header_rows(part: dict[str, Any]) -> list[Any]:
    """A HAR part's header rows: its "headers" when a list, else none (a file may say
    anything there)."""
    rows = part.get("headers")
    return rows if isinstance(rows, list) else []


def _header(part: dict[str, Any], name: str) -> str | None:
    for row in _header_rows(part):
        if isinstance(row, dict) and str(row.get("name", "")).lower() == name:
            return str(row.get("value", ""))
    return None


def _content_length(part: dict[str, Any], size: int) -> None:
    for row in _header_rows(part):
        if isinstance(row, dict) and str(row.get("name", "")).lower() == "content-length":
            row["value"] = str(size)


def clean(
    har: dict[str, Any], codec: Callable[[], TokenCodec], secrets: Iterable[str | bytes]
) -> Cleaned:
    """A copy of `har` with its tokens decrypted and its credentials redacted."""
    secrets = list(secrets)
    cleaner = _Cleaner(codec, secret_forms(secrets), secret_byte_forms(secrets))
    copied = copy.deepcopy(har)
    for entry in entries(copied):
        cleaner.entry(entry)
    cleaner.result.har = cleaner.scrub_all(copied)
    return cleaner.result


def text(har: dict[str, Any]) -> bytes:
    """The cleaned capture as `--out` writes it (`outfile.write`): indented JSON."""
    return (json_text(har, pretty=True) + "\n").encode()

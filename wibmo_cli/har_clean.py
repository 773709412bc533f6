"""A HAR capture made safe to attach to a ticket: `decrypt --har F --out CLEAN.har`.

Every token is replaced by its decrypted JSON, masked (`masking.mask`: document numbers
show their last four), in place of the token's string: ``{"token": {"messageCode": ...}}``.
A token the key does not open stays as it was (it is ciphertext) and is counted.

Credentials are redacted (`masking.redact`: ``****`` and at most the last four of a
long value), wherever they travel:

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
import json
import os
import stat
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
from wibmo_cli.masking import mask, redact
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


def is_credential(name: str) -> bool:
    return name.lower().replace("-", "").replace("_", "") in CREDENTIAL_NAMES


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
                text = text.replace(form, redact(form))
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

    def credential(self, value: Any) -> str:
        self.result.redacted += 1
        return redact(value if isinstance(value, str) else json.dumps(value))

    # -- parts of an entry -------------------------------------------------------

    def pairs(self, rows: Any, *, every: bool = False) -> bool:
        """A HAR list of {name, value} (headers, queryString, cookies, params): values of
        credentials (of every row when `every`) redacted; whether any changed."""
        changed = False
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict) or not isinstance(row.get("value"), str):
                continue
            if row["value"] and (every or is_credential(str(row.get("name", "")))):
                row["value"] = self.credential(row["value"])
                changed = True
        return changed

    def url(self, url: Any) -> Any:
        """A URL's query parameters named as credentials redacted."""
        if not isinstance(url, str) or "?" not in url:
            return url
        try:
            parts = urlsplit(url)
        except ValueError:  # not a URL urllib can split: the scrub still sees it
            return url
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(is_credential(name) for name, _ in query):
            return url
        query = [(n, self.credential(v) if is_credential(n) else v) for n, v in query]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def body(self, text: str | None) -> str | None:
        """A body with its token decrypted (masked) in place and its credential fields
        redacted; None when it is not a JSON object, or none of that changed it (then
        it is left as it was written)."""
        found = read_body(text)
        if found.envelope is None:
            return None
        envelope = dict(found.envelope)
        opened = decrypt_body(found, self.codec)
        if opened is not None and not opened.plain:
            key = next(k for k in ENVELOPE_KEYS if envelope.get(k) == found.token)
            if opened.error:
                self.result.kept += 1
            else:
                envelope[key] = mask(opened.value)
                self.result.tokens += 1
        else:
            envelope = mask(envelope)
        self.credentials_in(envelope)
        return json_text(envelope) if envelope != found.envelope else None

    def credentials_in(self, value: Any) -> None:
        """Every field named as a credential, at any depth of a JSON body (the
        decrypted JSON in it included: answers echo clientId), redacted in place."""
        pending = [value]
        while pending:
            node = pending.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for name, item in list(items):
                if isinstance(item, dict | list):
                    pending.append(item)
                elif isinstance(name, str) and is_credential(name) and item not in ("", None):
                    node[name] = self.credential(item)

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


def check_target(path: Path, *, source: Path, force: bool) -> None:
    """Refuse an `--out` that would overwrite the capture, a directory, anything that is
    not a regular file (a device, a FIFO, a socket, a symbolic link: `--force` replaces
    files, never what a name leads elsewhere), or (without `force`) any existing file;
    and one whose directory does not exist."""
    if path.exists() and (path.resolve() == source.resolve() or _same(path, source)):
        raise InputError(f"--out {path} is the capture being read: give another file")
    _check_replaceable(path, force=force)
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: no such directory {path.parent}")


def _check_replaceable(path: Path, *, force: bool) -> None:
    """`path` is absent, or (with `force`) a regular file: what the rename in `write`
    may replace. Read with lstat: a symbolic link is judged itself, not what it names."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        raise InputError(f"cannot check --out {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"--out {path} is a directory: give a file name")
    if stat.S_ISLNK(mode):
        raise InputError(
            f"--out {path} is a symbolic link: give the file itself, or a new file name"
        )
    if not stat.S_ISREG(mode):
        raise InputError(
            f"--out {path} is {_KINDS.get(stat.S_IFMT(mode), 'not a file')}, not a regular "
            "file: give a new file name"
        )
    if not force:
        raise InputError(f"--out {path} exists: give --force to replace it")


_KINDS: Final = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
}


def write(path: Path, har: dict[str, Any], *, source: Path, force: bool) -> None:
    """`har` written to `path` atomically, mode 0600: it still holds customers' data,
    masked. `check_target` first; the data goes to a new temporary file beside `path`
    (created exclusively, so nothing else is written through), which is renamed over
    `path` only if `path` is still absent or a regular file: a rename replaces the name,
    never writes into a device or through a link, and the second look closes the window
    between the first check and the rename to whoever cannot already write the directory."""
    check_target(path, source=source, force=force)
    data = (json_text(har, pretty=True) + "\n").encode()
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:  # e.g. a directory the user may not write
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    renamed = False
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        _check_replaceable(path, force=force)
        Path(temporary).replace(path)
        renamed = True
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if not renamed:
            Path(temporary).unlink(missing_ok=True)


def _same(path: Path, source: Path) -> bool:
    try:
        return path.samefile(source)
    except OSError:
        return False

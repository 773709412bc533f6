"""Changes to the profiles file: a profile added, a setting changed, a profile removed, the
default set (`profiles add | edit | remove | set-default`).

Each is a change of the file's TEXT made through tomlkit, so the comments, the order of
tables and keys and the spacing a person wrote stay as they were; each result is checked
as `profiles.resolve` checks a profile before it is written (`write_atomically`), so a
mistake is refused rather than saved. Pure but for the file's reading and writing
(`change_file`): under a lock, so two commands run at once (ten `profiles add &`) each
change the file the other left, and none of them loses the other's change.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

import tomlkit
from tomlkit.items import Comment, Table, Whitespace

from wibmo_cli.errors import ConfigError, InputError
from wibmo_cli.profiles import (
    DEFAULTS,
    DEMO_NAME,
    KNOWN_KEYS,
    SECRET_KEYS,
    read_profiles_file,
    resolve,
)
from wibmo_cli.sandbox.variants import VARIANTS
from wibmo_cli.secret_sources import KEYRING_RE

T = TypeVar("T")
# a variable a `${VAR}` reference names
_VARIABLE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The environments `profiles add` offers: the variants the public material shows.
OFFERED_VARIANTS: Final = ("seed", "mob1", "v3")


def variant_settings(name: str) -> dict[str, Any]:
    """The profile settings that make wibmo speak variant `name` (sandbox/variants.py):
    its first path of each API, method, credential placement, message codes, helpers and
    Update Profile dialect. One source: the sandbox serves what the profile says."""
    if name not in OFFERED_VARIANTS:
        raise InputError(f"unknown variant {name!r}; one of {', '.join(OFFERED_VARIANTS)}")
    variant = VARIANTS[name]
    settings: dict[str, Any] = {
        "lookup_path": variant.lookup.paths[0],
        "update_path": variant.update.paths[0],
        "lookup_credentials": variant.lookup.credentials or "headers",
        "update_credentials": variant.update.credentials or "headers",
        "update_method": variant.update.method,
        "lookup_message_code": int(variant.lookup.message_codes[0]),
        "update_message_code": int(variant.update.message_codes[0]),
        "encrypt_path": variant.encrypt_paths[0] if variant.encrypt_paths else "",
        "decrypt_path": variant.decrypt_paths[0] if variant.decrypt_paths else "",
    }
    if variant.update_fields:
        settings["update_fields"] = variant.update_fields
    if variant.documents:
        settings["update_documents"] = variant.documents
    return settings


def describe_variant(name: str) -> str:
    """One line for the question: where each API is and where it wants the credentials."""
    variant = VARIANTS[name]
    lookup, update = variant.lookup, variant.update
    return (
        f"{name}: lookup POST {lookup.paths[0]} ({lookup.credentials or 'headers or body'}), "
        f"update {update.method} {update.paths[0]} ({update.credentials or 'headers or body'})"
        + ("; X-Consumer-Custom-ID" if variant.consumer_id else "")
    )


def needs_consumer_id(variant: str) -> bool:
    return VARIANTS[variant].consumer_id


def parse(text: str, path: Path) -> tomlkit.TOMLDocument:
    """The profiles file's text as a document that keeps its comments."""
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"profiles file {path} is not valid TOML: {exc}") from None


def add_profile(
    doc: tomlkit.TOMLDocument, name: str, table: Mapping[str, Any], *, default: bool
) -> None:
    """Append `[profiles.NAME]` (refused when it exists: `edit` changes one) and, with
    `default` or when the file names none, make it the default profile."""
    check_new(doc, name)
    profiles = _profiles(doc, create=True)
    check_table(name, table)
    new = tomlkit.table()
    for key, value in table.items():
        new.add(key, value)
    profiles.append(name, new)
    if default or "default_profile" not in doc:
        _set_default(doc, name)


def check_new(doc: tomlkit.TOMLDocument, name: str) -> None:
    """Refuse a name that is no profile name, or one the file has already."""
    check_name(name)
    profiles = doc.get("profiles")
    if isinstance(profiles, Table) and name in profiles:
        raise InputError(f"profile {name!r} exists already; change it with profiles edit")


def edit_profile(doc: tomlkit.TOMLDocument, name: str, key: str, text: str) -> Any:
    """Set `key` of profile `name` to the value `text` reads as (the key's type); the
    value set. A secret is refused as a value: only a reference to where it is kept."""
    table = _table(doc, name)
    if key not in KNOWN_KEYS:
        raise InputError(f"unknown key {key!r}; profiles example lists every key")
    if key in SECRET_KEYS and not is_reference(text):
        raise InputError(
            f"{key} is a secret: not taken on the command line (it would stay in the shell's "
            f'history); give a reference such as "${{VAR}}", or run profiles add'
        )
    value = typed_value(key, text)
    check_table(name, {**table.unwrap(), key: value})
    table[key] = value
    return value


def remove_profile(doc: tomlkit.TOMLDocument, name: str) -> bool:
    """Remove profile `name`; whether it was the default (then the file names none)."""
    _table(doc, name)
    _move_heading_comments(doc, name)
    del _profiles(doc)[name]
    if doc.get("default_profile") == name:
        del doc["default_profile"]
        return True
    return False


def _move_heading_comments(doc: tomlkit.TOMLDocument, name: str) -> None:
    """Before `[profiles.NAME]` is removed: drop the comment lines written directly
    above its header (no blank line between), which describe it and left behind would
    read as describing the next profile; and keep the next profile's own heading, which
    tomlkit holds at the end of NAME's table and would remove with it. The file's opening
    comments stay, even directly above the first profile."""
    profiles = _profiles(doc)
    body = profiles.value.body
    names = [key.key if key is not None else None for key, _ in body]
    at = names.index(name)
    table = body[at][1]
    following = [item for key, item in body[at + 1 :] if key is not None]
    if following and isinstance(following[0], Table) and isinstance(table, Table):
        heading = _pop_comments(table.value.body, keep_all=False)
        following[0].trivia.indent = heading + following[0].trivia.indent
    if at > 0:
        before = body[at - 1][1]
        if isinstance(before, Table):
            _pop_comments(before.value.body, keep_all=False)
    else:
        top = [key.key if key is not None else None for key, _ in doc.body]
        _pop_comments(doc.body, keep_all=True, end=top.index("profiles"))


def _pop_comments(body: list[tuple[Any, Any]], *, keep_all: bool, end: int | None = None) -> str:
    """Remove the run of comment lines that ends `body[:end]` and return its text; with
    `keep_all`, nothing when that run is all there is before it (the file's opening
    comment). Blanked in place, not deleted: tomlkit's containers index keys by position."""
    end = len(body) if end is None else end
    start = end
    while start > 0 and body[start - 1][0] is None and isinstance(body[start - 1][1], Comment):
        start -= 1
    if start == end or (keep_all and start == 0):
        return ""
    text = "".join(item.as_string() for _, item in body[start:end])
    for at in range(start, end):
        body[at] = (None, Whitespace(""))
    return text


def kept_secrets(doc: tomlkit.TOMLDocument, name: str, secrets_env: str) -> list[str]:
    """Where profile `name`'s secrets are kept that wibmo put there: its keyring entries,
    and its variables set in the secrets file whose text is `secrets_env`. Removing the
    profile leaves them; the user is told which (they may be shared, or wanted back)."""
    table = _table(doc, name).unwrap()
    assigned = {line.partition("=")[0].strip() for line in secrets_env.splitlines()}
    kept = []
    for key in SECRET_KEYS:
        value = str(table.get(key, ""))
        if match := KEYRING_RE.fullmatch(value):
            kept.append(f"keyring entry {match.group(1)}/{match.group(2)}")
        elif is_reference(value) and value[2:-1] in assigned:
            kept.append(value[2:-1])
    return kept


def set_default(doc: tomlkit.TOMLDocument, name: str) -> None:
    if name != DEMO_NAME:
        _table(doc, name)
    _set_default(doc, name)


def typed_value(key: str, text: str) -> Any:
    """`text` as the type of `key`'s default: "30" -> 30 for timeout, "true" for a flag,
    "00,0000" for a list of codes; text for the rest."""
    default = DEFAULTS.get(key, "")
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise InputError(f"{key} must be true or false, not {text!r}")
        return text.lower() == "true"
    if isinstance(default, tuple):
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(default, int | float):
        try:
            number: Any = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            number = None
        if not isinstance(number, int | float) or isinstance(number, bool):
            raise InputError(f"{key} must be a number, not {text!r}")
        return number
    return text


def is_reference(text: str) -> bool:
    """`${VAR}` (a variable's name) or `${keyring:SERVICE/NAME}`: where a secret is, not
    the secret (`${MyRealS3cret!}` is a secret in a reference's clothes)."""
    if KEYRING_RE.fullmatch(text):
        return True
    return text.startswith("${") and text.endswith("}") and bool(_VARIABLE.fullmatch(text[2:-1]))


def check_name(name: str) -> None:
    if not name or not all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        raise InputError(f"profile name {name!r}: letters, digits, - and _ only")
    if name == DEMO_NAME:
        raise InputError(f"{DEMO_NAME!r} is the built-in profile; choose another name")


def check_table(name: str, table: Mapping[str, Any]) -> None:
    """Refuse what a command would refuse when loading the profile (exit 2: it was typed)."""
    try:  # no secret command run, no keyring opened: they give secrets, not settings
        profile = resolve(name, table, {}, source="the values given", read_secrets=False)
        if "base_url" not in profile.missing:
            profile.check_transport()
        if "encryption_key" not in profile.missing and not is_reference(
            str(table.get("encryption_key", ""))
        ):
            profile.key_bytes()
    except ConfigError as exc:
        raise InputError(exc.message) from None


def change_file(path: Path, change: Callable[[tomlkit.TOMLDocument], T]) -> T:
    """Apply `change` to the profiles file at `path` (none yet: an empty one) and write
    the result; what `change` returned. Read, changed and written under `locked`, so the
    change is made to the file as the last writer left it. A symbolic link is followed:
    its target is replaced (a profiles file kept as a link to a dotfiles repository stays
    a link)."""
    target = Path(os.path.realpath(path))
    with locked(target):
        doc = parse(read_text(target), path)
        result = change(doc)
        write_atomically(target, doc.as_string())
    return result


def read_text(path: Path) -> str:
    """The profiles file's text, checked as every command checks it (size, encoding,
    shape); "" when there is none yet. Anything there that is not a regular file (a
    directory, a FIFO, a device) is refused: nothing is read from it or written over it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"cannot read profiles file {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"profiles file {path} is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"profiles file {path} is not a regular file: refused")
    read_profiles_file(path)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read profiles file {path}: {exc.strerror}") from None


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock for changing the file `path`: flock on its directory (the file
    itself is replaced by a rename, so its inode cannot be the lock; a lock file would be
    left behind). Held for a read, a change and a write: never while a question waits."""
    import fcntl

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfigError(f"cannot write profiles file {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # the lock goes with it


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` at once (a reader sees the old file or the new one,
    never half), private to the user (0600) as a file of settings and references is.
    A directory it cannot write in is one line (ConfigError), not a traceback."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write profiles file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(temp).replace(path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write profiles file {path}: {exc.strerror}") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _profiles(doc: tomlkit.TOMLDocument, *, create: bool = False) -> Table:
    profiles = doc.get("profiles")
    if profiles is None and create:
        profiles = tomlkit.table(is_super_table=True)
        doc.append("profiles", profiles)
    if not isinstance(profiles, Table):
        raise ConfigError("profiles must be tables, e.g. [profiles.sandbox]")
    return profiles


def _table(doc: tomlkit.TOMLDocument, name: str) -> Table:
    profiles = doc.get("profiles")
    table = profiles.get(name) if isinstance(profiles, Table) else None
    if not isinstance(table, Table):
        raise InputError(f"no profile {name!r} in the profiles file")
    return table


def _set_default(doc: tomlkit.TOMLDocument, name: str) -> None:
    if "default_profile" in doc:
        doc["default_profile"] = name
        return
    # at the top (a key after a table would belong to it), after the file's opening
    # comments, which stay its first lines
    body = doc.body
    at = 0
    while at < len(body) and body[at][0] is None and isinstance(body[at][1], Comment):
        at += 1
    body.insert(at, (tomlkit.key("default_profile"), tomlkit.item(name)))

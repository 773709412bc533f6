"""Environment profiles: where the file is, which profile, and its resolved settings.

Precedence (DESIGN.md, Commands):

    profiles file   --profiles-file, else $WIBMO_PROFILES, else ./profiles.toml,
                    else <user config dir>/wibmo/profiles.toml, else none (built-in demo only)
    profile name    --profile/-p, else $WIBMO_PROFILE, else the file's default_profile,
                    else "demo" when there is no file

`${VAR}` in any string value is read from the process environment, else `.env` in the
working directory, else `.env`, then `secrets.env`, beside the profiles file
(`environment`); `${keyring:SERVICE/NAME}` from the OS keyring, and a secret's
`<key>_command` (e.g. api_key_command) runs a command for it (`secret_sources`). A
reference that cannot be resolved is kept as *missing* rather than failing the load, so
`profiles show/check` can report it; `Profile.require` raises `ConfigError` naming the
profile, key and why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from wibmo_cli.crypto import KEY_ENCODINGS, IvScheme, TokenCodec, parse_key
from wibmo_cli.environment import DotEnv, Environment, config_dir, environment, not_set
from wibmo_cli.environment import data_dir as data_dir  # where commands ask for it
from wibmo_cli.environment import load_environment as load_environment
from wibmo_cli.errors import ConfigError
from wibmo_cli.lazyre import lazy
from wibmo_cli.paths import user_path
from wibmo_cli.secret_sources import COMMAND_SUFFIX, KEYRING_PATTERN, SecretUnavailable

SECRET_KEYS: Final = ("api_key", "secure_code", "encryption_key")
# api_key_command...: a command whose output is the secret (secret_sources.run_secret_command)
COMMAND_KEYS: Final = {f"{key}{COMMAND_SUFFIX}": key for key in SECRET_KEYS}
REQUIRED_KEYS: Final = ("base_url", "client_id", "bank_id", *SECRET_KEYS)
DEMO_NAME: Final = "demo"
EXAMPLE_FILE: Final = "profiles.example.toml"  # in the package: a link to the repo root's
EMBEDDED: Final = "embedded"
LOOPBACK_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})

# A lookup's longest wait before a retry (backoff, or the server's Retry-After, capped).
MAX_RETRY_WAIT: Final = 10.0
# What a timeout and an answer-size cap may be set to: beyond these, a mistake.
MAX_TIMEOUT: Final = 3600.0
MAX_RETRIES: Final = 10  # a lookup then ends within 11 timeouts and 100 s of waits
MIN_ANSWER_BYTES: Final = 1024
MAX_PROFILES_BYTES: Final = 1 << 20  # a profiles file holds a few tables
MAX_ANSWER_BYTES: Final = 256 * 1024 * 1024

_VAR_PATTERN: Final = r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"
# a value read from elsewhere: `${VAR}` or `${keyring:SERVICE/NAME}`
_REFERENCE_RE: Final = lazy(f"{_VAR_PATTERN}|{KEYRING_PATTERN}")

# Defaults for every optional key, as DESIGN.md documents them.
DEFAULTS: Final[Mapping[str, Any]] = {
    "lookup_path": "/api/v2/customer/retrieveCustRecord",
    "update_path": "/mob1/api/onboarding/v1/updateProfile",
    "entity_id": "100",
    "credentials": "headers",
    "lookup_credentials": "",  # "": as `credentials`
    "update_credentials": "",  # "": as `credentials`
    "update_method": "PATCH",
    "consumer_custom_id": "",
    # the platform's helper endpoints, when it has them (e.g. "/api/v2/encrypt"); "": none
    "encrypt_path": "",
    "decrypt_path": "",
    "update_fields": "table",
    "update_date_format": "",  # "": the update_fields document's (YYYYMMDD / DD-MM-YYYY)
    "update_documents": "list",
    "product_id": "",  # "": productId is not sent
    "success_codes": ("00",),
    "key_encoding": "auto",
    "iv": "zero",
    "mobile_prefix": "91",
    "lookup_message_code": 1930,
    "update_message_code": 1280,
    "timeout": 15.0,
    "retries": 2,
    "max_answer_bytes": 4 * 1024 * 1024,
    "production": False,
    "allow_insecure_http": False,
}
_STR_KEYS: Final = frozenset(
    {
        "base_url",
        "lookup_path",
        "update_path",
        "client_id",
        "bank_id",
        "entity_id",
        "credentials",
        "lookup_credentials",
        "update_credentials",
        "update_method",
        "consumer_custom_id",
        "encrypt_path",
        "decrypt_path",
        "update_fields",
        "update_date_format",
        "update_documents",
        "product_id",
        "key_encoding",
        "iv",
        "mobile_prefix",
        *SECRET_KEYS,
        *COMMAND_KEYS,
    }
)
_INT_KEYS: Final = frozenset(
    {"lookup_message_code", "update_message_code", "retries", "max_answer_bytes"}
)
_FLOAT_KEYS: Final = frozenset({"timeout"})
_BOOL_KEYS: Final = frozenset({"production", "allow_insecure_http"})
_LIST_KEYS: Final = frozenset({"success_codes"})
KNOWN_KEYS: Final = _STR_KEYS | _INT_KEYS | _FLOAT_KEYS | _BOOL_KEYS | _LIST_KEYS

# The choices of each setting that has a few (the first is the default where it has one).
CHOICES: Final[Mapping[str, tuple[str, ...]]] = {
    "credentials": ("headers", "body"),
    "lookup_credentials": ("headers", "body"),
    "update_credentials": ("headers", "body"),
    "update_method": ("PATCH", "POST"),
    "update_fields": ("table", "sample"),
    "update_date_format": ("YYYYMMDD", "DD-MM-YYYY"),
    "update_documents": ("list", "flat"),
}
# Date of birth as each Update Profile dialect's document writes it.
DIALECT_DATE_FORMAT: Final = {"table": "YYYYMMDD", "sample": "DD-MM-YYYY"}

# The built-in profile: talks to the sandbox run inside the command. Its values are
# demo credentials of the embedded sandbox, not secrets of any real environment.
DEMO_PROFILE: Final[Mapping[str, Any]] = {
    "base_url": EMBEDDED,
    "client_id": "DemoClient",
    "bank_id": "2010",
    "api_key": "demo-api-key-0000",
    "secure_code": "DEMOSECURE01",
    "encryption_key": "wibmo-demo-key-24-bytes!",
    "iv": "zero",
}


def environment_for(profiles_file: str | None, cwd: Path) -> Environment:
    """`environment` with the profiles file the command will use, when it can be found
    (when it cannot, the command that needs a profile says why; others need no file)."""
    first = environment(cwd)
    try:
        path = find_profiles_file(profiles_file, first.values, cwd)
    except ConfigError:
        return first
    return environment(cwd, path) if path is not None else first


@dataclass(frozen=True)
class ProfilesFile:
    """A parsed profiles file (or none: `path` is None and only the demo exists)."""

    path: Path | None
    default_profile: str | None
    profiles: Mapping[str, Mapping[str, Any]] = field(repr=False)  # may hold literal secrets

    def names(self) -> list[str]:
        names = list(self.profiles)
        if DEMO_NAME not in self.profiles:
            names.append(DEMO_NAME)
        return names

    def raw(self, name: str, chosen_by: str = "") -> tuple[Mapping[str, Any], bool]:
        """The profile's table as written and whether it is the built-in demo.
        `chosen_by`: where an unknown name came from, when not typed (e.g. the
        variable $WIBMO_PROFILE), so the message says what to fix."""
        if name in self.profiles:
            return self.profiles[name], False
        if name == DEMO_NAME:
            return DEMO_PROFILE, True
        where = str(self.path) if self.path else "no profiles file"
        known = ", ".join(self.names())
        said = f"unknown profile {name!r}"
        if chosen_by:
            said = f"{chosen_by} names an {said}"
        raise ConfigError(f"{said} ({where}); known profiles: {known}")


def default_places(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """Where a profiles file is looked for when none is named (flag or variable)."""
    return [cwd / "profiles.toml", config_dir(env) / "profiles.toml"]


def profiles_file_places(explicit: str | None, env: Mapping[str, str], cwd: Path) -> list[Path]:
    """Where `find_profiles_file` looks: the file named, else `default_places`."""
    named = explicit or env.get("WIBMO_PROFILES")
    return [user_path(named)] if named else default_places(env, cwd)


def example_text() -> str:
    """profiles.example.toml as shipped in the package (the repository root's file)."""
    from importlib.resources import files

    return files("wibmo_cli").joinpath(EXAMPLE_FILE).read_text(encoding="utf-8")


def find_profiles_file(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    for given, source in (
        (explicit, "--profiles-file"),
        (env.get("WIBMO_PROFILES"), "$WIBMO_PROFILES"),
    ):
        if given:
            path = user_path(given)
            if path.is_dir():
                raise ConfigError(f"profiles file {given} ({source}) is a directory, not a file")
            if not path.is_file():
                what = "is not a regular file" if path.exists() else "does not exist"
                raise ConfigError(f"profiles file {given} ({source}) {what}")
            return path
    for candidate in default_places(env, cwd):
        if candidate.is_file():
            return candidate
    return None


def read_profiles_file(path: Path | None) -> ProfilesFile:
    if path is None:
        return ProfilesFile(None, None, {})
    import tomllib  # only when there is a file to read

    try:
        with path.open("rb") as fh:
            text = fh.read(MAX_PROFILES_BYTES + 1)
        if len(text) > MAX_PROFILES_BYTES:
            raise ConfigError(f"profiles file {path} is larger than 1 MiB: not a profiles file")
        data = tomllib.loads(text.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"profiles file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read profiles file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"profiles file {path} is not UTF-8 text") from None
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{path}: default_profile must be a string")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ConfigError(f"{path}: profiles must be tables, e.g. [profiles.sandbox]")
    unknown_top = set(data) - {"default_profile", "profiles"}
    if unknown_top:
        raise ConfigError(f"{path}: unknown top-level key {sorted(unknown_top)[0]!r}")
    return ProfilesFile(path, default, profiles)


@dataclass(frozen=True)
class Profile:
    """One environment's settings with `${VAR}` references resolved."""

    name: str
    source: str
    values: Mapping[str, Any] = field(repr=False)
    missing: Mapping[str, str] = field(default_factory=dict)  # key -> why it is missing
    literal_secrets: tuple[str, ...] = ()
    builtin: bool = False

    def __repr__(self) -> str:
        return f"Profile(name={self.name!r}, source={self.source!r})"

    def secret_values(self) -> tuple[str, ...]:
        """The secrets' values (those set), for redacting what the network echoes back."""
        return tuple(str(v) for k in SECRET_KEYS if (v := self.values.get(k)))

    def require(self, *keys: str) -> None:
        """Raise `ConfigError` for the first of `keys` that has no value."""
        for key in keys:
            if key in self.missing:
                raise ConfigError(f"profile {self.name!r}: {key} {self.missing[key]}")

    def get(self, key: str) -> Any:
        self.require(key)
        return self.values[key]

    @property
    def embedded(self) -> bool:
        return bool(self.values.get("base_url") == EMBEDDED)

    @property
    def iv_scheme(self) -> IvScheme:
        iv = str(self.get("iv"))  # its ConfigError names the profile already
        try:
            return IvScheme.parse(iv)
        except ConfigError as exc:
            raise ConfigError(f"profile {self.name!r}: {exc.message}") from None

    def key_bytes(self) -> bytes:
        key, encoding = self.get("encryption_key"), self.get("key_encoding")  # as iv_scheme
        try:
            return parse_key(key, encoding)
        except ConfigError as exc:
            raise ConfigError(f"profile {self.name!r}: {exc.message}") from None

    def codec(self) -> TokenCodec:
        return TokenCodec(self.key_bytes(), self.iv_scheme)

    def lookup_budget(self) -> float:
        """The longest a lookup can take, in seconds: each of its (retries + 1) attempts
        within `timeout` (connect, send, the whole answer), each wait before a retry at
        most MAX_RETRY_WAIT (a longer Retry-After included)."""
        retries = int(self.get("retries"))
        return (retries + 1) * float(self.get("timeout")) + retries * MAX_RETRY_WAIT

    def url(self, path: str, base_url: str | None = None) -> str:
        base = (base_url or self.get("base_url")).rstrip("/")
        return f"{base}/{path.lstrip('/')}"

    def check_transport(self) -> None:
        """Refuse plain http:// to anything but loopback unless allowed."""
        base = self.get("base_url")
        if base == EMBEDDED:
            return
        try:
            parts = urlsplit(base)
            scheme, host = parts.scheme, parts.hostname
        except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 bracket)
            scheme, host = "", None
        if scheme not in ("http", "https") or not host:
            raise ConfigError(
                f'profile {self.name!r}: base_url {base!r} must be an http(s):// URL or "embedded"',
            )
        if scheme == "http" and not _is_loopback(host) and not self.get("allow_insecure_http"):
            raise ConfigError(
                f"profile {self.name!r}: plain http:// to {host} is refused; "
                "use https:// or set allow_insecure_http = true",
            )


def _is_loopback(host: str) -> bool:
    """localhost or a loopback address (127.0.0.0/8, ::1); not a name like 127.example.com."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(
    name: str,
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    source: str,
    builtin: bool = False,
    dotenv: tuple[DotEnv, ...] = (),
    read_secrets: bool = True,
) -> Profile:
    """Check types, fill defaults and resolve `${VAR}` references of one profile table
    (`dotenv`: the .env files read into `env`, named when a variable is missing). The
    `*_command` keys and the keyring entries are read within one COMMAND_TIMEOUT
    together, not each; without `read_secrets` neither is (the secret is missing: a
    check of the other settings, which runs no command and opens no keyring)."""
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"profile {name!r}: unknown key {unknown[0]!r} ({source})")
    values: dict[str, Any] = dict(DEFAULTS)
    missing: dict[str, str] = {}
    literal: list[str] = []
    deadline = _secrets_deadline() if read_secrets else None
    for key, value in raw.items():
        values[key] = _typed(name, key, value)
        if isinstance(value, str) and key not in COMMAND_KEYS:
            _check_references(name, key, value)
            if key in SECRET_KEYS and not _REFERENCE_RE.search(value):
                literal.append(key)
            resolved, absent = _interpolate(value, env, dotenv, deadline)
            if absent:
                missing[key] = absent
            values[key] = resolved
    for command_key, key in COMMAND_KEYS.items():
        if command_key in raw:
            _run_command(name, key, command_key, raw, values, missing, deadline)
    for key in REQUIRED_KEYS:
        if key not in raw and f"{key}{COMMAND_SUFFIX}" not in raw:
            missing.setdefault(key, f"is not set ({source})")
        elif isinstance(values.get(key), str) and not values[key].strip() and key not in missing:
            missing[key] = f"is empty ({source})"
    # per-API settings left empty follow the shared one
    for key in ("lookup_credentials", "update_credentials"):
        values[key] = values[key] or values["credentials"]
    values["update_date_format"] = values["update_date_format"] or DIALECT_DATE_FORMAT.get(
        values["update_fields"], ""
    )
    profile = Profile(name, source, values, missing, tuple(literal), builtin)
    _check_settings(profile)
    return profile


def _typed(name: str, key: str, value: Any) -> Any:
    if key in _STR_KEYS:
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and key in {"bank_id", "entity_id", "mobile_prefix", "product_id"}
        ):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(f"profile {name!r}: {key} must be a string")
        return value
    if key in _LIST_KEYS:
        items = value if isinstance(value, list) else None
        if not items or not all(_code_text(v) for v in items):
            raise ConfigError(
                f'profile {name!r}: {key} must be a list of response codes, e.g. ["00", "0000"]'
            )
        return tuple(_code_text(v) for v in items)
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise ConfigError(f"profile {name!r}: {key} must be true or false")
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    shown = f", not {value!r}" if number else ""
    if key == "max_answer_bytes":
        if not isinstance(value, int) or not MIN_ANSWER_BYTES <= value <= MAX_ANSWER_BYTES:
            raise ConfigError(
                f"profile {name!r}: max_answer_bytes must be a whole number of bytes from "
                f"{MIN_ANSWER_BYTES} to {MAX_ANSWER_BYTES} (256 MiB){shown}"
            )
        return value
    if key == "retries":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_RETRIES:
            raise ConfigError(
                f"profile {name!r}: retries must be a whole number from 0 to {MAX_RETRIES}{shown}"
            )
        return value
    if key in _INT_KEYS:
        if not number or not isinstance(value, int) or value < 0:
            raise ConfigError(f"profile {name!r}: {key} must be a whole number >= 0{shown}")
        return value
    if not number or not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ConfigError(
            f"profile {name!r}: {key} must be a number of seconds > 0 and at most "
            f"{MAX_TIMEOUT:g}{shown}"
        )
    return float(value)


def _code_text(value: Any) -> str:
    """A response code as written in a profile: "0000" or 0 -> its text; else ""."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isalnum():
        return value.strip()
    return ""


def _check_references(name: str, key: str, value: str) -> None:
    """Refuse a value with a `${` that begins no valid reference (`${keyring:}`, an
    unterminated `${VAR`): sent as it is, it would be a literal secret nobody meant. The
    value is not quoted (it may be a secret)."""
    if "${" in _REFERENCE_RE.sub("", value):
        raise ConfigError(
            f"profile {name!r}: {key} has a '${{' that begins no reference: write "
            "${VAR} (a variable name) or ${keyring:SERVICE/NAME}"
        )


def _secrets_deadline() -> float:
    """When the `*_command` keys and keyring entries of the profile being resolved must
    all have given their secrets."""
    import time

    from wibmo_cli import secret_sources

    return time.monotonic() + secret_sources.COMMAND_TIMEOUT


def _interpolate(
    value: str, env: Mapping[str, str], dotenv: tuple[DotEnv, ...], deadline: float | None
) -> tuple[str, str | None]:
    """`value` with its references read, and why the first that could not be, if any
    (a keyring entry is read only with a `deadline`)."""
    absent: list[str] = []

    def sub(match: re.Match[str]) -> str:
        var, service, entry = match.groups()
        if var is None:
            from wibmo_cli.secret_sources import read_keyring

            if deadline is None:
                absent.append(f"comes from keyring entry {service}/{entry}, not read here")
                return ""
            try:
                return read_keyring(service, entry, deadline=deadline)
            except SecretUnavailable as exc:
                absent.append(exc.message)
                return ""
        if var not in env:
            absent.append(not_set(f"${{{var}}}", dotenv))
            return ""
        return env[var]

    return _REFERENCE_RE.sub(sub, value), (absent[0] if absent else None)


def _run_command(
    name: str,
    key: str,
    command_key: str,
    raw: Mapping[str, Any],
    values: dict[str, Any],
    missing: dict[str, str],
    deadline: float | None,
) -> None:
    """Set `key` from the output of its `command_key` (run when `deadline` is given), or
    say in `missing` why not."""
    if key in raw:
        raise ConfigError(f"profile {name!r}: set {key} or {command_key}, not both")
    if deadline is None:
        values[key] = ""
        missing[key] = f"comes from {command_key}, not run here"
        return
    from wibmo_cli.secret_sources import run_secret_command

    try:
        values[key] = run_secret_command(str(values[command_key]), command_key, deadline=deadline)
    except SecretUnavailable as exc:
        values[key] = ""
        missing[key] = exc.message


def _check_settings(profile: Profile) -> None:
    values = profile.values
    for key, choices in CHOICES.items():
        if values[key] not in choices:
            listed = " or ".join(f'"{c}"' for c in choices)
            raise ConfigError(
                f"profile {profile.name!r}: {key} must be {listed}, not {values[key]!r}",
            )
    if values["key_encoding"] not in KEY_ENCODINGS:
        raise ConfigError(
            f"profile {profile.name!r}: key_encoding must be one of {', '.join(KEY_ENCODINGS)}",
        )
    if "iv" not in profile.missing:
        profile.iv_scheme  # noqa: B018  (raises ConfigError naming the profile)
    prefix = values["mobile_prefix"]
    if prefix and not (prefix.isascii() and prefix.isdigit()):  # "²".isdigit() is True
        raise ConfigError(f'profile {profile.name!r}: mobile_prefix must be digits, e.g. "91"')
    if values["product_id"] and not values["product_id"].strip():
        raise ConfigError(f"profile {profile.name!r}: product_id is blank")
    for key in ("lookup_path", "update_path"):
        if not str(values[key]).strip():
            raise ConfigError(f"profile {profile.name!r}: {key} is empty")


@dataclass(frozen=True)
class ProfileChoice:
    """The profiles file and the profile the command would use: `name` is None when
    nothing chose one (a file without default_profile), which only a command that needs
    a profile and is given no name refuses (`load`). `chosen_by`: where the name came
    from, for messages."""

    file: ProfilesFile
    name: str | None
    env: Mapping[str, str] = field(repr=False)
    chosen_by: str = ""
    dotenv: tuple[DotEnv, ...] = ()


def choose(
    profile: str | None,
    profiles_file: str | None,
    *,
    env: Environment | Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProfileChoice:
    """Find the profiles file and decide which profile the command would use."""
    cwd = cwd or Path.cwd()
    if env is None:
        env = environment_for(profiles_file, cwd)
    values, dotenv = (env.values, env.dotenv) if isinstance(env, Environment) else (env, ())
    file = read_profiles_file(find_profiles_file(profiles_file, values, cwd))
    for name, chosen_by in (
        (profile, ""),  # typed: the message needs no source
        (values.get("WIBMO_PROFILE"), "$WIBMO_PROFILE"),
        (file.default_profile, "default_profile"),
    ):
        if name:
            return ProfileChoice(file, name, values, chosen_by, dotenv)
    return ProfileChoice(file, DEMO_NAME if file.path is None else None, values, "", dotenv)


def load(choice: ProfileChoice, name: str | None = None) -> Profile:
    """Resolve one profile: `name` (a command's positional NAME), else the chosen one."""
    chosen_by = "" if name else choice.chosen_by
    name = name or choice.name
    if not name:
        raise ConfigError(
            f"no profile chosen: {choice.file.path} has no default_profile; "
            f"pass --profile (one of {', '.join(choice.file.names())}) or set WIBMO_PROFILE",
        )
    raw, builtin = choice.file.raw(name, chosen_by)
    source = "built-in" if builtin else str(choice.file.path)
    return resolve(name, raw, choice.env, source=source, builtin=builtin, dotenv=choice.dotenv)

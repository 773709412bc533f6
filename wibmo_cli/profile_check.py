"""`profiles check`: each setting of a profile checked, offline (and online on request)."""

from __future__ import annotations

import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wibmo_cli.crypto import key_interpretations
from wibmo_cli.errors import ConfigError
from wibmo_cli.masking import redact, redact_url
from wibmo_cli.profiles import REQUIRED_KEYS, Profile

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of `profiles check`. The detail may quote the base_url or what the
    endpoint answered: a password in a URL's userinfo is redacted here, once."""

    name: str
    status: Status
    detail: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", redact_url(self.detail))


def offline_checks(profile: Profile, dotenv: Sequence[Path] = ()) -> list[Check]:
    """Everything that can be checked without sending a request (`dotenv`: the .env
    files read, whose permissions are checked with the profiles file's)."""
    checks: list[Check] = []
    missing = [k for k in REQUIRED_KEYS if k in profile.missing]
    if missing:
        for key in missing:
            checks.append(Check(key, "fail", f"{key} {profile.missing[key]}"))
    else:
        checks.append(Check("keys", "ok", "every required key has a value"))
    if "encryption_key" not in profile.missing:
        checks.append(_key_check(profile))
    try:
        checks.append(Check("iv", "ok", f'iv = "{profile.iv_scheme}"'))
    except ConfigError as exc:
        checks.append(Check("iv", "fail", exc.message))
    if "base_url" not in profile.missing:
        try:
            profile.check_transport()
            checks.append(Check("base_url", "ok", str(profile.values["base_url"])))
        except ConfigError as exc:
            checks.append(Check("base_url", "fail", exc.message))
    for key in profile.literal_secrets:
        if not profile.builtin:
            checks.append(
                Check(
                    key,
                    "warn",
                    f"{key} is written literally in {profile.source}; write "
                    f'{key} = "${{VAR}}" and keep the value in the environment or .env '
                    f'(or "${{keyring:SERVICE/NAME}}", or {key}_command)',
                )
            )
    if not profile.builtin:
        checks.extend(permission_checks([Path(profile.source), *dotenv]))
    checks.append(_limits_check(profile))
    checks.append(_apis_check(profile))
    if profile.values.get("production"):
        checks.append(Check("production", "ok", "production = true: writes need typed consent"))
    return checks


def _limits_check(profile: Profile) -> Check:
    """How long a request may take and how big an answer may be (DESIGN.md, Reliability)."""
    values = profile.values
    retries = int(values["retries"])
    return Check(
        "limits",
        "ok",
        f"each attempt within {values['timeout']:g}s, a lookup within "
        f"{profile.lookup_budget():g}s ({retries} {'retry' if retries == 1 else 'retries'}), "
        f"answers up to {values['max_answer_bytes']} bytes",
    )


def _apis_check(profile: Profile) -> Check:
    """Where and how each API is called: what `--online` proves or names the fault in."""
    values = profile.values
    helpers = " and ".join(p for p in (values["encrypt_path"], values["decrypt_path"]) if p)
    return Check(
        "apis",
        "ok",
        f"lookup: POST {values['lookup_path']}, messageCode {values['lookup_message_code']}, "
        f"credentials in {values['lookup_credentials']}; update: {values['update_method']} "
        f"{values['update_path']}, messageCode {values['update_message_code']}, credentials "
        f"in {values['update_credentials']}; helpers: {helpers or 'none'}; --online proves "
        "these settings",
    )


def _key_check(profile: Profile) -> Check:
    try:
        key = profile.key_bytes()
    except ConfigError as exc:
        return Check("encryption_key", "fail", exc.message)
    encoding = profile.values["key_encoding"]
    if encoding == "auto":
        readings = key_interpretations(profile.values["encryption_key"])
        encoding = f"auto: read as {readings[0][0]}"
    return Check(
        "encryption_key",
        "ok",
        f"decodes to {len(key)} bytes ({encoding}), {redact(profile.values['encryption_key'])}",
    )


def permission_checks(paths: list[Path | None]) -> list[Check]:
    """Warn about files holding secrets that group or others can read."""
    checks: list[Check] = []
    for path in paths:
        if path is None or not path.is_file():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            checks.append(
                Check(
                    path.name,
                    "warn",
                    f"{path} is readable by group or others (mode {mode:04o}); "
                    f"run: chmod 600 {path}",
                )
            )
    return checks

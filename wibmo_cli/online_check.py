"""`profiles check --online` and `--calibrate`: real requests, each read for what it proves.

    calibrate      the platform's helper endpoints, when it has them (calibrate.py): the IV
                   scheme and key encoding it uses itself, and whether it reads our tokens
    online         one Retrieve Cust Record of a number that should not exist: an answer
                   that decrypts proves lookup_path, the key and the iv scheme; its code
                   says whether the credentials were accepted (1303 not found is a pass)
    online update  one Update Profile probe that cannot change anyone: its answer proves
                   (or names the fault in) update_path, update_method, update_credentials
                   and update_message_code

The update probe names URN 0, which no platform issues (a URN is 1-11 digits, not all
zeros), carries no cardProfileId (mandatory: an update without it is refused) and no field
to change: each alone means nobody is changed. It goes through `Client.update`, so it is
sent at most once. A production profile is probed too, without a typed confirmation: the
probe cannot change anyone, and a check must run unattended (CI, cron); the output says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import (
    ConfigError,
    CryptoError,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
    UndecryptableAnswerError,
    WibmoError,
)
from wibmo_cli.messages import Identifiers, lookup_payload, new_client_txn_id, request_datetime
from wibmo_cli.probe_answers import (
    CODE_SETTINGS,
    KNOWN_LOOKUP_PATHS,
    LOOKUP,
    PROBE_URN,
    UPDATE,
    code_and_name,
    credential_advice,
    read_undecryptable,
    read_update_answer,
    update_refused,
)
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile

__all__ = ["LOOKUP", "PROBE_URN", "UPDATE", "credential_advice", "online_checks"]

if TYPE_CHECKING:
    from wibmo_cli.client import Client, Trace
    from wibmo_cli.send import AuditRecorder

PROBE_MOBILE: Final = "6000000000"
# The setting whose value each credential code points at.


def online_checks(
    profile: Profile,
    data_dir: Path,
    notice: Callable[[str], None],
    *,
    calibrate_only: bool = False,
    trace: Trace | None = None,
    audit: AuditRecorder | None = None,
) -> list[Check]:
    """The online lines of `profiles check` (`data_dir`: where an embedded sandbox keeps
    its database; `notice`: what to tell the user meanwhile). `calibrate_only`
    (--calibrate): the helpers, and the lookup round trip only where they are missing."""
    from wibmo_cli.calibrate import calibrate
    from wibmo_cli.endpoint import open_client

    async def run() -> list[Check]:
        async with open_client(profile, data_dir, notice=notice, trace=trace) as client:
            calibration = await calibrate(
                client, profile, lookup_probe(profile), asked=calibrate_only
            )
            checks = list(calibration.checks)
            if calibrate_only and calibration.answered:
                return checks
            lookup, reached, lookup_code = await lookup_check(client, profile)
            checks.append(lookup)
            if calibrate_only:
                return checks
            if not reached:
                checks.append(Check(UPDATE, "warn", "not tried: the lookup got no answer"))
                return checks
            if profile.values.get("production"):
                notice(
                    f"{profile.name}: production: one Update Profile probe naming URN 0 with "
                    "nothing to change is sent; it cannot change any customer"
                )
            ok = lookup.status == "ok"
            update = await update_check(
                client, profile, lookup_ok=ok, lookup_code=lookup_code, audit=audit
            )
            checks.append(update)
            return checks

    try:
        from wibmo_cli import eventloop

        return eventloop.run(run())
    except WibmoError as exc:  # the client could not be opened (embedded sandbox, headers)
        return [Check(LOOKUP, "fail", str(exc))]


def lookup_probe(profile: Profile) -> dict[str, Any]:
    """A Retrieve Cust Record of a mobile number that should not exist."""
    prefix = str(profile.get("mobile_prefix"))
    return lookup_payload(
        Identifiers(mobile=prefix + PROBE_MOBILE),
        message_code=int(profile.get("lookup_message_code")),
    )


def update_probe(profile: Profile) -> dict[str, Any]:
    """The Update Profile probe: URN 0, no cardProfileId, nothing to change (see above);
    productId only when the profile says the environment wants it."""
    payload: dict[str, Any] = {
        "messageCode": str(profile.get("update_message_code")),
        "clientTxnId": new_client_txn_id(),
        "requestDateTime": request_datetime(),
        "urn": PROBE_URN,
    }
    product_id = str(profile.values.get("product_id", ""))
    if product_id:
        payload["productId"] = product_id
    return payload


async def lookup_check(client: Client, profile: Profile) -> tuple[Check, bool, str | None]:
    """The lookup round trip, whether any HTTP answer came back at all, and the
    answer's responseCode (None when none came)."""
    try:
        exchange = await client.lookup(lookup_probe(profile))
    except HTTPStatusError as exc:
        if exc.status in (401, 403):
            return (
                Check(LOOKUP, "fail", f"the gateway rejected the api_key: {exc.message}"),
                True,
                None,
            )
        if exc.status == 404:
            path = profile.get("lookup_path")
            return (
                Check(
                    LOOKUP,
                    "fail",
                    f"lookup_path {path!r} not found ({exc.message}); the public material shows "
                    f"{KNOWN_LOOKUP_PATHS}",
                ),
                True,
                None,
            )
        return Check(LOOKUP, "fail", exc.message), True, None
    except UndecryptableAnswerError as exc:
        return read_undecryptable(profile, exc.token), True, None
    except CryptoError as exc:
        return (
            Check(
                LOOKUP,
                "fail",
                f"the endpoint answered but the answer does not decrypt ({exc.message}): wrong "
                "encryption_key or iv scheme; capture a token and run `wibmo decrypt --detect`",
            ),
            True,
            None,
        )
    except NetworkError as exc:
        return Check(LOOKUP, "fail", str(exc)), False, None
    except WibmoError as exc:
        return Check(LOOKUP, "fail", str(exc)), True, None
    answer = exchange.answer
    code, name = code_and_name(answer)
    if code in CODE_SETTINGS:
        return (
            Check(LOOKUP, "fail", credential_advice(profile, "lookup", f"{code} {name}", code)),
            True,
            code,
        )
    if code == "1055":
        return (
            Check(
                LOOKUP,
                "fail",
                "the platform could not read our request (1055 MALFORMED_REQUEST): the "
                "encryption_key or iv scheme differs from the platform's",
            ),
            True,
            code,
        )
    placement = profile.values["lookup_credentials"]
    if exchange.plain:
        return (
            Check(
                LOOKUP,
                "warn",
                f"lookup answered plain JSON, not a token: responseCode {code} {name}; "
                f'lookup_path, the credentials and lookup_credentials = "{placement}" are '
                "right, but an unencrypted answer proves nothing about the key and iv",
            ),
            True,
            code,
        )
    return (
        Check(
            LOOKUP,
            "ok",
            f"lookup round trip OK: answer decrypted, responseCode {code} {name}; lookup_path, "
            f'the credentials, lookup_credentials = "{placement}", key and iv = '
            f'"{profile.iv_scheme}" are right',
        ),
        True,
        code,
    )


async def update_check(
    client: Client,
    profile: Profile,
    *,
    lookup_ok: bool = False,
    lookup_code: str | None = None,
    audit: AuditRecorder | None = None,
) -> Check:
    """The Update Profile probe, sent once, read for what it proves. Audited like every
    update sent (`audit`): an entry before sending (none written: nothing sent) and one
    with the result."""
    payload = update_probe(profile)
    entry = {
        "command": "profiles check",
        "action": "update probe",
        "identifiers": f"urn {PROBE_URN}",
        "clientTxnId": payload["clientTxnId"],
        "fields": [],
    }
    try:
        if audit is not None:
            audit.record(**entry, result="sending")
    except ConfigError as exc:
        return Check(UPDATE, "fail", f"the probe was not sent: {exc.message}")
    result: dict[str, Any] = {"result": "answered"}
    try:
        exchange = await client.update(payload)
    except HTTPStatusError as exc:
        result = {"result": f"HTTP {exc.status}", "error": exc.message}
        check = update_refused(profile, exc)
    except OutcomeUnknownError as exc:
        result = {"result": "outcome unknown", "error": exc.cause}
        check = Check(
            UPDATE,
            "fail",
            f"no answer that proves the update settings: {exc.cause} (the probe names URN "
            f"{PROBE_URN} and changes no one; clientTxnId {exc.client_txn_id})",
        )
    except WibmoError as exc:
        result = {"result": "not sent", "error": exc.message}
        check = Check(UPDATE, "fail", str(exc))
    else:
        result["responseCode"] = exchange.answer.get("responseCode")
        check = read_update_answer(
            profile,
            exchange.answer,
            exchange.client_txn_id,
            plain=exchange.plain,
            lookup_ok=lookup_ok,
            lookup_code=lookup_code,
        )
    if audit is not None:
        with contextlib.suppress(ConfigError):  # sent: the check line says what came back
            audit.record(**entry, **result)
    return check

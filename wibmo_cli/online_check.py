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

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.answer import short
from wibmo_cli.bodies import is_code
from wibmo_cli.codes import explain, normalise_code
from wibmo_cli.errors import (
    ConfigError,
    CryptoError,
    HTTPStatusError,
    NetworkError,
    OutcomeUnknownError,
    WibmoError,
)
from wibmo_cli.messages import Identifiers, lookup_payload, new_client_txn_id, request_datetime
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile

if TYPE_CHECKING:
    from wibmo_cli.client import Client, Trace
    from wibmo_cli.send import AuditRecorder

PROBE_MOBILE: Final = "6000000000"
PROBE_URN: Final = "0"
LOOKUP: Final = "online"
UPDATE: Final = "online update"
# The setting whose value each credential code points at.
CODE_SETTINGS: Final = {
    "1262": "client_id",
    "1264": "bank_id",
    "1031": "bank_id",
    "1311": "secure_code",
    "1049": "secure_code",
    "1310": "consumer_custom_id",
}
# Where the public material puts each API (spec/public-notes.md), for a 404's hint.
KNOWN_LOOKUP_PATHS: Final = (
    "/api/v2/customer/retrieveCustRecord, /mob1/api/onboarding/v2/retrieveCustRecord, "
    "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
)
KNOWN_UPDATE_PATHS: Final = (
    "/mob1/api/onboarding/v1/updateProfile, /uat/sbx/api/onboarding/v3/updateprofile "
    "(lower case), /api/v2/updateProfileApi (by POST)"
)
API_NAMES: Final = {"lookup": "Retrieve Cust Record", "update": "Update Profile"}
MESSAGE_CODE_CODES: Final = frozenset({"1056"})
UPDATE_MESSAGE_CODES: Final = (1280, 1080)  # every sample's, the field table's


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
        return asyncio.run(run())
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
    code, name = _code(answer)
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


def update_refused(profile: Profile, exc: HTTPStatusError) -> Check:
    """An HTTP refusal of the probe: which setting it points at."""
    if exc.status in (401, 403):
        return Check(UPDATE, "fail", f"the gateway rejected the api_key: {exc.message}")
    if exc.status == 404:
        return Check(
            UPDATE,
            "fail",
            f"update_path {profile.get('update_path')!r} not found ({exc.message}); the "
            f"public material shows {KNOWN_UPDATE_PATHS}",
        )
    if exc.status == 405:
        method = str(profile.get("update_method"))
        other = "POST" if method == "PATCH" else "PATCH"
        return Check(
            UPDATE,
            "fail",
            f'update_method = "{method}" is not allowed ({exc.message}): try '
            f'update_method = "{other}"',
        )
    return Check(UPDATE, "fail", f"Update Profile refused the probe: {exc.message}")


UNKNOWN_FIELD: Final = "1045"  # the probe carries only what every update carries
MALFORMED: Final = "1055"


def read_update_answer(
    profile: Profile,
    answer: Mapping[str, Any],
    txn: str,
    *,
    plain: bool = False,
    lookup_ok: bool = False,
    lookup_code: str | None = None,
) -> Check:
    """What an answer to the probe proves: path and method always (it came from Update
    Profile), key and iv when it came encrypted (`plain`: it did not); the credentials
    and message code unless the code names one of them."""
    code, name = _code(answer)
    said = f"{code} {name} (clientTxnId {txn})"
    placement = str(profile.values["update_credentials"])
    if not is_code(answer.get("responseCode")):
        return Check(
            UPDATE,
            "fail",
            f"Update Profile answered without a responseCode (clientTxnId {txn}): that "
            "proves nothing about the update settings",
        )
    if code == UNKNOWN_FIELD:
        product = profile.values.get("product_id")
        fix = (
            f'product_id = "{product}" (sent as productId): try product_id = ""'
            if product
            else "the platform does not know a key every update carries: check "
            "update_message_code and update_path (which API version this is)"
        )
        return Check(UPDATE, "fail", f"Update Profile refused a key of the probe: {said}; {fix}")
    message_code = profile.get("update_message_code")
    if code in CODE_SETTINGS:
        return Check(
            UPDATE,
            "fail",
            credential_advice(
                profile, "update", said, code, lookup_took=lookup_ok, lookup_code=lookup_code
            ),
        )
    if code in MESSAGE_CODE_CODES or (code == "1055" and _about_message_code(answer)):
        others = [c for c in UPDATE_MESSAGE_CODES if c != message_code]
        return Check(
            UPDATE,
            "fail",
            f"update_message_code = {message_code} refused: {said}; try "
            f"update_message_code = {others[0]}",
        )
    if code == MALFORMED:  # it may not have read the token: key and iv are the lookup's
        return Check(
            UPDATE,
            "warn",
            f"Update Profile could not read the probe: {said}; proved update_path, "
            f'update_method = "{profile.get("update_method")}" and update_credentials = '
            f'"{placement}"; not proved: update_message_code and that it reads our tokens',
        )
    if normalise_code(code) == "00" or code in profile.values.get("success_codes", ("00",)):
        return Check(
            UPDATE,
            "warn",
            f"Update Profile answered success to a probe naming URN {PROBE_URN} with nothing "
            f"to change: {said}; the update settings reach the API, but ask the platform what "
            "it did with it",
        )
    method = profile.get("update_method")
    return Check(
        UPDATE,
        "ok",
        f"Update Profile answered {said} to a probe naming URN {PROBE_URN} with nothing to "
        f'change: proved update_path, update_method = "{method}", update_credentials = '
        f'"{placement}", update_message_code = {message_code}'
        f"{'' if plain else ', key and iv'}; not proved: "
        f"{'the key and iv (the answer came unencrypted), ' if plain else ''}the "
        f'field spellings (update_fields = "{profile.values.get("update_fields", "table")}"), '
        "which only a real update shows",
    )


def credential_advice(
    profile: Profile,
    api: str,
    said: str,
    code: str,
    *,
    lookup_took: bool = False,
    lookup_code: str | None = None,
) -> str:
    """What a credential code from `api` says to fix. The code names one credential
    missing or wrong where the API looked: its value is wrong (or empty), or the API
    wants the credentials in the other place. `lookup_took`: the lookup accepted the same
    values, so for Update Profile only the placement is left; `lookup_code`: the lookup
    was refused with the same code from the other place, so the value is at fault."""
    setting = CODE_SETTINGS[code]
    placement = str(profile.values[f"{api}_credentials"])
    other = "body" if placement == "headers" else "headers"
    where = f'{api}_credentials = "{placement}"'
    move = f'try {api}_credentials = "{other}"'
    refused = f"{API_NAMES[api]} refused the credentials: {said} with {where}"
    if setting == "consumer_custom_id" and not profile.values.get("consumer_custom_id"):
        return f"{refused}; set consumer_custom_id (sent as X-Consumer-Custom-ID)"
    if code in ("1031", "1049"):  # present where it looked, but wrong
        return f"{refused}; {setting} is wrong"
    if lookup_took:
        return f"{refused}; the lookup accepted the same {setting}, so {move}"
    lookup_placement = profile.values["lookup_credentials"]
    if api == "update" and lookup_code == code and lookup_placement != placement:
        return (
            f"{refused}; {setting} is wrong or empty: Retrieve Cust Record refused it the "
            f"same way with its credentials in the {lookup_placement}"
        )
    return (
        f"{refused}; {setting} is wrong or empty, or {API_NAMES[api]} wants it in the "
        f"{other}: {move}"
    )


def _code(answer: Mapping[str, Any]) -> tuple[str, str]:
    """The answer's responseCode and its name (the catalogue's, else the answer's)."""
    code = short(str(answer.get("responseCode", "?")))
    known = explain(code)
    return code, known.name if known else short(str(answer.get("responseMessage", "")))


def _about_message_code(answer: Mapping[str, Any]) -> bool:
    """Whether the answer's own words complain about the messageCode."""
    words = " ".join(str(answer.get(key, "")) for key in ("responseMessage", "description"))
    squeezed = words.lower().replace(" ", "").replace("_", "")
    return "messagecode" in squeezed

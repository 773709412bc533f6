"""What an answer to `profiles check --online`'s requests proves, and which setting it
names when it proves nothing: the credential codes (each names a value and where the API
looks for it), the Update Profile probe's answers, the paths the public material shows.
Pure: answers and profiles in, `Check` lines out (online_check.py sends the requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from wibmo_cli.answer import short
from wibmo_cli.bodies import is_code
from wibmo_cli.calibrate import detect_for, lines_to_write
from wibmo_cli.codes import explain, normalise_code
from wibmo_cli.errors import CryptoError, HTTPStatusError
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile

PROBE_URN: Final = "0"
LOOKUP: Final = "online"
UPDATE: Final = "online update"
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
    code, name = code_and_name(answer)
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


def code_and_name(answer: Mapping[str, Any]) -> tuple[str, str]:
    """The answer's responseCode and its name (the catalogue's, else the answer's)."""
    code = short(str(answer.get("responseCode", "?")))
    known = explain(code)
    return code, known.name if known else short(str(answer.get("responseMessage", "")))


def _about_message_code(answer: Mapping[str, Any]) -> bool:
    """Whether the answer's own words complain about the messageCode."""
    words = " ".join(str(answer.get(key, "")) for key in ("responseMessage", "description"))
    squeezed = words.lower().replace(" ", "").replace("_", "")
    return "messagecode" in squeezed


def read_undecryptable(profile: Profile, token: str) -> Check:
    """A lookup answer the profile cannot decrypt, read by `decrypt --detect`'s rule
    with every reading of the profile's key: the `iv = ...` line (and key_encoding) that
    reads it, so the user need not capture the token and run detect by hand."""
    said = "the lookup was answered with a token this profile does not decrypt"
    try:
        found = [d for d in detect_for(profile, token) if d.ok]
    except CryptoError as exc:
        return Check(LOOKUP, "fail", f"{said}, nor can it be read as a token: {exc.message}")
    if not found:
        return Check(
            LOOKUP,
            "fail",
            f"{said}, and no iv scheme (zero, key, prepend, ecb) with any reading of "
            "encryption_key does: wrong encryption_key or iv scheme (this encryption_key is "
            "not this environment's, or it uses a fixed IV: iv = 32 hex digits; -v shows the "
            "whole answer for `wibmo decrypt --detect`)",
        )
    hit = found[0]
    lines = lines_to_write(profile, hit)
    answer = hit.plaintext if isinstance(hit.plaintext, dict) else {}
    code, name = code_and_name(answer)
    return Check(
        LOOKUP,
        "fail",
        f'{said} (iv = "{profile.iv_scheme}"); detect reads it with {lines} (key read as '
        f"{hit.key_encoding}; the answer says responseCode {code} {name}): write {lines} "
        f"in profile {profile.name!r}",
    )

"""The environments the platform's public material shows, as the sandbox can serve them.

A `Variant` is one frozen value describing an environment (spec/public-notes.md, second
half, "Variants of endpoints and credentials"): where each API is and which method it
takes, where it wants the credentials, its message codes, how its answers are wrapped and
what counts as success, the Update Profile dialect, and the helper endpoints.
`wibmo sandbox --variant v3` serves one, so a profile can be rehearsed against an
environment before it meets the real one.

The seed variant is the sandbox as it always was: lenient, every known path, either
credential placement. Every other variant is strict: it answers as the platform does
when a client gets its environment wrong:

    a path it does not serve             404, the gateway's JSON
    another method                       405
    a credential not where this API      the platform's code for that credential
    wants it                             missing: 1262 clientId, 1264 bankId,
                                         1311 secureCode, 1310 X-Consumer-Custom-ID
    another message code                 1056 INVALID MESSAGE CODE (seed: 1055)

Where the evidence names nothing (the helper paths of most variants, the wallet's
message codes), a variant takes the seed document's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

LOOKUP_PATHS: Final = (
    "/api/v2/customer/retrieveCustRecord",
    "/mob1/api/onboarding/v2/retrieveCustRecord",
    "/uat/sbx/api/onboarding/v3/retrieveCustRecord",
)
UPDATE_PATHS: Final = (
    "/mob1/api/onboarding/v1/updateProfile",
    "/uat/sbx/api/onboarding/v3/updateprofile",
)
ENCRYPT_PATH: Final = "/api/v2/encrypt"
DECRYPT_PATH: Final = "/api/v2/decrypt"
MOB1_ENCRYPT_PATH: Final = "/mob1/api/v2/encrypt"
MOB1_DECRYPT_PATH: Final = "/mob1/api/v2/decrypt"

LOOKUP_METHOD: Final = "POST"
HELPER_METHOD: Final = "POST"
ENVELOPES: Final = ("token", "result", "encdata")


@dataclass(frozen=True, slots=True)
class Api:
    """One of the two APIs as a variant serves it.

    ``message_codes`` are the codes accepted (an answer carries the request's plus one:
    3422 -> 3423); ``credentials`` is where clientId, bankId, entityId, secureCode (and
    X-Consumer-Custom-ID) must be: "headers", "body" (JSON fields next to the token), or
    None for either (headers first), the seed's leniency.
    """

    paths: tuple[str, ...]
    method: str
    message_codes: tuple[str, ...]
    credentials: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "paths": list(self.paths),
            "method": self.method,
            "message_codes": list(self.message_codes),
            "credentials": self.credentials or "headers or body",
        }


@dataclass(frozen=True, slots=True)
class Variant:
    """An environment: both APIs, the answers' wrapping, the dialect, the helpers.

    ``consumer_id``: X-Consumer-Custom-ID must come with the credentials of every call
    (both APIs and the encrypt helper); any value is taken unless the sandbox's settings
    name one (then that one: SandboxSettings.consumer_custom_id, which every variant
    checks when set). ``envelope``: the key of the encrypted answer (``{"token": ...}``);
    ``success_code``: the responseCode of a success. ``update_fields`` ("table" |
    "sample"), ``date_format`` ("YYYYMMDD" | "DD-MM-YYYY") and ``documents`` ("list" |
    "flat") are the Update Profile dialect the variant insists on, None for either
    (update_rules.py enforces them). ``lenient``: also answers at every path the
    settings add (the profile's own, endpoint.sandbox_settings): the seed only.
    """

    name: str
    about: str  # one line: which source shows this environment
    lookup: Api
    update: Api
    encrypt_paths: tuple[str, ...]
    decrypt_paths: tuple[str, ...]
    consumer_id: bool = False
    envelope: str = "token"
    success_code: str = "00"
    wrong_message_code: str = "1056"
    update_fields: str | None = None
    date_format: str | None = None
    documents: str | None = None
    lenient: bool = False

    def __post_init__(self) -> None:
        if self.envelope not in ENVELOPES:
            raise ValueError(f"envelope {self.envelope!r} is not one of {', '.join(ENVELOPES)}")

    def api(self, name: str) -> Api:
        """The API called ``name`` ("lookup" | "update")."""
        return self.lookup if name == "lookup" else self.update

    def to_json(self) -> dict[str, Any]:
        """What a client must do to be answered (the control endpoint's status)."""
        return {
            "name": self.name,
            "about": self.about,
            "lookup": self.lookup.to_json(),
            "update": self.update.to_json(),
            "consumer_id_required": self.consumer_id,
            "encrypt_paths": list(self.encrypt_paths),
            "decrypt_paths": list(self.decrypt_paths),
            "envelope": self.envelope,
            "success_code": self.success_code,
            "wrong_message_code": self.wrong_message_code,
            "update_fields": self.update_fields,
            "date_format": self.date_format,
            "documents": self.documents,
        }


SEED: Final = Variant(
    name="seed",
    about="the sandbox as always: every known path, credentials in headers or body",
    lookup=Api(LOOKUP_PATHS, LOOKUP_METHOD, ("1930",), None),
    update=Api(UPDATE_PATHS, "PATCH", ("1280", "1080"), None),
    encrypt_paths=(ENCRYPT_PATH, MOB1_ENCRYPT_PATH),
    decrypt_paths=(DECRYPT_PATH, MOB1_DECRYPT_PATH),
    wrong_message_code="1055",
    lenient=True,
)

MOB1: Final = Variant(
    name="mob1",
    about="the QA suite's mob1 host: v2 retrieve (3422), v1 update, the field table",
    lookup=Api(
        ("/mob1/api/onboarding/v2/retrieveCustRecord",), LOOKUP_METHOD, ("3422",), "headers"
    ),
    update=Api(("/mob1/api/onboarding/v1/updateProfile",), "PATCH", ("1280", "1080"), "headers"),
    encrypt_paths=(MOB1_ENCRYPT_PATH,),
    decrypt_paths=(MOB1_DECRYPT_PATH,),
    consumer_id=True,  # the QA suite sends it on every call
    update_fields="table",
    date_format="YYYYMMDD",
    documents="list",
)

V3: Final = Variant(
    name="v3",
    about="the v3 UAT host: retrieve wants the credentials in the body, update in headers",
    lookup=Api(
        ("/uat/sbx/api/onboarding/v3/retrieveCustRecord",), LOOKUP_METHOD, ("1930",), "body"
    ),
    update=Api(("/uat/sbx/api/onboarding/v3/updateprofile",), "PATCH", ("1280",), "headers"),
    encrypt_paths=(ENCRYPT_PATH,),
    decrypt_paths=(DECRYPT_PATH,),
    consumer_id=True,
    update_fields="sample",
    date_format="DD-MM-YYYY",
    documents="list",
)

GITBOOK: Final = Variant(
    name="gitbook",
    about="the vendor's GitBook pages: Update Profile by POST at api/v2/updateProfileApi",
    lookup=Api(("/api/v2/customer/retrieveCustRecord",), LOOKUP_METHOD, ("1930",), "headers"),
    update=Api(("/api/v2/updateProfileApi",), "POST", ("1280",), "headers"),
    encrypt_paths=(ENCRYPT_PATH,),
    decrypt_paths=(DECRYPT_PATH,),
)

WALLET: Final = Variant(
    name="wallet",
    about='a closed-loop wallet: answers {"result": ...}, success 0000 (no HMAC: headers)',
    lookup=Api(
        ("/loyalty-points/v1/wallet/retrieveCustRecord",), LOOKUP_METHOD, ("1930",), "headers"
    ),
    update=Api(
        ("/loyalty-points/v1/wallet/onboarding/v3/updateProfile",), "POST", ("1280",), "headers"
    ),
    encrypt_paths=(ENCRYPT_PATH,),
    decrypt_paths=(DECRYPT_PATH,),
    envelope="result",
    success_code="0000",
)
"""The payment group's closed-loop wallet pages. Their authentication (a ``date`` header
and ``Authorization: hmac username=..., signature=...``) is NOT modelled: the published
descriptions contradict each other and neither reproduces the published example, so this
variant takes x-api-key and the credentials in headers like the others. Update Profile is
POST, as the page says (its index says PATCH)."""

VARIANTS: Final = {v.name: v for v in (SEED, MOB1, V3, GITBOOK, WALLET)}


def following(variant: Variant, profile: Mapping[str, Any]) -> Variant:
    """The lenient (seed) variant made to follow the profile it serves (a profile's
    resolved values): also its message codes and helper paths, its Update Profile method,
    and its first success code, so that an embedded sandbox, or `wibmo sandbox` for
    a profile, answers that profile whatever it says. (Its paths and either credential
    placement the seed already takes: `SandboxSettings` carries the profile's paths.)
    A strict variant is returned as it is: it is the environment, not the profile."""
    if not variant.lenient:
        return variant

    def codes(api: Api, key: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*api.message_codes, str(profile[key]))))

    def paths(known: tuple[str, ...], key: str) -> tuple[str, ...]:
        own = str(profile.get(key) or "")
        return tuple(dict.fromkeys((*known, "/" + own.lstrip("/")))) if own else known

    return replace(
        variant,
        lookup=replace(variant.lookup, message_codes=codes(variant.lookup, "lookup_message_code")),
        update=replace(
            variant.update,
            method=str(profile["update_method"]),
            message_codes=codes(variant.update, "update_message_code"),
        ),
        encrypt_paths=paths(variant.encrypt_paths, "encrypt_path"),
        decrypt_paths=paths(variant.decrypt_paths, "decrypt_path"),
        success_code=str(profile["success_codes"][0]),
    )


def by_name(name: str) -> Variant:
    """The variant called ``name``; `ValueError` lists the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(
            f"unknown variant {name!r}; known: {', '.join(VARIANTS)} (or list)"
        ) from None

"""The response-code catalogue: every code the platform is known to answer, in one table.

Sources, named in each entry's ``apis``:

    lookup   the code table of Retrieve Cust Record (spec/retrieve-cust-record-api.md)
    update   the "API error code" table of Update Profile (spec/update-profile-api.md)
    gateway  the credential checks in front of both APIs (spec/public-notes.md)
    public   "Response codes beyond the two documents", the second survey of the vendor's
             public pages (spec/public-notes.md): seen answered, never documented in full

``apis`` records which documents list a code; it is not a promise that another API
never answers it. Names are the documents' names in upper snake case, without the
leading underscore some rows carry ("_CARD_NOT_FOUND" is CARD_NOT_FOUND).

Where the documents disagree, the entry says so in a comment. The closed-loop wallet
pages reuse some numbers with other meanings (1010, 1030): their entries say so, and every
view shows an answer's code and responseMessage as received beside the catalogue's name.
The retrieve document also has a row with no code at all, DUPLICATE_STATUS_OFFSET; a
catalogue keyed by code cannot hold it, so it is left out (5000 DUPLICATE_STATUS is in).

Meanings follow what the sandbox answers (DESIGN.md, Sandbox), so that an agent
reading ``wibmo codes 1311`` gets the same story from the sandbox and production.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

SUCCESS: Final = "00"
# What counts as success where a profile does not say (its `success_codes` default).
DEFAULT_SUCCESS_CODES: Final = (SUCCESS,)


class Code(NamedTuple):
    """One ``responseCode``: what it means and what to do about it."""

    code: str
    name: str
    apis: tuple[str, ...]
    meaning: str
    action: str


class HttpStatus(NamedTuple):
    """One HTTP status as this platform and its gateway use it."""

    status: int
    name: str
    meaning: str
    action: str


SOURCES: Final = ("lookup", "update", "gateway", "public")  # what ``apis`` may name
_LOOKUP: Final = ("lookup",)
_UPDATE: Final = ("update",)
_BOTH: Final = ("lookup", "update")
_GATEWAY: Final = ("gateway",)
_PUBLIC: Final = ("public",)

_RETRY_LOOKUP_CHECK_UPDATE: Final = (
    "Lookups can simply be retried in a minute; for an update, look the customer up "
    "first to see whether it applied before sending it again. If it persists, send "
    "Wibmo support the clientTxnId and accosaTransactionId."
)
_BAD_DOC: Final = (
    "Check the number against the customer's document (typos, missing or extra "
    "characters, letter O vs digit 0) and resend with the corrected number."
)

# What to do about a code that depends on how the customer was searched for: `advice`
# fills {searched} (the identifier used) and {others} (the other ways to look up); the
# catalogue's own action, for when the search is not known, is the same text said of
# any identifier.
_SEARCH_ADVICE: Final[dict[str, str]] = {
    "1303": "Check the {searched} for typos and that you are on the right "
    "profile/environment; try looking up by {others}.",
    "1001": "Check the {searched} for typos and that you are on the right "
    "profile/environment; the customer may have no card or wallet on this program: "
    "try looking up by {others}.",
    "1357": "Look the customer up by {others} to see which cards/wallets exist on this "
    "environment, and use one of their URNs.",
}
# What to do about a code when the request was built by hand (`wibmo call`): the message
# code, the path or the fields may be what the platform refuses, not the profile's key.
# `advice` fills {message_code}, {path} and {fields} (the payload's keys) from `Called`.
_CALL_ADVICE: Final[dict[str, str]] = {
    "1055": "The platform may not take messageCode {message_code} at {path}, or a field it "
    "requires is missing (sent: {fields}): check both against the API's document. If "
    "lookups work on this profile its key is right; else check the profile's "
    "encryption_key, key_encoding and iv (`wibmo decrypt --detect` on a known-good token "
    "tells the scheme).",
    "1056": "The platform does not take messageCode {message_code} at {path}: check the "
    "API's document for its code (Retrieve Cust Record 1930, or 3422 on mob1 v2; Update "
    "Profile 1280) and that PATH is that API's, and that no field it requires is missing "
    "(sent: {fields}).",
}


class Called(NamedTuple):
    """What a request built by hand (`wibmo call`) sent: the advice on some codes names it."""

    message_code: int
    path: str
    fields: tuple[str, ...]  # the payload's keys, those wibmo fills left out


# The identifiers a lookup takes (`messages.Identifiers`' fields), as advice names them.
IDENTIFIER_NAMES: Final[dict[str, str]] = {
    "mobile": "mobile number",
    "urn": "URN",
    "customer_id": "customer id",
    "email": "email address",
}
_ANY: Final = {"searched": "identifier", "others": "another identifier (mobile, URN, "
               "customer id or email)"}  # fmt: skip

CATALOGUE: Final[tuple[Code, ...]] = (
    # -- success ---------------------------------------------------------------------
    Code("00", "SUCCESS", _BOTH,
         "The request was processed successfully.",
         "Nothing to do."),
    # -- credentials and request envelope ------------------------------------------
    Code("1262", "CLIENT_ID_NOT_PRESENT_IN_THE_REQUEST", _GATEWAY,
         "The clientId was missing from the request or is not one the platform knows.",
         "Check the profile's client_id against the one Wibmo issued for this environment, "
         "and its credentials setting (headers or body) against the endpoint version."),
    Code("1264", "BANK_ID_NOT_PRESENT_IN_THE_REQUEST", _GATEWAY,
         "The bankId was missing from the request.",
         "Set bank_id in the profile, and check its credentials setting (headers or body) "
         "matches the endpoint version."),
    Code("1031", "INVALID_BANK_ID", _LOOKUP,
         "The bankId sent does not match the bank this client is enrolled with.",
         "Check the profile's bank_id against the one Wibmo issued for this environment "
         "(sandbox and production ids differ)."),
    Code("1310", "XCONSUMERKEY_NOT_PRESENT_IN_REQUEST", _GATEWAY,
         "This endpoint requires the X-Consumer-Custom-ID value and the request had none.",
         "Set consumer_custom_id in the profile (the v3 endpoints need it) to the value "
         "Wibmo issued."),
    Code("1311", "SECURE_CODE_NOT_PRESENT_IN_REQUEST", _GATEWAY,
         "The secureCode was missing from the request or does not match this client's.",
         "Check the profile's secure_code (and the environment variable it names) and its "
         "credentials setting (headers or body); sandbox and production codes differ."),
    Code("1248", "INVALID_JWT_TOKEN", _LOOKUP,
         "The platform rejected the request's token as invalid.",
         "Check the profile's encryption_key, key_encoding and iv; run "
         "`wibmo decrypt --detect` on a token the platform accepted to find the scheme."),
    Code("1055", "MALFORMED_REQUEST", _LOOKUP,
         "The platform could not decrypt the token or parse the JSON inside it.",
         "Check the profile's encryption_key, key_encoding and iv (`wibmo decrypt --detect` "
         "on a known-good token tells the scheme); rerun with --verbose to see the payload."),
    Code("1093", "INVALID_CLIENT_TXN_ID", _LOOKUP,
         "The clientTxnId was missing, too long or had characters the platform refuses.",
         "The tool generates clientTxnIds itself; if you supplied one, use a short "
         "alphanumeric value, otherwise report it as a bug with the --verbose trace."),
    Code("1054", "DUPLICATE_REQUEST", _LOOKUP,
         "The clientTxnId was already used by an earlier request.",
         "Send again with a fresh clientTxnId (the tool makes a new one per request unless "
         "you gave one); for an update, look the customer up first: the earlier one may "
         "have applied."),
    Code("1511", "ORIGINAL_REQUEST_MISSING", _LOOKUP,
         "The platform could not find the original request this one refers to.",
         "Check the clientTxnId you are asking about and the profile/environment it was "
         "sent on; if both are right, escalate to Wibmo support with it."),
    # -- finding the customer ------------------------------------------------------
    Code("1303", "CUSTOMER_DETAILS_NOT_PRESENT", _LOOKUP,
         "No customer matches the identifier sent.",
         _SEARCH_ADVICE["1303"].format_map(_ANY)),
    Code("1001", "CARD_NOT_FOUND", _LOOKUP,
         "No card or wallet matches the identifier sent.",
         _SEARCH_ADVICE["1001"].format_map(_ANY)),
    Code("1231", "DATA_NOT_FOUND", _UPDATE,
         "No customer record matches the identifier sent with the update.",
         "Look the customer up with the same identifier to confirm it exists on this "
         "profile/environment, then resend with the URN or customer id the lookup shows."),
    Code("1302", "INVALID_CUSTOMER", _LOOKUP,
         "The customer exists but is not valid for this request (for example another "
         "program's customer, or a closed account).",
         "Check you are on the program's own profile; if the customer should be valid, "
         "escalate to Wibmo support with the identifier and clientTxnId."),
    Code("1263", "CUSTOMER_ID_NOT_PRESENT", _LOOKUP,
         "The request carried no customer identifier (mobile, URN, customer id or email).",
         "Give exactly one of --mobile, --urn, --customer-id or --email; check the CSV "
         "column when running a batch."),
    Code("1245", "CUSTOMER_ID_CAN_NOT_BE_EMPTY", _UPDATE,
         "The update named no customer: customer id, mobile and URN were all empty.",
         "Give one of --urn, --mobile or --customer-id; check the --from-file data."),
    Code("1275", "INVALID_CUSTOMER_ID", _LOOKUP,
         "The customer id sent is malformed or unknown to the platform.",
         "Check the customer id (entityCIF) for typos and case; try looking up by mobile "
         "or URN."),
    Code("1237", "DUPLICATE_MOBILE_NUMBER_WITH_MULTIPLE_ACCOUNT", _BOTH,
         # The retrieve document calls it DUPLICATE_PHONE_NUMBER_WITH_MULTIPLE_ACCOUNT.
         "The mobile number is linked to more than one account, so it does not identify "
         "one customer.",
         "Look the customer up (or update them) by URN or customer id instead; ask the "
         "customer for their card's URN if needed."),
    Code("1307", "DUPLICATE_EMAIL_ID_LINKED_WITH_MULTIPLE_ACCOUNTS", _LOOKUP,
         "The email address is linked to more than one account, so it does not identify "
         "one customer.",
         "Look the customer up by mobile, URN or customer id instead."),
    # -- field checks ------------------------------------------------------------------
    Code("1034", "INVALID_MOBILE_NUMBER", _BOTH,
         "The mobile number is not a valid Indian mobile number.",
         "Send 10 digits starting 6-9; the tool adds the profile's mobile_prefix (91), so "
         "check that setting if the number itself is right."),
    Code("1092", "INVALID_EMAIL_ADDRESS", _BOTH,
         "The email address is not valid (format, or longer than 50 characters).",
         "Check the address for typos, spaces and a missing domain, e.g. name@example.com."),
    Code("1088", "INVALID_DATE_FORMAT", ("update", "public"),
         # The public pages also call it INVALID REQUEST DATE FORMAT.
         "A date or date-time field is not in the expected format or is not a real date.",
         "Send dates as YYYYMMDD and date-times as YYYYMMDDHHMMSS; check date of birth, "
         "document expiry and the KYC/update date stamps. Where this environment wants "
         "dateOfBirth as DD-MM-YYYY (the samples' spelling), set the profile's "
         "update_date_format."),
    Code("1090", "CARD_PROFILEID_MANDATORY", _UPDATE,
         "The update did not say the customer's present KYC profile (cardProfileId).",
         "Look the customer up to see their current profile id and pass it (30, 150 or "
         "300) with the update."),
    Code("1091", "INVALID_CARDPROFILE_ID", _UPDATE,
         "A KYC profile id in the update is not one of 30 (Simple CDD), 150 (Full CDD) "
         "or 300 (No CDD).",
         "Resend with 30, 150 or 300 for both the present and the new profile id."),
    Code("1309", "CARDPROFILE_MISTMATCH", _UPDATE,
         # "MISTMATCH" is the document's spelling, kept as the platform sends it.
         "The present KYC profile id sent does not match the customer's actual profile.",
         "Look the customer up, use the profile id it shows as the present one, and "
         "resend."),
    Code("1306", "PROFILE_NOTFOUND", _UPDATE,
         "The KYC profile asked for is not configured for this program.",
         "Check with the program manager which profile ids the program has; Wibmo must "
         "configure a missing one."),
    Code("1305", "AML_NOT_CONFIGURED_FOR_PRODUCT", _UPDATE,
         "The program has no AML configuration, so the platform cannot process this KYC "
         "change.",
         "Nothing to fix in the request: raise it with Wibmo support to configure AML "
         "for the product."),
    Code("1290", "FIRSTNAME_CANNOT_BE_BLANK", _UPDATE,
         "The update had an empty first name.",
         "Send the customer's first name with the update (--first-name)."),
    Code("1300", "DOC_TYPE_CANNOT_BE_BLANK", _UPDATE,
         "A document was sent without its document type.",
         "Give the type with every document number: Aadhar, Pancard, VoterId, "
         "Driverlicense, Passport or jobcard."),
    Code("1238", "INVALID_VOTERID_NUMBER", _UPDATE,
         "The voter id (EPIC) number is not valid: it must be 3 letters and 7 digits.",
         _BAD_DOC),
    Code("1239", "INVALID_PASSPORT_NUMBER", _UPDATE,
         "The passport number is not valid: it must be 1 letter and 7 digits.",
         _BAD_DOC),
    Code("1240", "INVALID_ADHAR_NUMBER", _UPDATE,
         "The Aadhaar number is not valid: 12 digits, not starting 0 or 1, with a "
         "correct check digit.",
         _BAD_DOC),
    Code("1241", "INVALID_DRIVING_LICENCE_NUMBER", _UPDATE,
         "The driving licence number is not valid (state code, RTO code, year, 7 digits).",
         _BAD_DOC),
    Code("1242", "INVALID_PAN_NUMBER", _UPDATE,
         "The PAN is not valid: it must be 5 letters, 4 digits and 1 letter.",
         _BAD_DOC),
    # -- platform failures -------------------------------------------------------------
    Code("1052", "SYSTEM_ERROR", _LOOKUP,
         "The platform failed while processing the request.",
         _RETRY_LOOKUP_CHECK_UPDATE),
    Code("1500", "SYSTEM_ERROR_UNKNOWN", _LOOKUP,
         "The platform failed with an error it could not classify.",
         _RETRY_LOOKUP_CHECK_UPDATE),
    Code("1501", "SYSTEM_ERROR_DB", _LOOKUP,
         "The platform's database failed while processing the request.",
         _RETRY_LOOKUP_CHECK_UPDATE),
    Code("1503", "SYSTEM_ERROR_CACHE", _LOOKUP,
         "The platform's cache failed while processing the request.",
         _RETRY_LOOKUP_CHECK_UPDATE),
    Code("1510", "SYSTEM_ERROR_DROP_REQ", _LOOKUP,
         "The platform dropped the request without processing it (usually overload).",
         _RETRY_LOOKUP_CHECK_UPDATE),
    Code("5000", "DUPLICATE_STATUS", _LOOKUP,
         "The platform reports the request as a duplicate of one already processed.",
         "Do not resend; look the customer up to see the current state, and give Wibmo "
         "support the clientTxnId if the state is not what you expect."),
    # -- seen on the public pages only (spec/public-notes.md, second survey) ------------
    Code("0000", "SUCCESS_CLOSED_LOOP", _PUBLIC,
         "Success, as the closed-loop wallet pages write it. wibmo counts it as success only "
         "for a profile whose success_codes lists it; elsewhere it is an unexpected code.",
         'If this environment answers 0000 for success, add success_codes = ["00", "0000"] '
         "to its profile; exit codes and views then treat it as success."),
    Code("1009", "CARD_CANCELLED_CLOSED_EXPIRED", _PUBLIC,
         "The card or wallet is cancelled, closed or expired: the platform will not act "
         "on it.",
         "Look the customer up to see each card's status; use the URN of an active card, "
         "or tell the customer this card is closed (a new card is issued by the program, "
         "not by this tool)."),
    Code("1010", "CARD_TEMPORARY_BLOCK", _PUBLIC,
         "The card is temporarily blocked. The closed-loop wallet pages "
         "use 1010 with another meaning: read the responseMessage as received.",
         "Look the customer up to confirm the card's status; the block must be lifted "
         "(customer's app or the program's back office) before the card can be changed. If "
         "the responseMessage says something else, act on what it says."),
    Code("1012", "CARD_PENDING_CANCELLATION", _PUBLIC,
         "A cancellation of the card is under way.",
         "Do not change the card; ask the program's back office whether the cancellation "
         "was intended, and look the customer up again once it has gone through."),
    Code("1013", "AML_MIN_LIMIT", _PUBLIC,
         "The program's AML rules refuse this at the customer's present KYC level (the "
         "limit for a minimum-KYC customer).",
         "Look the customer up for their KYC profile: a KYC upgrade (to Full KYC, 150) "
         "lifts the limit; if the limit looks wrong, send Wibmo support the clientTxnId."),
    Code("1030", "INVALID_MESSAGE", _PUBLIC,
         "The platform could not accept the request message (a field missing or not what "
         "this API expects). The closed-loop wallet pages use 1030 with another meaning: "
         "read the responseMessage as received.",
         "Rerun with --verbose to see the decrypted request; check the profile's paths, "
         "message codes and update_fields against this environment's documentation."),
    Code("1032", "INVALID_CLIENT_CHANNEL", _PUBLIC,
         "This client is not enabled for this channel or API on this environment.",
         "Check the profile's client_id and base_url are the pair Wibmo issued for this "
         "environment; ask Wibmo to enable the API for the client."),
    Code("1045", "UNABLE_TO_PROCESS_REQUEST_CAUSE_OF_UNKNOWN_FIELD", _PUBLIC,
         "The request carried a field this API version does not know: another version's "
         "spelling, or a key sent as null.",
         "Rerun with --verbose to see the keys sent; set the profile's update_fields "
         "(table or sample) and product_id to what this environment documents, and send "
         "only the fields you mean to change."),
    Code("1049", "INVALID_SECURE_CODE", _PUBLIC,
         "The secureCode sent does not match this client's.",
         "Check the profile's secure_code (and the variable it names) is the one for this "
         "environment, and where it goes (lookup_credentials / update_credentials: headers "
         "or body)."),
    Code("1051", "CHECKSUM_FAILED", _PUBLIC,
         # The source cuts the name off after CHECKSUM FAILED.
         "The platform's integrity check of the request failed.",
         "Check the profile's encryption_key, key_encoding and iv (`wibmo profiles check "
         "NAME --online`, or `wibmo decrypt --detect` on a token the platform accepted); if "
         "they are right, send Wibmo support the clientTxnId."),
    Code("1056", "INVALID_MESSAGE_CODE", _PUBLIC,
         "The messageCode is not the one this path expects.",
         "Check the profile's lookup_message_code and update_message_code against this "
         "environment: Update Profile is 1280 in the samples (1080 in the field table), "
         "the mob1 v2 retrieve may want 3422."),
    Code("1058", "INVALID_WALLETS", _PUBLIC,
         "The wallet named in the request is not valid for this customer or program.",
         "Look the customer up and use the URN of one of their cards; check you are on "
         "the program's own profile."),
    Code("1121", "CARD_CREDIT_DEBIT_BLOCK", _PUBLIC,
         "The card is blocked for credits and debits.",
         "Look the customer up for the card's status; the block is the program's back "
         "office's or risk team's to lift: ask them before trying again."),
    Code("1304", "MORE_THAN_ONE_CUSTOMER_IDENTIFIER_NOT_ALLOWED", _PUBLIC,
         "The request named the customer in more than one way (e.g. mobile and URN) and "
         "this environment takes only one.",
         "Give exactly one of --mobile, --urn, --customer-id or --email (one column in a "
         "batch file)."),
    Code("1320", "REQUEST_DATETIME_IS_MANDATORY", _PUBLIC,
         "The request had no requestDateTime.",
         "wibmo always sends requestDateTime (YYYYMMDDHHMMSS); if you built the payload "
         "yourself (`wibmo call`, `wibmo encrypt`), add it; otherwise report a bug with "
         "the --verbose trace."),
    Code("1357", "WALLET_DETAILS_NOT_FOUND", _PUBLIC,
         "The platform has no wallet for this customer or URN.",
         _SEARCH_ADVICE["1357"].format_map(_ANY)),
    Code("1366", "PROGRAM_IS_INACTIVE", _PUBLIC,
         "The program (product) this client or card belongs to is inactive.",
         "Nothing to fix in the request: ask the program manager whether the program is "
         "live on this environment; Wibmo support can activate it."),
    Code("1368", "PROGRAM_NOT_FOUND", _PUBLIC,
         "The platform found no program for this request (product, client or bank).",
         "Check the profile's product_id, client_id and bank_id for this environment; ask "
         "Wibmo which product id the program has."),
    Code("1504", "SYSTEM_CACHE_FAILURE", _PUBLIC,
         "The platform's cache failed while processing the request.",
         _RETRY_LOOKUP_CHECK_UPDATE),
)  # fmt: skip

HTTP_STATUSES: Final[tuple[HttpStatus, ...]] = (
    HttpStatus(200, "OK",
               "The request reached the platform; the answer's responseCode says how it went.",
               "Read the responseCode (`wibmo codes CODE`)."),
    HttpStatus(400, "Bad Request",
               "The gateway or platform could not accept the request body (not JSON, no "
               "token, or credentials in the wrong place).",
               "Rerun with --verbose to see what was sent; check the profile's credentials "
               "setting (headers or body) against the endpoint version."),
    HttpStatus(401, "Unauthorized",
               'The gateway refused the API key: {"message": "Invalid authentication '
               'credentials"} means the x-api-key is wrong or missing.',
               "Check the profile's api_key (and the environment variable it names) is the "
               "key for this environment; sandbox and production keys differ."),
    HttpStatus(403, "Forbidden",
               "The gateway knows the API key but does not allow this call (path not "
               "granted to the key, or the source IP is not whitelisted).",
               "Check base_url and the paths are the ones granted to this key, and ask "
               "Wibmo whether your egress IP is whitelisted for the environment."),
    HttpStatus(404, "Not Found",
               "No API lives at this URL.",
               "Check the profile's base_url, lookup_path and update_path; the paths vary "
               "by version (v1/v2/v3, updateProfile vs updateprofile)."),
    HttpStatus(405, "Method Not Allowed",
               "The URL exists but not for this HTTP method (lookups are POST, updates "
               "PATCH).",
               "Check lookup_path and update_path are not swapped or pointing at the "
               "other API."),
    HttpStatus(429, "Too Many Requests",
               "The gateway is rate-limiting this client.",
               "Lookups retry with backoff by themselves; for batches lower --rate or "
               "--concurrency."),
    HttpStatus(500, "Internal Server Error",
               "The platform failed while handling the request.",
               _RETRY_LOOKUP_CHECK_UPDATE),
    HttpStatus(502, "Bad Gateway",
               "The gateway could not get an answer from the platform (often an HTML page).",
               "Usually transient: lookups retry by themselves; for an update, look the "
               "customer up before resending. Escalate to Wibmo if it lasts."),
    HttpStatus(503, "Service Unavailable",
               "The platform is down for maintenance or overloaded.",
               "Retry later; for an update, look the customer up before resending. "
               "Escalate to Wibmo if it lasts."),
    HttpStatus(504, "Gateway Timeout",
               "The platform did not answer the gateway in time; the request may or may "
               "not have been processed.",
               "Lookups retry by themselves; for an update, look the customer up to see "
               "whether it applied before resending."),
)  # fmt: skip

# cardStatus as the payment group's retrieve page lists it (spec/public-notes.md); the
# retrieve document itself names only 0, Active. Any other number is shown as it came,
# with the answer's statusDescription.
CARD_STATUSES: Final[dict[int, str]] = {
    0: "Active",
    1: "ICC Authorized",
    9: "Pre-active",
    12: "Temporary Block",
    13: "Permanent Block",
    14: "ICC Expired",
    21: "Disabled",
}

_BY_CODE: Final[dict[str, Code]] = {entry.code: entry for entry in CATALOGUE}
_BY_NAME: Final[dict[str, Code]] = {entry.name: entry for entry in CATALOGUE}
_BY_STATUS: Final[dict[int, HttpStatus]] = {entry.status: entry for entry in HTTP_STATUSES}


def normalise_code(code: str | int) -> str:
    """A response code as the catalogue keys it: ``0``, ``"0"``, ``" 00 "`` -> ``"00"``.

    "0" and "00" are the documents' two spellings of success. Anything else comes back
    stripped and otherwise unchanged ("1303" stays "1303", "0000" stays "0000": whether
    an all-zero code means success is a profile's to say, see `is_success`).
    """
    text = str(code).strip()
    return SUCCESS if text in ("0", SUCCESS) else text


def explain(code: str | int) -> Code | None:
    """The catalogue entry for a response code, or None when the code is unknown."""
    return _BY_CODE.get(normalise_code(code))


def by_name(name: str) -> Code | None:
    """The catalogue entry named `name` in any case, with spaces or hyphens for the
    underscores (the public pages write "INVALID SECURE CODE"); None when none is."""
    wanted = "_".join(name.replace("-", " ").replace("_", " ").split()).upper()
    return _BY_NAME.get(wanted) if wanted else None


def in_code_order(codes: Iterable[Code]) -> tuple[Code, ...]:
    """`codes` by number ("00" first, then "0000", "1001", ...): how people look one up."""
    return tuple(
        sorted(codes, key=lambda c: (int(c.code), c.code) if c.code.isdigit() else (-1, c.code))
    )


def advice(code: Code, searched: Iterable[str] = (), called: Called | None = None) -> str:
    """What to do about `code` after a lookup by `searched` (`IDENTIFIER_NAMES` keys: the
    identifiers given), or after the request `called` (`wibmo call`): the one place advice
    fits what was sent, so that a 1303 after a URN never says "try the URN" and a 1055
    after a hand-built request names its message code and fields, not only the key.
    Without either, the catalogue's action as it stands."""
    if called is not None and code.code in _CALL_ADVICE:
        return _CALL_ADVICE[code.code].format(
            message_code=called.message_code,
            path=called.path,
            fields=", ".join(called.fields) or "none",
        )
    kinds = [kind for kind in searched if kind in IDENTIFIER_NAMES]
    template = _SEARCH_ADVICE.get(code.code)
    if template is None or len(kinds) != 1:
        return code.action
    others = [name for kind, name in IDENTIFIER_NAMES.items() if kind != kinds[0]]
    return template.format(
        searched=IDENTIFIER_NAMES[kinds[0]], others=f"{', '.join(others[:-1])} or {others[-1]}"
    )


def explain_http(status: int) -> HttpStatus | None:
    """The catalogue entry for an HTTP status, or None when it has none."""
    return _BY_STATUS.get(status)


def find(text: str) -> Code | HttpStatus | None:
    """What `wibmo codes TEXT` explains: an HTTP status for three digits 100-599 the
    catalogue lists, else a responseCode or a code's name (any case)."""
    text = text.strip()
    if len(text) == 3 and text.isascii() and text.isdigit() and 100 <= int(text) <= 599:
        status = explain_http(int(text))
        if status is not None:
            return status
    return (explain(text) or by_name(text)) if text else None


def unknown_code(text: str) -> str:
    """The one line for a code `find` does not know."""
    return f"unknown code {text.strip()!r}: not in the catalogue; `wibmo codes` lists them all"


def is_success(code: object, success_codes: Iterable[str] = DEFAULT_SUCCESS_CODES) -> bool:
    """Whether a responseCode means success: the one place that decides it.

    `success_codes` is the profile's `success_codes` setting (default ``("00",)``); each
    is compared as `normalise_code` spells it, so "0" and "00" are one code. Nothing is
    guessed: "0000" is success only where the profile lists it (some closed-loop pages
    answer it), and a missing code (None) or a container never is.
    """
    if not isinstance(code, str | int) or isinstance(code, bool):
        return False
    found = normalise_code(code)
    return bool(found) and found in {normalise_code(accepted) for accepted in success_codes}

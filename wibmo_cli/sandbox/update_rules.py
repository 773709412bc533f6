"""Update Profile (1280 or 1080 -> 1281 or 1081): check a change, then apply it to the store.

Pure over the store and plain dicts, like `lookup`. The checks, in the order made:

    a key (or a docList entry's) in no spelling set    1045  (the context's dialect:
                                                              `fields.spelling_set`)
    a null value, where the context sets update_fields 1045
    no customerId, urn or customerMobile               1245
    customerMobile invalid                             1034
    nobody found (or identifiers disagree)             1231
    customerMobile on several customers                1237
    cardProfileId missing                              1090
    cardProfileId not 1, 30, 150, 200, 300             1091  (a card's present profile)
    newcardProfileId not 30, 150, 300                  1091  (what Update Profile sets)
    customer has no card or wallet                     1306
    cardProfileId is not the card's profile            1309  (by URN: that card; else
                                                              the customer's cards with it)
    firstName given but blank                          1290
    a document without docType                         1300
    dateOfBirth not in the context's date format       1088  (when it sets one)
    a field fails its validate.py check                validate.PLATFORM_CODES (1034, 1092,
                                                              1088, 1238-1242), else 1055
                                                              (model.checked)
    new mobile already another customer's              1237
    upgrade to 150 (full KYC) without an address       1055 (description says what is missing)
    upgrade to 150 without any identity document       1300 (none in the request or on file)

Field names are matched case-insensitively. By default (the context's `update_fields`,
`date_format`, `documents` all None) both spelling sets are accepted (``emailId``/``email``,
``cardholderCity``/``city``, ..., the documents' other names: `fields.FIELDS`, whose
validators are the sandbox's checks too), documents as a ``docList`` and flat, and any
date format validate.py reads; a key in none of them is 1045. A context that sets them
takes only that spelling set, that form of documents and that date format, and no null,
as the platform version it stands for. ``updateVectors``, ``sorCustomerId`` and other
known fields without a customer column are accepted and ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

from wibmo_cli import kyc, validate
from wibmo_cli.errors import InputError
from wibmo_cli.fields import DOC_KEYS, DOC_LIST, FIELDS, spelling_set
from wibmo_cli.sandbox.model import (
    MALFORMED,
    UNKNOWN_FIELD,
    Context,
    Document,
    PlatformError,
    checked,
    fields_of,
    given,
    platform_code,
    today8,
)
from wibmo_cli.sandbox.store import Store

# The fields the sandbox keeps, each in its customer column.
_KEPT: Final = tuple(f for f in FIELDS if f.column)
# Date-times that are checked but not kept.
_STAMPS: Final = ("kycDateStamp", "updateDate", "profileIdChangeDate")
_DOC_KEYS: Final = frozenset(key.lower() for key in DOC_KEYS)
# The exact form of dateOfBirth in each date format a context may set.
_DATE_FORMATS: Final = {
    "YYYYMMDD": re.compile(r"[0-9]{8}"),
    "DD-MM-YYYY": re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}"),
}
_SHOW_KEY: Final = 40  # a key named in an answer's description is cut to this
_spelling_set = lru_cache(maxsize=None)(spelling_set)  # a few dialects, every request


def update(store: Store, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Apply a 1280/1080 request to the store (uncommitted) and answer it, or `PlatformError`."""
    _check_keys(payload, ctx)
    fields = fields_of(payload)
    rowid, urn = _identify(store, fields)

    current_raw = given(fields, "cardprofileid")
    if current_raw is None:
        raise PlatformError("1090")
    current = checked(validate.card_profile_id, current_raw, field="cardProfileId")
    new_raw = given(fields, "newcardprofileid")
    new = (
        checked(validate.kyc_profile_id, new_raw, field="newcardProfileId")
        if new_raw is not None
        else None
    )

    cards = store.cards(rowid)
    if not cards:
        raise PlatformError("1306")
    targets = [card for card in cards if (urn is None or card.urn == urn)]
    matched = [card for card in targets if card.profile_id == current]
    if not matched:
        profiles = sorted({card.profile_id for card in targets})
        raise PlatformError("1309", f"the card's profile is {', '.join(map(str, profiles))}")

    if "firstname" in fields and given(fields, "firstname") is None:
        raise PlatformError("1290")
    entries = _document_entries(fields)
    changes = _customer_changes(fields)
    if "mobile" in changes and set(store.by_mobile(changes["mobile"])) - {rowid}:
        raise PlatformError("1237", "the new mobile number is another customer's")
    _check_date_format(fields, ctx)
    for stamp in _STAMPS:
        value = given(fields, stamp.lower())
        if value is not None:
            checked(validate.datetime14, value, field=stamp)
    documents = [_document(rowid, entry) for entry in entries]

    if new == kyc.FULL_KYC and any(card.profile_id != kyc.FULL_KYC for card in matched):
        if given(fields, "cardholderaddress", "address", "addressline1") is None:
            raise PlatformError(
                MALFORMED, "cardholderAddress or addressline1 is required to upgrade to 150"
            )
        if not documents and not store.documents(rowid):
            raise PlatformError("1300", "an identity document is required to upgrade to 150")

    today = today8()
    changes["updated_on"] = today
    store.update_customer(rowid, changes)
    store.merge_documents(documents)
    store.touch_cards(rowid, today)
    if new is not None:
        store.set_profile([card.urn for card in matched], new)

    customer = store.customer(rowid)
    return {
        "customerId": customer.customer_id if customer else "",
        "urn": str(matched[0].urn),
        "responseCode": "00",
        "messageCode": ctx.message_code + 1,
        "clientTxnId": ctx.client_txn_id,
        "clientId": ctx.client_id,
        "responseDateTime": ctx.now,
        "accosaTransactionId": ctx.accosa_id,
        "accosaRefNo": store.next_ref_no(),
        "responseMessage": "SUCCESS",
        "bankId": ctx.bank_id,
        "cardProfileId": new if new is not None else current,
    }


def _check_keys(payload: dict[str, Any], ctx: Context) -> None:
    """1045 for a key of the request (or of a docList entry) outside the context's spelling
    set, and, where the context sets its spelling set (`update_fields`), for a null."""
    allowed = _spelling_set(ctx.update_fields, ctx.documents)
    strict = ctx.update_fields is not None
    entries = fields_of(payload).get(DOC_LIST.lower()) if DOC_LIST.lower() in allowed else None
    inner = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
    for keys, known in ((payload, allowed), *((entry, _DOC_KEYS) for entry in inner)):
        for key, value in keys.items():
            if key.strip().lower() not in known:
                shown = key if len(key) <= _SHOW_KEY else key[:_SHOW_KEY] + "..."
                raise PlatformError(UNKNOWN_FIELD, f"unknown field {shown!r}")
            if strict and value is None:
                raise PlatformError(UNKNOWN_FIELD, f"{key} is null")


def _check_date_format(fields: dict[str, object], ctx: Context) -> None:
    """1088 for a dateOfBirth not in the context's date format (when it sets one)."""
    value = given(fields, "dateofbirth")
    form = _DATE_FORMATS.get(ctx.date_format or "")
    if value is not None and form is not None and not form.fullmatch(value):
        raise PlatformError("1088", f"dateOfBirth must be {ctx.date_format}")


def _identify(store: Store, fields: dict[str, object]) -> tuple[int, int | None]:
    """The customer's row id and the URN given (if any), or 1245 / 1034 / 1231 / 1237."""
    customer_id = given(fields, "customerid")
    urn_raw = given(fields, "urn")
    mobile = given(fields, "customermobile")
    if customer_id is None and urn_raw is None and mobile is None:
        raise PlatformError("1245")
    found: set[int] | None = None
    urn: int | None = None
    if mobile is not None:
        number = checked(validate.mobile, mobile, field="customerMobile", prefix="")
        found = set(store.by_mobile(number))
    if customer_id is not None:
        ids = set(store.by_customer_id(customer_id))
        found = ids if found is None else found & ids
    if urn_raw is not None:
        urn = _urn(urn_raw)
        ids = set(store.by_urn(urn)) if urn is not None else set()
        found = ids if found is None else found & ids
    if not found:
        raise PlatformError("1231")
    if len(found) > 1:
        raise PlatformError("1237")
    return found.pop(), urn


def _urn(value: str) -> int | None:
    """The URN as a number, or None when it cannot be one (nobody has it: 1231)."""
    try:
        return int(validate.urn(value))
    except InputError:
        return None


def _customer_changes(fields: dict[str, object]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for f in _KEPT:
        value = given(fields, *(name.lower() for name in f.platform_names))
        if value is not None:
            changes[f.column] = checked(
                f.normalise, value, where=f.name, code=platform_code(f.check), mobile_prefix=""
            )
    return changes


def _document_entries(fields: dict[str, object]) -> list[dict[str, object]]:
    """The request's documents (``docList`` and flat ``docType``/``docNumber``), or 1055/1300."""
    raw = fields.get("doclist")
    entries: list[dict[str, object]] = []
    if raw is not None:
        if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
            raise PlatformError(MALFORMED, "docList must be a list of objects")
        entries = [fields_of(entry) for entry in raw]
    if any(name in fields for name in ("doctype", "docnumber")):
        entries.append(fields)
    for entry in entries:
        if given(entry, "doctype") is None:
            raise PlatformError("1300")
    return entries


def _document(rowid: int, entry: dict[str, object]) -> Document:
    kind = given(entry, "doctype") or ""
    try:
        doc_type = validate.doc_type(kind, field="docType")
    except InputError as exc:
        raise PlatformError(MALFORMED, exc.message) from None
    number = checked(
        validate.DOCUMENTS[doc_type].check, given(entry, "docnumber") or "", field="docNumber"
    )
    expiry = given(entry, "docexpiry")
    country = given(entry, "doccountry")
    return Document(
        customer=rowid,
        doc_type=doc_type,
        doc_number=number,
        doc_country=(
            checked(validate.text, country, field="docCountry", max_len=50) if country else ""
        ),
        doc_expiry=checked(validate.date_yyyymmdd, expiry, field="docExpiry") if expiry else "",
    )

"""Update Profile (1280 or 1080 -> 1281 or 1081): check a change, then apply it to the store.

Pure over the store and plain dicts, like `lookup`. The checks, in the order made:

    no customerId, urn or customerMobile               1245
    customerMobile invalid                             1034
    nobody found (or identifiers disagree)             1231
    customerMobile on several customers                1237
    cardProfileId missing                              1090
    cardProfileId / newcardProfileId not 30, 150, 300  1091
    customer has no card or wallet                     1306
    cardProfileId is not the card's profile            1309  (by URN: that card; else
                                                              the customer's cards with it)
    firstName given but blank                          1290
    a document without docType                         1300
    a field fails its validate.py check                validate.PLATFORM_CODES (1034, 1092,
                                                              1088, 1238-1242), else 1055
                                                              (model.checked)
    new mobile already another customer's              1237
    upgrade to 150 (full KYC) without an address       1055 (description says what is missing)
    upgrade to 150 without any identity document       1300 (none in the request or on file)

Field names are matched case-insensitively, and both spellings the documents use are
accepted (``emailId``/``email``, ``cardholderCity``/``city``, ...: `fields.FIELDS`, whose
validators are the sandbox's checks too). ``updateVectors``, ``sorCustomerId`` and other
fields without a customer column are accepted and ignored.
"""

from __future__ import annotations

from typing import Any, Final

from wibmo_cli import kyc, validate
from wibmo_cli.errors import InputError
from wibmo_cli.fields import FIELDS
from wibmo_cli.sandbox.model import (
    MALFORMED,
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


def update(store: Store, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Apply a 1280/1080 request to the store (uncommitted) and answer it, or `PlatformError`."""
    fields = fields_of(payload)
    rowid, urn = _identify(store, fields)

    current_raw = given(fields, "cardprofileid")
    if current_raw is None:
        raise PlatformError("1090")
    current = checked(validate.kyc_profile_id, current_raw, field="cardProfileId")
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
        value = given(fields, *(name.lower() for name in (f.name, *f.spellings)))
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

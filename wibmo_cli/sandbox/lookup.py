"""Retrieve Cust Record (1930 -> 1931): find one customer, show each of their cards.

Pure over the store and plain dicts: `lookup` answers the success dict or raises
`PlatformError`; the gateway wraps either into the encrypted answer.

Identifiers (any of them; when several are given they must all lead to one customer):

    customerMobile  10 digits, with or without 91   invalid 1034, on several customers 1237
    emailId         case-insensitive                invalid 1092, on several customers 1307
    customerId                                      invalid 1275
    urn             the customer of that card       not a URN: not found, 1303

None given 1055; nobody found 1303; a customer without any card 1001 (CARD NOT FOUND).

The answer's shape is the sandbox's `shape`: "cardList" (the sample: every card with its
customer's fields), "flat" (the field table: the card asked for, or the first, at the top
level, balance as availBal) or "mixed" (newer pages: the customer's fields at the top
level, sub-wallets included, and only `CARD_FIELDS` in each cardList entry).
"""

from __future__ import annotations

import json
from typing import Any, Final

from wibmo_cli import kyc, validate
from wibmo_cli.crypto import compact_json
from wibmo_cli.sandbox.model import (
    Card,
    Context,
    Customer,
    Document,
    PlatformError,
    checked,
    display_date,
    fields_of,
    given,
)
from wibmo_cli.sandbox.store import Store

# What a card entry holds in the "mixed" shape; everything else is the customer's.
CARD_FIELDS: Final = frozenset(
    {
        "urn",
        "cardNumber",
        "lastFourDigit",
        "cardType",
        "cardStatus",
        "statusDescription",
        "profileId",
        "kycName",
        "availableBalance",
        "entityName",
        "createdOn",
        "updatedOn",
        "cardLinked",
    }
)

# Optional customer columns shown when set, under these names (not in the sample).
_OPTIONAL: Final = (
    ("alternate_email", "alternateEmail"),
    ("gender", "gender"),
    ("address", "address"),
    ("address1", "addressLine1"),
    ("address2", "addressLine2"),
    ("address3", "addressLine3"),
    ("city", "city"),
    ("state", "state"),
    ("country", "country"),
    ("zip_code", "zipCode"),
)


def lookup(store: Store, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """The success answer for a 1930 request, or `PlatformError`."""
    fields = fields_of(payload)
    mobile = given(fields, "customermobile")
    email = given(fields, "emailid")
    customer_id = given(fields, "customerid")
    urn = given(fields, "urn")
    if mobile is None and email is None and customer_id is None and urn is None:
        raise PlatformError("1055", "no customerMobile, urn, customerId or emailId")
    asked = (mobile, email, customer_id, urn)
    rowid, card_urn = store.remembered(("find", asked), lambda: _find(store, *asked))
    cards, entries = store.remembered(("cards", rowid), lambda: _entries(store, rowid))

    answer: dict[str, Any]
    if ctx.shape == "flat":
        chosen = next((i for i, card in enumerate(cards) if card.urn == card_urn), 0)
        answer = {
            ("availBal" if key == "availableBalance" else key): value
            for key, value in entries[chosen].items()
        }
    elif ctx.shape == "mixed":
        answer = {key: value for key, value in entries[0].items() if key not in CARD_FIELDS}
        answer["cardList"] = [
            {key: value for key, value in entry.items() if key in CARD_FIELDS} for entry in entries
        ]
    else:
        head = store.remembered(("head", rowid), lambda: compact_json({"cardList": entries}))
        answer = Spliced(head, entries)
    answer.update(
        bankId=ctx.bank_id,
        clientId=ctx.client_id,
        responseDateTime=ctx.now,
        clientTxnId=ctx.client_txn_id,
        accosaTransactionId=ctx.accosa_id,
        messageCode=ctx.message_code + 1,  # 1930 -> 1931, mob1's 3422 -> 3423
        responseMessage="SUCCESS",
        responseCode="00",
    )
    return answer


class Spliced(dict[str, Any]):
    """A ``cardList`` answer: ``{"cardList": entries}`` and what follows it (`lookup` adds
    the request's own fields), with the JSON of that first part made once per customer
    (``head``, as `compact_json` writes it). `plaintext` uses it while the answer still
    begins with those very entries."""

    __slots__ = ("entries", "head")

    def __init__(self, head: bytes, entries: list[dict[str, Any]]) -> None:
        super().__init__(cardList=entries)
        self.head = head
        self.entries = entries


def plaintext(answer: dict[str, Any]) -> bytes:
    """``compact_json(answer)``, the same bytes, sooner for a `Spliced` answer (the JSON
    of its customer part is ~40% of an answer's cost to send)."""
    if isinstance(answer, Spliced) and answer.get("cardList") is answer.entries:
        first = next(iter(answer))
        if first == "cardList" and len(answer) > 1:
            rest = compact_json({key: value for key, value in answer.items() if key != first})
            return answer.head[:-1] + b"," + rest[1:]
    return compact_json(answer)


def _find(
    store: Store, mobile: str | None, email: str | None, customer_id: str | None, urn: str | None
) -> tuple[int, int | None]:
    """The customer these identifiers lead to, and the URN asked for; `PlatformError`
    when they are invalid or lead to nobody or to several customers."""
    found: set[int] | None = None
    if mobile is not None:
        number = checked(validate.mobile, mobile, code="1034", prefix="")
        found = _narrow(found, store.by_mobile(number))
    if email is not None:
        found = _narrow(found, store.by_email(checked(validate.email, email, code="1092")))
    if customer_id is not None:
        found = _narrow(
            found, store.by_customer_id(checked(validate.customer_id, customer_id, code="1275"))
        )
    card_urn: int | None = None
    if urn is not None:
        card_urn = int(checked(validate.urn, urn, code="1303"))
        found = _narrow(found, store.by_urn(card_urn))
    if not found:
        raise PlatformError("1303")
    if len(found) > 1:
        raise PlatformError("1237" if mobile is not None else "1307")
    return found.pop(), card_urn


def _entries(store: Store, rowid: int) -> tuple[list[Card], list[dict[str, Any]]]:
    """The customer's cards and their ``cardList`` entries (never changed once made:
    answers share them); `PlatformError` 1001 for a customer without a card."""
    customer = store.customer(rowid)
    cards = store.cards(rowid)
    if customer is None or not cards:
        raise PlatformError("1001")
    docs = [_document(doc) for doc in store.documents(rowid)]
    extra = json.loads(customer.extra) if customer.extra != "{}" else {}
    return cards, [card_entry(customer, card, docs, extra) for card in cards]


def card_entry(
    customer: Customer, card: Card, docs: list[dict[str, str]], extra: dict[str, Any]
) -> dict[str, Any]:
    """One ``cardList`` entry: the card with its customer's fields, in the sample's order."""
    entry: dict[str, Any] = {
        "lastName": customer.last_name,
        "panValid": customer.pan_valid,
        "docList": docs,
        "cardType": card.card_type,
        "mobile": "91" + customer.mobile,
        "updatedOn": display_date(max(card.updated_on, customer.updated_on)),
        "kycName": kyc.sandbox_kyc_name(card.profile_id),
        "createdOn": display_date(card.created_on),
        "availableBalance": card.balance,
        "urn": card.urn,
        "firstName": customer.first_name,
        "lastFourDigit": card.card_number[-4:],
        "statusDescription": card.status_description,
        "entityName": card.entity_name,
        "profileId": card.profile_id,
        "dob": display_date(customer.dob),
        "reKyc": customer.re_kyc,
        "customerId": customer.customer_id,
        "cardNumber": card.card_number,
        "cardStatus": card.status,
        "email": customer.email,
    }
    if not customer.dob:
        del entry["dob"]
    for column, name in _OPTIONAL:
        value = getattr(customer, column)
        if value:
            entry[name] = value
    entry.update(extra)
    return entry


def _document(doc: Document) -> dict[str, str]:
    shown = {"docNumber": doc.doc_number, "docType": doc.doc_type}
    if doc.doc_country:
        shown["docCountry"] = doc.doc_country
    if doc.doc_expiry:
        shown["docExpiry"] = doc.doc_expiry
    return shown


def _narrow(found: set[int] | None, ids: list[int]) -> set[int]:
    return set(ids) if found is None else found & set(ids)

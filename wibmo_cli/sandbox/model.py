"""The sandbox's records (one row each in SQLite) and how the platform shows their values."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from wibmo_cli import validate
from wibmo_cli.codes import explain
from wibmo_cli.errors import InputError

_MONTHS: Final = "JanFebMarAprMayJunJulAugSepOctNovDec"  # English, whatever the locale


@dataclass(slots=True)
class Customer:
    """A cardholder. Dates are YYYYMMDD, ``mobile`` the bare 10 digits."""

    id: int
    customer_id: str
    first_name: str
    last_name: str
    mobile: str
    email: str
    alternate_email: str
    dob: str
    gender: str
    address: str
    address1: str
    address2: str
    address3: str
    city: str
    state: str
    country: str
    zip_code: str
    pan_valid: bool
    re_kyc: bool
    extra: str  # JSON object of the newer optional fields (riskCategory, form60, ...)
    created_on: str
    updated_on: str


@dataclass(slots=True)
class Card:
    """A card or wallet of a customer; ``balance`` in paise."""

    urn: int
    customer: int
    card_number: str
    card_type: str
    status: int
    status_description: str
    entity_name: str
    profile_id: int
    balance: int
    created_on: str
    updated_on: str


@dataclass(slots=True)
class Document:
    """An identity document; ``doc_type`` is validate.py's canonical name."""

    customer: int
    doc_type: str
    doc_number: str
    doc_country: str = ""
    doc_expiry: str = ""


CUSTOMER_COLUMNS: Final = tuple(Customer.__dataclass_fields__)
CARD_COLUMNS: Final = tuple(Card.__dataclass_fields__)
DOCUMENT_COLUMNS: Final = tuple(Document.__dataclass_fields__)


class PlatformError(Exception):
    """A business answer other than success: the code, and for updates what went wrong."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


MALFORMED: Final = "1055"  # the platform's answer for a request it cannot use
UNKNOWN_FIELD: Final = "1045"  # a key (or a null) the platform's version does not take


def checked(check: Callable[..., Any], value: object, *, code: str = "", **options: Any) -> Any:
    """``check(value, **options)`` (a validate.py validator), or the platform's answer when
    the value fails it: `code`, else Update Profile's code for that validator
    (`validate.PLATFORM_CODES`), else 1055. The one way the sandbox turns a failed
    check into a platform code."""
    try:
        return check(value, **options)
    except InputError as exc:
        raise PlatformError(code or platform_code(check), exc.message) from None


def platform_code(check: Callable[..., Any]) -> str:
    """Update Profile's answer to a value that fails validate.py's `check`."""
    return validate.PLATFORM_CODES.get(check.__name__, MALFORMED)


def response_message(code: str) -> str:
    """The platform's responseMessage for a code: its name with spaces."""
    entry = explain(code)
    if entry is None:
        return "SYSTEM ERROR"
    return entry.name.replace("_", " ").strip()


def now14() -> str:
    """Local date and time as YYYYMMDDHHMMSS."""
    return time.strftime("%Y%m%d%H%M%S")


def today8() -> str:
    """Local date as YYYYMMDD."""
    return time.strftime("%Y%m%d")


@lru_cache(maxsize=4096)  # three per card in every lookup answer, over few distinct days
def display_date(yyyymmdd: str) -> str:
    """``20221116`` -> ``16-Nov-2022``, the platform's style; anything else unchanged."""
    if len(yyyymmdd) != 8 or not _ascii_digits(yyyymmdd) or not 1 <= int(yyyymmdd[4:6]) <= 12:
        return yyyymmdd
    month = 3 * (int(yyyymmdd[4:6]) - 1)
    return f"{yyyymmdd[6:]}-{_MONTHS[month : month + 3]}-{yyyymmdd[:4]}"


def number_or_text(value: str) -> int | str:
    """``"2010"`` -> 2010 (the platform sends bankId as a number); other text unchanged."""
    return int(value) if _ascii_digits(value) else value


def _ascii_digits(text: str) -> bool:
    """Only 0-9 (``str.isdigit`` also takes "²" and other digits `int` refuses)."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Context:
    """What a business answer needs besides the request: who asked, this answer's ids, and
    how strictly Update Profile reads its keys.

    Each of `update_fields` ("table" | "sample"), `date_format` ("YYYYMMDD" |
    "DD-MM-YYYY") and `documents` ("list" | "flat") is None by default: either is taken,
    as the sandbox always has. Set, it is one environment's dialect (`fields.Dialect`), as
    the platform of that version speaks it (sandbox/update_rules.py says what each does).
    """

    client_id: str
    bank_id: int | str
    client_txn_id: str
    accosa_id: int
    message_code: int
    now: str
    shape: str = "cardList"
    update_fields: str | None = None
    date_format: str | None = None
    documents: str | None = None


def fields_of(payload: dict[str, object]) -> dict[str, object]:
    """The payload's fields keyed by lower-case name, stripped ("customerId " is in a doc)."""
    return {key.strip().lower(): value for key, value in payload.items()}


def given(fields: dict[str, object], *names: str) -> str | None:
    """The first of ``names`` present with a non-blank value, as stripped text."""
    for name in names:
        value = fields.get(name)
        if value is None or isinstance(value, dict | list):
            continue
        text = str(value).strip()
        if text:
            return text
    return None

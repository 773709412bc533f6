"""Pure validators, one per kind of field: the normalised value, or `InputError`.

Each message is one line naming the field (pass ``field="--mobile"`` to name the CLI
option) and the rule, e.g.

    --mobile '12345': must be a 10-digit Indian mobile number starting 6-9 (optionally
    with 91 / +91)

Identity document numbers are masked in messages (`masking.mask_value`), as everywhere
else in the tool's output.

The document types are one table (`DOCUMENTS`: canonical name, aliases, validator,
whether it carries an expiry), used by update validation and by the sandbox.

The sandbox reuses these functions to emulate the platform's checks: `PLATFORM_CODES`
maps a validator's name to the Update Profile error code the platform answers for it
(`sandbox.model.checked` is the one place that applies it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Final, NamedTuple

from wibmo_cli import kyc
from wibmo_cli.errors import InputError
from wibmo_cli.lazyre import lazy
from wibmo_cli.masking import mask_value

PLATFORM_CODES: Final[dict[str, str]] = {
    "mobile": "1034",
    "email": "1092",
    "date_yyyymmdd": "1088",
    "datetime14": "1088",
    "kyc_profile_id": "1091",
    "card_profile_id": "1091",
    "voter_id": "1238",
    "passport": "1239",
    "aadhaar": "1240",
    "driving_licence": "1241",
    "pan": "1242",
}

MAX_AGE_YEARS: Final = 120
_SHOW_MAX: Final = 40

_SEPARATORS: Final = lazy(r"[\s\-.()]+")
_DIGITS: Final = lazy(r"[0-9]+")
_EMAIL: Final = lazy(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CUSTOMER_ID: Final = lazy(r"[A-Za-z0-9_\-./]{1,20}")
_DATE_FORMS: Final = (
    (lazy(r"([0-9]{4})([0-9]{2})([0-9]{2})"), "ymd"),
    (lazy(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"), "ymd"),
    (lazy(r"([0-9]{2})-([0-9]{2})-([0-9]{4})"), "dmy"),
    (lazy(r"([0-9]{2})/([0-9]{2})/([0-9]{4})"), "dmy"),
)
_DATETIME_FORMS: Final = (
    lazy(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})"),
    lazy(r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})"),
)
_GENDERS: Final = {
    key: word
    for word in ("Male", "Female", "Transgender")
    for key in (word.lower(), word[0].lower())
}
_ZIP: Final = lazy(r"[1-9][0-9]{5}")
_PAN: Final = lazy(r"[A-Z]{3}[PCHABGJLFT][A-Z][0-9]{4}[A-Z]")
_VOTER_ID: Final = lazy(r"[A-Z]{3}[0-9]{7}")
_PASSPORT: Final = lazy(r"[A-PR-WY][0-9]{7}")
_DRIVING_LICENCE: Final = lazy(r"[A-Z]{2}[ -]?[0-9]{2}[ -]?(?:19|20)[0-9]{2}[ -]?[0-9]{7}")
_JOBCARD: Final = lazy(r"[A-Za-z0-9\-/]{1,30}")
_CKYC: Final = lazy(r"[0-9]{14}")
_NAME_PUNCTUATION: Final = frozenset(" .'-")
_NAME_MAX: Final = 50
_CONTROL: Final = lazy(r"[\x00-\x1f\x7f]")

# Verhoeff's tables: the dihedral group D5 (d), the position permutation (p), inverses.
_VERHOEFF_D: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P: Final = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_VERHOEFF_INV: Final = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


# -- message helpers -------------------------------------------------------------------


def _show(value: object) -> str:
    """The offending value for a message: quoted, one line, not too long."""
    raw = str(value)
    if len(raw) > _SHOW_MAX:
        raw = raw[: _SHOW_MAX - 3] + "..."
    return repr(raw)


def _fail(field: str, value: object, rule: str, *, masked: bool = False) -> InputError:
    """The one-line error; an identity document number masked (`masking.mask_value`)."""
    shown = repr(mask_value(str(value).strip(), width=_SHOW_MAX)) if masked else _show(value)
    return InputError(f"{field} {shown}: {rule}")


# -- contact and identifiers -----------------------------------------------------------


def mobile(value: str | int, *, prefix: str = "91", field: str = "mobile") -> str:
    """An Indian mobile number as the platform wants it: ``prefix`` + 10 digits.

    Accepts 10 digits, 91 + 10, +91 + 10, 0091 + 10 or 0 + 10, with spaces, dashes,
    dots and parentheses anywhere. ``prefix=""`` returns the bare 10 digits.
    """
    rule = "must be a 10-digit Indian mobile number starting 6-9 (optionally with 91 / +91)"
    compact = _SEPARATORS.sub("", str(value))
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not _DIGITS.fullmatch(digits):
        raise _fail(field, value, rule)
    if plus:
        national = digits[2:] if len(digits) == 12 and digits.startswith("91") else ""
    elif len(digits) == 10:
        national = digits
    elif len(digits) == 12 and digits.startswith("91"):
        national = digits[2:]
    elif len(digits) == 14 and digits.startswith("0091"):
        national = digits[4:]
    elif len(digits) == 11 and digits.startswith("0"):
        national = digits[1:]
    else:
        national = ""
    if len(national) != 10 or national[0] not in "6789":
        raise _fail(field, value, rule)
    return prefix + national


def email(value: str, *, field: str = "email") -> str:
    """An email address (local@domain.tld, at most 50 characters), stripped."""
    raw = str(value).strip()
    if len(raw) > 50:
        raise _fail(field, value, f"must be at most 50 characters (got {len(raw)})")
    if not _EMAIL.fullmatch(raw):
        raise _fail(field, value, "must be an email address like name@example.com")
    return raw


def urn(value: str | int, *, field: str = "urn") -> str:
    """A card URN: 1-11 digits, not all zeros; leading zeros are dropped."""
    raw = str(value).strip()
    if not _DIGITS.fullmatch(raw) or len(raw) > 11:
        raise _fail(field, value, "must be a URN of 1-11 digits")
    stripped = raw.lstrip("0")
    if not stripped:
        raise _fail(field, value, "must be a URN of 1-11 digits, not all zeros")
    return stripped


def customer_id(value: str, *, field: str = "customer id") -> str:
    """A customer id (entityCIF): 1-20 letters, digits or ``_-./``, no spaces."""
    raw = str(value).strip()
    if not _CUSTOMER_ID.fullmatch(raw):
        raise _fail(
            field, value, "must be 1-20 characters: letters, digits and _ - . / (no spaces)"
        )
    return raw


# -- dates -----------------------------------------------------------------------------


def date_yyyymmdd(
    value: str | int,
    *,
    field: str = "date",
    past: bool = False,
    future: bool = False,
    today: date | None = None,
) -> str:
    """A real calendar date as YYYYMMDD.

    Accepts YYYYMMDD, YYYY-MM-DD, DD-MM-YYYY and DD/MM/YYYY. ``past=True`` (a date of
    birth) requires a day before today and at most 120 years ago; ``future=True`` (an
    expiry) requires today or later.
    """
    if past and future:
        raise ValueError("a date cannot be required both past and future")
    raw = str(value).strip()
    parsed = _parse_date(raw)
    if parsed is None:
        raise _fail(
            field,
            value,
            "must be a real date as YYYYMMDD, YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY",
        )
    today = today or date.today()
    if past:
        if parsed >= today:
            raise _fail(field, value, "must be a date before today")
        if parsed < _years_before(today, MAX_AGE_YEARS):
            raise _fail(field, value, f"must be less than {MAX_AGE_YEARS} years ago")
    if future and parsed < today:
        raise _fail(field, value, "must be today or later")
    return parsed.strftime("%Y%m%d")


def _parse_date(raw: str) -> date | None:
    for pattern, order in _DATE_FORMS:
        match = pattern.fullmatch(raw)
        if match is None:
            continue
        first, month, last = (int(group) for group in match.groups())
        year, day = (first, last) if order == "ymd" else (last, first)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28) + timedelta(days=1)


def datetime14(value: str | int, *, field: str = "date-time") -> str:
    """A real date and time as YYYYMMDDHHMMSS (also from YYYY-MM-DDTHH:MM:SS / space)."""
    rule = "must be a real date-time as YYYYMMDDHHMMSS or YYYY-MM-DD HH:MM:SS"
    raw = str(value).strip()
    for form in _DATETIME_FORMS:
        match = form.fullmatch(raw)
        if match is None:
            continue
        try:
            year, month, day, hour, minute, second = (int(group) for group in match.groups())
            moment = datetime(year, month, day, hour, minute, second)
        except ValueError:
            break
        return moment.strftime("%Y%m%d%H%M%S")
    raise _fail(field, value, rule)


# -- profile fields --------------------------------------------------------------------


def gender(value: str, *, field: str = "gender") -> str:
    """Male, Female or Transgender (any case, or M / F / T)."""
    word = _GENDERS.get(str(value).strip().lower())
    if word is None:
        raise _fail(field, value, "must be Male, Female or Transgender (or M / F / T)")
    return word


def zip_code(value: str | int, *, field: str = "zip code") -> str:
    """An Indian PIN code: 6 digits, the first 1-9 (a space inside is dropped)."""
    raw = re.sub(r"\s+", "", str(value))
    if not _ZIP.fullmatch(raw):
        raise _fail(field, value, "must be a 6-digit Indian PIN code not starting with 0")
    return raw


def kyc_profile_id(value: str | int, *, field: str = "KYC profile id") -> int:
    """One of the KYC profile ids Update Profile sets (`kyc.UPDATABLE`: 30, 150, 300)."""
    return _profile_id(value, field, kyc.UPDATABLE)


def card_profile_id(value: str | int, *, field: str = "card's KYC profile id") -> int:
    """A card's present KYC profile id, as cardProfileId carries it: any profile a card
    can be on (`kyc.CARD_PROFILES`: 1, 30, 150, 200, 300)."""
    return _profile_id(value, field, kyc.CARD_PROFILES)


def _profile_id(value: str | int, field: str, among: tuple[int, ...]) -> int:
    raw = str(value).strip()
    if _DIGITS.fullmatch(raw) and len(raw) <= 4 and int(raw) in among:
        return int(raw)
    raise _fail(field, value, f"must be one of {kyc.listed(among)}")


def flag(value: str | bool, *, field: str = "flag") -> bool:
    """True or false: a JSON boolean, or true/false, yes/no, y/n, 1/0 in any case."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("true", "yes", "y", "1"):
        return True
    if word in ("false", "no", "n", "0"):
        return False
    raise _fail(field, value, "must be true or false")


def name(value: str, *, field: str = "name") -> str:
    """A person's name: 1-50 letters of any script, spaces and ``.'-``; NFC, runs of
    spaces collapsed.

    The update document sets no alphabet ("First Name of the cardholder", only never
    blank), so Ásha, Zoë and आशा are names: a letter is any Unicode letter, followed by
    its accents or vowel signs (combining marks). A digit of any script, any other
    symbol or punctuation, and a control or invisible format character are refused.
    """
    stripped = str(value).strip()
    if any(unicodedata.category(char).startswith("C") or char in _INVISIBLE for char in stripped):
        raise _fail(field, value, "must be one line without control or invisible characters")
    raw = unicodedata.normalize("NFC", " ".join(stripped.split()))
    if not 1 <= len(raw) <= _NAME_MAX or not _name_shaped(raw):
        raise _fail(field, value, f"must be 1-{_NAME_MAX} characters: letters, spaces and . ' -")
    return raw


# Unicode's default-ignorable characters that are not format (Cf) characters: they draw
# nothing, yet are letters or marks (U+3164 HANGUL FILLER is a letter): a name of them
# looks blank, and one in a name changes it invisibly (an attack review).
_INVISIBLE: Final = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def _name_shaped(raw: str) -> bool:
    """Letters (a combining mark only right after a letter or mark) and the name's
    punctuation, with at least one letter."""
    after_letter = False
    for char in raw:
        kind = unicodedata.category(char)[0]
        if kind == "M" and not after_letter:
            return False
        if kind not in "LM" and char not in _NAME_PUNCTUATION:
            return False
        after_letter = kind in "LM"
    return any(char.isalpha() for char in raw)


def text(value: str, *, field: str = "text", max_len: int = 100) -> str:
    """Non-empty single-line text of at most ``max_len`` characters, stripped."""
    stripped = str(value).strip()
    if not stripped:
        raise _fail(field, value, "must not be empty")
    if _CONTROL.search(stripped):
        raise _fail(field, value, "must be a single line without control characters")
    if len(stripped) > max_len:
        raise _fail(field, value, f"must be at most {max_len} characters (got {len(stripped)})")
    return stripped


# -- identity documents ----------------------------------------------------------------


def pan(value: str, *, field: str = "pan") -> str:
    """A PAN: 5 letters (the 4th the holder type), 4 digits, 1 letter; uppercased."""
    return _shaped(
        value,
        field,
        _PAN,
        "must be a PAN like ABCPE1234F: 5 letters, 4 digits, 1 letter, "
        "the 4th letter one of P C H A B G J L F T",
    )


def _shaped(value: str, field: str, shape: re.Pattern[str], what: str) -> str:
    """`value` without spaces, uppercased, when it has `shape`; else masked `what`."""
    number = re.sub(r"\s+", "", str(value)).upper()
    if not shape.fullmatch(number):
        raise _fail(field, value, what, masked=True)
    return number


def verhoeff_check_digit(digits: str) -> str:
    """The Verhoeff check digit to append to a string of ASCII digits."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[(position + 1) % 8][int(digit)]]
    return str(_VERHOEFF_INV[check])


def verhoeff_valid(digits: str) -> bool:
    """True when a string of ASCII digits ends in its correct Verhoeff check digit."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def aadhaar(value: str | int, *, field: str = "aadhaar") -> str:
    """An Aadhaar number: 12 digits, first 2-9, valid Verhoeff check digit."""
    number = re.sub(r"[\s\-]+", "", str(value))
    if not _DIGITS.fullmatch(number) or len(number) != 12 or number[0] in "01":
        raise _fail(
            field, value, "must be a 12-digit Aadhaar number not starting 0 or 1", masked=True
        )
    if not verhoeff_valid(number):
        raise _fail(field, value, "check digit is wrong (Verhoeff)", masked=True)
    return number


def voter_id(value: str, *, field: str = "voter id") -> str:
    """A voter id (EPIC): 3 letters and 7 digits; uppercased."""
    return _shaped(
        value, field, _VOTER_ID, "must be an EPIC number like ABC1234567: 3 letters, 7 digits"
    )


def passport(value: str, *, field: str = "passport") -> str:
    """An Indian passport number: 1 letter (not Q, X, Z) and 7 digits; uppercased."""
    return _shaped(
        value,
        field,
        _PASSPORT,
        "must be an Indian passport number like A1234567: 1 letter (not Q, X, Z), 7 digits",
    )


def driving_licence(value: str, *, field: str = "driving licence") -> str:
    """An Indian driving licence: state, RTO, year, 7 digits; uppercased, no separators."""
    number = " ".join(str(value).split()).upper()
    if not _DRIVING_LICENCE.fullmatch(number):
        raise _fail(
            field,
            value,
            "must be a driving licence number like MH-14-2011-0062821: state code, "
            "2-digit RTO, 4-digit year, 7 digits",
            masked=True,
        )
    return re.sub(r"[ -]", "", number)


def jobcard(value: str, *, field: str = "job card") -> str:
    """An NREGA job card number: 1-30 letters, digits, ``-`` and ``/``, stripped."""
    number = str(value).strip()
    if not _JOBCARD.fullmatch(number):
        raise _fail(field, value, "must be 1-30 characters: letters, digits, - and /", masked=True)
    return number


def ckyc_number(value: str | int, *, field: str = "CKYC number") -> str:
    """A CKYC identification number (KIN): 14 digits, spaces and dashes dropped."""
    number = re.sub(r"[\s\-]+", "", str(value))
    if not _CKYC.fullmatch(number):
        raise _fail(field, value, "must be a 14-digit CKYC number", masked=True)
    return number


class DocType(NamedTuple):
    """An identity document type: the platform's name, what else people call it, its
    validator, and whether it carries an expiry date (a Full-CDD upgrade needs it)."""

    name: str
    aliases: tuple[str, ...]
    check: Callable[..., str]
    expires: bool = False


DOCUMENTS: Final[dict[str, DocType]] = {
    d.name: d
    for d in (
        DocType("Aadhar", ("aadhar", "aadhaar", "aadharcard", "aadhaarcard", "uid"), aadhaar),
        DocType("Pancard", ("pan", "pancard"), pan),
        DocType("VoterId", ("voter", "voterid", "voteridcard", "epic"), voter_id),
        DocType(
            "Driverlicense",
            ("dl", "drivinglicence", "drivinglicense", "driverlicense"),
            driving_licence,
            expires=True,
        ),
        DocType("Passport", ("passport",), passport, expires=True),
        DocType("jobcard", ("jobcard", "nrega", "nregajobcard"), jobcard),
    )
}
DOC_TYPES: Final = tuple(DOCUMENTS)
EXPIRING_DOCS: Final = frozenset(d.name for d in DOCUMENTS.values() if d.expires)
_DOC_ALIASES: Final = {alias: d.name for d in DOCUMENTS.values() for alias in d.aliases}


def doc_type(value: str, *, field: str = "doc type") -> str:
    """The platform's name for a document type, from any common alias (case-insensitive)."""
    key = re.sub(r"[\s_\-]+", "", str(value)).lower()
    canonical = _DOC_ALIASES.get(key)
    if canonical is None:
        # a number given where the type goes (`--doc 234567890124:Aadhaar`) is masked
        digits = sum(c.isdigit() for c in str(value)) > 4
        raise _fail(field, value, f"must be one of {', '.join(DOC_TYPES)}", masked=digits)
    return canonical


def document(
    kind: str, number: str, /, *, field: str = "doc number", type_field: str = "doc type"
) -> tuple[str, str]:
    """A document as the platform wants it: (canonical type, validated number)."""
    canonical = doc_type(kind, field=type_field)
    return canonical, DOCUMENTS[canonical].check(number, field=field)

"""One value of an answer as a person reads it: amounts, dates, KYC, card status, flags.

Pure functions, str out; a value none of them recognises comes back as it was sent, so a
shape the platform has not shown yet is still readable and nothing is lost.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import date, datetime
from typing import Any, Final

from wibmo_cli import kyc as kyc_profiles
from wibmo_cli.codes import CARD_STATUSES
from wibmo_cli.lazyre import lazy


def rupees(paise: Any) -> str:
    """Paise to rupees with Indian digit grouping: 10000000 -> ₹1,00,000.00.

    Only a whole number is paise; anything else (a decimal string such as ``"1500.00"``,
    which some closed-loop pages send as the amount itself) comes back as it was sent.
    """
    try:
        amount = int(str(paise).strip())
    except ValueError:
        return str(paise)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 100)
    digits = str(whole)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups) + "," + tail
    return f"{sign}₹{digits}.{fraction:02d}"


_DAY: Final = "%d %b %Y"
_DATE_FORMATS: Final = (
    ("%d-%b-%Y", _DAY),
    ("%d-%m-%Y", _DAY),
    ("%Y%m%d", _DAY),
    ("%Y%m%d%H%M%S", f"{_DAY} %H:%M:%S"),
    ("%Y-%m-%d", _DAY),
    ("%Y-%m-%d %H:%M:%S", f"{_DAY} %H:%M:%S"),
    ("%d/%m/%Y", _DAY),
)
# The platform's forms are read as strptime reads them, without its import (3 ms of a
# lookup's start): "16-Nov-2022" as "%d-%b-%Y" (day 1 or 2 digits, month any case), and
# "20221116" or "20221116143000" as "%Y%m%d" or "%Y%m%d%H%M%S"; the rest by strptime.
_DIGIT_FIELDS: Final = ((0, 4), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2))
_PLATFORM_DAY: Final = lazy(r"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})")
_MONTHS: Final = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}  # fmt: skip
# ISO 8601 with a time, as one v3 answer's responseDateTime: `2024-06-19T15:19:55.620318625`
# (any number of fraction digits, maybe a zone). Checked first: fromisoformat alone takes
# week dates and more that no answer means as a date.
_ISO: Final = lazy(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")


def readable_date(value: Any) -> str:
    """`16-Nov-2022`, `11-11-2022`, `19931114`, `20161031214559`, `1993-04-14 00:00:00`,
    `2024-06-19T15:19:55.620318625` -> `16 Nov 2022`, ..., `19 Jun 2024 15:19:55`.

    A time of exactly midnight is a date sent as a timestamp (a date of birth as
    `1993-04-14 00:00:00`): shown as the date. Fractions of a second are left out; a
    zone is kept. Anything else comes back as it was sent.
    """
    found = _moment(value)
    if found is None:
        return str(value).strip()
    moment, show = found
    shown = moment.strftime(_DAY if _midnight(moment) else show)
    return f"{shown} {moment.strftime('%z')}" if moment.tzinfo else shown


def calendar_date(value: Any) -> date | None:
    """The day a date value of an answer names (any form `readable_date` reads), or None."""
    found = _moment(value)
    return found[0].date() if found else None


def _moment(value: Any) -> tuple[datetime, str] | None:
    """The moment a date value names and how to show it with a time, or None."""
    text = str(value).strip()
    if len(text) in (8, 14) and text.isascii() and text.isdigit():  # %Y%m%d[%H%M%S]
        year, month, day, hour, minute, second = (
            int(text[at : at + width] or 0) for at, width in _DIGIT_FIELDS
        )
        with contextlib.suppress(ValueError):  # not a day (20221301): strptime's verdict
            moment = datetime(year, month, day, hour, minute, second)
            return moment, _DAY if len(text) == 8 else f"{_DAY} %H:%M:%S"
    named = _PLATFORM_DAY.fullmatch(text)  # the platform's own form, read without strptime
    in_year = _MONTHS.get(named.group(2).lower(), 0) if named else 0
    if named and in_year:
        with contextlib.suppress(ValueError):  # 31-Feb-2024: as strptime says, no date
            moment = datetime(int(named.group(3)), in_year, int(named.group(1)))
            return moment, _DATE_FORMATS[0][1]
    for parse, show in _DATE_FORMATS:
        try:
            return datetime.strptime(text, parse), show
        except ValueError:
            continue
    if _ISO.fullmatch(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")), f"{_DAY} %H:%M:%S"
        except ValueError:
            return None
    return None


def _midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def kyc(profile_id: Any, kyc_name: Any = None) -> str:
    """A card's KYC profile (`kyc.describe`), with the answer's kycName when it says more."""
    try:
        number: int | None = int(str(profile_id))
    except ValueError:
        number = None
    known = kyc_profiles.PROFILES.get(number) if number is not None else None
    if known:
        parts = [kyc_profiles.describe(number)]
    else:
        parts = [f"profile {profile_id}" if profile_id not in (None, "") else ""]
        if number is not None:
            parts.append(f"· {number}")
    said = [_squash(known.name), *map(_squash, known.kyc_names)] if known else []
    if kyc_name and not any(_squash(kyc_name) in name for name in said):
        label = kyc_name_label(kyc_name)
        parts.append(f"({label})" if any(parts) else label)
    if number is not None and known is None:
        parts.append("[unknown profile id]")
    return " ".join(p for p in parts if p)


_KYC_NAMES: Final = frozenset(
    name for profile in kyc_profiles.PROFILES.values() for name in profile.kyc_names
)


def kyc_name_label(kyc_name: Any) -> str:
    """A kycName either document uses (`kyc.PROFILES`) as people write it: its words
    capitalised, the acronyms (…KYC, …CDD) kept upper case: ``NO_KYC`` -> ``No KYC``.
    Any other value comes back as it came."""
    text = str(kyc_name).strip()
    if text.upper() not in _KYC_NAMES:
        return text
    words = text.upper().split("_")
    return " ".join(w if w.endswith(("KYC", "CDD")) else w.capitalize() for w in words)


def _squash(text: Any) -> str:
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def card_status(status: Any, description: Any = None) -> str:
    """`cardStatus` decoded from `codes.CARD_STATUSES`: ``Temporary Block (12)``; the
    answer's statusDescription beside it when it says something else; a number the
    table does not know as ``Blocked (2)`` (its description) or ``status 7``."""
    text = str(status).strip() if status is not None else ""
    if text in ("0", "Active", "ACTIVE"):
        return "Active" + (f" ({description})" if description and description != "Active" else "")
    known = CARD_STATUSES.get(int(text)) if text.isascii() and text.isdigit() else None
    if known:
        said = f" · {description}" if description and _squash(description) != _squash(known) else ""
        return f"{known} ({text}){said}"
    if description:
        return f"{description} ({text})" if text else str(description)
    return f"status {text}" if text else ""


# What an agent must act on, for the views to make stand out (colour is added to the
# text, never instead of it): ALERT a card that cannot be used, a high risk, a lapsed
# Form 60; WARNING what is due or may pass (a re-KYC, a temporary block).
ALERT: Final = "alert"
WARNING: Final = "warning"
_STATUS_ATTENTION: Final = {12: WARNING, 13: ALERT, 21: ALERT}  # codes.CARD_STATUSES
_STOPPED_CARD: Final = lazy(r"\b(lost|stolen|blocked|block|disabled)\b", re.IGNORECASE)


def card_attention(status: Any, description: Any = None) -> str | None:
    """ALERT for a lost, stolen, blocked or disabled card (by `codes.CARD_STATUSES`, or
    a number it lacks by its statusDescription: the sandbox's 2 Blocked, 3 Lost), WARNING
    for a temporary block, None otherwise."""
    text = str(status).strip() if status is not None else ""
    if text.isascii() and text.isdigit() and int(text) in _STATUS_ATTENTION:
        return _STATUS_ATTENTION[int(text)]
    said = f"{text} {description if description is not None else ''}"
    if not _STOPPED_CARD.search(said):
        return None
    return WARNING if "temporar" in said.lower() else ALERT


def customer_attention(label: str, value: Any, today: date) -> str | None:
    """ALERT or WARNING for a customer field (by its label in the view) that needs
    action: a HIGH risk category, a Form 60 past its validity, a re-KYC due (flagged,
    or its validity passed)."""
    if label == "Risk":
        return ALERT if "HIGH" in str(value).upper().split() else None
    if label == "Re-KYC":
        return WARNING if yes_no(value, "yes", "no") == "yes" else None
    if label in ("Form 60 valid until", "Re-KYC valid until"):
        day = calendar_date(value)
        if day is None or day >= today:
            return None
        return ALERT if label.startswith("Form 60") else WARNING
    return None


def yes_no(value: Any, yes: str, no: str) -> str:
    if isinstance(value, bool):
        return yes if value else no
    text = str(value).strip().lower()
    if text in ("true", "y", "yes", "1"):
        return yes
    if text in ("false", "n", "no", "0"):
        return no
    return str(value)


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def is_empty(value: Any) -> bool:
    """Whether a value carries nothing to show (null or an empty string)."""
    return value is None or (isinstance(value, str) and value == "")

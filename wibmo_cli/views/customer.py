"""Lookup and update answers for people: customer, cards, documents, everything else.

`answer_view` is pure (answer dict -> labelled strings); `answer_renderables` draws
it with rich. Both answer shapes are understood: the sample's `cardList` array and the
field table's flat record. No field is ever dropped: what is not known is listed under
"Other fields".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from wibmo_cli import kyc as kyc_profiles
from wibmo_cli.codes import DEFAULT_SUCCESS_CODES, explain, is_success, normalise_code
from wibmo_cli.fields import BY_NAME
from wibmo_cli.textsafe import cell

ENVELOPE: Final = (
    "responseCode",
    "responseMessage",
    "messageCode",
    "clientTxnId",
    "accosaTransactionId",
    "accosaTransactionID",
    "accosaRefNo",
    "responseDateTime",
    "bankId",
    "clientId",
    "description",
)


def _updatable(name: str, *more: str) -> tuple[str, tuple[str, ...]]:
    """An updatable field's row: its label and lookup keys from `fields.FIELDS`."""
    field = BY_NAME[name]
    return field.label, (*field.shown_as, *more)


# (label, keys tried in order) for the customer section.
CUSTOMER_FIELDS: Final = (
    _updatable("mobile"),
    _updatable("emailId"),
    _updatable("alternateEmailId"),
    _updatable("dateOfBirth"),
    _updatable("gender"),
    ("Customer id", ("customerId",)),
    ("OVD name", ("ovdFullName",)),
    ("Re-KYC", ("reKyc", "rekyc")),
    ("Re-KYC valid until", ("rekycValidity",)),
    ("PAN", ("panValid",)),
    ("Risk", ("riskCategory",)),
    ("Risk score", ("riskScore",)),
    ("Form 60", ("form60",)),
    ("Form 60 valid until", ("form60Validity",)),
    _updatable("cardholderAddress", "addressline1", "addressline2", "addressline3"),
    _updatable("cardholderCity"),
    _updatable("cardholderState"),
    _updatable("cardholderCountry"),
    _updatable("cardholderZipCode"),
    ("Card profile", ("cardProfileId",)),
)
NAME_KEYS: Final = ("firstName", "lastName")
CARD_KEYS: Final = (
    "urn",
    "Urn",
    "cardNumber",
    "lastFourDigit",
    "cardType",
    "cardStatus",
    "statusDescription",
    "profileId",
    "kycName",
    "availableBalance",
    "availBal",
    "entityName",
    "createdOn",
    "updatedOn",
    "cardLinked",
)
DOC_KEYS: Final = (
    "docList",
    "docType",
    "docNumber",
    "docCountry",
    "docExpiry",
    "cKycDocNo",
    "docConsent",
)
_KNOWN: Final = frozenset(
    {*ENVELOPE, *NAME_KEYS, *CARD_KEYS, *DOC_KEYS, "cardList"}
    | {key for _, keys in CUSTOMER_FIELDS for key in keys}
)


@dataclass
class AnswerView:
    code: str
    name: str
    ok: bool
    customer: list[tuple[str, str]] = field(default_factory=list)
    cards: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)
    envelope: dict[str, str] = field(default_factory=dict)


# -- formatting (pure) -------------------------------------------------------------


def rupees(paise: Any) -> str:
    """Paise to rupees with Indian digit grouping: 10000000 -> ₹1,00,000.00."""
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


_DATE_FORMATS: Final = (
    ("%d-%b-%Y", "%d %b %Y"),
    ("%d-%m-%Y", "%d %b %Y"),
    ("%Y%m%d", "%d %b %Y"),
    ("%Y%m%d%H%M%S", "%d %b %Y %H:%M:%S"),
    ("%Y-%m-%d", "%d %b %Y"),
    ("%d/%m/%Y", "%d %b %Y"),
)


def readable_date(value: Any) -> str:
    """`16-Nov-2022`, `11-11-2022`, `19931114`, `20161031214559` -> `16 Nov 2022` etc."""
    text = str(value).strip()
    for parse, show in _DATE_FORMATS:
        try:
            return datetime.strptime(text, parse).strftime(show)
        except ValueError:
            continue
    return text


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
        parts.append(f"({kyc_name})")
    if number is not None and known is None:
        parts.append("[unknown profile id]")
    return " ".join(p for p in parts if p)


def _squash(text: Any) -> str:
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def card_status(status: Any, description: Any = None) -> str:
    text = str(status).strip() if status is not None else ""
    if text in ("0", "Active", "ACTIVE"):
        return "Active" + (f" ({description})" if description and description != "Active" else "")
    if description:
        return f"{description} ({text})" if text else str(description)
    return f"status {text}" if text else ""


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
        import json

        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


# -- the view (pure) ------------------------------------------------------------------


def answer_view(
    answer: dict[str, Any], success_codes: Iterable[str] = DEFAULT_SUCCESS_CODES
) -> AnswerView:
    code = normalise_code(answer.get("responseCode", "")) if "responseCode" in answer else ""
    known = explain(code) if code else None
    name = known.name if known else str(answer.get("responseMessage", "") or "unknown code")
    view = AnswerView(code=code or "?", name=name, ok=is_success(code, success_codes))
    view.envelope = {k: scalar(answer[k]) for k in ENVELOPE if k in answer}

    card_list = answer.get("cardList")
    if isinstance(card_list, list) and card_list:
        entries = [c for c in card_list if isinstance(c, dict)]
        view.other.extend(
            (f"cardList[{i}]", scalar(c))
            for i, c in enumerate(card_list)
            if not isinstance(c, dict)
        )
        person = entries[0] if entries else {}
    else:
        entries = [answer] if any(k in answer for k in ("urn", "Urn", "cardNumber")) else []
        person = answer
        if isinstance(card_list, list):
            view.other.append(("cardList", "[] (no cards)"))

    view.customer = _customer(person, answer)
    view.cards = [_card(entry) for entry in entries]
    # Documents may sit beside the cardList as well as in it.
    view.documents = _documents([*(e for e in entries if e is not answer), answer])
    # Card fields at the top level not drawn as a card: list them, never drop them.
    top_known = _KNOWN if any(e is answer for e in entries) else _KNOWN - set(CARD_KEYS)
    seen_other: set[tuple[str, str]] = set()
    for source, label_suffix in [(answer, "")] + [
        (entry, f" (URN {entry.get('urn', entry.get('Urn', i))})" if len(entries) > 1 else "")
        for i, entry in enumerate(entries)
        if entry is not answer
    ]:
        for key, value in source.items():
            if key in (top_known if source is answer else _KNOWN):
                continue
            row = (f"{key}{label_suffix}", scalar(value))
            if row not in seen_other:
                seen_other.add(row)
                view.other.append(row)
    return view


def _first(source: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in source and source[key] not in (None, ""):
            return source[key]
    return None


def _customer(person: dict[str, Any], answer: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    name = " ".join(str(person[k]) for k in NAME_KEYS if person.get(k)) or " ".join(
        str(answer[k]) for k in NAME_KEYS if answer.get(k)
    )
    if name:
        rows.append(("Name", name))
    for label, keys in CUSTOMER_FIELDS:
        if label == "Address":
            parts = [str(person[k]) for k in keys if person.get(k)]
            value: Any = ", ".join(parts) if parts else None
        else:
            value = _first(person, keys)
            if value is None and person is not answer:
                value = _first(answer, keys)
        if value is None:
            continue
        if label in ("Date of birth", "Re-KYC valid until", "Form 60 valid until"):
            shown = readable_date(value)
        elif label == "Re-KYC":
            shown = yes_no(value, "due (eligible for re-KYC)", "not required")
        elif label == "PAN":
            shown = yes_no(value, "valid (verified with NSDL)", "not verified")
        elif label == "Card profile":
            shown = kyc(value)
        else:
            shown = scalar(value)
        rows.append((label, shown))
    return rows


def _card(entry: dict[str, Any]) -> dict[str, str]:
    balance = _first(entry, ("availableBalance", "availBal"))
    number = entry.get("cardNumber") or (
        f"•••• {entry['lastFourDigit']}" if entry.get("lastFourDigit") else ""
    )
    return {
        "URN": scalar(_first(entry, ("urn", "Urn"))),
        "Card": scalar(number),
        "Type": scalar(entry.get("cardType")),
        "Status": card_status(entry.get("cardStatus"), entry.get("statusDescription")),
        "KYC": kyc(entry.get("profileId"), entry.get("kycName")),
        "Balance": rupees(balance) if balance is not None else "",
        "Entity": scalar(entry.get("entityName")),
        "Created": readable_date(entry["createdOn"]) if entry.get("createdOn") else "",
        "Updated": readable_date(entry["updatedOn"]) if entry.get("updatedOn") else "",
    }


def _documents(sources: list[dict[str, Any]]) -> list[dict[str, str]]:
    docs: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for source in sources:
        items: list[Any] = list(source.get("docList") or [])
        if source.get("docType") or source.get("docNumber"):
            items.append({k: source[k] for k in DOC_KEYS[1:] if k in source})
        for item in items:
            if not isinstance(item, dict):
                continue
            row = {
                "Type": scalar(item.get("docType")),
                "Number": scalar(item.get("docNumber")),
                "Country": scalar(item.get("docCountry")),
                "Expiry": readable_date(item["docExpiry"]) if item.get("docExpiry") else "",
            }
            extra = {
                k: scalar(v)
                for k, v in item.items()
                if k not in ("docType", "docNumber", "docCountry", "docExpiry")
            }
            row["More"] = ", ".join(f"{k}={v}" for k, v in extra.items())
            key = tuple(row.values())
            if key not in seen:
                seen.add(key)
                docs.append(row)
    return docs


# -- drawing -----------------------------------------------------------------------


WIDE: Final = 110  # narrower consoles get one block per card instead of a wide table


def answer_renderables(
    view: AnswerView, *, elapsed: float | None, title: str, width: int = WIDE
) -> list[Any]:
    """Rich renderables for a view: every value goes in as Text (`textsafe.cell`: never
    markup, control characters shown escaped), never as a str rich would parse."""
    from rich.table import Table

    out: list[Any] = []
    if view.customer:
        out.append(_pairs(cell(title, "table.title"), view.customer))
    if view.cards and width >= WIDE:
        out.append(_table("Cards", view.cards, no_wrap=("URN", "Card", "Balance")))
    elif view.cards:
        for index, card in enumerate(view.cards, 1):
            shown = [(label, value) for label, value in card.items() if value]
            out.append(_pairs(f"Card {index} of {len(view.cards)}", shown))
    if view.documents:
        rows = [
            {k: v for k, v in d.items() if k != "More" or any(x["More"] for x in view.documents)}
            for d in view.documents
        ]
        out.append(_table("Documents", rows, no_wrap=("Number",)))
    if view.other:
        other = Table(title="Other fields", title_justify="left")
        other.add_column("field", style="bold")
        other.add_column("value")
        for key, value in view.other:
            other.add_row(cell(key), cell(value))
        out.append(other)
    if not view.ok:
        from wibmo_cli.views.codes import explanation

        known = explain(view.code)
        meaning = (
            known.meaning
            if known
            else ("This code is not in the catalogue: read responseMessage and ask Wibmo support.")
        )
        action = known.action if known else "Send Wibmo support the clientTxnId below."
        block = explanation(view.code, view.name, meaning, action)
        block.title = "The platform answered with an error"
        block.title_justify = "left"
        block.title_style = "bold red"
        out.append(block)
    out.append(cell(footer(view, elapsed), "dim" if view.ok else "bold"))
    return out


def footer(view: AnswerView, elapsed: float | None) -> str:
    parts = [f"responseCode {view.code} {view.name}"]
    env = view.envelope
    message = env.get("responseMessage")
    if message and message.replace(" ", "_").upper() != view.name:
        parts.append(f"message {message!r}")
    if env.get("description"):
        parts.append(f"description {env['description']!r}")
    txn_id = env.get("accosaTransactionId") or env.get("accosaTransactionID")
    if txn_id:
        parts.append(f"accosaTransactionId {txn_id}")
    if env.get("clientTxnId"):
        parts.append(f"clientTxnId {env['clientTxnId']}")
    if elapsed is not None:
        parts.append(f"{elapsed * 1000:.0f} ms")
    return " · ".join(parts)


def _pairs(title: Any, rows: Sequence[tuple[str, str]]) -> Any:
    """A borderless two-column grid of label and value (the customer, a card when narrow)."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for label, value in rows:
        grid.add_row(label, cell(value))
    return grid


def _table(title: str, rows: list[dict[str, str]], *, no_wrap: tuple[str, ...] = ()) -> Any:
    from rich.table import Table

    columns = [c for c in rows[0] if any(row.get(c) for row in rows)]
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap)
    for row in rows:
        table.add_row(*(cell(row.get(c, "")) for c in columns))
    return table

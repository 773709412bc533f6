"""Lookup and update answers for people: customer, cards, sub-wallets, documents, the rest.

`answer_view` is pure (answer dict -> labelled strings); `answer_renderables` draws
it with rich. Every shape seen is understood: the sample's `cardList` array, the field
table's flat record, and both at once (profile fields at the top level beside a
`cardList`), with `subwalletListDetails` at either level.

Nothing the platform sent is dropped: each object of the answer is read through a
`_Source` that records the keys a section actually showed, and every key left over is
listed under "Other fields" (a key the view knows but did not show included: a second
spelling with another value, a card field beside the cardList, a malformed list).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from wibmo_cli.codes import DEFAULT_SUCCESS_CODES, explain, is_success, normalise_code
from wibmo_cli.fields import BY_NAME
from wibmo_cli.textsafe import cell
from wibmo_cli.views.footer import envelope_rest, footer
from wibmo_cli.views.values import (
    card_status,
    is_empty,
    kyc,
    readable_date,
    rupees,
    scalar,
    yes_no,
)

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
    _updatable(
        "cardholderAddress",
        *(
            key
            for line in ("addressline1", "addressline2", "addressline3")
            for key in BY_NAME[line].shown_as
        ),
    ),
    _updatable("cardholderCity"),
    _updatable("cardholderState"),
    _updatable("cardholderCountry"),
    _updatable("cardholderZipCode"),
    ("Card profile", ("cardProfileId",)),
)
NAME_KEYS: Final = ("firstName", "lastName")
CARD_IDS: Final = ("urn", "Urn")  # the keys that make an object a card
DOC_KEYS: Final = ("docType", "docNumber", "docCountry", "docExpiry", "cKycDocNo", "docConsent")
SUBWALLETS: Final = "subwalletListDetails"
_DATES: Final = ("Date of birth", "Re-KYC valid until", "Form 60 valid until")
_AMOUNT_WORDS: Final = ("balance", "amount", "limit")  # sub-wallet keys that hold paise


@dataclass
class AnswerView:
    code: str
    name: str
    ok: bool
    customer: list[tuple[str, str]] = field(default_factory=list)
    cards: list[dict[str, str]] = field(default_factory=list)
    subwallets: list[dict[str, str]] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)
    envelope: dict[str, str] = field(default_factory=dict)


class _Source:
    """One object of an answer (the top level, or one card of a cardList) and the keys of
    it a section has shown; `rest` is everything else, for "Other fields"."""

    def __init__(self, values: dict[str, Any], label: str = "") -> None:
        self.values = values
        self.label = label  # " (URN 389)" when several cards must be told apart
        self.shown: set[str] = set()

    def take(self, key: str) -> Any:
        """The value of `key` (None when absent), counted as shown."""
        if key in self.values:
            self.shown.add(key)
        return self.values.get(key)

    def rest(self) -> list[tuple[str, str]]:
        return [
            (f"{key}{self.label}", scalar(value))
            for key, value in self.values.items()
            if key not in self.shown
        ]


def _pick(sources: Iterable[_Source], keys: tuple[str, ...]) -> Any:
    """The first non-empty value of `keys` in `sources`, in order. A key counts as shown
    when it is empty or says the same as the value picked; one that says something else
    is left for "Other fields"."""
    chosen: Any = None
    for source in sources:
        for key in keys:
            if key not in source.values:
                continue
            value = source.values[key]
            if is_empty(value) or (chosen is not None and scalar(value) == scalar(chosen)):
                source.shown.add(key)
            elif chosen is None:
                chosen = value
                source.shown.add(key)
    return chosen


# -- the view (pure) ------------------------------------------------------------------


def answer_view(
    answer: dict[str, Any], success_codes: Iterable[str] = DEFAULT_SUCCESS_CODES
) -> AnswerView:
    code = normalise_code(answer.get("responseCode", "")) if "responseCode" in answer else ""
    known = explain(code) if code else None
    name = known.name if known else str(answer.get("responseMessage", "") or "unknown code")
    view = AnswerView(code=code or "?", name=name, ok=is_success(code, success_codes))
    top = _Source(answer)
    view.envelope = {k: scalar(top.take(k)) for k in ENVELOPE if k in answer}

    card_list = answer.get("cardList")
    entries: list[_Source] = []
    if isinstance(card_list, list):
        top.take("cardList")
        cards = [c for c in card_list if isinstance(c, dict)]
        for i, entry in enumerate(card_list):
            if not isinstance(entry, dict):
                view.other.append((f"cardList[{i}]", scalar(entry)))
        several = len(cards) > 1
        entries = [
            _Source(c, f" (URN {c.get('urn', c.get('Urn', i))})" if several else "")
            for i, c in enumerate(cards)
        ]
        if not card_list:
            view.other.append(("cardList", "[] (no cards)"))
    elif any(k in answer for k in (*CARD_IDS, "cardNumber")):
        entries = [top]  # the field table's flat record: the answer is the card

    people = [*entries[:1], *([top] if top not in entries else []), *entries[1:]]
    view.customer = _customer(people)
    view.cards = [_card(entry) for entry in entries]
    inner = [e for e in entries if e is not top]
    view.subwallets = _subwallets([top, *inner], view.other)
    # Documents may sit beside the cardList as well as in it.
    view.documents = _documents([*inner, top], view.other)
    listed = set(view.other)
    for source in [top, *inner]:
        for row in source.rest():
            if row not in listed:
                listed.add(row)
                view.other.append(row)
    return view


def _customer(people: list[_Source]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    name = " ".join(str(part) for k in NAME_KEYS if (part := _pick(people, (k,))) is not None)
    if name:
        rows.append(("Name", name))
    for label, keys in CUSTOMER_FIELDS:
        if label == "Address":  # its parts, each shown
            parts = [str(v) for k in keys if (v := _pick(people, (k,))) is not None]
            value: Any = ", ".join(parts) if parts else None
        else:
            value = _pick(people, keys)
        if value is None:
            continue
        if label in _DATES:
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


def _card(entry: _Source) -> dict[str, str]:
    def one(*keys: str) -> Any:
        return _pick([entry], keys)

    number = one("cardNumber")
    last_four = entry.values.get("lastFourDigit")
    if is_empty(number) and not is_empty(last_four):
        number = f"•••• {entry.take('lastFourDigit')}"
    elif is_empty(last_four) or str(number).replace(" ", "").endswith(str(last_four)):
        entry.take("lastFourDigit")  # said by the card number; else left for "Other fields"
    balance = one("availableBalance", "availBal")
    linked = one("cardLinked")
    created, updated = one("createdOn"), one("updatedOn")
    card = {
        "URN": scalar(one(*CARD_IDS)),
        "Card": scalar(number),
        "Type": scalar(one("cardType")),
        "Status": card_status(one("cardStatus"), one("statusDescription")),
        "KYC": kyc(one("profileId"), one("kycName")),
        # A whole number is paise; a decimal string ("1500.00") is shown as it came.
        "Balance": rupees(balance) if balance is not None else "",
        "Entity": scalar(one("entityName")),
        "Created": readable_date(created) if created is not None else "",
        "Updated": readable_date(updated) if updated is not None else "",
    }
    if linked is not None:  # a newer key: a column only where an answer has it
        card["Linked"] = yes_no(linked, "yes", "no")
    return card


def _subwallets(sources: list[_Source], other: list[tuple[str, str]]) -> list[dict[str, str]]:
    """`subwalletListDetails` of every source as rows: snake_case keys as headings,
    amounts (string paise, `"10000"`) in rupees, the card's URN first when they sit in a
    card (`sources[0]` is the top level). Anything not a list of objects is left for
    "Other fields"."""
    rows: list[dict[str, str]] = []
    for source in sources:
        items = source.values.get(SUBWALLETS)
        if not isinstance(items, list):
            continue
        source.take(SUBWALLETS)
        urn = scalar(_pick([source], CARD_IDS)) if source is not sources[0] else ""
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                other.append((f"{SUBWALLETS}[{i}]{source.label}", scalar(item)))
                continue
            row = {"Card URN": urn} if urn else {}
            for key, value in item.items():
                heading = key.replace("_", " ").strip().capitalize() or key
                if heading in row:  # two keys read alike: both kept, the second named
                    heading = f"{heading} [{key}]"
                amount = any(word in key.lower() for word in _AMOUNT_WORDS)
                row[heading] = rupees(value) if amount and not is_empty(value) else scalar(value)
            rows.append(row)
    return rows


def _documents(sources: list[_Source], other: list[tuple[str, str]]) -> list[dict[str, str]]:
    docs: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for source in sources:
        doc_list = source.values.get("docList")
        items: list[Any] = []
        if isinstance(doc_list, list):
            source.take("docList")
            for i, item in enumerate(doc_list):
                if isinstance(item, dict):
                    items.append(item)
                else:
                    other.append((f"docList[{i}]{source.label}", scalar(item)))
        if not is_empty(source.values.get("docType")) or not is_empty(
            source.values.get("docNumber")
        ):
            items.append({k: source.take(k) for k in DOC_KEYS if k in source.values})
        for item in items:
            row = {
                "Type": scalar(item.get("docType")),
                "Number": scalar(item.get("docNumber")),
                "Country": scalar(item.get("docCountry")),
                "Expiry": readable_date(item["docExpiry"]) if item.get("docExpiry") else "",
            }
            extra = {k: scalar(v) for k, v in item.items() if k not in DOC_KEYS[:4]}
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
    if view.subwallets:
        out.append(_table("Sub-wallets", view.subwallets, no_wrap=("Card URN",)))
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
    closing = cell(footer(view, elapsed, width=width), "dim" if view.ok else "bold", lines=True)
    rest = envelope_rest(view, width=width)
    if rest:  # on lines of its own: one Text, as rich would join two on one line
        closing.append("\n")
        closing.append_text(cell(rest, "dim", lines=True))
    out.append(closing)
    return out


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

    headings = dict.fromkeys(c for row in rows for c in row)  # every row's, in order
    columns = [c for c in headings if any(row.get(c) for row in rows)]
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap)
    for row in rows:
        table.add_row(*(cell(row.get(c, "")) for c in columns))
    return table

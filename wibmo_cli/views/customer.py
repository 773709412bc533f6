"""Lookup and update answers for people: customer, cards, sub-wallets, documents, the rest.

`answer_view` is pure (answer dict -> labelled strings); `answer_renderables` draws
it with rich. Every shape seen is understood: the sample's `cardList` array, the field
table's flat record, and both at once (profile fields at the top level beside a
`cardList`), with `subwalletListDetails` at either level.

Nothing the platform sent is dropped: each object of the answer is read through a
`Source` that records the keys a section actually showed, and every key left over is
listed under "Other fields" (a key the view knows but did not show included: a second
spelling with another value, a card field beside the cardList, a malformed list).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from wibmo_cli.codes import (
    DEFAULT_SUCCESS_CODES,
    Called,
    advice,
    explain,
    is_success,
    normalise_code,
)
from wibmo_cli.fields import BY_NAME
from wibmo_cli.textsafe import cell
from wibmo_cli.views.footer import envelope_rest, footer
from wibmo_cli.views.sections import CARD_IDS, Source, documents, pick, subwallets
from wibmo_cli.views.values import (
    ALERT,
    WARNING,
    card_attention,
    card_status,
    customer_attention,
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
_DATES: Final = ("Date of birth", "Re-KYC valid until", "Form 60 valid until")


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
    # What an agent must act on (`values.ALERT` / `values.WARNING`): customer rows by
    # label, and each card's status (one entry per card, None when fine).
    attention: dict[str, str] = field(default_factory=dict)
    card_attention: list[str | None] = field(default_factory=list)
    # What was asked: the clientTxnId sent (for the footer when the answer lacks it) and
    # the identifiers searched, as typed ({"urn": "123"}: `codes.IDENTIFIER_NAMES` keys).
    client_txn_id: str = ""
    searched: dict[str, str] = field(default_factory=dict)
    called: Called | None = None  # `wibmo call`'s request, which the advice names


# -- the view (pure) ------------------------------------------------------------------


def answer_view(
    answer: dict[str, Any],
    success_codes: Iterable[str] = DEFAULT_SUCCESS_CODES,
    *,
    client_txn_id: str = "",
    searched: Mapping[str, str] | None = None,
    called: Called | None = None,
    today: date | None = None,
) -> AnswerView:
    """The answer as labelled strings. `client_txn_id`, `searched` and `called` say what
    was sent (for the footer and the error block); `today` dates what has lapsed."""
    code = normalise_code(answer.get("responseCode", "")) if "responseCode" in answer else ""
    known = explain(code) if code else None
    name = known.name if known else str(answer.get("responseMessage", "") or "unknown code")
    view = AnswerView(code=code or "?", name=name, ok=is_success(code, success_codes))
    view.client_txn_id = client_txn_id
    view.searched = dict(searched or {})
    view.called = called
    top = Source(answer)
    view.envelope = {k: scalar(top.take(k)) for k in ENVELOPE if k in answer}

    card_list = answer.get("cardList")
    entries: list[Source] = []
    if isinstance(card_list, list):
        top.take("cardList")
        cards = [c for c in card_list if isinstance(c, dict)]
        for i, entry in enumerate(card_list):
            if not isinstance(entry, dict):
                view.other.append((f"cardList[{i}]", scalar(entry)))
        several = len(cards) > 1
        entries = [
            Source(c, f" (URN {c.get('urn', c.get('Urn', i))})" if several else "")
            for i, c in enumerate(cards)
        ]
        if not card_list:
            view.other.append(("cardList", "[] (no cards)"))
    elif any(k in answer for k in (*CARD_IDS, "cardNumber")):
        entries = [top]  # the field table's flat record: the answer is the card

    people = [*entries[:1], *([top] if top not in entries else []), *entries[1:]]
    view.customer = _customer(people, today or date.today(), view.attention)
    view.cards = [_card(entry) for entry in entries]
    view.card_attention = [
        card_attention(entry.values.get("cardStatus"), entry.values.get("statusDescription"))
        for entry in entries
    ]
    inner = [e for e in entries if e is not top]
    view.subwallets = subwallets([top, *inner], view.other)
    # Documents may sit beside the cardList as well as in it.
    view.documents = documents([*inner, top], view.other)
    listed = set(view.other)
    for source in [top, *inner]:
        for row in source.rest():
            if row not in listed:
                listed.add(row)
                view.other.append(row)
    return view


def _customer(
    people: list[Source], today: date, attention: dict[str, str]
) -> list[tuple[str, str]]:
    """The customer's rows; what needs action is added to `attention` by label."""
    rows: list[tuple[str, str]] = []
    name = " ".join(str(part) for k in NAME_KEYS if (part := pick(people, (k,))) is not None)
    if name:
        rows.append(("Name", name))
    for label, keys in CUSTOMER_FIELDS:
        if label == "Address":  # its parts, each shown
            parts = [str(v) for k in keys if (v := pick(people, (k,))) is not None]
            value: Any = ", ".join(parts) if parts else None
        else:
            value = pick(people, keys)
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
        if level := customer_attention(label, value, today):
            attention[label] = level
    return rows


def _card(entry: Source) -> dict[str, str]:
    def one(*keys: str) -> Any:
        return pick([entry], keys)

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


# -- drawing -----------------------------------------------------------------------


_STYLES: Final = {ALERT: "bold red", WARNING: "bold yellow"}  # dropped where no colour: render.py


def answer_renderables(
    view: AnswerView, *, elapsed: float | None, title: str, width: int = 80
) -> list[Any]:
    """Rich renderables for a view at a console `width`: every value goes in as Text
    (`textsafe.cell`: never markup, control characters shown escaped), never as a str
    rich would parse. What needs action is styled (`_STYLES`); the console drops the
    colour where there is none (a pipe, NO_COLOR)."""
    from rich.table import Table

    out: list[Any] = []
    if view.customer:
        out.append(_pairs(cell(title, "table.title"), view.customer, view.attention))
    out.extend(_cards(view, width))
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
        # Folded, never cut: an unknown field's name is what a support ticket quotes.
        other.add_column("field", style="bold", overflow="fold")
        other.add_column("value", overflow="fold")
        for key, value in view.other:
            other.add_row(cell(key), cell(value))
        out.append(other)
    if not view.ok:
        out.append(_error_block(view))
    closing = cell(footer(view, elapsed, width=width), "dim" if view.ok else "bold", lines=True)
    rest = envelope_rest(view, width=width)
    if rest:  # on lines of its own: one Text, as rich would join two on one line
        closing.append("\n")
        closing.append_text(cell(rest, "dim", lines=True))
    out.append(closing)
    return out


def _cards(view: AnswerView, width: int) -> list[Any]:
    """The cards as one table when it fits `width` with no cell wrapped (measured, as
    rich would draw it), else one block of label and value per card."""
    styles = [{"Status": _STYLES[level]} if level else {} for level in view.card_attention]
    if not view.cards:
        return []
    table = _table("Cards", view.cards, styles=styles)
    if _natural_width(table) <= width:
        return [table]
    blocks = []
    for index, card in enumerate(view.cards, 1):
        shown = [(label, value) for label, value in card.items() if value]
        level = view.card_attention[index - 1]
        blocks.append(
            _pairs(f"Card {index} of {len(view.cards)}", shown, {"Status": level} if level else {})
        )
    return blocks


def _natural_width(renderable: Any) -> int:
    """The width `renderable` takes with nothing wrapped (rich's Measurement maximum,
    taken on a console too wide to constrain it)."""
    import io

    from rich.console import Console
    from rich.measure import Measurement

    console = Console(width=10_000, file=io.StringIO())
    return Measurement.get(console, console.options, renderable).maximum


def _error_block(view: AnswerView) -> Any:
    """The code explained, with advice that fits what was searched (`codes.advice`), under
    a title that echoes the search: `... answered with an error (searched: --urn 123)`."""
    import shlex

    from wibmo_cli.views.codes import explanation

    known = explain(view.code)
    meaning = (
        known.meaning
        if known
        else ("This code is not in the catalogue: read responseMessage and ask Wibmo support.")
    )
    action = (
        advice(known, view.searched, view.called)
        if known
        else "Send Wibmo support the clientTxnId below."
    )
    block = explanation(view.code, view.name, meaning, action)
    title = "The platform answered with an error"
    if view.searched:
        echo = " ".join(
            f"--{kind.replace('_', '-')} {shlex.quote(value)}"
            for kind, value in view.searched.items()
        )
        title = f"{title} (searched: {echo})"
    block.title = cell(title, "bold red")
    block.title_justify = "left"
    return _unwrapped_title(block)


def _unwrapped_title(table: Any) -> Any:
    """`table` made at least as wide as its title, so that the title is never wrapped
    inside the table's narrower width ("Customer (customer id⏎custid_...)"); a console
    narrower than the title still folds it."""
    from rich.cells import cell_len

    title = table.title
    length = cell_len(title.plain if hasattr(title, "plain") else str(title or ""))
    table.min_width = max(table.min_width or 0, length)
    return table


def _pairs(title: Any, rows: Sequence[tuple[str, str]], attention: Mapping[str, str]) -> Any:
    """A borderless two-column grid of label and value (the customer, a card when narrow);
    a label in `attention` has its value styled for its level."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        level = attention.get(label)
        grid.add_row(label, cell(value, _STYLES[level] if level else ""))
    return _unwrapped_title(grid)


def _table(
    title: str,
    rows: list[dict[str, str]],
    *,
    no_wrap: tuple[str, ...] = (),
    styles: Sequence[Mapping[str, str]] = (),
) -> Any:
    """A bordered table of `rows` (a column for every heading any row fills); `styles`,
    one per row, style a cell by its heading."""
    from rich.table import Table

    headings = dict.fromkeys(c for row in rows for c in row)  # every row's, in order
    columns = [c for c in headings if any(row.get(c) for row in rows)]
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column in no_wrap, overflow="fold")
    for index, row in enumerate(rows):
        style = styles[index] if index < len(styles) else {}
        table.add_row(*(cell(row.get(c, ""), style.get(c, "")) for c in columns))
    return _unwrapped_title(table)

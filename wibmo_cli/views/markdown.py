"""`wibmo lookup -o md`: one lookup as a Markdown snippet an agent pastes into a ticket.

Redacted for a ticket, whatever the answer holds: mobile and email masked
(`masking.mask_identifier`: the last four digits; the first letter and the domain; each
hidden character a •), the card number to its last four, and no identity document,
date of birth or address at all. Only the fields below are shown (a list of what is
safe, not of what to hide), so a field the platform adds tomorrow never reaches a ticket
unseen; the URN and customer id stay whole, as the references the platform's support
asks for.

Every value is text from the network: control characters made visible, then each
character Markdown would read (`| * _ [ ] < > ...`) escaped with a backslash, so a name
such as `A|B *C*` stays one table cell, as written. Pure: text out, no terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from wibmo_cli.codes import explain, is_success, normalise_code
from wibmo_cli.customer_now import customer_record
from wibmo_cli.masking import mask_identifier
from wibmo_cli.textsafe import visible
from wibmo_cli.views import values

_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|&~#!])")
REDACTED: Final = "mobile and email masked; document numbers, date of birth and address left out"
_CARD_COLUMNS: Final = ("URN", "Card", "Type", "Status", "Balance")
MASKED: Final = "•"


def escaped(value: Any) -> str:
    """`value` as Markdown text that shows exactly it: one line, nothing read as syntax."""
    return _SPECIAL.sub(r"\\\1", visible("" if value is None else str(value)))


def lookup_snippet(
    answer: Mapping[str, Any],
    *,
    searched: Mapping[str, str],
    profile: str,
    success_codes: Iterable[str],
    client_txn_id: str = "",
) -> str:
    """The snippet for one lookup's answer (found, or the platform's refusal)."""
    lines = [f"**Customer lookup** · {escaped(_searched(searched))} · profile {escaped(profile)}"]
    code = answer.get("responseCode")
    fields: list[tuple[str, Any]] = [("Result", _result(code, answer))]
    ok = is_success(code, success_codes)
    if not ok:
        known = explain(str(code)) if code is not None else None
        if known is not None:
            fields += [("Meaning", known.meaning), ("What to do", known.action)]
    fields += [
        ("clientTxnId", answer.get("clientTxnId") or client_txn_id),
        ("accosaTransactionId", answer.get("accosaTransactionId")),
        ("Answered at", _when(answer.get("responseDateTime"))),
    ]
    cards = _cards(answer) if ok else []
    if cards:
        record = customer_record(answer)
        name = " ".join(
            str(record[k]) for k in ("firstName", "middleName", "lastName") if record.get(k)
        )
        fields += [
            ("Customer id", record.get("customerId")),
            ("Name", name),
            ("Mobile", _masked("mobile", record.get("mobile"))),
            ("Email", _masked("email", record.get("email") or record.get("emailId"))),
            ("KYC", values.kyc(record.get("profileId"), record.get("kycName"))),
        ]
    lines += ["", *_table(("Field", "Value"), [(k, v) for k, v in fields if v not in (None, "")])]
    if cards:
        lines += ["", *_table(_CARD_COLUMNS, [_card_row(card) for card in cards])]
    lines += ["", f"_Redacted by wibmo: {REDACTED}._"]
    return "\n".join(lines)


def _searched(searched: Mapping[str, str]) -> str:
    """`mobile ******3456`: what was looked up, mobile and email masked."""
    parts = []
    for kind, typed in searched.items():
        shown = _masked(kind, typed) if kind in ("mobile", "email") else typed
        parts.append(f"{kind.replace('_', ' ')} {shown}")
    return ", ".join(parts)


def _masked(kind: str, value: Any) -> str:
    """Masked by the one rule (`mask_identifier`), each hidden character a • (a * is
    Markdown: escaped, a row of them reads as noise in a ticket that shows the text)."""
    if value in (None, ""):
        return ""
    return mask_identifier(kind, str(value)).replace("*", MASKED)


def _result(code: Any, answer: Mapping[str, Any]) -> str:
    if code is None:
        return "no responseCode"
    known = explain(str(code))
    said = str(answer.get("responseMessage") or "")
    name = known.name if known else said
    text = f"{normalise_code(str(code))} {name}".strip()
    if known and said and said.replace(" ", "_").upper() != known.name:
        text += f" (platform: {said})"
    return text


def _when(value: Any) -> str:
    return values.readable_date(value) if value not in (None, "") else ""


def _cards(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    card_list = answer.get("cardList")
    if isinstance(card_list, list):
        return [card for card in card_list if isinstance(card, Mapping)]
    return [answer] if "urn" in answer else []


def _card_row(card: Mapping[str, Any]) -> tuple[Any, ...]:
    digits = "".join(ch for ch in str(card.get("cardNumber") or "") if ch.isdigit())
    last_four = str(card.get("lastFourDigit") or digits[-4:])
    shown = f"{MASKED * 4} {last_four}" if last_four else ""
    balance = card.get("availableBalance", card.get("availBal"))
    return (
        card.get("urn"),
        shown,
        card.get("cardType"),
        values.card_status(card.get("cardStatus"), card.get("statusDescription")),
        values.rupees(balance) if balance not in (None, "") else "",
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = [_line(header), _line(["---"] * len(header), raw=True)]
    lines += [_line(row) for row in rows]
    return lines


def _line(cells: Sequence[Any], *, raw: bool = False) -> str:
    return "| " + " | ".join(str(c) if raw else escaped(c) for c in cells) + " |"

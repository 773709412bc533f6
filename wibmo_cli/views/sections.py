"""The parts of an answer read apart from the customer: its objects as `Source`s (each
recording the keys a section showed, so the rest reach "Other fields"), sub-wallets and
identity documents. Pure: answer dicts in, labelled strings out (views/customer.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from wibmo_cli.views.values import is_empty, readable_date, rupees, scalar

CARD_IDS: Final = ("urn", "Urn")  # the keys that make an object a card
DOC_KEYS: Final = ("docType", "docNumber", "docCountry", "docExpiry", "cKycDocNo", "docConsent")
SUBWALLETS: Final = "subwalletListDetails"
_AMOUNT_WORDS: Final = ("balance", "amount", "limit")  # sub-wallet keys that hold paise


class Source:
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


def pick(sources: Iterable[Source], keys: tuple[str, ...]) -> Any:
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


def subwallets(sources: list[Source], other: list[tuple[str, str]]) -> list[dict[str, str]]:
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
        urn = scalar(pick([source], CARD_IDS)) if source is not sources[0] else ""
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


def documents(sources: list[Source], other: list[tuple[str, str]]) -> list[dict[str, str]]:
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

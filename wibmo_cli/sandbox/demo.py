"""The demo customers worth trying (`wibmo sandbox customers`), found in the database.

Each `Kind` is a situation a new user wants to see (each KYC level, a blocked or lost
card, several cards, an identifier on two customers, no card, sub-wallets) and a test
on a customer's records. The customers are read from the database, never copied here:
what is listed is what the sandbox answers now (after an update too), and a kind whose
customers were all changed away lists none until `wibmo sandbox reset`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from wibmo_cli import kyc
from wibmo_cli.sandbox.model import Card, Customer
from wibmo_cli.sandbox.seed import SAMPLE_CUSTOMER_ID


@dataclass(frozen=True)
class Records:
    """One customer's records, with what is shared with other customers."""

    customer: Customer
    cards: tuple[Card, ...]
    shared_mobile: bool
    shared_email: bool

    def extra(self) -> dict[str, Any]:
        try:
            found = json.loads(self.customer.extra)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class Kind:
    name: str
    about: str  # what it shows, and what to try with it
    test: Callable[[Records], bool]


def _kyc(profile_id: int) -> Kind:
    return Kind(
        f"kyc-{profile_id}",
        f"a card on KYC profile {kyc.describe(profile_id)}",
        lambda r: any(card.profile_id == profile_id for card in r.cards),
    )


def _status(name: str, *descriptions: str) -> Kind:
    wanted = {d.casefold() for d in descriptions}
    return Kind(
        name,
        f"a card whose status is {' or '.join(descriptions)}",
        lambda r: any(card.status_description.casefold() in wanted for card in r.cards),
    )


KINDS: Final[tuple[Kind, ...]] = (
    Kind(
        "sample",
        "the documents' sample customer (the README's examples)",
        lambda r: r.customer.customer_id == SAMPLE_CUSTOMER_ID,
    ),
    *(_kyc(profile_id) for profile_id in kyc.CARD_PROFILES),
    _status("blocked", "Blocked"),
    _status("lost", "Lost", "Stolen"),
    Kind("several-cards", "two or more cards", lambda r: len(r.cards) > 1),
    Kind(
        "shared-mobile",
        "a mobile on several customers: a lookup by it answers 1237",
        lambda r: r.shared_mobile,
    ),
    Kind(
        "shared-email",
        "an email on several customers: a lookup by it answers 1307",
        lambda r: r.shared_email,
    ),
    Kind("no-card", "no card at all: an update answers 1306", lambda r: not r.cards),
    Kind(
        "sub-wallets",
        "a wallet split into sub-wallets (subwalletListDetails)",
        lambda r: bool(r.extra().get("subwalletListDetails")),
    ),
    Kind("re-kyc", "re-KYC due", lambda r: r.customer.re_kyc),
    Kind("high-risk", "riskCategory HIGH", lambda r: r.extra().get("riskCategory") == "HIGH"),
)
NAMES: Final = tuple(kind.name for kind in KINDS)


@dataclass(frozen=True)
class Found:
    """A customer worth trying, as one kind."""

    kind: Kind
    records: Records

    def to_json(self) -> dict[str, Any]:
        customer = self.records.customer
        return {
            "kind": self.kind.name,
            "about": self.kind.about,
            "name": f"{customer.first_name} {customer.last_name}".strip(),
            "mobile": customer.mobile,
            "email": customer.email,
            "customerId": customer.customer_id,
            "cards": [
                {
                    "urn": card.urn,
                    "status": card.status_description,
                    "kycProfile": card.profile_id,
                }
                for card in self.records.cards
            ],
        }


def records(customers: Iterable[Customer], cards: Iterable[Card]) -> list[Records]:
    """Each customer with its cards and whether its mobile or email is another's too."""
    customers = list(customers)
    by_customer: dict[int, list[Card]] = {}
    for card in cards:
        by_customer.setdefault(card.customer, []).append(card)
    mobiles = Counter(c.mobile for c in customers)
    emails = Counter(c.email.casefold() for c in customers)  # the sandbox's lookup: any case
    return [
        Records(
            customer,
            tuple(by_customer.get(customer.id, ())),
            shared_mobile=mobiles[customer.mobile] > 1,
            shared_email=emails[customer.email.casefold()] > 1,
        )
        for customer in customers
    ]


def worth_trying(everyone: Iterable[Records], kind: str | None = None) -> list[Found]:
    """The first customer of each kind (one whose mobile and email are its own, where
    there is one); with `kind`, every customer of that kind, in id order.

    ValueError for a kind that is not one of `NAMES`.
    """
    everyone = list(everyone)
    if kind is None:
        # an example of a KYC level whose mobile answers 1237 would show that instead:
        # one whose mobile and email are its own comes first
        # and one with a card: without one every lookup answers 1001 (the no-card kind
        # still finds its customer in the last group)
        own = [r for r in everyone if r.cards and not (r.shared_mobile or r.shared_email)]
        carded = [r for r in everyone if r.cards]
        first = (
            next((r for r in [*own, *carded, *everyone] if each.test(r)), None) for each in KINDS
        )
        return [Found(each, r) for each, r in zip(KINDS, first, strict=True) if r is not None]
    chosen = next((each for each in KINDS if each.name == kind.strip().lower()), None)
    if chosen is None:
        raise ValueError(f"{kind!r}: must be one of {', '.join(NAMES)}")
    return [Found(chosen, r) for r in everyone if chosen.test(r)]

"""Wallet customers for the sandbox's seed: fixed, after the generated ones.

Closed-loop wallets as the public pages show them (spec/public-notes.md, Fields and
types): each card's balance split into sub-wallets (`subwalletListDetails`, snake_case,
amounts as strings in paise) and `cardLinked`, both kept with the customer's newer
fields (`Customer.extra`), so every answer shape carries them (the "mixed" shape at the
top level, the others in each card). Their mobiles, customer ids and URNs are outside
the generated ranges (tests/test_views_mixed_shapes.py checks that each is found once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from wibmo_cli import validate
from wibmo_cli.sandbox.model import Card, Customer, Document

SUBWALLET_MOBILE: Final = "9000012345"  # a wallet (KYC profile 150) with two sub-wallets
SUBWALLET_URN: Final = 2000000011


@dataclass(frozen=True)
class _Wallet:
    """A fixed wallet customer: one card whose balance is its sub-wallets' sum."""

    first: str
    last: str
    gender: str
    mobile: str
    customer_id: str
    profile: int
    documents: tuple[tuple[str, str], ...]  # (type, number); an Aadhaar without check digit
    urn: int
    card_type: str
    subwallets: tuple[tuple[str, str, int, str], ...]  # (id, name, paise, status)
    card_linked: bool
    risk: tuple[str, int] | None = None  # (riskCategory, riskScore)


WALLETS: Final = (
    _Wallet("Meera", "Kulkarni", "Female", SUBWALLET_MOBILE, "WL0000000001", 150,
            (("Aadhar", "23456789012"), ("Pancard", "ABCPK1234Q")), SUBWALLET_URN, "WALLET",
            (("FOOD", "Meal", 150000, "ACTIVE"), ("GEN", "General", 10000, "ACTIVE")),
            card_linked=True, risk=("LOW", 12)),
    _Wallet("Farhan", "Ansari", "Male", "9000012346", "WL0000000002", 1,
            (("VoterId", "ANS1234567"),), 2000000012, "MEAL CARD",
            (("FOOD", "Meal", 0, "INACTIVE"),), card_linked=False),
)  # fmt: skip


def records(first_id: int) -> tuple[list[Customer], list[Card], list[Document]]:
    """The `WALLETS` as records, their customers numbered from `first_id`."""
    customers: list[Customer] = []
    cards: list[Card] = []
    documents: list[Document] = []
    for rowid, wallet in enumerate(WALLETS, first_id):
        extra: dict[str, object] = {}
        if wallet.risk:
            extra.update(riskCategory=wallet.risk[0], riskScore=wallet.risk[1])
        extra["cardLinked"] = wallet.card_linked
        extra["subwalletListDetails"] = [
            {
                "wallet_id": id_,
                "wallet_name": name,
                "available_balance": str(paise),
                "status": status,
            }
            for id_, name, paise, status in wallet.subwallets
        ]
        customers.append(
            Customer(
                id=rowid,
                customer_id=wallet.customer_id,
                first_name=wallet.first,
                last_name=wallet.last,
                mobile=wallet.mobile,
                email=f"{wallet.first}.{wallet.last}.wallet@example.com".lower(),
                alternate_email="",
                dob="19880214",
                gender=wallet.gender,
                address="12, Lake View Road",
                address1="",
                address2="",
                address3="",
                city="Pune",
                state="Maharashtra",
                country="India",
                zip_code="411014",
                pan_valid=any(kind == "Pancard" for kind, _ in wallet.documents),
                re_kyc=False,
                extra=json.dumps(extra, separators=(",", ":")),
                created_on="20230301",
                updated_on="20240115",
            )
        )
        for kind, number in wallet.documents:
            if kind == "Aadhar":
                number += validate.verhoeff_check_digit(number)
            documents.append(Document(rowid, *validate.document(kind, number), "India"))
        cards.append(
            Card(
                urn=wallet.urn,
                customer=rowid,
                card_number=f"652150 XXXXXX {str(wallet.urn)[-4:]}",
                card_type=wallet.card_type,
                status=0,
                status_description="Active",
                entity_name="FintechA",
                profile_id=wallet.profile,
                balance=sum(paise for _, _, paise, _ in wallet.subwallets),
                created_on="20230301",
                updated_on="20240115",
            )
        )
    return customers, cards, documents

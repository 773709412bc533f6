"""Nothing the platform sent is dropped from a table: answers carrying every documented
field (the retrieve document's answer table and sample, the update document's answer
table and sample, public-notes.md's newer fields) rendered as the commands render them
(`views.answer.show_answer`), at 80 and 200 columns.

For each field: its value appears in the table output as a person reads it, and
appears because of that field (the output without the field shows it fewer times),
unless the field only repeats what another one already shows (`SAID_BY`).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from wibmo_cli.render import Renderer
from wibmo_cli.views.answer import show_answer

Path = tuple[str | int, ...]

# The retrieve document's "Response Body" table, flat, with its own sample values where
# they are distinct, and public-notes.md's newer fields.
FLAT: dict[str, Any] = {
    "description": "Customer profile found",
    "responseCode": "00",
    "messageCode": 1931,
    "clientTxnId": "20150701235959xhstiesqfds",
    "responseDateTime": "20161031214559",
    "accosaTransactionID": 3591893,
    "responseMessage": "SUCCESS",
    "bankId": 1234,
    "mobile": "9897123456",
    "firstName": "Sourabh",
    "lastName": "Verma",
    "dob": "19931114",
    "updatedOn": "11-11-2022",
    "reKyc": True,
    "docType": "Aadhar",
    "docCountry": "India",
    "docExpiry": "20231201",
    "docNumber": "3675 9834 6015",
    "cKycDocNo": "123456",
    "docConsent": True,
    "createdOn": "10-11-2022",
    "Urn": 1000058915,
    "customerId": "IN2016201611",
    "availBal": 19000,
    "cardStatus": "Active",
    "profileId": 150,
    "kycName": "FULL_KYC",
    "cardNumber": "479947****7810",
    "lastFourDigit": "7810",
    "entityName": "MG ROAD",
    "cardType": "Travel Card",
    "ovdFullName": "Sourav Kumar",
    "panValid": "Y",
    "alternateEmail": "ABC@gmail.com",
    "riskCategory": "MEDIUM",
    "riskScore": 42,
    "rekycValidity": "2025-04-14 00:00:00",
    "form60": "submitted",
    "form60Validity": "20251231",
    "transactionProfiles": [{"id": 7, "name": "P2P"}],
    "cardLinked": True,
    "subwalletListDetails": [{"wallet_id": "FOOD", "available_balance": "10000"}],
}
FLAT_SHOWN: dict[Path, str] = {
    ("description",): "Customer profile found",
    ("responseCode",): "responseCode 00",
    ("messageCode",): "messageCode 1931",
    ("clientTxnId",): "20150701235959xhstiesqfds",
    ("responseDateTime",): "31 Oct 2016 21:45:59",
    ("accosaTransactionID",): "3591893",
    ("responseMessage",): "SUCCESS",
    ("bankId",): "bankId 1234",
    ("mobile",): "9897123456",
    ("firstName",): "Sourabh",
    ("lastName",): "Verma",
    ("dob",): "14 Nov 1993",
    ("updatedOn",): "11 Nov 2022",
    ("reKyc",): "due (eligible for re-KYC)",
    ("docType",): "Aadhar",
    ("docCountry",): "India",
    ("docExpiry",): "01 Dec 2023",
    ("docNumber",): "3675 9834 6015",
    ("cKycDocNo",): "cKycDocNo=123456",
    ("docConsent",): "docConsent=true",
    ("createdOn",): "10 Nov 2022",
    ("Urn",): "1000058915",
    ("customerId",): "IN2016201611",
    ("availBal",): "₹190.00",
    ("cardStatus",): "Active",
    ("profileId",): "Full KYC / Full CDD · 150",
    ("kycName",): "Full KYC",
    ("cardNumber",): "479947****7810",
    ("lastFourDigit",): "7810",
    ("entityName",): "MG ROAD",
    ("cardType",): "Travel Card",
    ("ovdFullName",): "Sourav Kumar",
    ("panValid",): "valid (verified with NSDL)",
    ("alternateEmail",): "ABC@gmail.com",
    ("riskCategory",): "MEDIUM",
    ("riskScore",): "42",
    ("rekycValidity",): "14 Apr 2025",
    ("form60",): "submitted",
    ("form60Validity",): "31 Dec 2025",
    ("transactionProfiles",): '[{"id": 7, "name": "P2P"}]',
    ("cardLinked",): "yes",
    ("subwalletListDetails", 0, "wallet_id"): "FOOD",
    ("subwalletListDetails", 0, "available_balance"): "₹100.00",
}

# The retrieve document's sample shape and newer pages' together: the customer at the
# top level, cards in cardList, sub-wallets, dates in the newer formats.
MIXED: dict[str, Any] = {
    "firstName": "Meera",
    "lastName": "Kulkarni",
    "mobile": "919000012345",
    "email": "meera@example.com",
    "dob": "1988-02-14 00:00:00",
    "gender": "Female",
    "customerId": "WL0000000001",
    "rekyc": False,
    "panValid": False,
    "docList": [
        {"docNumber": "ABCPK1234Q", "docType": "Pancard", "docCountry": "India"},
        {"docNumber": "YCV0123456", "docType": "VoterId", "docExpiry": "20301231"},
    ],
    "subwalletListDetails": [
        {"wallet_id": "MEAL", "wallet_name": "Meal", "available_balance": "150000"},
        {"wallet_id": "GEN", "wallet_name": "General", "available_balance": "2550"},
    ],
    "cardList": [
        {
            "urn": 2000000011,
            "cardNumber": "652150 XXXXXX 0011",
            "lastFourDigit": "0011",
            "cardType": "WALLET",
            "cardStatus": 12,
            "statusDescription": "Blocked by bank",
            "profileId": 1,
            "kycName": "MIN_KYC",
            "availableBalance": "1500.00",
            "entityName": "KORAMANGALA",
            "createdOn": "16-Nov-2022",
            "updatedOn": "2024-06-19 15:19:55",
            "cardLinked": False,
        },
        {
            "urn": 2000000012,
            "cardNumber": "652150 XXXXXX 0012",
            "cardStatus": 21,
            "profileId": 200,
            "kycName": "IKYC",
            "availableBalance": 550,
            "cardLinked": True,
        },
    ],
    "bankId": 2010,
    "clientId": "WibmoClient",
    "responseDateTime": "2024-06-19T15:19:55.620318625",
    "clientTxnId": "Inquiry_V3_hAkjI/HThGQIkl7",
    "accosaTransactionId": 7441,
    "messageCode": 1931,
    "responseMessage": "SUCCESS",
    "responseCode": "00",
}
MIXED_SHOWN: dict[Path, str] = {
    ("firstName",): "Meera",
    ("lastName",): "Kulkarni",
    ("mobile",): "919000012345",
    ("email",): "meera@example.com",
    ("dob",): "14 Feb 1988",
    ("gender",): "Female",
    ("customerId",): "WL0000000001",
    ("rekyc",): "not required",
    ("panValid",): "not verified",
    ("docList", 0, "docNumber"): "ABCPK1234Q",
    ("docList", 0, "docType"): "Pancard",
    ("docList", 0, "docCountry"): "India",
    ("docList", 1, "docNumber"): "YCV0123456",
    ("docList", 1, "docType"): "VoterId",
    ("docList", 1, "docExpiry"): "31 Dec 2030",
    ("subwalletListDetails", 0, "wallet_id"): "MEAL",
    ("subwalletListDetails", 0, "wallet_name"): "Meal",
    ("subwalletListDetails", 0, "available_balance"): "₹1,500.00",
    ("subwalletListDetails", 1, "wallet_id"): "GEN",
    ("subwalletListDetails", 1, "wallet_name"): "General",
    ("subwalletListDetails", 1, "available_balance"): "₹25.50",
    ("cardList", 0, "urn"): "2000000011",
    ("cardList", 0, "cardNumber"): "652150 XXXXXX 0011",
    ("cardList", 0, "lastFourDigit"): "0011",
    ("cardList", 0, "cardType"): "WALLET",
    ("cardList", 0, "cardStatus"): "Temporary Block (12)",
    ("cardList", 0, "statusDescription"): "Blocked by bank",
    ("cardList", 0, "profileId"): "Min KYC · 1",
    ("cardList", 0, "kycName"): "Min KYC",
    ("cardList", 0, "availableBalance"): "1500.00",  # a decimal string: as it came
    ("cardList", 0, "entityName"): "KORAMANGALA",
    ("cardList", 0, "createdOn"): "16 Nov 2022",
    ("cardList", 0, "updatedOn"): "19 Jun 2024 15:19:55",
    ("cardList", 0, "cardLinked"): "no",
    ("cardList", 1, "urn"): "2000000012",
    ("cardList", 1, "cardNumber"): "652150 XXXXXX 0012",
    ("cardList", 1, "cardStatus"): "Disabled (21)",
    ("cardList", 1, "profileId"): "IKYC · 200",
    ("cardList", 1, "kycName"): "IKYC",
    ("cardList", 1, "availableBalance"): "₹5.50",
    ("cardList", 1, "cardLinked"): "yes",
    ("bankId",): "bankId 2010",
    ("clientId",): "clientId WibmoClient",
    ("responseDateTime",): "19 Jun 2024 15:19:55",
    ("clientTxnId",): "Inquiry_V3_hAkjI/HThGQIkl7",
    ("accosaTransactionId",): "7441",
    ("messageCode",): "messageCode 1931",
    ("responseMessage",): "SUCCESS",
    ("responseCode",): "responseCode 00",
}

# The update document's "Response parameters" with its sample values, accosaRefNo among them.
UPDATE: dict[str, Any] = {
    "messageCode": 1281,
    "clientTxnId": "GOUd789hhhjfscs",
    "responseDateTime": "20161031214559",
    "urn": 70000000008,
    "customerId": "11001188721",
    "accosaTransactionId": 3591893,
    "responseCode": "00",
    "responseMessage": "Success",
    "description": "Profile updated",
    "cardProfileId": 150,
    "accosaRefNo": 123212,
    "clientId": "2000",
    "bankId": 7000,
}
UPDATE_SHOWN: dict[Path, str] = {
    ("messageCode",): "messageCode 1281",
    ("clientTxnId",): "GOUd789hhhjfscs",
    ("responseDateTime",): "31 Oct 2016 21:45:59",
    ("urn",): "70000000008",
    ("customerId",): "11001188721",
    ("accosaTransactionId",): "accosaTransactionId 3591893",
    ("responseCode",): "responseCode 00",
    ("responseMessage",): "SUCCESS",
    ("description",): "Profile updated",
    ("cardProfileId",): "Full KYC / Full CDD · 150",
    ("accosaRefNo",): "accosaRefNo 123212",
    ("clientId",): "clientId 2000",
    ("bankId",): "bankId 7000",
}

# Fields whose value another field already shows: present, but not only because of them.
SAID_BY: dict[Path, str] = {
    ("lastFourDigit",): "the card number ends with it",
    ("cardList", 0, "lastFourDigit"): "the card number ends with it",
    ("cardList", 0, "kycName"): "the profile id's name says it",
    ("cardList", 1, "kycName"): "the profile id's name says it",
    ("kycName",): "the profile id's name says it",
    ("responseMessage",): "the catalogue's name for the code says it",
    ("responseCode",): "the footer always names a code ('?' when none came)",
    ("cardList", 0, "statusDescription"): "shown beside the decoded status",
}

ANSWERS = {
    "lookup, flat": (FLAT, FLAT_SHOWN),
    "lookup, mixed": (MIXED, MIXED_SHOWN),
    "update answer": (UPDATE, UPDATE_SHOWN),
}
CASES = [
    pytest.param(name, path, id=f"{name}: {'.'.join(map(str, path))}")
    for name, (_, shown) in ANSWERS.items()
    for path in shown
]


def rendered(
    answer: dict[str, Any], width: int, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> str:
    """What lookup and update-profile print for `answer` (reveal: the numbers whole)."""
    monkeypatch.setenv("COLUMNS", str(width))
    capsys.readouterr()
    show_answer(
        Renderer(), answer, elapsed=0.012, reveal=True, title="Customer", success_codes=("00",)
    )
    out: str = capsys.readouterr().out
    assert out.strip()
    return out


def without(answer: dict[str, Any], path: Path) -> dict[str, Any]:
    smaller = copy.deepcopy(answer)
    holder: Any = smaller
    for step in path[:-1]:
        holder = holder[step]
    del holder[path[-1]]
    return smaller


def value_at(answer: dict[str, Any], path: Path) -> Any:
    value: Any = answer
    for step in path:
        value = value[step]
    return value


def test_every_field_of_each_answer_has_an_expectation() -> None:
    for answer, shown in ((FLAT, FLAT_SHOWN), (UPDATE, UPDATE_SHOWN)):
        assert {path[0] for path in shown} == set(answer)
    leaves: set[Path] = set()
    for key, value in MIXED.items():
        if isinstance(value, list):
            leaves |= {(key, i, k) for i, item in enumerate(value) for k in item}
        else:
            leaves.add((key,))
    assert leaves == set(MIXED_SHOWN)


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize(("name", "path"), CASES)
def test_each_value_appears_in_the_table(
    name: str, path: Path, width: int, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    answer, expectations = ANSWERS[name]
    shown = expectations[path]
    out = rendered(answer, width, monkeypatch, capsys)
    assert shown in out, f"{value_at(answer, path)!r} of {path} not shown as {shown!r}:\n{out}"
    if path in SAID_BY:
        return
    less = rendered(without(answer, path), width, monkeypatch, capsys)
    assert less.count(shown) < out.count(shown), f"{shown!r} is not there because of {path}"


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("name", list(ANSWERS))
def test_no_line_is_wider_than_the_terminal(
    name: str, width: int, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    out = rendered(ANSWERS[name][0], width, monkeypatch, capsys)
    assert max(len(line) for line in out.splitlines()) <= width

"""The answer view: both shapes, several cards, odd and missing fields, amounts, dates."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from rich.console import Console
from support import SAMPLE_ENTRY

from wibmo_cli.views.customer import (
    AnswerView,
    answer_renderables,
    answer_view,
    card_status,
    footer,
    kyc,
    readable_date,
    rupees,
)

# The retrieve document's "Response (Success)" sample, decrypted, exactly.
SAMPLE: dict[str, Any] = {
    "cardList": [SAMPLE_ENTRY],
    "bankId": 2010,
    "clientId": "WibmoClient",
    "responseDateTime": "20221116114243",
    "clientTxnId": "Inquiry_V3_hAkjI/HThGQIkl7",
    "accosaTransactionId": 7441,
    "messageCode": 1931,
    "responseMessage": "SUCCESS",
    "responseCode": "00",
}
# The document's "Response (Failure)" sample.
FAILURE: dict[str, Any] = {
    "bankId": 0,
    "responseDateTime": "20221116120942",
    "accosaTransactionId": 0,
    "messageCode": 0,
    "responseMessage": "CUSTOMER DETAILS NOT PRESENT",
    "responseCode": "1303",
}


def flat_answer() -> dict[str, Any]:
    """The field table's shape: one card's fields at the top level, balance as availBal."""
    entry = copy.deepcopy(SAMPLE["cardList"][0])
    entry["availBal"] = entry.pop("availableBalance")
    envelope = {k: v for k, v in SAMPLE.items() if k != "cardList"}
    return {**entry, **envelope}


def render(view: AnswerView, width: int = 140) -> str:
    console = Console(width=width, no_color=True, file=io.StringIO())
    console.print(
        *answer_renderables(view, elapsed=0.0123, title="Customer (urn 389)", width=width)
    )
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


# -- the success sample (cardList) ------------------------------------------------------


def test_the_documents_sample_is_read_whole() -> None:
    view = answer_view(SAMPLE)
    assert view.ok is True
    assert view.code == "00"
    assert view.name == "SUCCESS"
    customer = dict(view.customer)
    assert customer == {
        "Name": "ABC LastName",
        "Mobile": "919897123456",
        "Email": "abc@xyz.com",
        "Date of birth": "11 Jul 1993",
        "Customer id": "custid_V3_juyWqcUUxz",
        "Re-KYC": "not required",
        "PAN": "not verified",
    }
    assert view.cards == [
        {
            "URN": "389",
            "Card": "179947 XXXXXX 4216",
            "Type": "TRAVEL CARD",
            "Status": "Active",
            "KYC": "Full KYC / Full CDD · 150",
            "Balance": "₹1,000.00",
            "Entity": "FintechA",
            "Created": "16 Nov 2022",
            "Updated": "16 Nov 2022",
        }
    ]
    assert [(d["Type"], d["Number"]) for d in view.documents] == [
        ("Passport", "ABC0123456"),
        ("Aadhar", "1234 5678 6015"),
        ("VoterId", "YCV0123456"),
        ("Pancard", "ABCDE1234A"),
        ("Driverlicense", "DL60 20211234567"),
    ]
    assert view.other == []  # every field of the sample is known
    assert view.envelope["accosaTransactionId"] == "7441"
    assert view.envelope["clientTxnId"] == "Inquiry_V3_hAkjI/HThGQIkl7"


def test_the_view_does_not_change_the_answer() -> None:
    answer = copy.deepcopy(SAMPLE)
    answer_view(answer)
    assert answer == SAMPLE


def test_the_sample_draws_as_tables_wide_and_narrow() -> None:
    view = answer_view(SAMPLE)
    wide = render(view, 140)
    assert "ABC LastName" in wide
    assert "₹1,000.00" in wide
    assert "Full KYC / Full CDD · 150" in wide
    assert "Cards" in wide
    assert "responseCode 00 SUCCESS" in wide
    assert "accosaTransactionId 7441" in wide
    narrow = render(view, 80)
    assert "Card 1 of 1" in narrow
    assert "₹1,000.00" in narrow
    assert "179947 XXXXXX 4216" in narrow


# -- the flat shape -------------------------------------------------------------------


def test_the_flat_shape_with_availbal_reads_like_the_card_list() -> None:
    flat = answer_view(flat_answer())
    listed = answer_view(SAMPLE)
    assert flat.ok is True
    assert flat.cards == listed.cards
    assert flat.cards[0]["Balance"] == "₹1,000.00"
    assert flat.customer == listed.customer
    assert flat.documents == listed.documents
    assert flat.other == []


def test_a_flat_answer_with_a_single_document_at_the_top_level() -> None:
    answer = flat_answer()
    del answer["docList"]
    answer.update(docType="Pancard", docNumber="ABCDE1234A", docExpiry="20301231")
    view = answer_view(answer)
    assert view.documents == [
        {
            "Type": "Pancard",
            "Number": "ABCDE1234A",
            "Country": "",
            "Expiry": "31 Dec 2030",
            "More": "",
        }
    ]


def test_an_empty_card_list_is_said_not_dropped() -> None:
    answer = {**{k: v for k, v in SAMPLE.items() if k != "cardList"}, "cardList": []}
    view = answer_view(answer)
    assert view.cards == []
    assert ("cardList", "[] (no cards)") in view.other


# -- several cards ----------------------------------------------------------------------


def test_a_multi_card_answer_has_one_row_per_card() -> None:
    answer = copy.deepcopy(SAMPLE)
    second = copy.deepcopy(answer["cardList"][0])
    second.update(
        urn=1000058916,
        cardNumber="479947 XXXXXX 7810",
        lastFourDigit="7810",
        cardStatus=2,
        statusDescription="Blocked",
        availableBalance=550,
        riskCategory="HIGH",
    )
    answer["cardList"][0]["riskCategory"] = "LOW"
    answer["cardList"].append(second)
    view = answer_view(answer)
    assert [c["URN"] for c in view.cards] == ["389", "1000058916"]
    assert [c["Balance"] for c in view.cards] == ["₹1,000.00", "₹5.50"]
    assert view.cards[1]["Status"] == "Blocked (2)"
    assert dict(view.customer)["Name"] == "ABC LastName"
    assert len(view.documents) == 5  # the same documents on both cards, listed once
    assert ("Risk", "LOW") in view.customer
    text = render(view)
    assert "1000058916" in text and "479947 XXXXXX 7810" in text


def test_unknown_fields_of_several_cards_say_which_card() -> None:
    answer = copy.deepcopy(SAMPLE)
    second = {**answer["cardList"][0], "urn": 390, "cardLimit": 500}
    answer["cardList"][0]["cardLimit"] = 100
    answer["cardList"].append(second)
    view = answer_view(answer)
    assert ("cardLimit (URN 389)", "100") in view.other
    assert ("cardLimit (URN 390)", "500") in view.other


def test_a_non_object_in_the_card_list_is_kept_under_other() -> None:
    answer = copy.deepcopy(SAMPLE)
    answer["cardList"].append("surprise")
    view = answer_view(answer)
    assert len(view.cards) == 1
    assert ("cardList[1]", "surprise") in view.other


def test_customer_fields_beside_the_card_list_are_shown_not_dropped() -> None:
    # A hybrid shape: the customer at the top level, only card fields in cardList.
    answer = {
        "firstName": "ABC",
        "lastName": "LastName",
        "email": "abc@xyz.com",
        "docList": [{"docNumber": "ABCDE1234A", "docType": "Pancard"}],
        "cardType": "GPR CARD",
        "cardList": [{"urn": 389, "availableBalance": 550}],
        "responseCode": "00",
    }
    view = answer_view(answer)
    assert ("Name", "ABC LastName") in view.customer
    assert ("Email", "abc@xyz.com") in view.customer
    assert [(d["Type"], d["Number"]) for d in view.documents] == [("Pancard", "ABCDE1234A")]
    assert view.cards[0]["Balance"] == "₹5.50"
    assert ("cardType", "GPR CARD") in view.other  # not a card of the list: listed


def test_a_flat_answer_without_a_card_id_keeps_its_card_fields_and_documents() -> None:
    answer = {
        "firstName": "ABC",
        "availBal": 550,
        "cardType": "GPR CARD",
        "docList": [{"docNumber": "ABCDE1234A", "docType": "Pancard"}],
        "responseCode": "00",
    }
    view = answer_view(answer)
    assert view.cards == []
    assert [(d["Type"], d["Number"]) for d in view.documents] == [("Pancard", "ABCDE1234A")]
    assert ("availBal", "550") in view.other
    assert ("cardType", "GPR CARD") in view.other


# -- missing and unknown fields ---------------------------------------------------------


def test_missing_optional_fields_do_not_fail() -> None:
    answer = {"cardList": [{"urn": 389}], "responseCode": "00"}
    view = answer_view(answer)
    assert view.ok is True
    assert view.customer == []
    assert view.cards == [
        {
            "URN": "389",
            "Card": "",
            "Type": "",
            "Status": "",
            "KYC": "",
            "Balance": "",
            "Entity": "",
            "Created": "",
            "Updated": "",
        }
    ]
    assert view.documents == []
    assert "responseCode 00 SUCCESS" in render(view)


def test_only_the_last_four_digits_make_a_card_column() -> None:
    view = answer_view({"cardList": [{"urn": 1, "lastFourDigit": "4216"}], "responseCode": "00"})
    assert view.cards[0]["Card"] == "•••• 4216"


def test_an_answer_without_a_response_code() -> None:
    view = answer_view({"urn": 389})
    assert view.ok is False
    assert view.code == "?"


def test_unknown_fields_are_listed_under_other_never_dropped() -> None:
    answer = copy.deepcopy(SAMPLE)
    answer["cardList"][0].update(
        transactionProfiles=[{"id": 1, "name": "P2P"}], subwalletListDetails={"food": 1200}
    )
    answer["newEnvelopeField"] = True
    view = answer_view(answer)
    other = dict(view.other)
    assert other["newEnvelopeField"] == "true"
    assert other["transactionProfiles"] == '[{"id": 1, "name": "P2P"}]'
    assert other["subwalletListDetails"] == '{"food": 1200}'
    text = render(view)
    assert "Other fields" in text
    assert "transactionProfiles" in text


def test_newer_known_fields_are_labelled() -> None:
    answer = copy.deepcopy(SAMPLE)
    answer["cardList"][0].update(
        riskCategory="MEDIUM",
        riskScore=42,
        rekycValidity="11-11-2024",
        form60=True,
        form60Validity="20251231",
        reKyc=True,
        panValid="Y",
    )
    customer = dict(answer_view(answer).customer)
    assert customer["Risk"] == "MEDIUM"
    assert customer["Risk score"] == "42"
    assert customer["Re-KYC valid until"] == "11 Nov 2024"
    assert customer["Form 60 valid until"] == "31 Dec 2025"
    assert customer["Re-KYC"] == "due (eligible for re-KYC)"
    assert customer["PAN"] == "valid (verified with NSDL)"


# -- rupees -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (0, "₹0.00"),
        (5, "₹0.05"),
        (550, "₹5.50"),
        (19000, "₹190.00"),
        (100000, "₹1,000.00"),
        (10000000, "₹1,00,000.00"),
        (1234567890, "₹1,23,45,678.90"),
        ("550", "₹5.50"),
        (" 550 ", "₹5.50"),
        (-550, "-₹5.50"),
        (-10000000, "-₹1,00,000.00"),
        ("abc", "abc"),
        ("", ""),
        ("12.50", "12.50"),
    ],
)
def test_rupees(paise: object, shown: str) -> None:
    assert rupees(paise) == shown


# -- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("16-Nov-2022", "16 Nov 2022"),
        ("11-11-2022", "11 Nov 2022"),
        ("19931114", "14 Nov 1993"),
        (19931114, "14 Nov 1993"),
        ("20161031214559", "31 Oct 2016 21:45:59"),
        ("2024-01-02", "02 Jan 2024"),
        ("02/01/2024", "02 Jan 2024"),
        (" 16-Nov-2022 ", "16 Nov 2022"),
        ("not a date", "not a date"),
        ("20221399", "20221399"),
    ],
)
def test_readable_date(raw: object, shown: str) -> None:
    assert readable_date(raw) == shown


# -- KYC and card status -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile_id", "name", "shown"),
    [
        (1, "MIN_KYC", "Min KYC · 1"),
        (30, None, "Simple CDD · 30"),
        (150, "FULL_KYC", "Full KYC / Full CDD · 150"),
        ("150", None, "Full KYC / Full CDD · 150"),
        (200, "IKYC", "IKYC · 200"),
        (300, None, "No CDD · 300"),
        (150, "FULL_CDD", "Full KYC / Full CDD · 150"),
        (42, "WEIRD", "profile 42 · 42 (WEIRD) [unknown profile id]"),
        ("abc", None, "profile abc"),
        (None, None, ""),
    ],
)
def test_kyc(profile_id: object, name: object, shown: str) -> None:
    assert kyc(profile_id, name) == shown


@pytest.mark.parametrize(
    ("status", "description", "shown"),
    [
        (0, "Active", "Active"),
        (0, None, "Active"),
        ("0", None, "Active"),
        (0, "Live", "Active (Live)"),
        (2, "Blocked", "Blocked (2)"),
        (7, None, "status 7"),
        (None, "Closed", "Closed"),
        (None, None, ""),
    ],
)
def test_card_status(status: object, description: object, shown: str) -> None:
    assert card_status(status, description) == shown


# -- failures -----------------------------------------------------------------------------


def test_the_failure_sample_is_not_ok_and_named_from_the_catalogue() -> None:
    view = answer_view(FAILURE)
    assert view.ok is False
    assert view.code == "1303"
    assert view.name == "CUSTOMER_DETAILS_NOT_PRESENT"
    assert view.customer == []
    assert view.cards == []
    assert view.documents == []
    assert view.other == []
    text = render(view)
    assert "The platform answered with an error" in text
    assert "1303" in text
    assert "No customer matches" in text  # the catalogue's meaning


def test_an_unknown_code_is_named_from_the_response_message() -> None:
    view = answer_view({"responseCode": "7777", "responseMessage": "SOMETHING NEW"})
    assert view.ok is False
    assert view.name == "SOMETHING NEW"
    text = render(view)
    assert "not in the catalogue" in text


@pytest.mark.parametrize("code", [0, "0", "00", " 00 "])
def test_success_in_any_spelling(code: object) -> None:
    assert answer_view({"responseCode": code}).ok is True


def test_footer_names_code_ids_and_time() -> None:
    line = footer(answer_view(SAMPLE), 0.0421)
    assert line == (
        "responseCode 00 SUCCESS · accosaTransactionId 7441 · "
        "clientTxnId Inquiry_V3_hAkjI/HThGQIkl7 · 42 ms"
    )
    failure = footer(answer_view(FAILURE), None)
    assert "responseCode 1303 CUSTOMER_DETAILS_NOT_PRESENT" in failure
    assert "message" not in failure  # the message only repeats the name
    unknown = footer(
        answer_view({"responseCode": "1303", "responseMessage": "NO SUCH CUSTOMER"}), 1
    )
    assert "message 'NO SUCH CUSTOMER'" in unknown
    assert unknown.endswith("1000 ms")


def test_footer_shows_the_description_the_platform_sent() -> None:
    view = answer_view(
        {
            "responseCode": "1055",
            "responseMessage": "MALFORMED REQUEST",
            "description": "cardholderAddress is required for Full CDD",
            "clientTxnId": "W1",
        }
    )
    text = footer(view, None)
    assert "description 'cardholderAddress is required for Full CDD'" in text
    assert "clientTxnId W1" in text

"""Answers that mix shapes: the customer at the top level beside a cardList, sub-wallets
(snake_case, string paise) at either level, decimal-string balances, the newer date
formats, and every key the view knows but does not show left in "Other fields"."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support import Invoke, Platform, StartSandbox

from wibmo_cli.sandbox import SAMPLE_MOBILE
from wibmo_cli.sandbox.lookup import CARD_FIELDS
from wibmo_cli.sandbox.wallets import SUBWALLET_MOBILE, SUBWALLET_URN, WALLETS
from wibmo_cli.views.customer import ENVELOPE, answer_view
from wibmo_cli.views.footer import envelope_rest, footer
from wibmo_cli.views.values import readable_date, rupees

MIXED: dict[str, Any] = {
    "firstName": "Meera",
    "lastName": "Kulkarni",
    "mobile": "919000012345",
    "customerId": "WL0000000001",
    "dob": "1988-02-14 00:00:00",
    "docList": [{"docNumber": "ABCPK1234Q", "docType": "Pancard"}],
    "subwalletListDetails": [
        {"wallet_id": "FOOD", "available_balance": "150000", "status": "ACTIVE"},
        {"wallet_id": "GEN", "available_balance": "10000", "status": "ACTIVE"},
    ],
    "cardList": [
        {"urn": 2000000011, "availableBalance": 160000, "cardStatus": 0, "cardLinked": True}
    ],
    "responseDateTime": "2024-06-19T15:19:55.620318625",
    "responseCode": "00",
}


# -- the customer beside the card list ------------------------------------------------------


def test_top_level_profile_and_card_list_are_read_together() -> None:
    view = answer_view(MIXED)
    customer = dict(view.customer)
    assert customer["Name"] == "Meera Kulkarni"
    assert customer["Customer id"] == "WL0000000001"
    assert customer["Date of birth"] == "14 Feb 1988"
    assert [(c["URN"], c["Balance"], c["Linked"]) for c in view.cards] == [
        ("2000000011", "₹1,600.00", "yes")
    ]
    assert [(d["Type"], d["Number"]) for d in view.documents] == [("Pancard", "ABCPK1234Q")]
    assert view.other == []  # every key shown in its section


def test_sub_wallets_at_the_top_level_are_a_table_in_rupees() -> None:
    view = answer_view(MIXED)
    assert view.subwallets == [
        {"Wallet id": "FOOD", "Available balance": "₹1,500.00", "Status": "ACTIVE"},
        {"Wallet id": "GEN", "Available balance": "₹100.00", "Status": "ACTIVE"},
    ]


def test_sub_wallets_inside_cards_say_which_card() -> None:
    answer = copy.deepcopy(MIXED)
    wallets = answer.pop("subwalletListDetails")
    second = {"urn": 2000000012, "subwalletListDetails": [{"wallet_id": "X", "balance": 5}]}
    answer["cardList"][0]["subwalletListDetails"] = wallets
    answer["cardList"].append(second)
    view = answer_view(answer)
    assert [(w["Card URN"], w["Wallet id"]) for w in view.subwallets] == [
        ("2000000011", "FOOD"),
        ("2000000011", "GEN"),
        ("2000000012", "X"),
    ]
    assert view.subwallets[2]["Balance"] == "₹0.05"
    assert view.other == []


def test_sub_wallet_keys_that_read_alike_keep_both_columns() -> None:
    answer = {
        "responseCode": "00",
        "subwalletListDetails": [
            {"wallet_id": "A", "available_balance": "100"},
            {"wallet_id": "B", "Wallet id": "dup", "expiry_date": "2025-01-01"},
        ],
    }
    view = answer_view(answer)
    assert view.subwallets == [
        {"Wallet id": "A", "Available balance": "₹1.00"},
        {"Wallet id": "B", "Wallet id [Wallet id]": "dup", "Expiry date": "2025-01-01"},
    ]


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"food": 1200}, ("subwalletListDetails", '{"food": 1200}')),
        ("none", ("subwalletListDetails", "none")),
    ],
)
def test_sub_wallets_that_are_not_a_list_are_listed_under_other(
    value: object, where: tuple[str, str]
) -> None:
    view = answer_view({"responseCode": "00", "subwalletListDetails": value})
    assert view.subwallets == []
    assert where in view.other


def test_a_sub_wallet_that_is_not_an_object_is_kept() -> None:
    view = answer_view({"responseCode": "00", "subwalletListDetails": [{"wallet_id": "A"}, 7]})
    assert view.subwallets == [{"Wallet id": "A"}]
    assert ("subwalletListDetails[1]", "7") in view.other


# -- balances -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("balance", "shown"),
    [
        (150000, "₹1,500.00"),  # paise
        ("150000", "₹1,500.00"),  # paise as a string
        ("1500.00", "1500.00"),  # a decimal string: the amount itself, shown as it came
        (1500.5, "1500.5"),
    ],
)
def test_available_balance_paise_or_decimal_string(balance: object, shown: str) -> None:
    view = answer_view(
        {"responseCode": "00", "cardList": [{"urn": 1, "availableBalance": balance}]}
    )
    assert view.cards[0]["Balance"] == shown
    assert rupees(balance) == shown


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("1993-04-14 00:00:00", "14 Apr 1993"),  # a date sent as a timestamp
        ("2024-06-19 15:19:55", "19 Jun 2024 15:19:55"),
        ("2024-06-19T15:19:55.620318625", "19 Jun 2024 15:19:55"),
        ("2024-06-19T15:19:55", "19 Jun 2024 15:19:55"),
        ("2024-06-19T15:19", "19 Jun 2024 15:19:00"),
        ("2024-06-19T15:19:55Z", "19 Jun 2024 15:19:55 +0000"),
        ("2024-06-19T15:19:55.5+05:30", "19 Jun 2024 15:19:55 +0530"),
        ("2024-06-19T00:00:00", "19 Jun 2024"),
        ("20161031000000", "31 Oct 2016"),
        # the formats seen before still read the same
        ("16-Nov-2022", "16 Nov 2022"),
        ("11-11-2022", "11 Nov 2022"),
        ("19931114", "14 Nov 1993"),
        ("20161031214559", "31 Oct 2016 21:45:59"),
        # not dates: as they came
        ("2024-13-19T15:19:55", "2024-13-19T15:19:55"),
        ("2024-W01-1", "2024-W01-1"),
        ("2024-06-19T15:19:55 tomorrow", "2024-06-19T15:19:55 tomorrow"),
    ],
)
def test_newer_date_formats_are_readable(raw: str, shown: str) -> None:
    assert readable_date(raw) == shown


def test_the_answers_date_time_is_shown_readable() -> None:
    assert envelope_rest(answer_view(MIXED)) == "responseDateTime 19 Jun 2024 15:19:55"


# -- nothing dropped ------------------------------------------------------------------------


def test_card_linked_is_a_column_only_where_sent() -> None:
    with_it = answer_view({"responseCode": "00", "cardList": [{"urn": 1, "cardLinked": False}]})
    assert with_it.cards[0]["Linked"] == "no"
    without = answer_view({"responseCode": "00", "cardList": [{"urn": 1}]})
    assert "Linked" not in without.cards[0]


def test_a_second_spelling_with_another_value_is_listed_not_dropped() -> None:
    answer = {
        "responseCode": "00",
        "cardList": [{"urn": 1, "availableBalance": 100, "availBal": 200, "Urn": 1}],
        "email": "a@example.com",
        "emailId": "b@example.com",
    }
    view = answer_view(answer)
    assert view.cards[0]["Balance"] == "₹1.00"
    assert dict(view.customer)["Email"] == "a@example.com"
    assert ("availBal", "200") in view.other
    assert ("emailId", "b@example.com") in view.other
    assert not any(key == "Urn" for key, _ in view.other)  # says what urn says


def test_last_four_digits_that_disagree_with_the_card_number_are_listed() -> None:
    card = {"urn": 1, "cardNumber": "479947 XXXXXX 7810", "lastFourDigit": "1111"}
    view = answer_view({"responseCode": "00", "cardList": [card]})
    assert view.cards[0]["Card"] == "479947 XXXXXX 7810"
    assert ("lastFourDigit", "1111") in view.other


def test_customer_fields_of_another_card_that_differ_are_listed_with_its_urn() -> None:
    first = {"urn": 1, "firstName": "Meera", "email": "m@example.com"}
    second = {"urn": 2, "firstName": "Meera", "email": "other@example.com"}
    view = answer_view({"responseCode": "00", "cardList": [first, second]})
    assert dict(view.customer)["Email"] == "m@example.com"
    assert view.other == [("email (URN 2)", "other@example.com")]


def test_envelope_keys_inside_a_card_are_listed() -> None:
    view = answer_view({"responseCode": "00", "cardList": [{"urn": 1, "bankId": 77}]})
    assert ("bankId", "77") in view.other


def test_a_card_list_or_doc_list_that_is_not_a_list_is_listed() -> None:
    view = answer_view(
        {"responseCode": "00", "cardList": {"urn": 1}, "docList": "none", "docConsent": True}
    )
    assert view.cards == []
    assert ("cardList", '{"urn": 1}') in view.other
    assert ("docList", "none") in view.other
    assert ("docConsent", "true") in view.other  # no document for it to go with


def test_a_document_that_is_not_an_object_is_listed() -> None:
    answer = {"responseCode": "00", "docList": [{"docType": "Pancard"}, "ABCDE1234A"]}
    view = answer_view(answer)
    assert ("docList[1]", "ABCDE1234A") in view.other


def test_the_update_answers_reference_number_is_in_the_footer() -> None:
    answer = {
        "responseCode": "00",
        "accosaTransactionId": 3117,
        "accosaRefNo": 123212,
        "clientTxnId": "W1",
        "bankId": 7000,
        "clientId": "2000",
        "messageCode": 1281,
    }
    view = answer_view(answer)
    assert footer(view, None) == (
        "responseCode 00 SUCCESS · accosaTransactionId 3117 · accosaRefNo 123212 · clientTxnId W1"
    )
    assert envelope_rest(view) == "messageCode 1281 · bankId 7000 · clientId 2000"


def test_both_spellings_of_the_transaction_id_are_shown_when_they_differ() -> None:
    view = answer_view({"responseCode": "00", "accosaTransactionId": 1, "accosaTransactionID": 2})
    assert "accosaTransactionId 1" in footer(view, None)
    assert envelope_rest(view) == "accosaTransactionID 2"


def test_the_footer_breaks_lines_between_parts() -> None:
    answer = {"responseCode": "00", "accosaTransactionId": 3591893, "clientTxnId": "W" * 30}
    lines = footer(answer_view(answer), 0.5, width=40).splitlines()
    assert lines == [
        "responseCode 00 SUCCESS",
        "accosaTransactionId 3591893",  # a label stays with its value
        # wider than 40: the terminal folds it; the time stays with it (issue 12, item 8)
        "clientTxnId " + "W" * 30 + " · 500 ms",
    ]


def test_a_control_character_in_the_footer_stays_visible() -> None:
    view = answer_view({"responseCode": "00", "clientTxnId": "A\nB\x1b[2J"})
    text = footer(view, None, width=80)
    assert "\n" not in text
    assert "A\\nB\\x1b[2J" in text


# -- the sandbox answers such shapes --------------------------------------------------------


def lookup(sandbox_url: str, **identifier: str) -> dict[str, Any]:
    client = Platform(sandbox_url)
    try:
        return client.lookup(**identifier)
    finally:
        client.close()


def test_the_mixed_shape_holds_what_the_card_list_shape_holds(
    start_sandbox: StartSandbox,
) -> None:
    with start_sandbox() as sandbox:
        listed = lookup(sandbox.url, customerMobile=SAMPLE_MOBILE)
    with start_sandbox(shape="mixed") as sandbox:
        mixed = lookup(sandbox.url, customerMobile=SAMPLE_MOBILE)
    assert mixed["responseCode"] == "00"
    (card,) = mixed["cardList"]
    assert set(card) <= CARD_FIELDS  # cards hold card fields only
    profile = {k: v for k, v in mixed.items() if k not in (*ENVELOPE, "cardList")}
    assert "firstName" in profile and "docList" in profile and not set(profile) & CARD_FIELDS
    assert {**profile, **card} == listed["cardList"][0]


@pytest.mark.parametrize("shape", ["cardList", "flat", "mixed"])
def test_each_wallet_customer_is_found_once_by_each_identifier(
    start_sandbox: StartSandbox, shape: str
) -> None:
    with start_sandbox(shape=shape) as sandbox:
        for wallet in WALLETS:
            for identifier in (
                {"customerMobile": wallet.mobile},
                {"customerId": wallet.customer_id},
                {"urn": str(wallet.urn)},
            ):
                answer = lookup(sandbox.url, **identifier)
                assert answer["responseCode"] == "00", (identifier, answer)  # not 1237
                assert f'"customerId": "{wallet.customer_id}"' in json.dumps(answer)


def test_a_wallet_lookup_shows_sub_wallets_in_rupees(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with start_sandbox(shape="mixed", profile={}):
        table = wibmo("lookup", "--mobile", SUBWALLET_MOBILE)
        as_json = wibmo("lookup", "--mobile", SUBWALLET_MOBILE, "-o", "json")
    assert table.exit_code == 0, table.stderr
    out = table.stdout
    assert "Meera Kulkarni" in out
    assert "Sub-wallets" in out
    assert "₹1,500.00" in out and "₹100.00" in out  # "150000" and "10000" paise
    assert "₹1,600.00" in out  # the card: their sum
    assert "Linked" in out
    assert "Other fields" not in out  # every key of the mixed answer has its place
    answer = json.loads(as_json.stdout)
    assert answer["subwalletListDetails"][0]["available_balance"] == "150000"
    assert answer["cardList"][0]["urn"] == SUBWALLET_URN
    assert answer["cardList"][0]["cardLinked"] is True
    assert "firstName" not in answer["cardList"][0]


def test_in_the_card_list_shape_sub_wallets_say_their_card(
    wibmo: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with start_sandbox(profile={}):
        result = wibmo("lookup", "--urn", str(SUBWALLET_URN))
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "₹1,500.00" in line]
    assert len(rows) == 1 and str(SUBWALLET_URN) in rows[0]
    assert max(len(line) for line in result.stdout.splitlines()) <= 80

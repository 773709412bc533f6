"""The codes of public-notes.md's second table, the card statuses and the kycName values:
catalogued with what to do, explained by `wibmo codes`, decoded in the answer view."""

from __future__ import annotations

import json

import pytest
from support import Invoke
from test_codes import PUBLIC

from wibmo_cli.codes import CARD_STATUSES, CATALOGUE, explain
from wibmo_cli.views.customer import answer_view
from wibmo_cli.views.footer import footer
from wibmo_cli.views.values import card_status, kyc, kyc_name_label

# What each action must point at: the setting or the step an engineer takes next.
ACTION_POINTS_AT = {
    "1009": "Look the customer up",
    "1010": "responseMessage",
    "1013": "KYC",
    "1030": "--verbose",
    "1045": "update_fields",
    "1049": "secure_code",
    "1051": "encryption_key",
    "1056": "update_message_code",
    "1088": "update_date_format",
    "1304": "exactly one of",
    "1320": "requestDateTime",
    "1368": "product_id",
    "1504": "clientTxnId",
}


@pytest.mark.parametrize("code", sorted(PUBLIC))
def test_each_public_code_is_catalogued_with_what_to_do(code: str) -> None:
    entry = explain(code)
    assert entry is not None
    assert "public" in entry.apis
    assert len(entry.action) > 40  # a step to take, not a shrug
    assert entry.action != entry.meaning


@pytest.mark.parametrize(("code", "words"), sorted(ACTION_POINTS_AT.items()))
def test_actions_point_at_the_setting_or_the_step(code: str, words: str) -> None:
    entry = explain(code)
    assert entry is not None
    assert words in entry.action


@pytest.mark.parametrize("code", ["1010", "1030"])
def test_reused_codes_say_to_read_the_message_as_received(code: str) -> None:
    entry = explain(code)
    assert entry is not None
    assert "closed-loop" in entry.meaning
    assert "responseMessage as received" in entry.meaning


def test_a_reused_code_is_shown_with_the_message_as_received() -> None:
    view = answer_view({"responseCode": "1010", "responseMessage": "WALLET LIMIT EXCEEDED"})
    assert view.code == "1010"
    assert "message 'WALLET LIMIT EXCEEDED'" in footer(view, None)


@pytest.mark.parametrize("code", sorted(PUBLIC))
def test_wibmo_codes_explains_each(cli: Invoke, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    result = cli("codes", code)
    assert result.exit_code == 0, result.stderr
    entry = explain(code)
    assert entry is not None
    shown = " ".join(result.stdout.split())  # a long action wraps in its column
    assert entry.name in shown
    assert " ".join(entry.action.split()) in shown
    assert "public" in shown


def test_api_public_lists_exactly_the_public_codes(cli: Invoke) -> None:
    result = cli("codes", "--api", "public", "-o", "json")
    assert result.exit_code == 0, result.stderr
    listed = {c["code"] for c in json.loads(result.stdout)["codes"]}
    assert listed == set(PUBLIC)
    assert listed == {c.code for c in CATALOGUE if "public" in c.apis}


# -- card statuses --------------------------------------------------------------------------

# spec/public-notes.md, "Fields and types" (the payment group's retrieve page).
DOCUMENTED_STATUSES = {
    0: "Active",
    1: "ICC Authorized",
    9: "Pre-active",
    21: "Disabled",
    12: "Temporary Block",
    13: "Permanent Block",
    14: "ICC Expired",
}


def test_the_card_status_table_is_the_documented_one() -> None:
    assert CARD_STATUSES == DOCUMENTED_STATUSES


@pytest.mark.parametrize(
    ("status", "description", "shown"),
    [
        (1, None, "ICC Authorized (1)"),
        ("9", None, "Pre-active (9)"),
        (12, "Temporary Block", "Temporary Block (12)"),
        (13, "PERMANENT_BLOCK", "Permanent Block (13)"),
        (14, None, "ICC Expired (14)"),
        (21, None, "Disabled (21)"),
        (1, "Inactive", "ICC Authorized (1) · Inactive"),  # the answer's own word kept
        (7, "Frozen", "Frozen (7)"),  # not in the table: number and description
        (7, None, "status 7"),
    ],
)
def test_card_statuses_are_decoded(status: object, description: object, shown: str) -> None:
    assert card_status(status, description) == shown


def test_a_card_status_is_decoded_in_the_view() -> None:
    view = answer_view({"responseCode": "00", "cardList": [{"urn": 1, "cardStatus": 12}]})
    assert view.cards[0]["Status"] == "Temporary Block (12)"


# -- kycName ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("MIN_KYC", "Min KYC"),
        ("FULL_KYC", "Full KYC"),
        ("IKYC", "IKYC"),
        ("SIMPLE_CDD", "Simple CDD"),
        ("FULL_CDD", "Full CDD"),
        ("NO_CDD", "No CDD"),
        ("full_kyc", "Full KYC"),
        ("SOMETHING_NEW", "SOMETHING_NEW"),  # not a documented name: as it came
    ],
)
def test_kyc_names_of_both_documents_read_as_people_write_them(name: str, shown: str) -> None:
    assert kyc_name_label(name) == shown


@pytest.mark.parametrize(
    ("profile_id", "name", "shown"),
    [
        (None, "SIMPLE_CDD", "Simple CDD"),  # no profile id: the name alone, readable
        (None, "NO_CDD", "No CDD"),
        (1, "FULL_KYC", "Min KYC · 1 (Full KYC)"),  # disagrees with the id: both shown
        (30, "SIMPLE_CDD", "Simple CDD · 30"),  # agrees: said once
        (300, "NO_CDD", "No CDD · 300"),
    ],
)
def test_kyc_names_in_the_card_column(profile_id: object, name: str, shown: str) -> None:
    assert kyc(profile_id, name) == shown

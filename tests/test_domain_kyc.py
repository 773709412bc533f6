"""KYC profiles live in kyc.py alone: validation, the views and the sandbox all read it."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from wibmo_cli import kyc, validate
from wibmo_cli.changes import parse_request, plan
from wibmo_cli.errors import InputError
from wibmo_cli.messages import Identifiers
from wibmo_cli.sandbox.lookup import card_entry
from wibmo_cli.sandbox.model import Card, Customer
from wibmo_cli.views.customer import answer_view
from wibmo_cli.views.customer import kyc as lookup_kyc
from wibmo_cli.views.preview import preview

SOURCE = Path(__file__).resolve().parents[1] / "wibmo_cli"
NOW = datetime(2024, 5, 1, 10, 30)


def test_the_profiles_of_both_documents() -> None:
    # public-notes.md: 1 Min KYC, 150 Full KYC, 200 IKYC (retrieve); 30, 150, 300 (update)
    assert set(kyc.PROFILES) == {1, 30, 150, 200, 300}
    assert kyc.UPDATABLE == (30, 150, 300)
    assert kyc.name(150) == "Full KYC / Full CDD"
    assert kyc.name(30) == "Simple CDD" and kyc.name(300) == "No CDD"
    assert kyc.name(42) is None


def test_rank_orders_no_cdd_simple_full() -> None:
    assert kyc.is_downgrade(150, 30) and kyc.is_downgrade(30, 300)
    assert not kyc.is_downgrade(300, 150) and not kyc.is_downgrade(30, 30)
    with pytest.raises(ValueError, match="cannot be set"):
        kyc.is_downgrade(150, 200)


@pytest.mark.parametrize("profile_id", [1, 30, 150, 200, 300])
def test_lookup_and_preview_show_the_same_text(profile_id: int) -> None:
    shown = kyc.describe(profile_id)
    assert shown == f"{kyc.name(profile_id)} · {profile_id}"
    # the lookup view, given the kycName the sandbox answers for the profile
    assert lookup_kyc(profile_id, kyc.sandbox_kyc_name(profile_id)) == shown
    assert lookup_kyc(str(profile_id)) == shown


def test_the_update_preview_uses_the_lookup_views_text() -> None:
    request = parse_request(
        Identifiers(urn="389"),
        {
            "newcardProfileId": "150",
            "cardholderAddress": "12, MG Road, Pune",
            "kycDateStamp": "20240501103000",
        },
        docs=("PAN:ABCPE1234F",),
        now=NOW,
    )
    rows = {row.label: row for row in preview(plan(request, 30, now=NOW), {})}
    assert rows["KYC profile"].now == lookup_kyc(30, "MIN_KYC") == "Simple CDD · 30"
    assert rows["KYC profile"].will_be == lookup_kyc(150, "FULL_KYC")


def test_the_sandboxs_answer_reads_back_under_the_same_name() -> None:
    customer = Customer(
        *(1, "C1", "A", "B", "9897123456", "a@example.com", "", "19900101", "Male"),
        *("", "", "", "", "", "", "", "", False, False, "{}", "20220101", "20220101"),
    )
    for profile_id in kyc.PROFILES:
        card = Card(389, 1, "1234 XX 5678", "GPR", 0, "Active", "E", profile_id, 0, "", "")
        view = answer_view({"responseCode": "00", **card_entry(customer, card, [], {})})
        assert view.cards[0]["KYC"] == kyc.describe(profile_id)


def test_validation_takes_exactly_the_updatable_profiles_and_names_them() -> None:
    for profile_id in kyc.PROFILES:
        if profile_id in kyc.UPDATABLE:
            assert validate.kyc_profile_id(str(profile_id)) == profile_id
            continue
        with pytest.raises(InputError) as caught:
            validate.kyc_profile_id(profile_id)
        for allowed in kyc.UPDATABLE:
            assert f"{allowed} ({kyc.name(allowed)})" in caught.value.message


def test_no_other_module_keeps_a_table_of_profile_names() -> None:
    names = re.compile(r"\b(?:Full|Simple|No) CDD\b|\bFull KYC\b|\bMin KYC\b|\bIKYC\b")
    holders = sorted(
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if names.search(path.read_text(encoding="utf-8"))
    )
    # codes.py quotes the platform's own explanation of code 1091
    assert holders == ["codes.py", "kyc.py"], holders

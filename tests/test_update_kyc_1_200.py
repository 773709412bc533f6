"""Cards on KYC profiles 1 (Min KYC) and 200 (IKYC) can be updated (issue 11, item 3).

cardProfileId is "the present KYC profile": what the lookup shows, any of 1/30/150/200/300;
newcardProfileId stays one of what Update Profile sets (30/150/300). How 1 and 200 rank for
the downgrade note is kyc.py's: No CDD < Min KYC = Simple CDD < IKYC < Full KYC.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support import Invoke, Platform, StartSandbox

from wibmo_cli import kyc, validate
from wibmo_cli.changes import parse_request, plan
from wibmo_cli.customer_now import current_profile
from wibmo_cli.errors import InputError
from wibmo_cli.messages import Identifiers
from wibmo_cli.sandbox import Sandbox

NOW = datetime(2024, 6, 13, 14, 7, 19)


def answer(*cards: dict[str, Any]) -> dict[str, Any]:
    return {"responseCode": "00", "cardList": list(cards)}


# -- the core --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile_id", [1, 200])
def test_the_lookups_profile_is_the_cards_present_profile(profile_id: int) -> None:
    found = answer({"urn": 389, "profileId": profile_id}, {"urn": 390, "profileId": 30})
    assert current_profile(found, "389", None) == profile_id
    assert current_profile(answer({"urn": 1, "profileId": str(profile_id)}), None, None) == (
        profile_id
    )
    assert current_profile(found, "389", profile_id) == profile_id
    with pytest.raises(InputError, match="1309"):
        current_profile(found, "389", 30)


def test_card_profile_id_takes_every_profile_a_card_can_be_on() -> None:
    assert kyc.CARD_PROFILES == (1, 30, 150, 200, 300)
    for profile_id in kyc.CARD_PROFILES:
        request = parse_request(
            Identifiers(urn="389"), {"firstName": "Asha"}, card_profile_id=str(profile_id)
        )
        assert request.card_profile_id == profile_id
    with pytest.raises(InputError, match=r"--card-profile-id '42': must be one of 1 \(Min KYC\)"):
        parse_request(Identifiers(urn="389"), {"firstName": "Asha"}, card_profile_id="42")


@pytest.mark.parametrize("new", ["1", "200"])
def test_new_card_profile_id_stays_what_update_profile_sets(new: str) -> None:
    with pytest.raises(InputError, match=r"--new-card-profile-id .*must be one of 30"):
        parse_request(Identifiers(urn="389"), {"newcardProfileId": new})
    with pytest.raises(InputError):
        validate.kyc_profile_id(new)


@pytest.mark.parametrize("current", [1, 200])
def test_the_payload_carries_the_present_profile(current: int) -> None:
    request = parse_request(Identifiers(urn="389"), {"emailId": "a@example.com"}, now=NOW)
    made = plan(request, current, client_txn_id="WTEST000000001", now=NOW)
    assert made.payload["cardProfileId"] == str(current)
    assert made.notes == ()


@pytest.mark.parametrize(
    ("current", "new", "lowers"),
    [
        (200, 30, True),  # IKYC is more than minimum
        (200, 300, True),
        (1, 300, True),
        (1, 30, False),  # Min KYC and Simple CDD are one level
        (30, 300, True),
        (300, 30, False),
        (1, 150, False),
        (200, 150, False),
    ],
)
def test_how_1_and_200_rank(current: int, new: int, lowers: bool) -> None:
    assert kyc.is_downgrade(current, new) is lowers
    options: dict[str, Any] = {"newcardProfileId": str(new)}
    if new == kyc.FULL_KYC:
        options |= {"cardholderAddress": "12, MG Road", "kycDateStamp": "20240501103000"}
    request = parse_request(Identifiers(urn="389"), options, docs=("PAN:ABCPE1234F",), now=NOW)
    made = plan(request, current, now=NOW)
    assert any("lowers the KYC profile" in note for note in made.notes) is lowers
    assert made.payload["newcardProfileId"] == str(new)


def test_an_upgrade_from_ikyc_to_full_kyc_keeps_the_full_kyc_rules() -> None:
    request = parse_request(Identifiers(urn="389"), {"newcardProfileId": "150"})
    with pytest.raises(InputError, match="needs the address"):
        plan(request, 200)


# -- end to end: the CLI against the sandbox on loopback ------------------------------------


def card_on(db: Path, profile_id: int) -> tuple[str, str]:
    """(URN, customer id) of a seeded customer whose every card is on `profile_id`."""
    rows = query_args(
        db,
        "SELECT c.urn, u.customer_id FROM cards c JOIN customers u ON u.id = c.customer "
        "WHERE c.profile_id = ? AND NOT EXISTS (SELECT 1 FROM cards o WHERE "
        "o.customer = c.customer AND o.profile_id != ?) ORDER BY c.urn LIMIT 1",
        profile_id,
        profile_id,
    )
    urn, customer_id = rows[0]
    return str(urn), str(customer_id)


def query_args(db: Path, sql: str, *args: Any) -> list[Any]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.fixture
def served(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox(profile={})


@pytest.mark.e2e
@pytest.mark.parametrize("profile_id", [1, 200])
def test_update_a_card_on_1_or_200_answered_00(
    served: Sandbox, cli: Invoke, db_path: Path, profile_id: int
) -> None:
    urn, customer_id = card_on(db_path, profile_id)
    # a city each time: the second run setting the same city would change nothing
    for who, city in ((["--urn", urn], "Nagpur"), (["--customer-id", customer_id], "Pune")):
        result = cli("update-profile", *who, "--city", city, "--yes", "-o", "json")
        assert result.exit_code == 0, result.stderr
        answered = json.loads(result.stdout)
        assert answered["responseCode"] == "00"
        assert str(answered["cardProfileId"]) == str(profile_id)
    city = query_args(db_path, "SELECT city FROM customers WHERE customer_id = ?", customer_id)
    assert city == [("Pune",)]


@pytest.mark.e2e
def test_a_card_on_1_given_its_profile_needs_no_lookup_and_is_answered_00(
    served: Sandbox, cli: Invoke, db_path: Path
) -> None:
    urn, _ = card_on(db_path, 1)
    argv = ("update-profile", "--urn", urn, "--card-profile-id", "1", "--first-name", "Asha")
    result = cli(*argv, "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [r.api for r in served.requests] == ["update"]
    # the platform's 1309 for a profile that is not the card's
    result = cli(*argv[:4], "200", *argv[5:], "--yes", "-o", "json")
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "1309"


@pytest.mark.e2e
def test_ikyc_to_full_kyc_end_to_end(served: Sandbox, cli: Invoke, db_path: Path) -> None:
    urn, _ = card_on(db_path, 200)
    result = cli(
        "update-profile", "--urn", urn, "--new-card-profile-id", "150",
        "--address", "12, MG Road, Pune", "--doc", "PAN:ABCPE1234F:India",
        "--kyc-date-stamp", "20240501103000", "--yes", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert query_args(db_path, "SELECT profile_id FROM cards WHERE urn = ?", int(urn)) == [(150,)]


@pytest.mark.e2e
def test_the_sandbox_takes_1_and_200_as_card_profile_ids(served: Sandbox, db_path: Path) -> None:
    platform = Platform(served.url)
    try:
        for profile_id in (1, 200):
            urn, _ = card_on(db_path, profile_id)
            answered = platform.update(urn=urn, cardProfileId=str(profile_id), firstName="Asha")
            assert answered["responseCode"] == "00", answered
            assert answered["cardProfileId"] == profile_id
            other = 30 if profile_id == 1 else 1
            answered = platform.update(urn=urn, cardProfileId=str(other), firstName="Asha")
            assert answered["responseCode"] == "1309", answered
            for bad in ("42", "0"):
                answered = platform.update(urn=urn, cardProfileId=bad, firstName="Asha")
                assert answered["responseCode"] == "1091", answered
            answered = platform.update(
                urn=urn, cardProfileId=str(profile_id), newcardProfileId="200"
            )
            assert answered["responseCode"] == "1091", answered
    finally:
        platform.close()

"""Update Profile against a real sandbox: checks, codes, and changes a later lookup shows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from support import BANK_ID, CLIENT_ID, UPDATE_V3, Platform, query, running, txn_id

from wibmo_cli.sandbox import (
    CARDLESS_CUSTOMER_ID,
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
)

pytestmark = pytest.mark.e2e

SAMPLE = {"urn": "389", "cardProfileId": "150"}
SUCCESS_KEYS = {
    "customerId",
    "urn",
    "responseCode",
    "messageCode",
    "clientTxnId",
    "clientId",
    "responseDateTime",
    "accosaTransactionId",
    "accosaRefNo",
    "responseMessage",
    "bankId",
    "cardProfileId",
}


def customer_with(db_path: Path, where: str) -> tuple[str, int, int]:
    """(customerId, a URN, its profile id) of the first customer matching ``where``."""
    sql = (
        "SELECT customers.customer_id, cards.urn, cards.profile_id FROM customers "
        "JOIN cards ON cards.customer = customers.id WHERE %s ORDER BY customers.id LIMIT 1"
    )
    rows = query(db_path, sql % where)
    assert rows, where
    customer, urn, profile = rows[0]
    return customer, urn, profile


def sample_card(platform: Platform) -> dict[str, Any]:
    entry = platform.lookup(urn=389)["cardList"][0]
    assert isinstance(entry, dict)
    return entry


# -- success ---------------------------------------------------------------------------


def test_success_answer_shape(platform: Platform) -> None:
    txn = txn_id()
    answer = platform.update(urn="389", cardProfileId="150", firstName="Asha", clientTxnId=txn)
    assert set(answer) == SUCCESS_KEYS
    assert answer["responseCode"] == "00"
    assert answer["responseMessage"] == "SUCCESS"
    assert answer["messageCode"] == 1281
    assert answer["clientTxnId"] == txn
    assert answer["clientId"] == CLIENT_ID
    assert answer["bankId"] == int(BANK_ID)
    assert answer["customerId"] == SAMPLE_CUSTOMER_ID
    assert answer["urn"] == "389"
    assert answer["cardProfileId"] == 150
    assert isinstance(answer["accosaRefNo"], int)
    assert isinstance(answer["accosaTransactionId"], int)


@pytest.mark.parametrize(("code", "answered"), [(1280, 1281), ("1080", 1081), (1080, 1081)])
def test_message_codes(platform: Platform, code: object, answered: int) -> None:
    answer = platform.update(urn=389, cardProfileId=150, messageCode=code)
    assert answer["responseCode"] == "00"
    assert answer["messageCode"] == answered


def test_update_then_lookup_shows_the_change(platform: Platform) -> None:
    answer = platform.update(
        customerMobile="919897123456",
        cardProfileId="150",
        firstName="Jacob",
        lastName="James",
        emailId="jacob.james@example.com",
        alternateEmailId="jj@example.org",
        dateOfBirth="11-07-1995",
        gender="Male",
        cardholderAddress="Koramangala, Bangalore",
        addressline1="#3, Meena Nilaya",
        addressline2="2nd Cross",
        cardholderCity="Bangalore",
        cardholderState="Karnataka",
        cardholderCountry="India",
        cardholderZipCode="560034",
        docList=[
            {"docType": "Pancard", "docCountry": "India", "docNumber": "abcpe1234f"},
            {
                "docType": "Passport",
                "docCountry": "India",
                "docNumber": "A1234567",
                "docExpiry": "20301201",
            },
        ],
        kycDateStamp="20161031214559",
        updateDate="20220616214559",
        updateVectors="emailId,address,city,state,country,zipcode,alternateEmailId",
    )
    assert answer["responseCode"] == "00", answer
    entry = sample_card(platform)
    assert entry["firstName"] == "Jacob"
    assert entry["lastName"] == "James"
    assert entry["email"] == "jacob.james@example.com"
    assert entry["alternateEmail"] == "jj@example.org"
    assert entry["dob"] == "11-Jul-1995"
    assert entry["gender"] == "Male"
    assert entry["address"] == "Koramangala, Bangalore"
    assert entry["addressLine1"] == "#3, Meena Nilaya"
    assert entry["city"] == "Bangalore"
    assert entry["zipCode"] == "560034"
    assert entry["updatedOn"] == time.strftime("%d-%b-%Y")
    docs = {doc["docType"]: doc for doc in entry["docList"]}
    assert len(entry["docList"]) == 5  # merged by type: Pancard and Passport replaced
    assert docs["Pancard"]["docNumber"] == "ABCPE1234F"
    assert docs["Pancard"]["docCountry"] == "India"
    assert docs["Passport"] == {
        "docNumber": "A1234567",
        "docType": "Passport",
        "docCountry": "India",
        "docExpiry": "20301201",
    }
    assert platform.lookup(emailId="jacob.james@example.com")["responseCode"] == "00"


def test_flat_document_fields_and_new_document_type(platform: Platform) -> None:
    answer = platform.update(
        urn=389, cardProfileId=150, docType="jobcard", docNumber="KA-01-002-003-004/5"
    )
    assert answer["responseCode"] == "00", answer
    docs = {doc["docType"]: doc["docNumber"] for doc in sample_card(platform)["docList"]}
    assert docs["jobcard"] == "KA-01-002-003-004/5"
    assert len(docs) == 6


def test_mobile_change_moves_the_customer(platform: Platform) -> None:
    assert platform.update(urn=389, cardProfileId=150, mobile="7012345678")["responseCode"] == "00"
    assert platform.lookup(customerMobile="7012345678")["cardList"][0]["urn"] == 389
    assert platform.lookup(customerMobile="9897123456")["responseCode"] == "1303"


def test_upgrade_to_full_kyc(platform: Platform, db_path: Path) -> None:
    customer, urn, _ = customer_with(
        db_path,
        "cards.profile_id = 30 AND customers.id IN (SELECT customer FROM documents)",
    )
    answer = platform.update(
        customerId=customer,
        cardProfileId="30",
        newcardProfileId="150",
        profileIdChangeDate="20240101101010",
        cardholderAddress="12, Lake View Road",
    )
    assert answer["responseCode"] == "00", answer
    assert answer["cardProfileId"] == 150
    for entry in platform.lookup(customerId=customer)["cardList"]:
        assert entry["profileId"] == 150
        assert entry["kycName"] == "FULL_KYC"
    assert urn in {e["urn"] for e in platform.lookup(customerId=customer)["cardList"]}


def test_profile_change_by_urn_touches_only_that_card(platform: Platform, db_path: Path) -> None:
    rows = query(
        db_path,
        "SELECT customer, min(urn), max(urn) FROM cards WHERE profile_id = 30 "
        "GROUP BY customer HAVING count(*) > 1 LIMIT 1",
    )
    _, first, second = rows[0]
    answer = platform.update(urn=second, cardProfileId=30, newCardProfileId=300)
    assert answer["responseCode"] == "00", answer
    assert answer["urn"] == str(second)
    profiles = {e["urn"]: e["kycName"] for e in platform.lookup(urn=first)["cardList"]}
    assert profiles[second] == "NO_KYC"
    assert profiles[first] == "MIN_KYC"


def test_v3_path_and_body_spelling(platform: Platform) -> None:
    answer = platform.update(UPDATE_V3, URN="389", CARDPROFILEID="150", FirstName="Meera")
    assert answer["responseCode"] == "00"
    assert sample_card(platform)["firstName"] == "Meera"


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"cardProfileId": "150"}, "1245"),
        ({"customerId": "NOBODY", "cardProfileId": "150"}, "1231"),
        ({"urn": "1234567890", "cardProfileId": "150"}, "1231"),
        ({"urn": "x1", "cardProfileId": "150"}, "1231"),
        ({"urn": "389", "customerId": "IN0000000010", "cardProfileId": "150"}, "1231"),
        ({"customerMobile": "12345", "cardProfileId": "150"}, "1034"),
        ({"customerMobile": DUPLICATE_MOBILE, "cardProfileId": "30"}, "1237"),
        ({"urn": "389"}, "1090"),
        ({"urn": "389", "cardProfileId": ""}, "1090"),
        ({"urn": "389", "cardProfileId": "999"}, "1091"),
        ({"urn": "389", "cardProfileId": "150", "newcardProfileId": "200"}, "1091"),
        ({"urn": "389", "cardProfileId": "30"}, "1309"),
        ({"customerId": CARDLESS_CUSTOMER_ID, "cardProfileId": "150"}, "1306"),
        ({**SAMPLE, "firstName": "  "}, "1290"),
        ({**SAMPLE, "docList": [{"docNumber": "A1234567"}]}, "1300"),
        ({**SAMPLE, "docList": [{}]}, "1300"),
        ({**SAMPLE, "docNumber": "A1234567"}, "1300"),
        ({**SAMPLE, "mobile": "55555"}, "1034"),
        ({**SAMPLE, "emailId": "nope"}, "1092"),
        ({**SAMPLE, "email": "a@b"}, "1092"),
        ({**SAMPLE, "alternateEmailId": "x@"}, "1092"),
        ({**SAMPLE, "dateOfBirth": "19951301"}, "1088"),
        ({**SAMPLE, "dateOfBirth": "20990101"}, "1088"),
        ({**SAMPLE, "kycDateStamp": "2016"}, "1088"),
        ({**SAMPLE, "updateDate": "20161331214559"}, "1088"),
        ({**SAMPLE, "profileIdChangeDate": "x"}, "1088"),
        ({**SAMPLE, "docType": "VoterId", "docNumber": "1"}, "1238"),
        ({**SAMPLE, "docType": "Passport", "docNumber": "Q1"}, "1239"),
        ({**SAMPLE, "docType": "Aadhar", "docNumber": "234567890123"}, "1240"),
        ({**SAMPLE, "docType": "Driverlicense", "docNumber": "D"}, "1241"),
        ({**SAMPLE, "docType": "Pancard", "docNumber": "ABCDE"}, "1242"),
        ({**SAMPLE, "docType": "Ration", "docNumber": "1"}, "1055"),
        ({**SAMPLE, "gender": "robot"}, "1055"),
        ({**SAMPLE, "cardholderZipCode": "012345"}, "1055"),
        ({**SAMPLE, "docList": "Pancard"}, "1055"),
        ({**SAMPLE, "mobile": DUPLICATE_MOBILE}, "1237"),
    ],
)
def test_update_error_codes(platform: Platform, fields: dict[str, Any], code: str) -> None:
    before = sample_card(platform)
    txn = txn_id()
    answer = platform.update(clientTxnId=txn, **fields)
    assert answer["responseCode"] == code, answer
    assert answer["messageCode"] == 1281
    assert answer["clientTxnId"] == txn
    assert answer["bankId"] == int(BANK_ID)
    assert answer["responseMessage"] != "SUCCESS" and answer["responseMessage"].isupper()
    assert sample_card(platform) == before  # nothing applied


def test_error_answers_say_what_is_wrong(platform: Platform) -> None:
    answer = platform.update(urn=389, cardProfileId=150, emailId="nope")
    assert answer["responseMessage"] == "INVALID EMAIL ADDRESS"
    assert "emailId" in answer["description"]


def test_upgrade_to_full_kyc_needs_an_address(platform: Platform, db_path: Path) -> None:
    customer, _, _ = customer_with(db_path, "cards.profile_id = 30")
    answer = platform.update(customerId=customer, cardProfileId=30, newcardProfileId=150)
    assert answer["responseCode"] == "1055"
    assert answer["responseMessage"] == "MALFORMED REQUEST"
    assert "address" in answer["description"]


def test_upgrade_to_full_kyc_needs_a_document(platform: Platform, db_path: Path) -> None:
    customer, _, _ = customer_with(
        db_path,
        "cards.profile_id = 300 AND customers.id NOT IN (SELECT customer FROM documents)",
    )
    fields = {"cardProfileId": 300, "newcardProfileId": 150, "addressline1": "1, MG Road"}
    answer = platform.update(customerId=customer, **fields)
    assert answer["responseCode"] == "1300"
    assert "document" in answer["description"]
    with_doc = platform.update(customerId=customer, docType="PAN", docNumber="ABCPK1234F", **fields)
    assert with_doc["responseCode"] == "00", with_doc


def test_update_needs_patch(platform: Platform) -> None:
    response = platform.send("POST", UPDATE_V3, {"messageCode": 1280, "clientTxnId": txn_id()})
    assert response.status_code == 405


def test_duplicate_update_is_refused(platform: Platform) -> None:
    txn = txn_id()
    assert platform.update(urn=389, cardProfileId=150, clientTxnId=txn)["responseCode"] == "00"
    again = platform.update(urn=389, cardProfileId=150, clientTxnId=txn, firstName="Other")
    assert again["responseCode"] == "1054"
    assert again["responseMessage"] == "DUPLICATE REQUEST"
    assert sample_card(platform)["firstName"] == "ABC"


def test_updates_persist_across_restarts(db_path: Path) -> None:
    txn = txn_id()
    with running(db_path) as sandbox:
        client = Platform(sandbox.url)
        answer = client.update(urn=389, cardProfileId=150, firstName="Persisted", clientTxnId=txn)
        client.close()
    assert answer["responseCode"] == "00"
    with running(db_path) as sandbox:
        client = Platform(sandbox.url)
        try:
            entry = sample_card(client)
            duplicate = client.update(urn=389, cardProfileId=150, clientTxnId=txn)
            later = client.lookup(urn=389)
        finally:
            client.close()
    assert entry["firstName"] == "Persisted"
    assert duplicate["responseCode"] == "1054"
    assert later["accosaTransactionId"] > answer["accosaTransactionId"]

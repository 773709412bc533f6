"""Retrieve Cust Record against a real sandbox on loopback: answers, credentials, codes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    API_KEY,
    BANK_ID,
    CLIENT_ID,
    LOOKUP,
    LOOKUP_ERROR_KEYS,
    LOOKUP_V3,
    SAMPLE_ENTRY,
    SECURE_CODE,
    UPDATE,
    Platform,
    credential_headers,
    query,
    running,
    txn_id,
)

from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.sandbox import (
    CARDLESS_CUSTOMER_ID,
    DUPLICATE_EMAIL,
    DUPLICATE_MOBILE,
    SAMPLE_CUSTOMER_ID,
    Sandbox,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def db_path(seeded_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database for the module's lookups (they change nothing)."""
    return Path(shutil.copy(seeded_database, tmp_path_factory.mktemp("lookup") / "sandbox.db"))


@pytest.fixture(scope="module")
def sandbox(db_path: Path) -> Iterator[Sandbox]:
    with running(db_path) as sandbox:
        yield sandbox


def assert_lookup_error(answer: dict[str, Any], code: str, message: str | None = None) -> None:
    assert set(answer) == LOOKUP_ERROR_KEYS, answer
    assert answer["responseCode"] == code
    assert answer["bankId"] == 0
    assert answer["accosaTransactionId"] == 0
    assert answer["messageCode"] == 0
    assert len(answer["responseDateTime"]) == 14
    if message is not None:
        assert answer["responseMessage"] == message


# -- success ---------------------------------------------------------------------------


def test_sample_customer_answer_is_the_documents_sample(platform: Platform) -> None:
    txn = txn_id()
    answer = platform.lookup(urn="389", clientTxnId=txn)
    assert answer["cardList"] == [SAMPLE_ENTRY]
    assert list(answer["cardList"][0]) == list(SAMPLE_ENTRY)  # the sample's field order too
    assert answer["bankId"] == int(BANK_ID)
    assert answer["clientId"] == CLIENT_ID
    assert answer["clientTxnId"] == txn
    assert answer["messageCode"] == 1931
    assert answer["responseMessage"] == "SUCCESS"
    assert answer["responseCode"] == "00"
    assert isinstance(answer["accosaTransactionId"], int)
    assert len(answer["responseDateTime"]) == 14 and answer["responseDateTime"].isdigit()


@pytest.mark.parametrize(
    "fields",
    [
        {"customerMobile": "9897123456"},
        {"customerMobile": "919897123456"},
        {"customerMobile": "+91 98971 23456"},
        {"customerMobile": 919897123456},
        {"urn": 389},
        {"urn": "389"},
        {"customerId": SAMPLE_CUSTOMER_ID},
        {"emailId": "abc@xyz.com"},
        {"emailId": "ABC@XYZ.COM"},
        {"urn": "389", "customerMobile": "9897123456", "emailId": "abc@xyz.com"},
        {"messageCode": "1930", "urn": "389"},
    ],
)
def test_found_by_each_identifier(platform: Platform, fields: dict[str, Any]) -> None:
    answer = platform.lookup(**fields)
    assert answer["responseCode"] == "00"
    assert answer["cardList"][0]["customerId"] == SAMPLE_CUSTOMER_ID


def test_accosa_transaction_ids_increase(platform: Platform) -> None:
    first = platform.lookup(urn=389)["accosaTransactionId"]
    second = platform.lookup(urn=389)["accosaTransactionId"]
    assert second > first


def test_one_entry_per_card_each_with_the_customers_fields(
    platform: Platform, db_path: Path
) -> None:
    ((customer, count),) = query(
        db_path,
        "SELECT customers.customer_id, count(*) FROM cards JOIN customers "
        "ON customers.id = cards.customer GROUP BY cards.customer HAVING count(*) = 3 LIMIT 1",
    )
    answer = platform.lookup(customerId=customer)
    entries = answer["cardList"]
    assert len(entries) == count
    assert len({entry["urn"] for entry in entries}) == count
    for entry in entries:
        assert entry["customerId"] == customer
        assert entry["mobile"].startswith("91") and len(entry["mobile"]) == 12
        assert isinstance(entry["urn"], int) and len(str(entry["urn"])) == 10
        assert entry["cardNumber"].endswith(entry["lastFourDigit"])
        assert entry["kycName"] in {"MIN_KYC", "FULL_KYC", "IKYC", "NO_KYC"}
        assert isinstance(entry["availableBalance"], int)


def test_newer_fields_appear_on_some_customers(platform: Platform, db_path: Path) -> None:
    ((customer, extra),) = query(
        db_path,
        "SELECT customer_id, extra FROM customers WHERE extra LIKE '%riskCategory%' "
        "AND id IN (SELECT customer FROM cards) LIMIT 1",
    )
    entry = platform.lookup(customerId=customer)["cardList"][0]
    for name, value in json.loads(extra).items():
        assert entry[name] == value


def test_credentials_in_the_body_v3_placement(platform: Platform) -> None:
    body = {
        "clientId": CLIENT_ID,
        "bankId": int(BANK_ID),
        "entityId": 100,
        "secureCode": SECURE_CODE,
    }
    answer = platform.lookup(LOOKUP_V3, urn=389, _headers={"x-api-key": API_KEY}, _body=body)
    assert answer["responseCode"] == "00"


def test_credential_header_names_are_case_insensitive(platform: Platform) -> None:
    headers = {
        "X-API-KEY": API_KEY,
        "CLIENTID": CLIENT_ID,
        "bankid": BANK_ID,
        "SecureCode": SECURE_CODE,
    }
    assert platform.lookup(urn=389, _headers=headers)["responseCode"] == "00"


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"clientId": None}, "1262"),
        ({"clientId": "SomeoneElse"}, "1262"),
        ({"bankId": None}, "1264"),
        ({"bankId": "9999"}, "1031"),
        ({"secureCode": None}, "1311"),
        ({"secureCode": "wrong"}, "1311"),
    ],
)
def test_credential_errors(platform: Platform, override: dict[str, str | None], code: str) -> None:
    answer = platform.lookup(urn=389, _headers=credential_headers(**override))
    assert_lookup_error(answer, code)


def test_consumer_custom_id_when_required(tmp_path: Path) -> None:
    with running(tmp_path / "s.db", consumer_custom_id="CONSUMER-1") as sandbox:
        client = Platform(sandbox.url)
        try:
            missing = client.lookup(urn=389)
            wrong = client.lookup(
                urn=389, _headers=credential_headers(**{"X-Consumer-Custom-ID": "nope"})
            )
            header = client.lookup(
                urn=389, _headers=credential_headers(**{"x-consumer-custom-id": "CONSUMER-1"})
            )
            body = client.lookup(
                LOOKUP_V3,
                urn=389,
                _headers={"x-api-key": API_KEY},
                _body={
                    "clientId": CLIENT_ID,
                    "bankId": BANK_ID,
                    "secureCode": SECURE_CODE,
                    "X-Consumer-Custom-ID": "CONSUMER-1",
                },
            )
        finally:
            client.close()
    assert_lookup_error(missing, "1310")
    assert_lookup_error(wrong, "1310")
    assert header["responseCode"] == "00"
    assert body["responseCode"] == "00"


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"urn": "1"}, "1303", "CUSTOMER DETAILS NOT PRESENT"),
        ({"customerMobile": "9000000000"}, "1303", None),
        ({"emailId": "nobody@example.com"}, "1303", None),
        ({"customerId": "NOPE123"}, "1303", None),
        ({"urn": "389", "customerId": "IN0000000010"}, "1303", None),
        ({"customerMobile": "12345"}, "1034", "INVALID MOBILE NUMBER"),
        ({"emailId": "not-an-email"}, "1092", "INVALID EMAIL ADDRESS"),
        ({"customerId": "has spaces in it"}, "1275", "INVALID CUSTOMER ID"),
        ({"customerMobile": DUPLICATE_MOBILE}, "1237", None),
        ({"emailId": DUPLICATE_EMAIL}, "1307", None),
        ({"customerId": CARDLESS_CUSTOMER_ID}, "1001", "CARD NOT FOUND"),
        ({}, "1055", "MALFORMED REQUEST"),
        ({"customerMobile": "  "}, "1055", None),
        ({"messageCode": 1931, "urn": "389"}, "1055", None),
        ({"messageCode": "abc", "urn": "389"}, "1055", None),
    ],
)
def test_lookup_error_codes(
    platform: Platform, fields: dict[str, Any], code: str, message: str | None
) -> None:
    assert_lookup_error(platform.lookup(**fields), code, message)


def test_shared_mobile_is_resolved_by_a_second_identifier(platform: Platform) -> None:
    answer = platform.lookup(customerMobile=DUPLICATE_MOBILE, customerId="IN0000000002")
    assert answer["responseCode"] == "00"
    assert answer["cardList"][0]["customerId"] == "IN0000000002"


def test_client_txn_id_rules(platform: Platform) -> None:
    assert_lookup_error(platform.lookup(urn=389, clientTxnId=None), "1093")
    assert_lookup_error(platform.lookup(urn=389, clientTxnId=""), "1093")
    assert_lookup_error(platform.lookup(urn=389, clientTxnId="x" * 101), "1093")
    long_id = "y" * 99 + txn_id()[-1]
    assert platform.lookup(urn=389, clientTxnId=long_id)["responseCode"] == "00"
    assert_lookup_error(platform.lookup(urn=389, clientTxnId=long_id), "1054", "DUPLICATE REQUEST")


def test_duplicate_client_txn_id_across_apis(platform: Platform) -> None:
    txn = txn_id()
    update = platform.update(customerId="NOBODY1", cardProfileId="150", clientTxnId=txn)
    assert update["responseCode"] == "1231"
    assert_lookup_error(platform.lookup(urn=389, clientTxnId=txn), "1054")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"nothing": "here"}',
        b'{"token": 12}',
        b'{"token": "!!!not base64!!!"}',
        b'{"token": "AAAAAAAAAAAAAAAAAAAAAA=="}',
    ],
)
def test_malformed_bodies_answer_1055(sandbox: Sandbox, platform: Platform, body: bytes) -> None:
    response = httpx.post(sandbox.url + LOOKUP, content=body, headers=credential_headers())
    assert_lookup_error(platform.answer(response), "1055")


def test_token_of_non_json_plaintext_answers_1055(sandbox: Sandbox, platform: Platform) -> None:
    token = platform.codec.encrypt(b"messageCode=1930")
    response = httpx.post(sandbox.url + LOOKUP, json={"token": token}, headers=credential_headers())
    assert_lookup_error(platform.answer(response), "1055")


def test_token_under_another_iv_scheme_answers_1055(sandbox: Sandbox) -> None:
    other = Platform(sandbox.url, IvScheme("ecb"))
    try:
        response = other.send("POST", LOOKUP, {"messageCode": 1930, "clientTxnId": txn_id()})
    finally:
        other.close()
    plain = TokenCodec(other.codec.key, IvScheme("zero"))
    assert_lookup_error(plain.decrypt_json(response.json()["token"]), "1055")


def test_lookup_path_variants(platform: Platform) -> None:
    for path in (LOOKUP, "/mob1/api/onboarding/v2/retrieveCustRecord", LOOKUP_V3):
        assert platform.lookup(path, urn=389)["responseCode"] == "00"


def test_flat_shape(tmp_path: Path) -> None:
    with running(tmp_path / "flat.db", shape="flat") as sandbox:
        client = Platform(sandbox.url)
        try:
            sample = client.lookup(urn=389)
            ((customer, second_urn),) = query(
                tmp_path / "flat.db",
                "SELECT customers.customer_id, max(urn) FROM cards JOIN customers "
                "ON customers.id = cards.customer GROUP BY cards.customer "
                "HAVING count(*) > 1 LIMIT 1",
            )
            by_urn = client.lookup(urn=second_urn)
        finally:
            client.close()
    assert "cardList" not in sample
    expected = {("availBal" if k == "availableBalance" else k): v for k, v in SAMPLE_ENTRY.items()}
    for key, value in expected.items():
        assert sample[key] == value
    assert sample["availBal"] == 100000 and "availableBalance" not in sample
    assert sample["responseCode"] == "00" and sample["messageCode"] == 1931
    assert by_urn["urn"] == second_urn and by_urn["customerId"] == customer


def test_lookup_does_not_accept_patch(sandbox: Sandbox, platform: Platform) -> None:
    response = platform.send("PATCH", LOOKUP, {"messageCode": 1930, "clientTxnId": txn_id()})
    assert response.status_code == 405
    assert response.json() == {"message": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"
    response = platform.send("POST", UPDATE, {"messageCode": 1280, "clientTxnId": txn_id()})
    assert response.status_code == 405
    assert response.headers["allow"] == "PATCH"


@pytest.mark.parametrize("shape", ["cardList", "flat", "mixed"])
def test_an_answer_is_sent_as_compact_json_writes_it(db_path: Path, shape: str) -> None:
    """A cardList answer's customer part is encoded once per customer and spliced; the
    bytes are `compact_json`'s, for every customer, twice over (the second remembered)."""
    from wibmo_cli.crypto import compact_json
    from wibmo_cli.sandbox.lookup import Spliced, lookup, plaintext
    from wibmo_cli.sandbox.model import Context, PlatformError
    from wibmo_cli.sandbox.store import Store

    store = Store.open(db_path)
    try:
        urns = [each.urn for each in store.urns()]
        for turn in range(2):
            for n, urn in enumerate(urns):
                txn = f"T-{shape}-{turn}-{n}"
                ctx = Context("C", 2010, txn, 7442 + n, 1930, "20240101120000", shape)
                with store.transaction():
                    assert store.remember_txn(ctx.client_txn_id, "lookup", ctx.now) is not None
                    try:
                        answer = lookup(store, {"urn": str(urn)}, ctx)
                    except PlatformError:
                        continue
                assert isinstance(answer, Spliced) == (shape == "cardList")
                assert plaintext(answer) == compact_json(answer)
        spliced = Spliced(b'{"cardList":[]}', [])
        spliced.update(responseCode="00")
        spliced["cardList"] = [{"changed": True}]  # no longer the encoded entries
        assert plaintext(spliced) == compact_json(spliced)
    finally:
        store.close()

"""Update Profile dialects (issue 11, item 4): one request, spelled as the profile says.

`fields.Dialect.of(profile)` (update_fields, update_date_format, update_documents,
product_id) is what `changes.plan` / `messages.update_payload` take; `--from-file` reads
either spelling and the payload goes out in the profile's; no key the user did not ask for,
never null. The sandbox reads leniently by default (either spelling, 1045 for a key in
neither) and strictly with a dialect in its `Context`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import SAMPLE_ENTRY, Invoke, unit_profile, write_profiles

from wibmo_cli.changes import parse_request, plan
from wibmo_cli.errors import InputError
from wibmo_cli.fields import BY_NAME, FIELDS, FILLED, TABLE, Dialect, spelling_set
from wibmo_cli.messages import Identifiers, update_payload
from wibmo_cli.sandbox import SAMPLE_CUSTOMER_ID, Sandbox
from wibmo_cli.sandbox.model import Context, PlatformError
from wibmo_cli.sandbox.store import Store
from wibmo_cli.sandbox.update_rules import update
from wibmo_cli.views.preview import preview

NOW = datetime(2024, 6, 13, 14, 7, 19)
URN = Identifiers(urn="389")
SAMPLE = Dialect("sample", "DD-MM-YYYY", "list", "9")
CHANGES: dict[str, Any] = {
    "firstName": "Jacob",
    "emailId": "new@example.com",
    "dateOfBirth": "19950711",
    "cardholderAddress": "MG Road",
    "cardholderCity": "Bangalore",
    "cardholderState": "Karnataka",
    "cardholderCountry": "India",
    "cardholderZipCode": "560022",
    "newcardProfileId": "150",
    "docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F", "docCountry": "India"}],
}


def payload(changes: dict[str, Any], dialect: Dialect = TABLE) -> dict[str, Any]:
    return update_payload(
        URN, changes, card_profile_id=300, client_txn_id="WTEST000000001", now=NOW, dialect=dialect
    )


# -- the payload per dialect ----------------------------------------------------------------


def test_the_table_dialect_is_the_wire_wibmo_always_sent() -> None:
    sent = payload(CHANGES)
    assert sent == update_payload(
        URN, CHANGES, card_profile_id=300, client_txn_id="WTEST000000001", now=NOW
    )
    assert list(sent) == [
        "messageCode", "clientTxnId", "requestDateTime", "urn", "cardProfileId",
        "firstName", "emailId", "dateOfBirth", "cardholderAddress", "cardholderCity",
        "cardholderState", "cardholderCountry", "cardholderZipCode", "newcardProfileId",
        "docList", "profileIdChangeDate", "updateDate",
    ]  # fmt: skip
    assert sent["dateOfBirth"] == "19950711" and "productId" not in sent


def test_the_sample_dialect_spells_as_the_samples() -> None:
    sent = payload(CHANGES, SAMPLE)
    assert list(sent)[:2] == ["messageCode", "productId"]  # where the samples have it
    assert sent["productId"] == "9"
    assert {k: sent[k] for k in ("email", "address", "city", "state", "country", "zipCode")} == {
        "email": "new@example.com",
        "address": "MG Road",
        "city": "Bangalore",
        "state": "Karnataka",
        "country": "India",
        "zipCode": "560022",
    }
    assert sent["newcardProfileId"] == "150" and sent["dateOfBirth"] == "11-07-1995"
    assert sent["docList"] == CHANGES["docList"]
    assert not {"emailId", "cardholderCity"} & set(sent)


@pytest.mark.parametrize(
    ("dialect", "sent"),
    [
        (Dialect("sample", "YYYYMMDD"), "19950711"),
        (Dialect("table", "DD-MM-YYYY"), "11-07-1995"),
    ],
)
def test_the_date_format_is_its_own_setting(dialect: Dialect, sent: str) -> None:
    assert payload({"dateOfBirth": "19950711"}, dialect)["dateOfBirth"] == sent


def test_flat_documents_are_one_document_at_the_top_level() -> None:
    flat = Dialect(documents="flat")
    sent = payload({"docList": CHANGES["docList"]}, flat)
    assert "docList" not in sent
    assert (sent["docType"], sent["docNumber"], sent["docCountry"]) == (
        "Pancard",
        "ABCPE1234F",
        "India",
    )
    two = [*CHANGES["docList"], {"docType": "VoterId", "docNumber": "YCV0189823"}]
    with pytest.raises(InputError, match=r"update_documents = \"flat\".*not 2"):
        payload({"docList": two}, flat)


def test_a_dialect_is_made_of_a_profile() -> None:
    assert Dialect.of(unit_profile("http://127.0.0.1:1")) == TABLE
    sample = unit_profile("http://127.0.0.1:1", update_fields="sample", product_id="1")
    assert Dialect.of(sample) == Dialect("sample", "DD-MM-YYYY", "list", "1")
    flat = unit_profile(
        "http://127.0.0.1:1", update_fields="sample", update_date_format="YYYYMMDD",
        update_documents="flat",
    )  # fmt: skip
    assert Dialect.of(flat) == Dialect("sample", "YYYYMMDD", "flat", "")


def test_every_row_has_a_name_in_each_spelling_set() -> None:
    for f in FIELDS:
        assert TABLE.name(f) == f.name
        assert SAMPLE.name(f) == (f.sample or f.name)
    assert BY_NAME["emailId"].sample == "email"
    # the document's sample writes newcardProfileId, as the table row is sent
    assert SAMPLE.name(BY_NAME["newcardProfileId"]) == "newcardProfileId"
    assert "email" not in spelling_set("table") and "emailid" not in spelling_set("sample")
    assert "doclist" not in spelling_set("table", "flat")
    assert "doctype" not in spelling_set("table", "list")


# -- never a key not asked for, never null -----------------------------------------------------

VALUES: dict[str, Any] = {
    "firstName": "Jacob",
    "lastName": "James",
    "emailId": "a@example.com",
    "alternateEmailId": "b@example.com",
    "mobile": "917012345678",
    "dateOfBirth": "19950711",
    "gender": "Male",
    "cardholderAddress": "MG Road",
    "addressline1": "#3",
    "addressline2": "2nd Cross",
    "addressline3": "Temple",
    "cardholderCity": "Pune",
    "cardholderState": "Maharashtra",
    "cardholderCountry": "India",
    "cardholderZipCode": "411001",
    "newcardProfileId": "30",
    "kycDateStamp": "20240501103000",
    "cKycDocNo": "12345678901234",
    "docConsent": False,
    "sorCustomerId": "7dsfhhabc",
    "sorDisable": False,
    "docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F"}],
}
assert set(VALUES) == {f.name for f in FIELDS} | {"docList"}
dialects = st.builds(
    Dialect,
    st.sampled_from(["table", "sample"]),
    st.sampled_from(["YYYYMMDD", "DD-MM-YYYY"]),
    st.sampled_from(["list", "flat"]),
    st.sampled_from(["", "9"]),
)


@given(asked=st.sets(st.sampled_from(sorted(VALUES)), min_size=1), dialect=dialects)
def test_a_dialect_payload_holds_no_null_and_no_key_not_asked_for(
    asked: set[str], dialect: Dialect
) -> None:
    sent = payload({name: VALUES[name] for name in asked}, dialect)
    assert None not in sent.values()
    expected = {dialect.name(BY_NAME[name]) for name in asked if name != "docList"}
    if "docList" in asked:
        expected |= {"docList"} if dialect.documents == "list" else {"docType", "docNumber"}
    envelope = set(FILLED) | {"urn", "cardProfileId"}
    assert set(sent) - envelope == expected
    assert ("productId" in sent) is bool(dialect.product_id)
    assert ("profileIdChangeDate" in sent) is ("newcardProfileId" in asked)
    assert {key.lower() for key in sent} <= spelling_set(dialect.spelling, dialect.documents)


# -- the plan and the preview ------------------------------------------------------------------


def test_the_preview_shows_what_a_sample_payload_sends() -> None:
    request = parse_request(
        URN,
        {"emailId": "new@example.com", "dateOfBirth": "19950711", "cardholderCity": "Pune"},
        docs=("PAN:ABCPE1234F",),
        now=NOW,
    )
    made = plan(request, 300, now=NOW, dialect=Dialect("sample", "DD-MM-YYYY", "flat", "9"))
    rows = {row.label: row for row in preview(made, SAMPLE_ENTRY)}
    assert rows["Email"].now == "abc@xyz.com" and rows["Email"].will_be == "new@example.com"
    assert rows["Date of birth"].will_be == "11 Jul 1995"
    assert rows["City"].will_be == "Pune"
    assert rows["Document Pancard"].will_be == "******234F"
    assert made.changed() == ["emailId", "dateOfBirth", "cardholderCity", "docList:Pancard"]
    assert made.dialect.describe() == (
        "the samples' field names (email, city, zipCode, ...), dateOfBirth as DD-MM-YYYY, "
        "documents flat, productId 9"
    )
    assert TABLE.describe() == ""


# -- --from-file in either spelling, sent in the profile's ----------------------------------

SAMPLE_FILE = {
    "email": "new@example.com",
    "City": "Pune",
    "zipCode": "411001",
    "dateOfBirth": "11-07-1995",
    "docType": "PAN",
    "docNumber": "ABCPE1234F",
}
TABLE_FILE = {
    "emailId": "new@example.com",
    "cardholderCity": "Pune",
    "cardholderZipCode": "411001",
    "dateOfBirth": "19950711",
    "docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F"}],
}


def dry_run(cli: Invoke, patch: dict[str, Any], *profile: str) -> dict[str, Any]:
    Path("patch.json").write_text(json.dumps(patch), encoding="utf-8")
    result = cli(
        *profile, "update-profile", "--urn", "389", "--card-profile-id", "150",
        "--from-file", "patch.json", "--dry-run", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    sent = json.loads(result.stdout)["payload"]
    assert isinstance(sent, dict)
    return sent


def write_two_profiles(url: str) -> None:
    sample = {
        "base_url": url,
        "client_id": "FintechA",
        "bank_id": "2010",
        "api_key": "${HARD_API_KEY}",
        "secure_code": "${HARD_SECURE_CODE}",
        "encryption_key": "${HARD_KEY}",
        "retries": 0,
        "update_fields": "sample",
        "update_documents": "flat",
        "product_id": "9",
    }
    write_profiles(url, extra_profiles={"sample": sample})


def test_a_sample_spelled_file_goes_out_in_the_table_spelling(
    sandbox: Sandbox, cli: Invoke
) -> None:
    write_two_profiles(sandbox.url)
    sent = dry_run(cli, SAMPLE_FILE)
    assert sent["emailId"] == "new@example.com" and sent["cardholderCity"] == "Pune"
    assert sent["cardholderZipCode"] == "411001" and sent["dateOfBirth"] == "19950711"
    assert sent["docList"] == [{"docType": "Pancard", "docNumber": "******234F"}]
    assert not {"email", "City", "city", "zipCode", "docType", "productId"} & set(sent)


def test_a_table_spelled_file_goes_out_in_the_sample_spelling(
    sandbox: Sandbox, cli: Invoke
) -> None:
    write_two_profiles(sandbox.url)
    sent = dry_run(cli, TABLE_FILE, "-p", "sample")
    assert sent["email"] == "new@example.com" and sent["city"] == "Pune"
    assert sent["zipCode"] == "411001" and sent["dateOfBirth"] == "11-07-1995"
    assert (sent["docType"], sent["docNumber"], sent["productId"]) == ("Pancard", "******234F", "9")
    assert not {"emailId", "cardholderCity", "cardholderZipCode", "docList"} & set(sent)


def test_a_file_gives_documents_one_way_and_no_product_id(sandbox: Sandbox, cli: Invoke) -> None:
    write_two_profiles(sandbox.url)
    argv = [
        "update-profile", "--urn", "389", "--card-profile-id", "150",
        "--from-file", "patch.json", "--dry-run",
    ]  # fmt: skip
    both = {"docList": TABLE_FILE["docList"], "docType": "PAN", "docNumber": "ABCPE1234F"}
    for patch, said in [
        (both, "give the documents as docList or as one flat docType/docNumber, not both"),
        ({"productId": "9"}, "productId is filled by wibmo"),
        ({"ProductID": "9"}, "ProductID is filled by wibmo"),
        ({"docType": "PAN", "docNumber": "ABC"}, "patch.json: document number '***': must be"),
    ]:
        Path("patch.json").write_text(json.dumps(patch), encoding="utf-8")
        result = cli(*argv)
        assert result.exit_code == 2, result.stderr
        assert said in result.stderr


def test_the_dry_runs_preview_says_how_the_profile_spells_it(sandbox: Sandbox, cli: Invoke) -> None:
    write_two_profiles(sandbox.url)
    Path("patch.json").write_text(json.dumps(TABLE_FILE), encoding="utf-8")
    argv = ["update-profile", "--urn", "389", "--from-file", "patch.json", "--dry-run"]
    result = cli("-p", "sample", *argv)
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "sent as: the samples' field names (email, city, zipCode, ...)" in said
    assert "dateOfBirth as DD-MM-YYYY, documents flat, productId 9" in said
    assert '"email": "new@example.com"' in result.stdout
    result = cli(*argv)  # the table's spelling: nothing to say
    assert result.exit_code == 0, result.stderr
    assert "sent as" not in result.stderr and '"emailId": "new@example.com"' in result.stdout


def test_two_documents_with_a_flat_profile_are_refused_before_sending(
    sandbox: Sandbox, cli: Invoke
) -> None:
    write_two_profiles(sandbox.url)
    result = cli(
        "-p", "sample", "update-profile", "--urn", "389", "--card-profile-id", "150",
        "--doc", "PAN:ABCPE1234F", "--doc", "VoterId:YCV0189823", "--yes",
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "give one document, not 2" in result.stderr
    assert [r.api for r in sandbox.requests] == []


@pytest.mark.e2e
def test_a_sample_profile_updates_the_sandbox(sandbox: Sandbox, cli: Invoke, db_path: Path) -> None:
    write_two_profiles(sandbox.url)
    Path("patch.json").write_text(json.dumps(TABLE_FILE), encoding="utf-8")
    result = cli(
        "-p", "sample", "update-profile", "--customer-id", SAMPLE_CUSTOMER_ID,
        "--from-file", "patch.json", "--yes", "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "00"
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT email, city, zip_code, dob FROM customers WHERE customer_id = ?",
            (SAMPLE_CUSTOMER_ID,),
        ).fetchall()
    assert row == [("new@example.com", "Pune", "411001", "19950711")]


# -- the sandbox: lenient by default, strict with a dialect ----------------------------------


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store.open(db_path)
    yield opened
    opened.close()


def answer_of(store: Store, request: dict[str, Any], **dialect: str | None) -> str:
    ctx = Context("FintechA", 2010, "T1", 1, 1280, "20240613140719", **dialect)  # type: ignore[arg-type]
    body = {"messageCode": "1280", "clientTxnId": "T1", "requestDateTime": "20240613140719"}
    try:
        with store.transaction():
            return str(update(store, {**body, **request}, ctx)["responseCode"])
    except PlatformError as exc:
        return exc.code


WHO = {"urn": "389", "cardProfileId": "150"}


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        ({"emailId": "a@example.com"}, "00"),
        ({"email": "a@example.com"}, "00"),
        ({"dob": "19950711", "alternateEmail": "b@example.com"}, "00"),  # documents' others
        ({"dateOfBirth": "11-07-1995", "productId": "9"}, "00"),
        ({"docType": "Pancard", "docNumber": "ABCPE1234F"}, "00"),
        ({"docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F"}]}, "00"),
        ({"firstName": "Asha", "colour": "blue"}, "1045"),
        ({"docList": [{"docType": "Pancard", "docNum": "ABCPE1234F"}]}, "1045"),
        ({"firstName": "Asha", "lastName": None}, "00"),  # lenient: a null is no value
    ],
)
def test_the_sandbox_is_lenient_by_default(
    store: Store, request_fields: dict[str, Any], code: str
) -> None:
    assert answer_of(store, {**WHO, **request_fields}) == code


STRICT_SAMPLE = {"update_fields": "sample", "date_format": "DD-MM-YYYY", "documents": "flat"}
STRICT_TABLE = {"update_fields": "table", "date_format": "YYYYMMDD", "documents": "list"}


@pytest.mark.parametrize(
    ("dialect", "request_fields", "code"),
    [
        (STRICT_SAMPLE, {"email": "a@example.com", "city": "Pune", "productId": "9"}, "00"),
        (STRICT_SAMPLE, {"emailId": "a@example.com"}, "1045"),
        (STRICT_SAMPLE, {"cardholderCity": "Pune"}, "1045"),
        (STRICT_SAMPLE, {"dob": "11-07-1995"}, "1045"),  # lenient only
        (STRICT_SAMPLE, {"firstName": "Asha", "lastName": None}, "1045"),
        (STRICT_SAMPLE, {"dateOfBirth": "11-07-1995"}, "00"),
        (STRICT_SAMPLE, {"dateOfBirth": "19950711"}, "1088"),
        (STRICT_SAMPLE, {"docType": "Pancard", "docNumber": "ABCPE1234F"}, "00"),
        (STRICT_SAMPLE, {"docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F"}]}, "1045"),
        (STRICT_TABLE, {"emailId": "a@example.com", "cardholderCity": "Pune"}, "00"),
        (STRICT_TABLE, {"email": "a@example.com"}, "1045"),
        (STRICT_TABLE, {"dateOfBirth": "11-07-1995"}, "1088"),
        (STRICT_TABLE, {"dateOfBirth": "19950711"}, "00"),
        (STRICT_TABLE, {"docType": "Pancard", "docNumber": "ABCPE1234F"}, "1045"),
        (STRICT_TABLE, {"docList": [{"docType": "Pancard", "docNumber": None}]}, "1045"),
    ],
)
def test_the_sandbox_is_strict_with_a_dialect(
    store: Store, dialect: dict[str, str], request_fields: dict[str, Any], code: str
) -> None:
    assert answer_of(store, {**WHO, **request_fields}, **dialect) == code


@given(asked=st.sets(st.sampled_from(sorted(VALUES)), min_size=1), dialect=dialects)
def test_what_wibmo_sends_in_a_dialect_passes_that_dialects_strict_check(
    asked: set[str], dialect: Dialect
) -> None:
    from wibmo_cli.sandbox.model import fields_of
    from wibmo_cli.sandbox.update_rules import _check_date_format, _check_keys

    sent = payload({name: VALUES[name] for name in asked}, dialect)
    ctx = Context(
        "FintechA", 2010, "T1", 1, 1280, "20240613140719",
        update_fields=dialect.spelling, date_format=dialect.date_format,
        documents=dialect.documents,
    )  # fmt: skip
    _check_keys(sent, ctx)  # raises PlatformError 1045 otherwise
    _check_date_format(fields_of(sent), ctx)  # 1088 otherwise

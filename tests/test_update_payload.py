"""Update Profile's pure core: options and files in, validated payload out, preview rows."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wibmo_cli.changes import (
    BY_NAME,
    FIELDS,
    Plan,
    UpdateRequest,
    parse_request,
    plan,
    read_patch,
)
from wibmo_cli.customer_now import current_profile, customer_record
from wibmo_cli.errors import ExitStatus, InputError
from wibmo_cli.messages import Identifiers, update_payload
from wibmo_cli.views.preview import (
    curl_command,
    lookup_command,
    preview,
)

NOW = datetime(2024, 6, 13, 14, 7, 19)
STAMP = "20240613140719"
URN = Identifiers(urn="389")
AADHAAR = "234567890124"  # valid Verhoeff check digit
ENVELOPE = {"messageCode", "clientTxnId", "requestDateTime", "cardProfileId", "updateDate"}
VECTORS = {
    "emailId",
    "mobile",
    "address",
    "city",
    "state",
    "country",
    "zipcode",
    "alternateEmailId",
}


def parse(*, patch: dict[str, Any] | None = None, docs: tuple[str, ...] = (), **options: Any):
    card = options.pop("card_profile_id", None)
    return parse_request(
        URN, options, docs=docs, card_profile_id=card, patch=patch, patch_label="p.json", now=NOW
    )


def fails(match: str, **kwargs: Any) -> str:
    with pytest.raises(InputError, match=match) as caught:
        parse(**kwargs)
    assert caught.value.exit_status == ExitStatus.USAGE
    message = str(caught.value)
    assert "\n" not in message
    return message


def make_plan(request: UpdateRequest, current: int = 300) -> Plan:
    return plan(request, current, client_txn_id="WTEST000000001", now=NOW)


# -- each field, validated and normalised --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "typed", "sent"),
    [
        ("firstName", "  Jacob ", "Jacob"),
        ("lastName", "D'Souza", "D'Souza"),
        ("emailId", " new@example.com ", "new@example.com"),
        ("alternateEmailId", "alt@example.org", "alt@example.org"),
        ("mobile", "+91 70123 45678", "917012345678"),
        ("dateOfBirth", "11-07-1995", "19950711"),
        ("dateOfBirth", "1995-07-11", "19950711"),
        ("gender", "f", "Female"),
        ("cardholderAddress", "Koramangala, Bangalore", "Koramangala, Bangalore"),
        ("addressline1", "#3, Meena Nilaya", "#3, Meena Nilaya"),
        ("cardholderCity", "Bangalore", "Bangalore"),
        ("cardholderZipCode", "560 020", "560020"),
        ("newcardProfileId", "30", "30"),
        ("kycDateStamp", "2016-10-31 21:45:59", "20161031214559"),
        ("cKycDocNo", "1234 5678 9012 34", "12345678901234"),
        ("docConsent", True, True),
        ("sorCustomerId", "7dsfhhabc", "7dsfhhabc"),
        ("sorDisable", False, False),
    ],
)
def test_each_field_is_normalised(name: str, typed: Any, sent: Any) -> None:
    assert parse(**{name: typed}).changes == {name: sent}


@pytest.mark.parametrize(
    ("name", "typed", "option", "rule"),
    [
        ("emailId", "nope", "--email", "email address"),
        ("alternateEmailId", "a@b", "--alternate-email", "email address"),
        ("mobile", "12345", "--new-mobile", "10-digit"),
        ("dateOfBirth", "19951301", "--dob", "real date"),
        ("dateOfBirth", "20990101", "--dob", "before today"),
        ("dateOfBirth", "1995071", "--dob", "real date"),
        ("gender", "robot", "--gender", "Male, Female or Transgender"),
        ("cardholderZipCode", "012345", "--zip-code", "PIN code"),
        ("newcardProfileId", "200", "--new-card-profile-id", "30 .Simple CDD."),
        ("kycDateStamp", "2016", "--kyc-date-stamp", "YYYYMMDDHHMMSS"),
        ("kycDateStamp", "20161331214559", "--kyc-date-stamp", "YYYYMMDDHHMMSS"),
        ("kycDateStamp", "20990101000000", "--kyc-date-stamp", "future"),
        ("firstName", "  ", "--first-name", "letters"),
        ("firstName", "R2D2", "--first-name", "letters"),
        ("cardholderCity", "x" * 51, "--city", "at most 50"),
        ("cKycDocNo", "123456", "--ckyc-number", "14-digit"),
        ("sorCustomerId", "has space", "--sor-customer-id", "no spaces"),
    ],
)
def test_each_field_error_names_the_option_and_rule(
    name: str, typed: str, option: str, rule: str
) -> None:
    message = fails(rule, **{name: typed})
    assert message.startswith(option + " ")


def test_card_profile_id_is_checked() -> None:
    assert parse(emailId="a@example.com", card_profile_id="150").card_profile_id == 150
    fails("--card-profile-id '42': must be one of", emailId="a@example.com", card_profile_id="42")


@pytest.mark.parametrize(
    ("doc", "sent"),
    [
        ("PAN:abcpe1234f", {"docType": "Pancard", "docNumber": "ABCPE1234F"}),
        (f"aadhaar:{AADHAAR}", {"docType": "Aadhar", "docNumber": AADHAAR}),
        ("voterid:YCV0189823:India", {"docType": "VoterId", "docNumber": "YCV0189823",
                                      "docCountry": "India"}),
        ("Passport:A1234567:India:2030-12-01", {"docType": "Passport", "docNumber": "A1234567",
                                                "docCountry": "India", "docExpiry": "20301201"}),
        ("DL:MH-14-2011-0062821", {"docType": "Driverlicense", "docNumber": "MH1420110062821"}),
        ("Passport:A1234567::20301201", {"docType": "Passport", "docNumber": "A1234567",
                                         "docExpiry": "20301201"}),
    ],
)  # fmt: skip
def test_documents(doc: str, sent: dict[str, str]) -> None:
    assert parse(docs=(doc,)).changes == {"docList": [sent]}


@pytest.mark.parametrize(
    ("doc", "rule"),
    [
        ("PAN:ABCDE", "must be a PAN"),
        ("PAN:ABCQE1234F", "must be a PAN"),
        ("aadhaar:234567890123", "Verhoeff"),
        ("aadhaar:123456789012", "not starting 0 or 1"),
        ("voterid:1", "EPIC"),
        ("passport:Q1234567", "passport"),
        ("dl:D", "driving licence"),
        ("ration:1234", "must be one of Aadhar"),
        ("PAN", "TYPE:NUMBER"),
        ("PAN:ABCPE1234F:India:20301201:x", "TYPE:NUMBER"),
        ("Passport:A1234567:India:20200101", "today or later"),
        ("Passport:A1234567:India:20301301", "real date"),
    ],
)
def test_document_errors(doc: str, rule: str) -> None:
    message = fails(rule, docs=(doc,))
    assert message.startswith("--doc")


def test_document_numbers_never_whole_in_messages() -> None:
    message = fails("Verhoeff", docs=("aadhaar:234567890123",))
    assert "234567890123" not in message and "0123" in message
    message = fails("TYPE:NUMBER", docs=("ABCPK9876F",))
    assert "ABCPK9876F" not in message


def test_one_document_per_type() -> None:
    fails("two Pancard documents", docs=("PAN:ABCPE1234F", "pancard:ABCPK1234F"))


def test_nothing_to_change() -> None:
    fails("nothing to change")
    fails("nothing to change", card_profile_id="150")


# -- --from-file ---------------------------------------------------------------------------


def test_file_fields_under_platform_names_any_case_and_sample_spellings() -> None:
    request = parse(
        patch={
            "emailId": "a@example.com",
            "CITY": "Pune",
            "zipCode": 411001,
            "newCardProfileId": 150,
            "docList": [{"docType": "PAN", "docNumber": "abcpe1234f", "docCountry": "India"}],
            "docConsent": "true",
            "cardProfileId": 300,
        }
    )
    assert request.changes == {
        "emailId": "a@example.com",
        "cardholderCity": "Pune",
        "cardholderZipCode": "411001",
        "newcardProfileId": "150",
        "docConsent": True,
        "docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F", "docCountry": "India"}],
    }
    assert request.card_profile_id == 300
    assert request.sources["cardholderCity"] == "p.json: CITY"


def test_options_override_the_file() -> None:
    request = parse(
        patch={"emailId": "file@example.com", "cardholderCity": "Pune", "docList": [
            {"docType": "PAN", "docNumber": "ABCPE1234F"}]},
        emailId="option@example.com",
        docs=("Passport:A1234567",),
        card_profile_id="30",
    )  # fmt: skip
    assert request.changes["emailId"] == "option@example.com"
    assert request.changes["cardholderCity"] == "Pune"
    assert request.changes["docList"] == [{"docType": "Passport", "docNumber": "A1234567"}]
    assert request.sources["emailId"] == "--email"
    assert request.card_profile_id == 30


@pytest.mark.parametrize(
    ("patch", "rule"),
    [
        ({"emailId": "nope"}, "p.json: emailId 'nope': must be an email"),
        ({"favouriteColour": "blue"}, "unknown field 'favouriteColour'"),
        ({"updateVectors": "emailId"}, "filled by wibmo"),
        ({"clientTxnId": "X"}, "filled by wibmo"),
        ({"profileIdChangeDate": "20240101000000"}, "filled by wibmo"),
        ({"urn": "389"}, "names the customer"),
        ({"customerMobile": "9897123456"}, "names the customer"),
        ({"emailId": None}, "not null"),
        ({"emailId": ["a@example.com"]}, "not a list"),
        ({"docConsent": 1}, "true or false"),
        ({"docConsent": "maybe"}, "true or false"),
        ({"email": "a@example.com", "emailId": "b@example.com"}, "same field"),
        ({"docList": []}, "non-empty list"),
        ({"docList": [{"docType": "PAN"}]}, r"docList\[0\] number"),
        ({"docList": [{"docNumber": "ABCPE1234F"}]}, r"docList\[0\] type"),
        ({"docList": [{"docType": "PAN", "docNumber": "ABCPE1234F", "x": 1}]}, "unknown key"),
        ({"docList": ["PAN"]}, "TYPE:NUMBER"),
        ({"docList": [7]}, "object or TYPE:NUMBER"),
    ],
)
def test_file_errors(patch: dict[str, Any], rule: str) -> None:
    message = fails(rule, patch=patch)
    assert message.startswith("p.json")


@pytest.mark.parametrize("text", ["[1, 2]", "{", '"x"'])
def test_read_patch_wants_a_json_object(text: str) -> None:
    with pytest.raises(InputError, match=r"--from-file patch\.json"):
        read_patch(text, "patch.json")


# -- the payload ---------------------------------------------------------------------------


def test_payload_is_the_request_and_the_envelope_only() -> None:
    request = parse(emailId="a@example.com", cardholderCity="Pune", firstName="Jacob")
    payload = make_plan(request, 30).payload
    assert payload == {
        "messageCode": "1280",
        "clientTxnId": "WTEST000000001",
        "requestDateTime": STAMP,
        "urn": "389",
        "cardProfileId": "30",
        "firstName": "Jacob",
        "emailId": "a@example.com",
        "cardholderCity": "Pune",
        "updateVectors": "emailId,city",
        "updateDate": STAMP,
    }


def test_update_vectors_follow_the_document_vocabulary() -> None:
    request = parse(
        mobile="7012345678",
        addressline1="1",
        addressline2="2",
        cardholderAddress="x",
        cardholderZipCode="560020",
        alternateEmailId="a@example.org",
    )
    payload = make_plan(request).payload
    assert payload["updateVectors"] == "alternateEmailId,mobile,address,zipcode"
    assert payload["mobile"] == "917012345678"


def test_no_update_vectors_when_nothing_in_the_vocabulary_changes() -> None:
    payload = make_plan(parse(firstName="Jacob")).payload
    assert "updateVectors" not in payload
    assert payload["updateDate"] == STAMP


def test_message_code_from_the_profile() -> None:
    request = parse(firstName="Jacob")
    assert plan(request, 30, message_code=1080).payload["messageCode"] == "1080"


def test_identifiers_by_mobile_and_customer_id() -> None:
    changes = {"firstName": "A"}
    by_mobile = update_payload(Identifiers(mobile="919897123456"), changes, card_profile_id=30)
    assert by_mobile["customerMobile"] == "919897123456"
    assert "urn" not in by_mobile
    by_id = update_payload(Identifiers(customer_id="C1"), changes, card_profile_id=30)
    assert by_id["customerId"] == "C1"
    assert len(by_id["clientTxnId"]) == 14


def test_profile_change_is_stamped() -> None:
    result = make_plan(parse(newcardProfileId="30"), 300)
    assert result.payload["newcardProfileId"] == "30"
    assert result.payload["profileIdChangeDate"] == STAMP
    assert (result.current_profile, result.new_profile) == (300, 30)
    assert result.changed() == ["newcardProfileId"]


def test_same_profile_is_left_out_with_a_note() -> None:
    result = make_plan(parse(newcardProfileId="150", firstName="A"), 150)
    assert "newcardProfileId" not in result.payload
    assert "profileIdChangeDate" not in result.payload
    assert any("already 150" in note for note in result.notes)
    with pytest.raises(InputError, match="nothing to change: the KYC profile is already 150"):
        make_plan(parse(newcardProfileId="150"), 150)


@pytest.mark.parametrize(
    ("current", "new", "lowers"),
    [(150, 30, True), (30, 300, True), (300, 30, False), (150, 300, True)],
)
def test_downgrade_gets_a_compliance_note(current: int, new: int, lowers: bool) -> None:
    notes = make_plan(parse(newcardProfileId=str(new)), current).notes
    assert any("lowers the KYC profile" in note for note in notes) is lowers


def test_mobile_change_gets_a_note() -> None:
    assert any("mobile" in note for note in make_plan(parse(mobile="7012345678")).notes)


# -- full-KYC upgrades ---------------------------------------------------------------------

UPGRADE: dict[str, Any] = {
    "newcardProfileId": "150",
    "cardholderAddress": "12, MG Road, Pune",
    "kycDateStamp": "20240501103000",
}


def test_complete_upgrade() -> None:
    result = make_plan(parse(docs=("PAN:ABCPE1234F",), **UPGRADE), 30)
    assert result.payload["newcardProfileId"] == "150"
    assert result.changed()[-1] == "docList:Pancard"
    ckyc = make_plan(parse(cKycDocNo="12345678901234", **UPGRADE), 300)
    assert ckyc.payload["cKycDocNo"] == "12345678901234"


@pytest.mark.parametrize(
    ("drop", "docs", "extra", "rule"),
    [
        ("cardholderAddress", ("PAN:ABCPE1234F",), {}, "needs the address"),
        ("", (), {}, "needs at least one identity document"),
        ("kycDateStamp", ("PAN:ABCPE1234F",), {}, "needs --kyc-date-stamp"),
        ("", ("Passport:A1234567:India",), {}, "needs the Passport's expiry date"),
        ("", ("DL:MH-14-2011-0062821",), {}, "needs the Driverlicense's expiry date"),
        ("", (f"aadhaar:{AADHAAR}",), {}, "needs the customer's consent"),
        ("", (f"aadhaar:{AADHAAR}",), {"docConsent": False}, "needs the customer's consent"),
    ],
)
def test_upgrade_rules(drop: str, docs: tuple[str, ...], extra: dict[str, Any], rule: str) -> None:
    fields = {k: v for k, v in UPGRADE.items() if k != drop} | extra
    request = parse(docs=docs, **fields)
    with pytest.raises(InputError, match=rule) as caught:
        make_plan(request, 30)
    assert str(caught.value).startswith(
        "--new-card-profile-id 150: an upgrade to Full KYC / Full CDD"
    )


def test_upgrade_rules_pass_with_what_they_ask() -> None:
    docs = ("Passport:A1234567:India:20301201", f"aadhaar:{AADHAAR}")
    make_plan(parse(docs=docs, docConsent=True, **UPGRADE), 300)


def test_upgrade_rules_only_for_an_upgrade_to_150() -> None:
    make_plan(parse(newcardProfileId="30"), 300)
    make_plan(parse(newcardProfileId="150", firstName="A"), 150)  # already 150: no upgrade


# -- the current profile and the preview, from a lookup answer -----------------------------


def answer(*cards: dict[str, Any], **customer: Any) -> dict[str, Any]:
    return {"responseCode": "00", "cardList": [{**customer, **card} for card in cards]}


def test_current_profile_by_urn_picks_that_card() -> None:
    found = answer({"urn": 389, "profileId": 150}, {"urn": 390, "profileId": 30})
    assert current_profile(found, "389", None) == 150
    assert current_profile(found, "390", None) == 30


def test_current_profile_of_a_customer_with_mixed_cards_must_be_given() -> None:
    found = answer({"urn": 389, "profileId": 150}, {"urn": 390, "profileId": 30})
    with pytest.raises(InputError, match=r"KYC profiles 30, 150"):
        current_profile(found, None, None)
    assert current_profile(found, None, 30) == 30


def test_given_profile_that_the_lookup_contradicts() -> None:
    with pytest.raises(InputError, match="1309"):
        current_profile(answer({"urn": 389, "profileId": 150}), "389", 30)


def test_current_profile_unknown_to_update_profile() -> None:
    with pytest.raises(InputError, match=r"KYC profile 42.*--card-profile-id"):
        current_profile(answer({"urn": 1, "profileId": 42}), None, None)
    with pytest.raises(InputError, match="does not show"):
        current_profile({"responseCode": "00", "firstName": "A"}, None, None)


def test_flat_answer() -> None:
    flat = {"responseCode": "00", "urn": 389, "profileId": 30, "email": "old@example.com"}
    assert current_profile(flat, "389", None) == 30
    assert customer_record(flat, "389")["email"] == "old@example.com"


def test_preview_shows_now_and_will_be() -> None:
    record = customer_record(
        answer(
            {"urn": 389, "profileId": 30},
            email="old@example.com",
            dob="11-Jul-1993",
            mobile="919897123456",
            docList=[{"docType": "Pancard", "docNumber": "ABCDE1234A"}],
        ),
        "389",
    )
    request = parse(
        emailId="new@example.com",
        dateOfBirth="19930711",
        mobile="7012345678",
        cardholderCity="Pune",
        newcardProfileId="300",
        cKycDocNo="12345678901234",
        docs=("PAN:ABCPE1234F", "Passport:A1234567:India:20301201"),
    )
    rows = {row.label: row for row in preview(make_plan(request, 30), record)}
    assert (rows["Email"].now, rows["Email"].will_be) == ("old@example.com", "new@example.com")
    assert rows["Date of birth"].unchanged
    assert rows["Date of birth"].now == "11 Jul 1993"
    assert (rows["Mobile"].now, rows["Mobile"].will_be) == ("9897123456", "7012345678")
    assert rows["City"].now == ""
    assert rows["KYC profile"].now == "Simple CDD · 30"
    assert rows["KYC profile"].will_be == "No CDD · 300"
    assert rows["Document Pancard"].now == "******234A"
    assert rows["Document Pancard"].will_be == "******234F"
    assert rows["Document Passport"].will_be == "****4567 (India, 20301201)"
    assert rows["CKYC number"].will_be == "**********1234"
    shown = json.dumps([vars(row) for row in rows.values()])
    for whole in ("ABCDE1234A", "ABCPE1234F", "A1234567", "12345678901234"):
        assert whole not in shown


def test_preview_without_a_lookup() -> None:
    rows = preview(make_plan(parse(emailId="new@example.com")), None)
    assert [(r.label, r.now, r.will_be) for r in rows] == [("Email", "", "new@example.com")]


# -- text for the operator -----------------------------------------------------------------


def test_curl_command_redacts_secrets_and_keeps_the_token() -> None:
    headers = {"x-api-key": "api-key-very-secret-1", "clientId": "C", "secureCode": "SC-12345678"}
    body = {"token": "abc+/=", "secureCode": "SC-12345678"}
    secrets = ("api-key-very-secret-1", "SC-12345678", "")
    text = curl_command("PATCH", "https://h.example/p?a=1", headers, body, secrets)
    assert "very-secret" not in text and "SC-12345678" not in text
    args = shlex.split(text.replace("\\\n", " "))
    assert args[:5] == ["curl", "-sS", "-X", "PATCH", "https://h.example/p?a=1"]
    assert "x-api-key: ****et-1" in args
    assert "clientId: C" in args
    data = json.loads(args[args.index("--data-raw") + 1])
    assert data == {"token": "abc+/=", "secureCode": "****"}


def test_lookup_command() -> None:
    assert lookup_command("prod", URN) == "wibmo -p prod lookup --urn 389"
    by_mobile = Identifiers(mobile="919897123456")
    text = lookup_command("uat", by_mobile, "917012345678")
    assert text.startswith("wibmo -p uat lookup --mobile 919897123456 (or, if the new mobile")
    assert (
        lookup_command("a b", Identifiers(customer_id="C/1"))
        == "wibmo -p 'a b' lookup --customer-id C/1"
    )


def test_audit_identifiers_are_masked() -> None:
    assert Identifiers(mobile="919897123456").describe() == "mobile ********3456"
    assert Identifiers(urn="70000000008").describe() == "urn *******0008"
    assert Identifiers(customer_id="C1").describe() == "customer id **"


# -- properties ----------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "firstName": "Jacob",
    "lastName": "James",
    "emailId": "j@example.com",
    "alternateEmailId": "jj@example.org",
    "mobile": "7012345678",
    "dateOfBirth": "19951201",
    "gender": "Male",
    "cardholderAddress": "Koramangala",
    "addressline1": "1",
    "addressline2": "2",
    "addressline3": "3",
    "cardholderCity": "Bangalore",
    "cardholderState": "Karnataka",
    "cardholderCountry": "India",
    "cardholderZipCode": "560020",
    "newcardProfileId": "30",
    "kycDateStamp": "20161031214559",
    "cKycDocNo": "12345678901234",
    "docConsent": True,
    "sorCustomerId": "7dsfhhabc",
    "sorDisable": False,
}


def test_every_field_has_an_example_here() -> None:
    assert set(VALID) == {f.name for f in FIELDS} == set(BY_NAME)


@given(st.sets(st.sampled_from(sorted(VALID)), min_size=1), st.booleans())
def test_only_what_was_asked_is_sent(chosen: set[str], from_file: bool) -> None:
    values = {name: VALID[name] for name in chosen}
    request = parse(patch=values) if from_file else parse(**values)
    payload = make_plan(request).payload
    extra = {"urn", "profileIdChangeDate", "updateVectors"}
    assert set(payload) - ENVELOPE - extra == chosen
    assert ("profileIdChangeDate" in payload) == ("newcardProfileId" in chosen)
    vectors = payload.get("updateVectors", "")
    assert set(filter(None, vectors.split(","))) <= VECTORS
    assert bool(vectors) == any(BY_NAME[name].vector for name in chosen)

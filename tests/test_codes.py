"""The response-code catalogue: complete against the documents, and its lookups."""

from __future__ import annotations

import re

import pytest

from wibmo_cli import codes
from wibmo_cli.codes import CATALOGUE, HTTP_STATUSES, explain, explain_http, is_success

# Hard-listed from spec/retrieve-cust-record-api.md (its closing code table; the row
# DUPLICATE_STATUS_OFFSET has no code and is left out on purpose).
LOOKUP_DOC = {
    "1501": "SYSTEM_ERROR_DB",
    "1500": "SYSTEM_ERROR_UNKNOWN",
    "1052": "SYSTEM_ERROR",
    "1303": "CUSTOMER_DETAILS_NOT_PRESENT",
    "00": "SUCCESS",
    "1001": "CARD_NOT_FOUND",
    "1307": "DUPLICATE_EMAIL_ID_LINKED_WITH_MULTIPLE_ACCOUNTS",
    "1237": "DUPLICATE_PHONE_NUMBER_WITH_MULTIPLE_ACCOUNT",
    "1055": "MALFORMED_REQUEST",
    "1302": "INVALID_CUSTOMER",
    "1263": "CUSTOMER_ID_NOT_PRESENT",
    "1275": "INVALID_CUSTOMER_ID",
    "1248": "INVALID_JWT_TOKEN",
    "1031": "INVALID_BANK_ID",
    "1093": "INVALID_CLIENT_TXN_ID",
    "1511": "ORIGINAL_REQUEST_MISSING",
    "1054": "DUPLICATE_REQUEST",
    "1503": "SYSTEM_ERROR_CACHE",
    "5000": "DUPLICATE_STATUS",
    "1510": "SYSTEM_ERROR_DROP_REQ",
    "1034": "INVALID_MOBILE_NUMBER",
    "1092": "INVALID_EMAIL_ADDRESS",
}

# Hard-listed from spec/update-profile-api.md, "API error code".
UPDATE_DOC = {
    "00": "SUCCESS",
    "1034": "INVALID_MOBILE_NUMBER",
    "1088": "INVALID_DATE_FORMAT",
    "1090": "CARD_PROFILEID_MANDATORY",
    "1091": "INVALID_CARDPROFILE_ID",
    "1092": "INVALID_EMAIL_ADDRESS",
    "1231": "DATA_NOT_FOUND",
    "1237": "DUPLICATE_MOBILE_NUMBER_WITH_MULTIPLE_ACCOUNT",
    "1238": "INVALID_VOTERID_NUMBER",
    "1239": "INVALID_PASSPORT_NUMBER",
    "1240": "INVALID_ADHAR_NUMBER",
    "1241": "INVALID_DRIVING_LICENCE_NUMBER",
    "1242": "INVALID_PAN_NUMBER",
    "1245": "CUSTOMER_ID_CAN_NOT_BE_EMPTY",
    "1290": "FIRSTNAME_CANNOT_BE_BLANK",
    "1300": "DOC_TYPE_CANNOT_BE_BLANK",
    "1305": "AML_NOT_CONFIGURED_FOR_PRODUCT",
    "1306": "PROFILE_NOTFOUND",
    "1309": "CARDPROFILE_MISTMATCH",
}

# Hard-listed from spec/public-notes.md, "Error codes seen beyond the two documents".
NOTES = {
    "1262": "CLIENT_ID_NOT_PRESENT_IN_THE_REQUEST",
    "1264": "BANK_ID_NOT_PRESENT_IN_THE_REQUEST",
    "1310": "XCONSUMERKEY_NOT_PRESENT_IN_REQUEST",
    "1311": "SECURE_CODE_NOT_PRESENT_IN_REQUEST",
}

# Hard-listed from spec/public-notes.md, "Response codes beyond the two documents"
# (1088 is also the update document's INVALID_DATE_FORMAT, the name kept).
PUBLIC = {
    "0000": "SUCCESS_CLOSED_LOOP",  # public-notes: closed-loop pages' success
    "1009": "CARD_CANCELLED_CLOSED_EXPIRED",
    "1010": "CARD_TEMPORARY_BLOCK",
    "1012": "CARD_PENDING_CANCELLATION",
    "1013": "AML_MIN_LIMIT",
    "1030": "INVALID_MESSAGE",
    "1032": "INVALID_CLIENT_CHANNEL",
    "1045": "UNABLE_TO_PROCESS_REQUEST_CAUSE_OF_UNKNOWN_FIELD",
    "1049": "INVALID_SECURE_CODE",
    "1051": "CHECKSUM_FAILED",
    "1056": "INVALID_MESSAGE_CODE",
    "1058": "INVALID_WALLETS",
    "1088": "INVALID_REQUEST_DATE_FORMAT",
    "1121": "CARD_CREDIT_DEBIT_BLOCK",
    "1304": "MORE_THAN_ONE_CUSTOMER_IDENTIFIER_NOT_ALLOWED",
    "1320": "REQUEST_DATETIME_IS_MANDATORY",
    "1357": "WALLET_DETAILS_NOT_FOUND",
    "1366": "PROGRAM_IS_INACTIVE",
    "1368": "PROGRAM_NOT_FOUND",
    "1504": "SYSTEM_CACHE_FAILURE",
}

DOCUMENTED_HTTP = (200, 400, 401, 403, 404, 405, 429, 500, 502, 503, 504)


def _expected_apis(code: str) -> set[str]:
    apis = set()
    if code in LOOKUP_DOC:
        apis.add("lookup")
    if code in UPDATE_DOC:
        apis.add("update")
    if code in NOTES:
        apis.add("gateway")
    if code in PUBLIC:
        apis.add("public")
    return apis


ALL_CODES = sorted(LOOKUP_DOC.keys() | UPDATE_DOC.keys() | NOTES.keys() | PUBLIC.keys())


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_documented_code_is_catalogued_with_its_sources(code: str) -> None:
    entry = explain(code)
    assert entry is not None
    assert entry.code == code
    assert set(entry.apis) == _expected_apis(code)
    names = {LOOKUP_DOC.get(code), UPDATE_DOC.get(code), NOTES.get(code), PUBLIC.get(code)}
    assert entry.name in names


def test_catalogue_holds_nothing_undocumented() -> None:
    assert sorted(entry.code for entry in CATALOGUE) == ALL_CODES


def test_codes_are_unique() -> None:
    seen = [entry.code for entry in CATALOGUE]
    assert len(seen) == len(set(seen))


def test_empty_code_row_is_not_catalogued() -> None:
    assert explain("") is None
    assert all(entry.code for entry in CATALOGUE)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda entry: entry.code)
def test_entries_are_well_formed(entry: codes.Code) -> None:
    assert re.fullmatch(r"00|[0-9]{4}", entry.code)
    assert re.fullmatch(r"[A-Z0-9]+(?:_[A-Z0-9]+)*", entry.name)
    assert entry.apis
    assert set(entry.apis) <= {"lookup", "update", "gateway", "public"}
    assert entry.meaning.strip()
    assert entry.action.strip()
    assert "\n" not in entry.meaning + entry.action


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("1262", ("missing", "not one the platform knows")),
        ("1311", ("missing", "does not match")),
        ("1264", ("missing",)),
        ("1031", ("does not match",)),
        ("1310", ("X-Consumer-Custom-ID",)),
        ("1055", ("decrypt", "parse")),
        ("1054", ("clientTxnId", "already used")),
        ("1237", ("mobile", "more than one account")),
        ("1307", ("email", "more than one account")),
        ("1303", ("No customer matches",)),
    ],
)
def test_meanings_reflect_the_sandbox_decisions(code: str, words: tuple[str, ...]) -> None:
    entry = explain(code)
    assert entry is not None
    for word in words:
        assert word in entry.meaning


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, "00"),
        ("0", "00"),
        ("00", "00"),
        (" 00 ", "00"),
        ("000", "000"),
        ("0000", "0000"),
        (1303, "1303"),
        ("1303", "1303"),
        (" 1303\n", "1303"),
        ("abc", "abc"),
        ("", ""),
    ],
)
def test_normalise_code(raw: str | int, expected: str) -> None:
    assert codes.normalise_code(raw) == expected


def test_explain_accepts_ints_and_spellings_of_success() -> None:
    assert explain(1303) is explain("1303")
    success = explain(0)
    assert success is not None
    assert success.name == "SUCCESS"
    assert explain("0") is success


@pytest.mark.parametrize("unknown", ["9999", "1", "abc", "", "0x00", "１３０３", -1])
def test_unknown_code_is_none(unknown: str | int) -> None:
    assert explain(unknown) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0, True), ("0", True), ("00", True), (" 00", True), ("1303", False), (None, False),
     ("", False), (1303, False)],
)  # fmt: skip
def test_is_success(raw: str | int | None, expected: bool) -> None:
    assert is_success(raw) is expected


@pytest.mark.parametrize("status", DOCUMENTED_HTTP)
def test_every_http_status_is_explained(status: int) -> None:
    entry = explain_http(status)
    assert entry is not None
    assert entry.status == status
    assert entry.name
    assert entry.meaning.strip()
    assert entry.action.strip()


def test_http_statuses_are_exactly_the_listed_ones() -> None:
    assert sorted(entry.status for entry in HTTP_STATUSES) == sorted(DOCUMENTED_HTTP)


def test_http_401_points_at_the_api_key() -> None:
    entry = explain_http(401)
    assert entry is not None
    assert "Invalid authentication credentials" in entry.meaning
    assert "x-api-key" in entry.meaning
    assert "api_key" in entry.action


def test_unknown_http_status_is_none() -> None:
    assert explain_http(418) is None

"""Pure validators: good and bad examples per field, Verhoeff, and properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wibmo_cli import codes, validate
from wibmo_cli.errors import InputError

TODAY = date(2024, 6, 15)


def _valid_aadhaar(first_eleven: str) -> str:
    return first_eleven + validate.verhoeff_check_digit(first_eleven)


def _rejects(func: Callable[..., Any], value: Any, **kwargs: Any) -> str:
    with pytest.raises(InputError) as caught:
        func(value, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


# -- mobile ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "9897123456",
        "919897123456",
        "+919897123456",
        "+91 98971 23456",
        "+91-98971-23456",
        "09897123456",
        "0091 9897123456",
        "(+91) 98971.23456",
        " 98971 23456 ",
        9897123456,
    ],
)
def test_mobile_accepts_indian_forms(raw: str | int) -> None:
    assert validate.mobile(raw) == "919897123456"
    assert validate.mobile(raw, prefix="") == "9897123456"


@pytest.mark.parametrize("first", "6789")
def test_mobile_first_digit_6_to_9(first: str) -> None:
    assert validate.mobile(first + "123456789") == "91" + first + "123456789"


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "5897123456",  # starts 5
        "98971234567",  # 11 digits, no 0
        "989712345",  # 9 digits
        "+1 415 555 0100",  # other country code
        "+449897123456",
        "929897123456",
        "+9897123456",
        "98971 2345a",
        "phone",
        "",
        "91",
        "+91",
    ],
)
def test_mobile_rejects(raw: str) -> None:
    message = _rejects(validate.mobile, raw)
    assert "10-digit Indian mobile number starting 6-9" in message


def test_mobile_message_names_the_cli_option() -> None:
    message = _rejects(validate.mobile, "12345", field="--mobile")
    assert message == (
        "--mobile '12345': must be a 10-digit Indian mobile number starting 6-9 "
        "(optionally with 91 / +91)"
    )


# -- email, urn, customer id -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("aayush.goel@abc.com", "aayush.goel@abc.com"),
        ("  Jacob.James+x@Example.co.in ", "Jacob.James+x@Example.co.in"),
        ("a_b-c@sub-domain.example.org", "a_b-c@sub-domain.example.org"),
    ],
)
def test_email_accepts(raw: str, expected: str) -> None:
    assert validate.email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "plainaddress",
        "a b@c.com",
        "a@b",
        "a@b.c",
        "@example.com",
        "a@.com",
        "a..b@example.com",
        ".a@example.com",
        "a@-example.com",
        "a@example..com",
        "",
        "x" * 40 + "@example.com",  # 52 characters
    ],
)
def test_email_rejects(raw: str) -> None:
    assert "email" in _rejects(validate.email, raw)


def test_email_length_limit_is_50() -> None:
    exactly_50 = "x" * 38 + "@example.com"
    assert len(exactly_50) == 50
    assert validate.email(exactly_50) == exactly_50
    assert "at most 50" in _rejects(validate.email, "x" + exactly_50)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("389", "389"), (" 1000058915 ", "1000058915"), ("70000000008", "70000000008"),
     (389, "389"), ("0389", "389")],
)  # fmt: skip
def test_urn_accepts(raw: str | int, expected: str) -> None:
    assert validate.urn(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "000", "123456789012", "12a", "-5", "1 2", "１２３"])
def test_urn_rejects(raw: str) -> None:
    assert "urn" in _rejects(validate.urn, raw)


@pytest.mark.parametrize(
    "raw", ["IN0000000001", "custid_V3_juyWqcUUxz", "62508ram44910", "a.b/c-d_e", "X"]
)
def test_customer_id_accepts(raw: str) -> None:
    assert validate.customer_id(f" {raw} ") == raw


@pytest.mark.parametrize("raw", ["", "a b", "x" * 21, "abc#1", "ab\tc", "émile"])
def test_customer_id_rejects(raw: str) -> None:
    assert "customer id" in _rejects(validate.customer_id, raw)


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["19950711", "1995-07-11", "11-07-1995", "11/07/1995", " 19950711 ", 19950711]
)
def test_date_accepts_every_form(raw: str | int) -> None:
    assert validate.date_yyyymmdd(raw, field="--dob") == "19950711"


def test_date_must_be_a_real_calendar_date() -> None:
    assert "real date" in _rejects(validate.date_yyyymmdd, "20230229")
    assert validate.date_yyyymmdd("20240229") == "20240229"
    assert validate.date_yyyymmdd("29-02-2024") == "20240229"
    for bad in ("20231301", "20230431", "00000101", "2023-1-05", "1995/07/11", "1995.07.11"):
        _rejects(validate.date_yyyymmdd, bad)


def test_date_of_birth_must_be_in_the_past() -> None:
    assert validate.date_yyyymmdd("20240614", past=True, today=TODAY) == "20240614"
    assert "before today" in _rejects(
        validate.date_yyyymmdd, "20240615", field="--dob", past=True, today=TODAY
    )
    assert "before today" in _rejects(validate.date_yyyymmdd, "20300101", past=True, today=TODAY)


def test_date_of_birth_at_most_120_years_ago() -> None:
    assert validate.date_yyyymmdd("19040615", past=True, today=TODAY) == "19040615"
    assert "120 years" in _rejects(validate.date_yyyymmdd, "19040614", past=True, today=TODAY)


def test_date_of_birth_limit_on_29_february() -> None:
    leap_day = date(2020, 2, 29)  # 120 years before is 1900, which has no 29 February
    assert validate.date_yyyymmdd("19000301", past=True, today=leap_day) == "19000301"
    assert "120 years" in _rejects(validate.date_yyyymmdd, "19000228", past=True, today=leap_day)


def test_date_in_the_future_for_expiry() -> None:
    assert validate.date_yyyymmdd("20240615", future=True, today=TODAY) == "20240615"
    assert validate.date_yyyymmdd("20311201", future=True, today=TODAY) == "20311201"
    assert "today or later" in _rejects(
        validate.date_yyyymmdd, "20231201", future=True, today=TODAY
    )


def test_date_past_and_future_together_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="both"):
        validate.date_yyyymmdd("20240101", past=True, future=True)


@pytest.mark.parametrize(
    "raw", ["20161031214559", "2016-10-31T21:45:59", "2016-10-31 21:45:59", 20161031214559]
)
def test_datetime14_accepts(raw: str | int) -> None:
    assert validate.datetime14(raw) == "20161031214559"


@pytest.mark.parametrize(
    "raw",
    [
        "2016103121455",  # 13 digits
        "20161031244559",  # hour 24
        "20161031216059",  # minute 60
        "20230229120000",  # not a leap year
        "2016-10-31T21:45",
        "2016-10-3121:45:59",
        "201610312145599",
        "",
    ],
)
def test_datetime14_rejects(raw: str) -> None:
    assert "YYYYMMDDHHMMSS" in _rejects(validate.datetime14, raw, field="--kyc-date")


# -- profile fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Male", "Male"), ("male", "Male"), ("M", "Male"), (" f ", "Female"),
     ("FEMALE", "Female"), ("t", "Transgender"), ("Transgender", "Transgender")],
)  # fmt: skip
def test_gender_accepts(raw: str, expected: str) -> None:
    assert validate.gender(raw) == expected


@pytest.mark.parametrize("raw", ["", "x", "man", "other", "MF"])
def test_gender_rejects(raw: str) -> None:
    assert "Male, Female or Transgender" in _rejects(validate.gender, raw)


@pytest.mark.parametrize(("raw", "expected"), [("560020", "560020"), ("560 020", "560020"),
                                               (110001, "110001")])  # fmt: skip
def test_zip_code_accepts(raw: str | int, expected: str) -> None:
    assert validate.zip_code(raw) == expected


@pytest.mark.parametrize("raw", ["060020", "56002", "5600201", "56002a", ""])
def test_zip_code_rejects(raw: str) -> None:
    assert "PIN" in _rejects(validate.zip_code, raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("30", 30), (150, 150), (" 300 ", 300), ("0150", 150)]
)
def test_kyc_profile_id_accepts(raw: str | int, expected: int) -> None:
    assert validate.kyc_profile_id(raw) == expected


@pytest.mark.parametrize("raw", ["1", "200", "abc", "", "+150", "150.0", "1 50", 31])
def test_kyc_profile_id_rejects_with_names(raw: str | int) -> None:
    message = _rejects(validate.kyc_profile_id, raw, field="--card-profile-id")
    assert message.startswith("--card-profile-id ")
    assert "30 (Simple CDD), 150 (Full KYC / Full CDD), 300 (No CDD)" in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Sourav", "Sourav"), ("  Jacob   James ", "Jacob James"), ("D'Souza", "D'Souza"),
     ("A. K. Singh-Rao", "A. K. Singh-Rao")],
)  # fmt: skip
def test_name_accepts(raw: str, expected: str) -> None:
    assert validate.name(raw, field="--first-name") == expected


@pytest.mark.parametrize("raw", ["", "   ", "R2D2", "x" * 51, "...", "Jacob_James"])
def test_name_rejects(raw: str) -> None:
    assert _rejects(validate.name, raw, field="--first-name").startswith("--first-name ")


def test_text_checks_length_and_lines() -> None:
    assert validate.text("  2,Meena Nilaya ", field="--address", max_len=50) == "2,Meena Nilaya"
    assert "empty" in _rejects(validate.text, "  ", field="--city", max_len=50)
    assert "at most 5" in _rejects(validate.text, "Bangalore", field="--city", max_len=5)
    assert "single line" in _rejects(validate.text, "a\nb", field="--state", max_len=50)


# -- identity documents ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["ABCPE1234F", "abcpe1234f", " AAACB1234Z ", "AAATT9999T"])
def test_pan_accepts(raw: str) -> None:
    assert validate.pan(raw) == raw.strip().upper()


@pytest.mark.parametrize(
    "raw",
    ["ABCDE1234A", "ABCP1234F", "ABCPE12345", "1BCPE1234F", "ABCPE1234", "ABCPEE234F", ""],
)
def test_pan_rejects(raw: str) -> None:
    assert "PAN" in _rejects(validate.pan, raw)


def test_verhoeff_known_values() -> None:
    assert validate.verhoeff_check_digit("236") == "3"
    assert validate.verhoeff_valid("2363")
    assert not validate.verhoeff_valid("2364")
    assert validate.verhoeff_check_digit("12345") == "1"
    assert validate.verhoeff_valid("123451")


@pytest.mark.parametrize("known", ["999941057058", "999971658847", "234123412346"])
def test_aadhaar_accepts_published_test_numbers(known: str) -> None:
    # The first two are UIDAI's published test Aadhaar numbers.
    assert validate.aadhaar(known) == known
    assert validate.verhoeff_check_digit(known[:-1]) == known[-1]


def test_aadhaar_exactly_one_last_digit_passes() -> None:
    good = _valid_aadhaar("23456789012")
    spaced = f"{good[:4]} {good[4:8]} {good[8:]}"
    assert validate.aadhaar(spaced) == good
    assert validate.aadhaar(f"{good[:4]}-{good[4:8]}-{good[8:]}") == good
    for digit in "0123456789":
        if digit == good[-1]:
            continue
        message = _rejects(validate.aadhaar, good[:-1] + digit)
        assert "check digit is wrong (Verhoeff)" in message


@pytest.mark.parametrize("raw", ["", "12345678901", "1234567890123", "abcd efgh ijkl"])
def test_aadhaar_rejects_shape(raw: str) -> None:
    assert "12-digit" in _rejects(validate.aadhaar, raw)


@pytest.mark.parametrize("first", "01")
def test_aadhaar_first_digit_not_0_or_1(first: str) -> None:
    assert "not starting 0 or 1" in _rejects(validate.aadhaar, _valid_aadhaar(first + "3456789012"))


def test_document_messages_mask_the_number() -> None:
    good = _valid_aadhaar("23456789012")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    message = _rejects(validate.aadhaar, bad, field="--doc-number")
    assert bad not in message
    assert bad[:8] not in message
    assert bad[-4:] in message
    assert "ABCDE" not in _rejects(validate.pan, "ABCDE1234A")


@pytest.mark.parametrize(("raw", "expected"), [("YCV0189823", "YCV0189823"),
                                               (" ycv 0123456", "YCV0123456")])  # fmt: skip
def test_voter_id_accepts(raw: str, expected: str) -> None:
    assert validate.voter_id(raw) == expected


@pytest.mark.parametrize("raw", ["YC0189823", "YCV018982", "YCV01898234", "1CV0189823", ""])
def test_voter_id_rejects(raw: str) -> None:
    assert "EPIC" in _rejects(validate.voter_id, raw)


@pytest.mark.parametrize(("raw", "expected"), [("A1234567", "A1234567"),
                                               ("p1234567", "P1234567")])  # fmt: skip
def test_passport_accepts(raw: str, expected: str) -> None:
    assert validate.passport(raw) == expected


@pytest.mark.parametrize(
    "raw", ["Q1234567", "X1234567", "z1234567", "ABC0123456", "A123456", "A12345678", ""]
)
def test_passport_rejects(raw: str) -> None:
    assert "passport" in _rejects(validate.passport, raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DL60 20211234567", "DL6020211234567"),
        ("DL66 20211234567", "DL6620211234567"),
        ("MH-14-2011-0062821", "MH1420110062821"),
        ("mh14 2011 0062821", "MH1420110062821"),
        ("KA0119990001234", "KA0119990001234"),
    ],
)
def test_driving_licence_accepts(raw: str, expected: str) -> None:
    assert validate.driving_licence(raw) == expected


@pytest.mark.parametrize(
    "raw", ["DL6 20211234567", "DL60 2021123456", "D160 20211234567", "DL60 18001234567", ""]
)
def test_driving_licence_rejects_with_example(raw: str) -> None:
    assert "MH-14-2011-0062821" in _rejects(validate.driving_licence, raw)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("aadhaar", "Aadhar"), ("Aadhar", "Aadhar"), ("UID", "Aadhar"),
        ("pan", "Pancard"), ("PAN card", "Pancard"), ("Pancard", "Pancard"),
        ("voter", "VoterId"), ("Voter ID", "VoterId"), ("EPIC", "VoterId"),
        ("dl", "Driverlicense"), ("driving licence", "Driverlicense"),
        ("Driving License", "Driverlicense"), ("Driverlicense", "Driverlicense"),
        ("passport", "Passport"), ("jobcard", "jobcard"), ("Job Card", "jobcard"),
        ("NREGA", "jobcard"),
    ],
)  # fmt: skip
def test_doc_type_aliases(alias: str, canonical: str) -> None:
    assert validate.doc_type(alias) == canonical


def test_doc_types_are_the_platform_names() -> None:
    assert validate.DOC_TYPES == (
        "Aadhar", "Pancard", "VoterId", "Driverlicense", "Passport", "jobcard",
    )  # fmt: skip
    for canonical in validate.DOC_TYPES:
        assert validate.doc_type(canonical) == canonical


def test_doc_type_rejects_unknown() -> None:
    assert "Aadhar, Pancard" in _rejects(validate.doc_type, "ration card")


def test_document_validates_by_type() -> None:
    good = _valid_aadhaar("98765432101")
    assert validate.document("aadhaar", good) == ("Aadhar", good)
    assert validate.document("pan card", "abcpe1234f") == ("Pancard", "ABCPE1234F")
    assert validate.document("Job Card", "MH-15-001/123") == ("jobcard", "MH-15-001/123")
    with pytest.raises(InputError, match="--doc-number"):
        validate.document("passport", "Q1234567", field="--doc-number")
    with pytest.raises(InputError, match="--doc-type"):
        validate.document("ration", "x", type_field="--doc-type")
    for bad in ("", "x" * 31, "MH 15", "MH_15"):
        with pytest.raises(InputError, match="doc number"):
            validate.document("jobcard", bad)


# -- platform codes ----------------------------------------------------------------------------


def test_platform_codes_name_real_validators_and_real_update_codes() -> None:
    assert validate.PLATFORM_CODES == {
        "mobile": "1034",
        "email": "1092",
        "date_yyyymmdd": "1088",
        "datetime14": "1088",
        "kyc_profile_id": "1091",
        "card_profile_id": "1091",
        "voter_id": "1238",
        "passport": "1239",
        "aadhaar": "1240",
        "driving_licence": "1241",
        "pan": "1242",
    }
    for func_name, code in validate.PLATFORM_CODES.items():
        assert callable(getattr(validate, func_name))
        entry = codes.explain(code)
        assert entry is not None
        assert "update" in entry.apis


# -- properties ----------------------------------------------------------------------------

STR_VALIDATORS: tuple[Callable[[str], object], ...] = (
    validate.mobile,
    validate.email,
    validate.urn,
    validate.customer_id,
    validate.date_yyyymmdd,
    validate.datetime14,
    validate.gender,
    validate.zip_code,
    validate.name,
    validate.text,
    validate.pan,
    validate.aadhaar,
    validate.voter_id,
    validate.passport,
    validate.driving_licence,
    validate.jobcard,
    validate.doc_type,
)


@given(value=st.text())
@pytest.mark.parametrize("func", STR_VALIDATORS, ids=lambda func: func.__name__)
def test_any_text_gives_a_str_or_one_line_input_error(
    func: Callable[[str], object], value: str
) -> None:
    try:
        result = func(value)
    except InputError as error:
        assert "\n" not in str(error)
        assert "\r" not in str(error)
    else:
        assert isinstance(result, str)


@given(value=st.text())
def test_any_text_into_kyc_profile_id_gives_a_known_id_or_input_error(value: str) -> None:
    try:
        result = validate.kyc_profile_id(value)
    except InputError:
        return
    assert result in validate.KYC_PROFILES


@given(kind=st.text(), number=st.text())
def test_any_text_into_document(kind: str, number: str) -> None:
    try:
        canonical, _ = validate.document(kind, number)
    except InputError:
        return
    assert canonical in validate.DOC_TYPES


@given(prefix=st.from_regex(r"[2-9][0-9]{10}", fullmatch=True))
def test_any_valid_prefix_with_its_check_digit_passes(prefix: str) -> None:
    good = prefix + validate.verhoeff_check_digit(prefix)
    assert validate.aadhaar(good) == good
    wrong = prefix + str((int(good[-1]) + 1) % 10)
    with pytest.raises(InputError, match="Verhoeff"):
        validate.aadhaar(wrong)


@given(national=st.from_regex(r"[6-9][0-9]{9}", fullmatch=True))
def test_any_indian_mobile_round_trips(national: str) -> None:
    assert validate.mobile(national) == "91" + national
    assert validate.mobile("+91 " + national) == "91" + national
    assert validate.mobile(validate.mobile(national)) == "91" + national


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_any_real_date_in_every_form(day: date) -> None:
    expected = day.strftime("%Y%m%d")
    for form in ("%Y%m%d", "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        assert validate.date_yyyymmdd(day.strftime(form)) == expected


def test_a_number_given_as_the_document_type_is_masked() -> None:
    """`--doc 234567890124:Aadhaar` (number and type swapped): the message named the whole
    Aadhaar number as the unknown type."""
    with pytest.raises(InputError) as caught:
        validate.doc_type("234567890124", field="--doc type")
    assert "234567890124" not in caught.value.message and "0124" in caught.value.message
    with pytest.raises(InputError, match="'Passprot'"):
        validate.doc_type("Passprot")  # a misspelt type is shown as typed

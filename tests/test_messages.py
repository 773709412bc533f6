"""Plaintext payloads: identifiers normalised and checked, the 1930 request, clientTxnId."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wibmo_cli.errors import ExitStatus, InputError
from wibmo_cli.messages import (
    Identifiers,
    lookup_payload,
    new_client_txn_id,
    request_datetime,
)


@pytest.mark.parametrize(
    "typed",
    [
        "9897123456",
        "919897123456",
        "+919897123456",
        "+91 98971 23456",
        "+91-98971-23456",
        "91 9897 123 456",
        "98971-23456",
        " 9897123456 ",
        "(+91) 9897.123456",
    ],
)
def test_mobile_is_normalised_to_prefix_and_ten_digits(typed: str) -> None:
    assert Identifiers.parse(mobile=typed).mobile == "919897123456"


def test_mobile_prefix_comes_from_the_profile() -> None:
    assert Identifiers.parse(mobile="9897123456", mobile_prefix="").mobile == "9897123456"
    assert Identifiers.parse(mobile="+91 98971 23456", mobile_prefix="0").mobile == "09897123456"


@pytest.mark.parametrize(
    "typed",
    [
        "12345",
        "5897123456",  # Indian mobiles start 6-9
        "+14155552671",  # not Indian
        "+44 7911 123456",
        "98971234567",  # 11 digits, no leading 0
        "9897l23456",  # a letter l for a one
        "",
    ],
)
def test_a_mobile_that_is_not_indian_is_refused_naming_the_option(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        Identifiers.parse(mobile=typed)
    assert caught.value.exit_status == ExitStatus.USAGE
    assert caught.value.message.startswith("--mobile ")
    assert "10-digit Indian mobile" in caught.value.message


@pytest.mark.parametrize("typed", ["abc@", "no-at-sign.example.com", "a b@example.com", "x@y"])
def test_a_bad_email_is_refused_naming_the_option(typed: str) -> None:
    with pytest.raises(InputError, match=r"^--email .*email address"):
        Identifiers.parse(email=typed)


def test_an_overlong_email_is_refused() -> None:
    with pytest.raises(InputError, match=r"--email .*at most 50 characters"):
        Identifiers.parse(email="a" * 45 + "@example.com")


@pytest.mark.parametrize("typed", ["38x", "-389", "0", "000", "123456789012", "3 89"])
def test_a_bad_urn_is_refused_naming_the_option(typed: str) -> None:
    with pytest.raises(InputError, match=r"^--urn .*URN of 1-11 digits"):
        Identifiers.parse(urn=typed)


def test_a_bad_customer_id_is_refused_naming_the_option() -> None:
    with pytest.raises(InputError, match=r"^--customer-id "):
        Identifiers.parse(customer_id="has spaces in it")
    with pytest.raises(InputError, match=r"^--customer-id "):
        Identifiers.parse(customer_id="x" * 21)


def test_urn_email_and_customer_id_are_kept_as_typed_after_trimming() -> None:
    found = Identifiers.parse(urn=" 00389 ", email=" abc@xyz.com ", customer_id="custid_V3_x")
    assert found.urn == "389"
    assert found.email == "abc@xyz.com"
    assert found.customer_id == "custid_V3_x"
    assert found.mobile is None


def test_at_least_one_identifier_is_required() -> None:
    with pytest.raises(InputError) as caught:
        Identifiers.parse()
    for option in ("--mobile", "--urn", "--customer-id", "--email"):
        assert option in caught.value.message
    assert caught.value.exit_status == ExitStatus.USAGE


def test_fields_use_the_platform_names() -> None:
    found = Identifiers.parse(
        mobile="9897123456", urn="389", customer_id="IN0000000001", email="abc@xyz.com"
    )
    assert found.fields() == {
        "customerMobile": "919897123456",
        "urn": "389",
        "customerId": "IN0000000001",
        "emailId": "abc@xyz.com",
    }


def test_describe_hides_mobile_and_email_unless_asked() -> None:
    found = Identifiers.parse(mobile="9897123456", email="abc@xyz.com")
    hidden = found.describe()
    assert "919897123456" not in hidden
    assert "3456" in hidden
    assert "abc@xyz.com" not in hidden
    assert "xyz.com" in hidden
    shown = found.describe(masked=False)
    assert "919897123456" in shown
    assert "abc@xyz.com" in shown


def test_lookup_payload_matches_the_documents_sample_fields() -> None:
    now = datetime(2022, 11, 16, 11, 42, 8)
    payload = lookup_payload(Identifiers.parse(urn="389"), client_txn_id="T1", now=now)
    assert payload == {
        "messageCode": 1930,
        "clientTxnId": "T1",
        "requestDateTime": "20221116114208",
        "urn": "389",
    }


def test_lookup_payload_takes_the_profiles_message_code_and_a_fresh_txn_id() -> None:
    found = Identifiers.parse(mobile="9897123456")
    first = lookup_payload(found, message_code=1932)
    second = lookup_payload(found)
    assert first["messageCode"] == 1932
    assert first["customerMobile"] == "919897123456"
    assert first["clientTxnId"] != second["clientTxnId"]
    assert re.fullmatch(r"[0-9]{14}", first["requestDateTime"])
    parsed = datetime.strptime(first["requestDateTime"], "%Y%m%d%H%M%S")
    assert abs((parsed - datetime.now()).total_seconds()) < 60  # local time, not UTC


def test_request_datetime_is_24_hour_yyyymmddhhmmss() -> None:
    assert request_datetime(datetime(2024, 1, 2, 23, 5, 9)) == "20240102230509"
    assert request_datetime(datetime(2024, 12, 31, 0, 0, 0)) == "20241231000000"


def test_client_txn_id_is_14_characters_and_unique_over_10000_calls() -> None:
    ids = [new_client_txn_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for txn in ids:
        assert len(txn) == 14
        assert re.fullmatch(r"W[0-9A-Z]{13}", txn), txn


def test_client_txn_ids_sort_by_time() -> None:
    # the 8 time characters lead: ids made later never sort before earlier ones
    earlier = new_client_txn_id()
    later = [new_client_txn_id() for _ in range(50)]
    assert all(txn[:9] >= earlier[:9] for txn in later)


@given(st.from_regex(r"[6-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "91", "+91", "0"]))
def test_every_valid_national_number_round_trips(national: str, lead: str) -> None:
    spaced = f"{lead} {national[:5]}-{national[5:]}"
    assert Identifiers.parse(mobile=spaced).mobile == "91" + national


def test_describe_masks_like_the_audit_log_and_shows_all_unmasked() -> None:
    ids = Identifiers.parse(
        mobile="9897123456", urn="1000058915", customer_id="IN01", email="asha@example.com"
    )
    masked = ids.describe()
    assert "********3456" in masked
    assert "******8915" in masked
    assert "a***@example.com" in masked
    assert "customer id ****" in masked  # four characters or fewer: none shown
    assert "1000058915" not in masked
    whole = ids.describe(masked=False)
    assert "919897123456" in whole and "1000058915" in whole and "asha@example.com" in whole


def test_client_txn_ids_made_in_one_millisecond_never_repeat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The clock standing still (a burst within one millisecond): still no repeat, in order
    (random tails alone repeated about once in 25 runs of 10,000 ids)."""
    from wibmo_cli import messages

    now = messages.time.time_ns()
    monkeypatch.setattr(messages.time, "time_ns", lambda: now)
    ids = [messages.new_client_txn_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)

"""`wibmo call`'s pure core (callapi.py) and its route on the wire: the payload from JSON,
-f and -F (gh's syntax), the known reads, the path's method and credential placement,
the user's headers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support import unit_profile

from wibmo_cli.callapi import (
    KNOWN_MESSAGES,
    Call,
    build_payload,
    is_read,
    parse_headers,
    route_for,
    typed_value,
)
from wibmo_cli.errors import InputError
from wibmo_cli.wire import Route, Wire

BASE_URL = "https://pp.example"
NOW = datetime(2025, 1, 2, 3, 4, 5)


def no_file(name: str) -> str:
    raise AssertionError(f"read {name}")


def payload(
    base: dict[str, Any] | None = None,
    *,
    f: tuple[str, ...] = (),
    typed: tuple[str, ...] = (),
    code: int | None = 1930,
    read_file: Any = no_file,
) -> dict[str, Any]:
    built, _ = build_payload(
        base,
        raw_fields=f,
        typed_fields=typed,
        message_code=code,
        read_file=read_file,
        client_txn_id="T1",
        now=NOW,
    )
    return built


# -- the payload -------------------------------------------------------------------------------


def test_filled_first_and_the_fields_after_them() -> None:
    assert payload(f=("urn=389",)) == {
        "messageCode": 1930,
        "clientTxnId": "T1",
        "requestDateTime": "20250102030405",
        "urn": "389",
    }


def test_a_given_clienttxnid_or_requestdatetime_is_kept_with_its_type() -> None:
    built = payload({"clientTxnId": "MINE", "requestDateTime": 20240101000000})
    assert built["clientTxnId"] == "MINE"
    assert built["requestDateTime"] == 20240101000000
    assert list(built)[:3] == ["messageCode", "clientTxnId", "requestDateTime"]


def test_the_fresh_clienttxnid_is_new_each_time() -> None:
    first, _ = build_payload(None, message_code=1930, read_file=no_file)
    second, _ = build_payload(None, message_code=1930, read_file=no_file)
    assert first["clientTxnId"] != second["clientTxnId"]


def test_raw_fields_are_strings_and_typed_fields_are_json() -> None:
    built = payload(
        f=("n=5", "t=true", "z=null"),
        typed=("num=5", "neg=-12", "yes=true", "no=false", "none=null", "text=abc"),
    )
    assert (built["n"], built["t"], built["z"]) == ("5", "true", "null")
    assert built["num"] == 5 and built["neg"] == -12
    assert built["yes"] is True and built["no"] is False and built["none"] is None
    assert built["text"] == "abc"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09897123456", "09897123456"),  # a leading zero is kept: a mobile number
        ("1234567890123456", "1234567890123456"),  # beyond 15 digits: not exact everywhere
        ("123456789012345", 123456789012345),
        ("1.5", "1.5"),  # integers only, as gh
        ("0", 0),
        ("-0", 0),
        ("True", "True"),
        ("", ""),
    ],
)
def test_typed_values(text: str, expected: Any) -> None:
    assert typed_value(text, no_file) == expected


def test_at_file_is_the_file_text_without_its_last_line_break() -> None:
    files = {"note.txt": "two\nlines\n", "-": "from stdin\r\n"}
    built = payload(typed=("a=@note.txt", "b=@-"), read_file=files.__getitem__)
    assert built["a"] == "two\nlines"
    assert built["b"] == "from stdin"
    assert payload(f=("raw=@note.txt",))["raw"] == "@note.txt"  # -f never reads a file


def test_nested_keys_and_lists_as_gh_builds_them() -> None:
    built = payload(
        f=("a[b]=1", "a[c][d]=2", "l[]=x", "l[]=y", "docs[][docType]=PAN", "docs[][n]=1"),
        typed=("docs[][docType]=5", "empty[]", "a[e][]"),
    )
    assert built["a"] == {"b": "1", "c": {"d": "2"}, "e": []}
    assert built["l"] == ["x", "y"]
    assert built["docs"] == [{"docType": "PAN", "n": "1"}, {"docType": 5}]
    assert built["empty"] == []


def test_a_field_overrides_the_json_and_nests_into_it() -> None:
    built = payload({"urn": "1", "a": {"keep": True}, "l": [1]}, f=("urn=2", "a[b]=x", "l[]=2"))
    assert built["urn"] == "2"
    assert built["a"] == {"keep": True, "b": "x"}
    assert built["l"] == [1, "2"]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        (("urn",), "give KEY=VALUE"),
        (("=1",), "not KEY=VALUE"),
        (("a[b=1",), "not KEY=VALUE"),
        (("a]=1",), "not KEY=VALUE"),
        (("a[][]=1",), "list of lists"),
        (("urn=1", "urn=2"), "given twice"),
        (("a=1", "a[b]=2"), "is already a value, not an object"),
        (("a=1", "a[]=2"), "is already a value, not a list"),
        (("a[b]=1", "a[]=2"), "is already a value, not a list"),
        (("a[][b][]",), "give KEY=VALUE"),
    ],
)
def test_fields_that_cannot_be_built_are_refused(fields: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment.replace("[", r"\[")):
        payload(f=fields)


def test_the_message_code_from_the_option_or_the_json() -> None:
    assert payload(code=1280)["messageCode"] == 1280
    from_json = payload({"messageCode": "1280"}, code=None)
    assert from_json["messageCode"] == "1280"  # as the user typed it: a string
    assert payload({"messageCode": 1280}, code=1280)["messageCode"] == 1280
    _, code = build_payload({"messageCode": "3422"}, message_code=None, read_file=no_file)
    assert code == 3422


@pytest.mark.parametrize(
    ("base", "code", "fragment"),
    [
        (None, None, "give --message-code"),
        ({"messageCode": 1280}, 1930, "is not --message-code 1930"),
        ({"messageCode": "x12"}, None, "is not a number"),
        ({"messageCode": True}, None, "is not a number"),
        (None, 0, "1 to 9999"),
        (None, 10000, "1 to 9999"),
        ({"messageCode": 0}, None, "1 to 9999"),
    ],
)
def test_a_message_code_missing_conflicting_or_out_of_range(
    base: dict[str, Any] | None, code: int | None, fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment):
        payload(base, code=code)


# -- reads and writes ---------------------------------------------------------------------------


def test_known_reads_and_everything_else_a_write() -> None:
    reads = {code for code, message in KNOWN_MESSAGES.items() if message.read}
    assert reads == {1930, 3422}
    assert is_read(1930, lookup_message_code=1930, read_only=False)
    assert is_read(3422, lookup_message_code=1930, read_only=False)
    assert is_read(7777, lookup_message_code=7777, read_only=False)  # the profile's own
    assert not is_read(1280, lookup_message_code=1930, read_only=False)
    assert not is_read(4242, lookup_message_code=1930, read_only=False)  # unknown: a write
    assert is_read(4242, lookup_message_code=1930, read_only=True)


# -- where it goes -------------------------------------------------------------------------------


def profile_values(**override: Any) -> dict[str, Any]:
    return dict(unit_profile(BASE_URL, **override).values)


def test_the_lookup_path_takes_the_lookup_api_settings() -> None:
    values = profile_values(lookup_credentials="body", update_method="POST")
    route = route_for("api/v2/customer/retrieveCustRecord", values)
    assert route == Route("POST", "/api/v2/customer/retrieveCustRecord", "body")


def test_the_update_path_takes_the_update_api_settings() -> None:
    values = profile_values(lookup_credentials="body", update_method="POST")
    route = route_for(str(values["update_path"]), values)
    assert (route.method, route.credentials) == ("POST", "headers")
    values = profile_values(credentials="body", update_credentials="headers")
    assert route_for(str(values["update_path"]), values).method == "PATCH"


def test_any_other_path_is_posted_with_the_profiles_credentials_setting() -> None:
    values = profile_values(credentials="body", lookup_credentials="headers")
    route = route_for("/api/v2/card/inquiry", values)
    assert route == Route("POST", "/api/v2/card/inquiry", "body")


def test_method_and_credentials_options_override_the_path() -> None:
    values = profile_values()
    route = route_for(
        str(values["lookup_path"]), values, method="patch", credentials="BODY", headers=()
    )
    assert (route.method, route.credentials) == ("PATCH", "body")


@pytest.mark.parametrize(
    ("path", "options", "fragment"),
    [
        ("https://elsewhere.example/api", {}, "give the path only"),
        ("//elsewhere.example/api", {}, "give the path only"),
        ("", {}, "give the API's path"),
        ("/", {}, "give the API's path"),
        ("/api v2", {}, "give the API's path"),
        ("/api\r\nX: 1", {}, "give the API's path"),
        ("/api/é", {}, "give the API's path"),
        ("/api", {"method": "GET"}, "give POST or PATCH"),
        ("/api", {"credentials": "query"}, "give headers or body"),
    ],
)
def test_paths_and_options_that_are_refused(
    path: str, options: dict[str, str], fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment):
        route_for(path, profile_values(), **options)


def test_headers_parsed_the_last_of_a_name_winning() -> None:
    assert parse_headers(["X-Request-Id: 1", "x-request-id:2", "entityId: 300"]) == {
        "x-request-id": "2",
        "entityId": "300",
    }


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("X-Api-Key: stolen", "secrets come from the profile"),
        ("secureCode: 1", "secrets come from the profile"),
        ("Host: elsewhere", "set by wibmo"),
        ("Content-Length: 5", "set by wibmo"),
        ("no colon", "give NAME:VALUE"),
        ("Bad Name: 1", "give NAME:VALUE"),
        (": 1", "give NAME:VALUE"),
        ("X-A: caf\u00e9", "printable ASCII"),
        ("X-A: a\x1bb", "printable ASCII"),
    ],
)
def test_headers_that_are_refused(header: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        parse_headers([header])


def test_extra_headers_replace_the_wire_s_whatever_their_case() -> None:
    profile = unit_profile(BASE_URL)
    route = Route("POST", "/x", "headers", {"ENTITYID": "300", "X-Trace": "1"})
    request = Wire(profile).request(route, {"messageCode": 1}, BASE_URL)
    names = [name.lower() for name in request.headers]
    assert names.count("entityid") == 1
    assert request.headers["ENTITYID"] == "300"
    assert request.headers["X-Trace"] == "1"
    assert request.url == f"{BASE_URL}/x"


def test_body_placement_puts_the_credentials_next_to_the_token() -> None:
    profile = unit_profile(BASE_URL)
    request = Wire(profile).request(Route("PATCH", "/y", "body"), {"messageCode": 1}, BASE_URL)
    assert request.method == "PATCH"
    assert {"token", "clientId", "bankId", "secureCode"} <= set(request.body)
    assert "clientId" not in request.headers


def test_the_audit_fields_hold_the_keys_never_the_values() -> None:
    built = payload(f=("customerMobile=9897123456", "docs[][docNumber]=ABCPE1234F"))
    the_call = Call(Route("POST", "/p", "headers", {"X-A": "secret-ish"}), built, 1930, True)
    fields = the_call.audit_fields("call")
    assert fields["fields"] == ["customerMobile", "docs"]
    text = repr(fields)
    assert "9897123456" not in text and "ABCPE1234F" not in text and "secret-ish" not in text
    assert fields["clientTxnId"] == "T1"
    assert the_call.describe() == "1930 Retrieve Cust Record at /p"

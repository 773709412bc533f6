"""Issue 9, item 17: every scalar under a document-number key is masked.

``"docNumber": ["ABCPE1234F"]`` and ``{"docNumber": {"a": "ABCPE1234F"}}`` are masked as
``"docNumber": "ABCPE1234F"`` is, on decoded JSON (`mask`) and on the raw-bytes path
(`mask_json_bytes`, used when decrypting tokens), in every output of the tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile
from hypothesis import given
from hypothesis import strategies as st
from support import Invoke, codec, write_profiles

from wibmo_cli.masking import mask, mask_json_bytes

PAN = "ABCPE1234F"
AADHAAR = "234567890124"
WHOLE = (PAN, AADHAAR, PAN[:6], AADHAAR[:8])

ANSWER: dict[str, Any] = {
    "responseCode": "00",
    "responseMessage": "SUCCESS",
    "cardList": [
        {
            "urn": 389,
            "firstName": "ABC",
            "docList": [
                {"docType": "Pancard", "docNumber": [PAN]},
                {"docType": "Aadhar", "docNumber": {"a": AADHAAR, "b": [int(AADHAAR)]}},
            ],
        }
    ],
    "pan": [[PAN]],
    "aadhaarNumber": {"nested": {"deeper": AADHAAR}},
}


def _whole(text: str) -> list[str]:
    return [number for number in WHOLE if number in text]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ({"docNumber": [PAN]}, {"docNumber": ["******234F"]}),
        ({"docNumber": {"a": PAN}}, {"docNumber": {"a": "******234F"}}),
        (
            {"DOCNUMBER": [[{"x": PAN}], 123456789012]},
            {"DOCNUMBER": [[{"x": "******234F"}], "********9012"]},
        ),
        ({"pan": [None, True, 1.5]}, {"pan": [None, True, 1.5]}),
        ({"other": [PAN], "docNumber": PAN}, {"other": [PAN], "docNumber": "******234F"}),
    ],
)
def test_mask_masks_every_scalar_under_a_masked_key(value: Any, masked: Any) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize(
    "text",
    [
        b'{"docNumber": ["ABCPE1234F"]}',
        b'{"docNumber" : {"a": "ABCPE1234F"}}',
        b'{"docList":[{"docNumber":[["ABCPE1234F"]]}]}',
        b'{"PAN":\n[234567890124]}',
    ],
)
def test_the_raw_bytes_path_agrees_with_mask(text: bytes) -> None:
    shown = mask_json_bytes(text)
    expected = mask(json.loads(text))
    assert shown is None or json.loads(shown) == expected
    assert not _whole((shown or b"").decode())


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12))
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["docNumber", "pan", "x", "name"]), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(_json)
def test_mask_json_bytes_never_disagrees_with_mask(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=True).encode()
    shown = mask_json_bytes(text)
    if shown is not None:
        assert json.loads(shown) == mask(value)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile("canned") as server:
        token = codec().encrypt_json(ANSWER)
        server.reply = (200, "application/json", json.dumps({"token": token}).encode())
        write_profiles(server.url)
        yield server


@pytest.mark.parametrize("options", [(), ("-v",), ("-o", "json"), ("-o", "json", "-v")])
def test_lookup_masks_document_numbers_in_lists_and_objects(
    wibmo: Invoke, hostile: Hostile, options: tuple[str, ...]
) -> None:
    result = wibmo(*options, "lookup", "--urn", "389")
    assert result.exit_code == 0, result.stderr
    assert _whole(result.stdout + result.stderr) == []
    assert "234F" in result.stdout


def test_decrypt_masks_document_numbers_in_lists_and_objects(
    wibmo: Invoke, hostile: Hostile, tmp_path: Path
) -> None:
    token = codec().encrypt_json(ANSWER)
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(f"{token}\n{token}\n", encoding="utf-8")
    for args in (("decrypt", token), ("decrypt", str(tokens)), ("-o", "json", "decrypt", token)):
        result = wibmo(*args)
        assert result.exit_code == 0, result.stderr
        assert _whole(result.stdout + result.stderr) == [], args
        assert "234F" in result.stdout

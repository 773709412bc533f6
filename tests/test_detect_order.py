"""Issue 11, item 8: detect in the order the evidence suggests.

The platform's published tokens are one 16-byte block longer than PKCS#7 of their
plaintext's compact JSON: that fits `prepend` (an IV in front), so it is tried first
where the token's length allows it. What the length rules in or out is said, and
never more: a property test checks the evidence never rules out the scheme a token
was really made with. `crypto.detect` keeps its signature (keywords added only) and
its results sorted working-first (profiles check --calibrate calls it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import KEY, Invoke, budget, codec, write_profiles

from wibmo_cli.crypto import (
    ALL_SCHEMES,
    BLOCK,
    IvScheme,
    compact_json,
    decode_base64,
    detect,
    length_evidence,
    token_evidence,
)

PAYLOAD = {"messageCode": 1930, "clientTxnId": "WTXN0001", "urn": "389"}
READINGS = [("text", KEY)]
FIXED = IvScheme.parse("00112233445566778899aabbccddeeff")


def kinds(schemes: list[IvScheme]) -> list[str]:
    return [s.kind for s in schemes]


# -- what the length says ----------------------------------------------------------------


def test_a_published_sized_token_fits_prepend_only() -> None:
    """A token one block longer than the padded plaintext: the platform's samples."""
    token = codec("prepend").encrypt_json(PAYLOAD)
    plaintext = compact_json(PAYLOAD)
    assert len(decode_base64(token)) == (len(plaintext) // BLOCK + 1) * BLOCK + BLOCK
    evidence = token_evidence(token, plaintext)
    assert evidence.ruled_out == {"zero", "key", "ecb", "fixed"}
    assert "one block more, an IV in front: prepend" in evidence.notes[0]
    assert kinds(evidence.order([*ALL_SCHEMES, FIXED]))[0] == "prepend"


def test_a_token_as_long_as_its_padded_plaintext_is_not_prepend() -> None:
    evidence = token_evidence(codec("zero").encrypt_json(PAYLOAD), compact_json(PAYLOAD))
    assert evidence.ruled_out == {"prepend"}
    assert "no IV in front, so not prepend" in evidence.notes[0]
    assert kinds(evidence.order(list(ALL_SCHEMES))) == ["zero", "key", "ecb", "prepend"]


def test_a_token_of_one_block_cannot_be_prepend() -> None:
    evidence = length_evidence(BLOCK)
    assert evidence.ruled_out == {"prepend"}
    assert "1 block (16 bytes): no room for an IV" in evidence.notes[0]
    assert kinds(evidence.order(list(ALL_SCHEMES)))[-1] == "prepend"


def test_a_longer_token_alone_rules_nothing_out_but_prepend_is_tried_first() -> None:
    evidence = length_evidence(5 * BLOCK)
    assert evidence.ruled_out == frozenset()
    assert "rules no scheme out; prepend is tried first" in evidence.notes[0]
    assert kinds(evidence.order([*ALL_SCHEMES, FIXED])) == [
        "prepend",
        "zero",
        "key",
        "ecb",
        "fixed",
    ]


def test_a_plaintext_that_does_not_fit_rules_nothing_out() -> None:
    evidence = length_evidence(8 * BLOCK, b"x" * 20)
    assert evidence.ruled_out == frozenset()
    assert (
        "pads to 2 blocks (3 with an IV in front) but the token is 8 blocks" in (evidence.notes[0])
    )


@pytest.mark.parametrize("size", [0, 15, 17, 40])
def test_a_size_that_is_not_whole_blocks_fits_no_scheme(size: int) -> None:
    evidence = length_evidence(size)
    assert {"zero", "key", "ecb", "prepend", "fixed"} == evidence.ruled_out
    assert "not a whole number of 16-byte AES blocks" in evidence.notes[0]


@budget(200)
@given(
    plaintext=st.binary(max_size=100),
    scheme=st.sampled_from(["zero", "key", "prepend", "ecb", FIXED.fixed.hex()]),
    told=st.booleans(),
)
def test_the_evidence_never_rules_out_the_scheme_a_token_was_made_with(
    plaintext: bytes, scheme: str, told: bool
) -> None:
    size = len(decode_base64(codec(scheme).encrypt(plaintext)))
    evidence = length_evidence(size, plaintext if told else None)
    assert IvScheme.parse(scheme).kind not in evidence.ruled_out


# -- detect -------------------------------------------------------------------------------


def test_detect_tries_prepend_first_and_keeps_working_first() -> None:
    token = codec("prepend").encrypt_json(PAYLOAD)
    results = detect(token, READINGS)
    assert results[0].ok and results[0].scheme.kind == "prepend"
    assert all(r.fits_length for r in results)


def test_detect_keeps_each_groups_results_in_the_evidences_order() -> None:
    """Working first, then valid padding, then the rest; within each, the trial order."""
    token = codec("zero").encrypt_json(PAYLOAD)
    results = detect(token, READINGS, (FIXED,))
    ranks = [(not r.ok, not r.padding_ok) for r in results]
    assert ranks == sorted(ranks)
    order = kinds(length_evidence(len(decode_base64(token))).order([*ALL_SCHEMES, FIXED]))
    for rank in set(ranks):
        tried = [r.scheme.kind for r, k in zip(results, ranks, strict=True) if k == rank]
        assert tried == [kind for kind in order if kind in tried]


def test_detect_marks_what_an_expected_plaintext_rules_out() -> None:
    token = codec("prepend").encrypt_json(PAYLOAD)
    results = detect(token, READINGS, plaintext=compact_json(PAYLOAD))
    fits = {r.scheme.kind: r.fits_length for r in results}
    assert fits == {"prepend": True, "zero": False, "key": False, "ecb": False}
    assert results[0].ok and results[0].scheme.kind == "prepend"


def test_detect_on_one_block_marks_prepend_ruled_out_and_tries_it_last() -> None:
    token = codec("zero").encrypt(b"{}")
    results = detect(token, READINGS)
    assert [r.scheme.kind for r in results][-1] == "prepend"
    assert not next(r for r in results if r.scheme.kind == "prepend").fits_length


def test_detect_keeps_its_positional_signature() -> None:
    token = codec(FIXED.fixed.hex()).encrypt_json(PAYLOAD)
    results = detect(token, READINGS, (FIXED,))
    assert [str(r.scheme) for r in results if r.ok] == [str(FIXED)]


# -- the command ------------------------------------------------------------------------------


@pytest.fixture
def profile(isolated: Path) -> Path:
    return write_profiles("http://127.0.0.1:9", iv="prepend")


def test_decrypt_detect_says_what_the_length_shows(cli: Invoke, profile: Path) -> None:
    result = cli("decrypt", "--detect", codec("prepend").encrypt_json(PAYLOAD))
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Length: the token is 5 blocks (80 bytes)" in text
    assert "prepend is tried first" in text
    assert 'iv = "prepend"' in text


def test_decrypt_detect_json_carries_the_length_and_the_fit(cli: Invoke, profile: Path) -> None:
    token = codec("zero").encrypt(b"{}")
    result = cli("-o", "json", "decrypt", "--detect", token)
    assert result.exit_code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["length"]["blocks"] == 1
    assert report["length"]["ruled_out"] == ["prepend"]
    assert {t["iv"]: t["fits_length"] for t in report["tried"]}["prepend"] is False


def test_decrypt_detect_with_the_plaintext_it_holds(
    cli: Invoke, profile: Path, isolated: Path
) -> None:
    (isolated / "request.json").write_text(json.dumps(PAYLOAD, indent=2))  # compacted
    token = codec("prepend").encrypt_json(PAYLOAD)
    result = cli("decrypt", "--detect", token, "--plaintext", "request.json")
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "one block more, an IV in front: prepend" in text
    assert "(its length rules this scheme out)" in text


def test_plaintext_goes_with_detect(cli: Invoke, profile: Path) -> None:
    result = cli("decrypt", codec("prepend").encrypt_json(PAYLOAD), "--plaintext", "{}")
    assert result.exit_code == 2
    assert "--plaintext goes with --detect" in result.stderr


def test_a_bad_plaintext_is_a_usage_error(cli: Invoke, profile: Path) -> None:
    token = codec("prepend").encrypt_json(PAYLOAD)
    result = cli("decrypt", "--detect", token, "--plaintext", "[1, 2")
    assert result.exit_code == 2
    assert "--plaintext is not valid JSON" in result.stderr

"""Text from the network is parsed as JSON is defined: NaN and Infinity are not JSON, and
a number too big for a float keeps its text (never inf), so `-o json` stays valid JSON and
shows what was sent (an attack review of issue 11: `1e400` printed as Infinity)."""

from __future__ import annotations

import json

import pytest
from hostile import Hostile
from support import Invoke, codec, write_profiles

from wibmo_cli.bodies import load_json


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(literal: str) -> None:
    with pytest.raises(ValueError, match="is not JSON"):
        load_json(f'{{"availableBalance": {literal}}}')


def test_a_number_too_big_for_a_float_keeps_its_text() -> None:
    assert load_json('{"a": 1e400, "b": 1.5, "c": -2e308}') == {
        "a": "1e400",
        "b": 1.5,
        "c": "-2e308",
    }


@pytest.mark.e2e
def test_lookup_json_output_is_strict_json(wibmo: Invoke) -> None:
    answer = b'{"responseCode":"00","urn":389,"availableBalance":1e400}'
    body = json.dumps({"token": codec().encrypt(answer)}).encode()
    with Hostile(mode="canned", reply=(200, "application/json", body)) as server:
        write_profiles(server.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout, parse_constant=_not_json)
    assert shown["availableBalance"] == "1e400"


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")

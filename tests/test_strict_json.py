"""Numbers JSON cannot hold as a float (NaN, Infinity, 1e400) keep the text that was sent
(`bodies.NumberText`): `-o json` stays valid JSON and shows what was sent, a decryptable
answer holding one is never blamed on the key, and such a value is never a response code
(attack reviews of issue 11: `1e400` printed as Infinity, NaN printed as NaN and read
as "wrong key or a fixed IV", `{"responseCode": 1e400}` taken as an answer)."""

from __future__ import annotations

import json

import pytest
from hostile import Hostile
from support import Invoke, codec, write_profiles

from wibmo_cli.bodies import NumberText, is_plain_answer, load_json


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-2e308"])
def test_a_number_json_cannot_hold_keeps_its_text(literal: str) -> None:
    value = load_json(f'{{"availableBalance": {literal}, "b": 1.5}}')
    assert value == {"availableBalance": literal, "b": 1.5}
    assert isinstance(value["availableBalance"], NumberText)
    assert json.dumps(value, allow_nan=False)  # what is written is JSON


@pytest.mark.parametrize("code", ["1e400", "NaN", '""', '"  "'])
def test_such_a_value_or_an_empty_one_is_no_response_code(code: str) -> None:
    assert not is_plain_answer(load_json(f'{{"responseCode": {code}}}'))
    assert is_plain_answer(load_json('{"responseCode": "1e400"}'))  # sent as text: a code


def test_decrypt_writes_nan_as_text_and_blames_no_key(wibmo: Invoke) -> None:
    token = codec().encrypt(b'{"responseCode":"00","x":NaN,"y":1e400}')
    result = wibmo("decrypt", token, "--key-env", "HARD_KEY", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout, parse_constant=_not_json) == {
        "responseCode": "00",
        "x": "NaN",
        "y": "1e400",
    }


@pytest.mark.e2e
def test_lookup_json_output_is_strict_json(wibmo: Invoke) -> None:
    answer = b'{"responseCode":"00","urn":389,"availableBalance":1e400,"x":NaN}'
    body = json.dumps({"token": codec().encrypt(answer)}).encode()
    with Hostile(mode="canned", reply=(200, "application/json", body)) as server:
        write_profiles(server.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout, parse_constant=_not_json)
    assert (shown["availableBalance"], shown["x"]) == ("1e400", "NaN")


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")

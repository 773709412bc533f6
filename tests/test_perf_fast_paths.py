"""The sandbox's fast paths answer byte for byte what the plain code they replace would."""

from __future__ import annotations

import base64
from http import HTTPStatus

from hypothesis import given
from hypothesis import strategies as st

from wibmo_cli.sandbox.protocol import json_reply, phrase, token_reply


@given(st.binary(max_size=300))
def test_token_reply_is_the_json_reply_of_the_token(ciphertext: bytes) -> None:
    token = base64.b64encode(ciphertext).decode()
    assert token_reply(token) == json_reply(200, {"token": token})


def test_phrase_cached_is_the_standard_phrase_and_empty_for_unknown_statuses() -> None:
    for status in (*HTTPStatus, 200, 599, 0):
        expected = HTTPStatus(status).phrase if status in set(HTTPStatus) else ""
        assert phrase(int(status)) == expected
        assert phrase(int(status)) == expected  # the cached answer too

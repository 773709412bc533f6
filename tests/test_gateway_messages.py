"""Issue 11, item 9 (the gateway): Kong's own messages explained, each with what to do.

401 {"message": "No API key found in request"}: no x-api-key reached the gateway (an
empty api_key, a proxy stripping it). 401 (403 on older gateways) {"message": "Invalid
authentication credentials"}: the key is wrong. Before, both said "the gateway rejected
the x-api-key". Text from the network stays short and shown safely.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hostile import Hostile
from support import Invoke, StartSandbox, write_profiles

from wibmo_cli.answer import status_error
from wibmo_cli.errors import ExitStatus

NO_KEY = {"message": "No API key found in request"}
WRONG_KEY = {"message": "Invalid authentication credentials"}


def error_for(status: int, body: object) -> str:
    content = json.dumps(body).encode()
    error = status_error(status, body, content)
    assert error.exit_status == ExitStatus.HTTP
    return str(error)


def test_no_api_key_says_none_reached_the_gateway_and_what_to_check() -> None:
    said = error_for(401, NO_KEY)
    assert "'No API key found in request'" in said
    assert "no x-api-key reached the gateway" in said
    assert "empty" in said and "proxy" in said and "strips" in said
    assert "wrong" not in said


@pytest.mark.parametrize("status", [401, 403])
def test_invalid_credentials_says_the_key_is_wrong(status: int) -> None:
    said = error_for(status, WRONG_KEY)
    assert f"HTTP {status}" in said
    assert "'Invalid authentication credentials'" in said
    assert "the key is wrong" in said
    assert "api_key" in said and "environment's key" in said
    assert "whitelisted" not in said  # not the 403 catalogue's guess (IP, path)
    assert "proxy" not in said


def test_the_messages_match_whatever_their_case_and_spacing() -> None:
    assert "no x-api-key reached" in error_for(401, {"message": " no API key  found in REQUEST "})


def test_a_no_key_message_on_another_status_is_not_explained_as_one() -> None:
    said = error_for(403, NO_KEY)
    assert "no x-api-key reached" not in said
    assert "whitelisted" in said  # the 403 catalogue entry's action


def test_another_401_keeps_the_general_explanation() -> None:
    said = error_for(401, {"message": "Unauthorized"})
    assert "(the gateway rejected the x-api-key)" in said


def test_a_hostile_message_is_shown_short_and_escaped() -> None:
    said = error_for(401, {"message": "No API key\x1b[2J found" + " x" * 500})
    assert "\x1b" not in said
    assert "no x-api-key reached" not in said
    assert len(said) < 1000


# -- end to end -------------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[Hostile]:
    with Hostile("canned") as server:
        write_profiles(server.url)
        yield server


@pytest.mark.parametrize(
    ("status", "body", "meaning"),
    [
        (401, NO_KEY, "no x-api-key reached the gateway"),
        (401, WRONG_KEY, "the key is wrong"),
        (403, WRONG_KEY, "the key is wrong"),
    ],
)
def test_lookup_and_update_explain_each_gateway_message(
    cli: Invoke, gateway: Hostile, status: int, body: dict[str, str], meaning: str
) -> None:
    gateway.reply = (status, "application/json", json.dumps(body).encode())
    update = ("update-profile", "--urn", "389", "--city", "Pune", "--card-profile-id", "150")
    for args in (("lookup", "--urn", "389"), (*update, "--yes")):
        result = cli(*args)
        assert result.exit_code == 6, result.stderr
        assert meaning in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_wrong_key_against_the_sandbox_is_explained(
    cli: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARD_API_KEY", "not-the-api-key-000")
    with start_sandbox() as sandbox:
        write_profiles(sandbox.url)
        result = cli("lookup", "--urn", "389")
    assert result.exit_code == 6
    assert "Invalid authentication credentials" in result.stderr
    assert "the key is wrong" in result.stderr
    assert "not-the-api-key-000" not in result.stderr

"""Issue 12, item 2: `-v` traces an answer's body whole, so the token of an answer the
profile cannot decrypt can be captured and fed to `decrypt --detect`; the profile's
credentials stay redacted and control characters are made visible."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from hostile import Hostile
from support import API_KEY, SECURE_CODE, Invoke, StartSandbox, leaks, write_profiles


def _traced_body(stderr: str) -> str:
    """The text after `< body (N bytes): ` in a trace, checked against its byte count."""
    found = re.search(r"^< body \((\d+) bytes\): (.*)$", stderr, re.MULTILINE)
    assert found, stderr
    return found.group(2)


def test_the_token_of_an_answer_that_does_not_decrypt_is_traced_whole_for_detect(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    # The platform (here the sandbox) uses another IV scheme than the profile says.
    start_sandbox(profile={"iv": "zero"}, iv="prepend")
    looked_up = cli("-v", "lookup", "--urn", "389")
    assert looked_up.exit_code == 4, looked_up.stderr
    assert "--detect" in looked_up.stderr
    token = json.loads(_traced_body(looked_up.stderr))["token"]
    assert len(token) > 120  # longer than the trace used to show

    detected = cli("decrypt", "--detect", token)
    assert detected.exit_code == 0, detected.stderr
    assert 'iv = "prepend"' in detected.stdout + detected.stderr


@pytest.fixture
def echo() -> Iterator[Hostile]:
    with Hostile("canned") as server:
        write_profiles(server.url)
        yield server


def test_a_long_error_body_is_traced_whole_and_its_one_line_message_stays_short(
    cli: Invoke, echo: Hostile
) -> None:
    body = {"message": "x" * 300, "detail": "y" * 300, "end": "the last words"}
    echo.reply = (502, "application/json", json.dumps(body).encode())
    result = cli("-v", "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    assert json.loads(_traced_body(result.stderr)) == body
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "x" * 200 not in error[0], error


def test_credentials_echoed_in_a_body_stay_redacted(cli: Invoke, echo: Hostile) -> None:
    body = {"responseCode": "1049", "echo": {"x-api-key": API_KEY, "secureCode": SECURE_CODE}}
    echo.reply = (401, "application/json", json.dumps(body).encode())
    result = cli("-v", "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    traced = [line for line in result.stderr.splitlines() if line.startswith("<")]
    assert not leaks("\n".join(traced)), traced
    redacted = {"x-api-key": "****" + API_KEY[-4:], "secureCode": "****" + SECURE_CODE[-4:]}
    assert json.dumps(redacted) in "\n".join(traced)


def test_control_characters_and_bytes_that_are_not_utf8_are_made_visible(
    cli: Invoke, echo: Hostile
) -> None:
    echo.reply = (503, "text/plain", b"down\x1b[2J\r\nfor \xff maintenance\x07")
    result = cli("-v", "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert _traced_body(result.stderr) == "down\\x1b[2J\\r\\nfor \\xff maintenance\\x07"


def test_an_html_page_keeps_its_title_line_and_is_traced_whole(cli: Invoke, echo: Hostile) -> None:
    page = b"<html><head><title>Bad Gateway</title></head><body>" + b"z" * 500 + b"</body></html>"
    echo.reply = (502, "text/html", page)
    result = cli("-v", "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    assert "< body: an HTML page (Bad Gateway)" in result.stderr.splitlines()
    assert _traced_body(result.stderr) == page.decode()

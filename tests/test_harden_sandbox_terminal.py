"""Issue 9, item 14: text from the network reaches the terminal with controls made visible.

A customer whose name, email or address holds ESC[2J (clear screen), an OSC 0 title,
an OSC 52 clipboard write, BEL, CR or a C1 CSI; an answer whose responseMessage holds
them; a gateway's HTML page whose <title> holds them: in table mode and with -v, none
of those bytes reaches stdout or stderr raw, and each is shown escaped instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import Hostile
from hypothesis import given
from hypothesis import strategies as st
from support import Invoke, StartSandbox, codec, write_profiles

from wibmo_cli.sandbox import SAMPLE_URN, Sandbox
from wibmo_cli.textsafe import visible

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
HOSTILE = f"Evil{CLEAR}{TITLE}{CLIPBOARD}\r\x9b31m\u202eX"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def assert_safe(*texts: str) -> None:
    for text in texts:
        found = [repr(char) for char in RAW if char in text]
        assert not found, (found, text[-3000:])


@pytest.fixture
def sandbox(start_sandbox: StartSandbox, db_path: Path) -> Sandbox:
    server = start_sandbox(profile={})
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE customers SET first_name = ?, last_name = ?, city = ?, "
            "address = ?, email = ? WHERE id = 1",
            (
                HOSTILE,
                CLIPBOARD + "Name",
                "Pune\x07\x1b[5m",
                TITLE + "MG Road",
                "abc\r\x1b[2K@xyz.com",
            ),
        )
        conn.execute(
            "UPDATE cards SET card_type = ?, entity_name = ? WHERE urn = ?",
            (CLEAR + "CARD", "Entity\x9b2J", SAMPLE_URN),
        )
        conn.execute("UPDATE documents SET doc_country = ? WHERE customer = 1", (TITLE,))
    return server


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_hostile_customer_record_is_shown_escaped(
    wibmo: Invoke, sandbox: Sandbox, verbose: tuple[str, ...]
) -> None:
    result = wibmo(*verbose, "lookup", "--urn", str(SAMPLE_URN))
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout, result.stderr)
    assert "Evil\\x1b[2J\\x1b]0;owned\\x07" in result.stdout
    assert "\\x9b" in result.stdout
    if verbose:
        # the decrypted answer in the trace: JSON escapes C0, `visible` the C1 CSI
        assert "\\u001b[2J" in result.stderr
        assert "\\x9b" in result.stderr


def test_the_update_preview_shows_the_hostile_name_escaped(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("-v", "update-profile", "--urn", str(SAMPLE_URN), "--city", "Pune", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert_safe(result.stdout, result.stderr)
    assert "Evil\\x1b[2J" in result.stderr  # the preview's title and "now" column


def test_json_output_keeps_the_data_as_sent(wibmo: Invoke, sandbox: Sandbox) -> None:
    result = wibmo("-o", "json", "lookup", "--urn", str(SAMPLE_URN))
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout  # json.dumps escapes C0 controls
    assert json.loads(result.stdout)["cardList"][0]["firstName"] == HOSTILE


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    with Hostile("canned") as server:
        write_profiles(server.url)
        yield server


def _token_answer(answer: dict[str, object]) -> tuple[int, str, bytes]:
    token = codec().encrypt_json(answer)
    return 200, "application/json", json.dumps({"token": token}).encode()


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_a_hostile_error_answer_is_shown_escaped(
    wibmo: Invoke, hostile: Hostile, verbose: tuple[str, ...]
) -> None:
    hostile.reply = _token_answer(
        {
            "responseCode": "99" + CLEAR,
            "responseMessage": HOSTILE,
            "description": TITLE,
            "accosaTransactionId": "\x07" * 3,
        }
    )
    result = wibmo(*verbose, "lookup", "--urn", "389")
    assert result.exit_code == 1, result.stderr
    assert_safe(result.stdout, result.stderr)
    assert "Evil\\x1b[2J" in result.stdout


@pytest.mark.parametrize("verbose", [(), ("-v",)])
def test_an_answer_naming_a_hostile_client_txn_id_is_refused_escaped(
    wibmo: Invoke, hostile: Hostile, verbose: tuple[str, ...]
) -> None:
    """Not the request's answer (its clientTxnId is another): exit 5, and the id it
    names, an OSC 52 clipboard write, shown escaped."""
    hostile.reply = _token_answer({"responseCode": "00", "clientTxnId": CLIPBOARD})
    write_profiles(hostile.url, retries=0)
    result = wibmo(*verbose, "lookup", "--urn", "389")
    assert result.exit_code == 5, result.stderr
    assert "the answer is for clientTxnId" in result.stderr
    assert_safe(result.stdout, result.stderr)


@pytest.mark.parametrize("status", [401, 403, 502])
@pytest.mark.parametrize("verbose", [(), ("-v",), ("--debug",)])  # --debug: the traceback
def test_a_gateway_page_title_is_shown_escaped(
    wibmo: Invoke, hostile: Hostile, status: int, verbose: tuple[str, ...]
) -> None:
    page = f"<html><head><title>{HOSTILE}</title></head><body>no</body></html>"
    hostile.reply = (status, "text/html", page.encode())
    result = wibmo(*verbose, "lookup", "--urn", "389")
    assert result.exit_code == 6, result.stderr
    assert_safe(result.stdout, result.stderr)
    assert "Evil\\x1b[2J" in result.stderr


def test_a_json_message_of_a_gateway_is_shown_escaped(wibmo: Invoke, hostile: Hostile) -> None:
    hostile.reply = (403, "application/json", json.dumps({"message": HOSTILE}).encode())
    for args in (
        ("lookup", "--urn", "389"),
        ("update-profile", "--urn", "389", "--city", "Pune", "--card-profile-id", "150", "--yes"),
    ):
        result = wibmo("-v", *args)
        assert result.exit_code == 6, result.stderr
        assert_safe(result.stdout, result.stderr)


def test_the_online_check_shows_a_hostile_answer_escaped(wibmo: Invoke, hostile: Hostile) -> None:
    page = f"<html><head><title>{HOSTILE}</title></head></html>"
    hostile.reply = (401, "text/html", page.encode())
    result = wibmo("profiles", "check", "--online")
    assert result.exit_code == 3, result.stderr
    assert_safe(result.stdout, result.stderr)
    assert "Evil\\x1b[2J" in result.stdout


def test_the_audit_table_shows_a_recorded_hostile_error_escaped(
    wibmo: Invoke, hostile: Hostile
) -> None:
    page = f"<html><head><title>{HOSTILE}</title></head></html>"
    hostile.reply = (502, "text/html", page.encode())
    sent = wibmo(
        "update-profile", "--urn", "389", "--city", "Pune", "--card-profile-id", "150", "--yes"
    )
    assert sent.exit_code in (5, 6), sent.stderr
    assert_safe(sent.stdout, sent.stderr)
    shown = wibmo("audit")
    assert shown.exit_code == 0, shown.stderr
    assert_safe(shown.stdout, shown.stderr)
    assert "Evil\\x1b[2J" in shown.stdout


# -- the one function ---------------------------------------------------------------------------

UNSAFE = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} | set(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


@given(st.text())
def test_visible_leaves_no_control_character(text: str) -> None:
    shown = visible(text)
    assert not UNSAFE & set(shown)
    assert not any(0xD800 <= ord(char) <= 0xDFFF for char in shown)
    assert visible(shown) == shown


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf"))))
def test_visible_leaves_ordinary_text_alone(text: str) -> None:
    assert visible(text) == text


def test_visible_keeps_scripts_and_joiners() -> None:
    for text in ("ज्ञ‍ानेश्वर", "Zoë D'Souza", "₹1,000.00", "👩‍👩‍👧"):
        assert visible(text) == text
    assert visible("a\nb", lines=True) == "a\nb"
    assert visible("a\nb") == "a\\nb"
    assert visible("\ud800") == "\\ud800"

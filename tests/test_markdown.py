"""Issue 13: `wibmo lookup -o md`, a redacted Markdown snippet for a ticket.

The snippet is read back by a Markdown parser (markdown-it, which rich brings): a value
holding `|`, `*`, `_`, `<`, a backslash or a control character stays one cell and reads
as written. Redaction: mobile and email masked, no document number (whole or masked), no
date of birth or address, no field the snippet does not list. End to end against the
sandbox for a found customer, one not found, and the options md refuses.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from support import SAMPLE_ENTRY, Invoke, StartSandbox, assert_one_line_error, budget

from wibmo_cli.sandbox import SAMPLE_MOBILE, SAMPLE_URN, Sandbox
from wibmo_cli.textsafe import visible
from wibmo_cli.views.markdown import escaped, lookup_snippet

PARSER = MarkdownIt("commonmark").enable("table")
DOCUMENTS = ("ABC0123456", "1234 5678 6015", "YCV0123456", "ABCDE1234A", "DL60 20211234567")


def tables(text: str) -> list[list[list[str]]]:
    """Each table of the Markdown: its rows, each a list of the cells' text as read."""
    found: list[list[list[str]]] = []
    inside = False
    for token in PARSER.parse(text):
        if token.type in ("table_open", "table_close"):
            inside = token.type == "table_open"
            found += [[]] if inside else []
        elif token.type == "tr_open":
            found[-1].append([])
        elif token.type == "inline" and inside:
            found[-1][-1].append("".join(child.content for child in token.children or ()))
    return found


def fields(text: str) -> dict[str, str]:
    return dict((row[0], row[1]) for row in tables(text)[0][1:])


def answer(**card: Any) -> dict[str, Any]:
    return {
        "responseCode": "00",
        "responseMessage": "SUCCESS",
        "clientTxnId": "T1",
        "cardList": [{**SAMPLE_ENTRY, **card}],
    }


def snippet(value: dict[str, Any], **searched: str) -> str:
    return lookup_snippet(
        value, searched=searched or {"urn": "389"}, profile="uat", success_codes=("00",)
    )


# -- escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["A|B *C*", "_x_ `y` [z](http://e) <b>h</b> &amp; ~s~ #1 !", "back\\slash", "x\\|y"]
)
def test_a_name_with_markdown_in_it_stays_one_cell_as_written(name: str) -> None:
    text = snippet(answer(firstName=name, lastName="Rao"))
    assert fields(text)["Name"] == f"{name} Rao"
    assert len(tables(text)[0][0]) == 2  # no cell split by a | in a value


@budget(200)
@given(st.text(max_size=40))
def test_any_text_reads_back_as_its_visible_form(text: str) -> None:
    markdown = f"| h |\n| --- |\n| {escaped(text)} |\n"
    (table,) = tables(markdown)
    assert table[1] == [visible(text).strip()]


def test_control_characters_are_made_visible() -> None:
    text = snippet(answer(firstName="Evil\x1b[2J\x07\r\nX"))
    assert "\x1b" not in text and "\r" not in text
    assert fields(text)["Name"].startswith("Evil\\x1b[2J\\x07\\r\\nX")


# -- redaction ---------------------------------------------------------------------------------


def test_masked_contacts_and_no_documents_birth_date_or_address() -> None:
    value = answer(
        address="12 MG Road",
        city="Pune",
        pan="ABCDE1234A",
        secretNewField="leak-me",
        dob="11-Jul-1993",
    )
    text = snippet(value, mobile=SAMPLE_MOBILE)
    shown = fields(text)
    assert shown["Mobile"] == "••••••••3456" and shown["Email"] == "a•••@xyz.com"
    assert SAMPLE_MOBILE not in text and "abc@xyz.com" not in text
    for hidden in (*DOCUMENTS, "234A", "6015", "4567", "MG Road", "Pune", "1993", "leak-me"):
        assert hidden not in text, hidden
    assert "\\*" not in text  # no masked value of another rule (a document's ******3456)
    assert "docNumber" not in text and "Passport" not in text
    assert "mobile ••••••3456" in text.splitlines()[0]  # what was searched, masked too
    cards = tables(text)[1]
    assert cards[0] == ["URN", "Card", "Type", "Status", "Balance"]
    assert cards[1] == ["389", "•••• 4216", "TRAVEL CARD", "Active", "₹1,000.00"]


def test_a_refusal_says_the_code_and_what_to_do() -> None:
    value = {"responseCode": "1303", "responseMessage": "Customer not found", "cardList": []}
    text = lookup_snippet(
        value, searched={"mobile": SAMPLE_MOBILE}, profile="uat", success_codes=("00",),
        client_txn_id="SENT1",
    )  # fmt: skip
    shown = fields(text)
    assert shown["Result"].startswith("1303 CUSTOMER_DETAILS_NOT_PRESENT")
    assert shown["clientTxnId"] == "SENT1" and "What to do" in shown
    assert len(tables(text)) == 1  # no card table


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture
def served(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox(profile={"retries": 0})


def test_lookup_md_against_the_sandbox(cli: Invoke, served: Sandbox, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE customers SET first_name = ? WHERE id = 1", ("A|B *C*",))
    result = cli("lookup", "--mobile", SAMPLE_MOBILE, "-o", "md")
    assert result.exit_code == 0, result.stderr
    shown = fields(result.stdout)
    assert shown["Name"] == "A|B *C* LastName"
    assert shown["Result"] == "00 SUCCESS" and shown["Mobile"].endswith("3456")
    assert shown["Customer id"] and tables(result.stdout)[1][1][0] == str(SAMPLE_URN)
    for document in DOCUMENTS:
        assert document not in result.stdout
    assert "hard" in result.stdout.splitlines()[0]  # the profile: which environment


def test_lookup_md_not_found_exits_1(cli: Invoke, served: Sandbox) -> None:
    result = cli("lookup", "--mobile", "9000000000", "-o", "md")
    assert result.exit_code == 1
    assert fields(result.stdout)["Result"].startswith("1303 ")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--urn", "389", "--reveal"), "-o md is redacted for a ticket"),
        (("--file", "in.csv"), "-o md: lookup --file writes one JSON line per row"),
        (("--urn", "389", "--jq", ".a"), "--jq filters JSON: it cannot be used with -o md"),
    ],
)
def test_md_refuses_what_does_not_fit_and_sends_nothing(
    cli: Invoke, served: Sandbox, args: tuple[str, ...], fragment: str
) -> None:
    Path("in.csv").write_text(f"mobile\n{SAMPLE_MOBILE}\n", encoding="utf-8")
    result = cli("lookup", *args, "-o", "md")
    assert_one_line_error(result, 2, fragment)
    assert not [r for r in served.requests if r.api == "lookup"]

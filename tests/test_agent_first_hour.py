"""Issue 12, items 6-9: what a support agent reads, at 80, 110, 120, 150 and 200 columns.

The cards table is chosen by whether it fits unwrapped; what needs action is coloured
(only on a colour terminal); nothing is repeated, cut or wrapped mid-title; tables
written to a pipe carry no trailing spaces; an error answer echoes the search, advises
for it, and gives the clientTxnId sent (footer, `-o json`, `--file` rows). Views are
drawn on rich Consoles of fixed width; one test reads a real pty.
"""

from __future__ import annotations

import copy
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from datetime import date
from typing import Any

import pytest
from rich.console import Console
from support import SAMPLE_ENTRY, Invoke, StartSandbox, child_env

from wibmo_cli.codes import IDENTIFIER_NAMES, advice, explain
from wibmo_cli.sandbox import CARDLESS_CUSTOMER_ID, Sandbox
from wibmo_cli.views.answer import SENT_TXN_KEY
from wibmo_cli.views.customer import AnswerView, answer_renderables, answer_view
from wibmo_cli.views.footer import footer

WIDTHS = (80, 110, 120, 150, 200)
TODAY = date(2026, 12, 1)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A seeded sandbox customer with three cards, one Blocked, and a HIGH risk category.
THREE_CARDS_MOBILE = "9028459587"


def card(urn: int, **fields: Any) -> dict[str, Any]:
    entry = copy.deepcopy(SAMPLE_ENTRY)
    entry.update(urn=urn, cardNumber=f"608326 XXXXXX {urn % 10000:04d}", **fields)
    entry["lastFourDigit"] = f"{urn % 10000:04d}"
    return entry


ADDRESS = {
    "addressLine1": "#173, Mehta Nilaya",
    "addressLine2": "2nd Cross",
    "addressLine3": "Near Bus Stand",
}
THREE = {
    "cardList": [
        card(1000080030, cardStatus=2, statusDescription="Blocked", cardType="WALLET", **ADDRESS),
        card(1000082558, entityName="KORAMANGALA", **ADDRESS),
        card(
            1000086241,
            cardStatus=12,
            statusDescription="Temporary Block",
            cardType="GIFT CARD",
            **ADDRESS,
        ),
    ],
    "riskCategory": "HIGH",
    "form60": True,
    "form60Validity": "30-11-2026",  # the day before TODAY: lapsed
    "clientTxnId": "WMTHREE",
    "accosaTransactionId": 7447,
    "responseCode": "00",
    "responseMessage": "SUCCESS",
}


def drawn(view: AnswerView, width: int, *, colour: bool = False, title: str = "Customer") -> str:
    """The view as rich writes it at `width`: plain, or for a colour terminal."""
    out = io.StringIO()
    console = Console(
        width=width,
        file=out,
        force_terminal=colour,
        color_system="standard" if colour else None,
        no_color=not colour,
    )
    console.print(*answer_renderables(view, elapsed=0.148, title=title, width=width))
    return out.getvalue()


def three(**extra: Any) -> AnswerView:
    return answer_view(THREE, today=TODAY, **extra)


# -- 6. the cards table: wide only when it fits unwrapped ------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_the_cards_layout_is_chosen_by_what_fits(width: int) -> None:
    view = three()
    text = drawn(view, width)
    lines = text.splitlines()
    natural = max(len(line) for line in drawn(view, 1000).splitlines() if line.startswith("┏"))
    assert 120 < natural < 200  # so that the widths tried fall on both sides
    wide = "Card 1 of 3" not in text
    assert wide == (width >= natural), text
    if wide:
        for entry in view.cards:  # one line per card: every value whole on the URN's line
            row = next(line for line in lines if entry["URN"] in line)
            assert all(value in row for value in entry.values()), row
    for entry in view.cards:  # either way, no value is wrapped or cut
        for value in entry.values():
            assert any(value in line for line in lines), (value, text)
    assert "…" not in text


@pytest.mark.parametrize("width", [110, 120, 150])
def test_the_one_card_sample_is_never_wrapped_in_a_table(width: int) -> None:
    """The issue's 110-150 columns: the sample's table needs more than 120."""
    sample = {"cardList": [SAMPLE_ENTRY], "responseCode": "00"}
    text = drawn(answer_view(sample, today=TODAY), width)
    assert "Full KYC / Full CDD · 150" in text  # never "Full KYC / Full⏎CDD · 150"
    assert "16 Nov 2022" in text and "TRAVEL CARD" in text


# -- 7. problems stand out -------------------------------------------------------------


def styled(text: str, value: str) -> str:
    """The SGR codes in force where `value` is written in `text`."""
    match = re.search(r"((?:\x1b\[[0-9;]*m)*)" + re.escape(value), text)
    assert match, (value, text)
    return match.group(1)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_what_needs_action_is_coloured_on_a_colour_terminal(width: int) -> None:
    text = drawn(three(), width, colour=True)
    assert styled(text, "Blocked (2)") == "\x1b[1;31m"
    assert styled(text, "Temporary Block (12)") == "\x1b[1;33m"
    assert styled(text, "HIGH") == "\x1b[1;31m"
    assert styled(text, "30 Nov 2026") == "\x1b[1;31m"  # Form 60 lapsed
    active = re.search(r"(\x1b\[[0-9;]*m)?Active", text)
    assert active and not active.group(1)  # fine is not coloured


def test_a_re_kyc_due_is_a_warning_and_a_valid_form_60_is_not() -> None:
    answer = {
        **copy.deepcopy(SAMPLE_ENTRY),
        "reKyc": True,
        "form60Validity": "20270101",
        "riskCategory": "LOW",
        "responseCode": "00",
    }
    view = answer_view(answer, today=TODAY)
    assert view.attention == {"Re-KYC": "warning"}
    text = drawn(view, 120, colour=True)
    assert styled(text, "due (eligible for re-KYC)") == "\x1b[1;33m"


@pytest.mark.parametrize("width", [80, 120, 200])
def test_colour_is_an_addition_never_the_text(width: int) -> None:
    plain = drawn(three(), width)
    coloured = drawn(three(), width, colour=True)
    assert "\x1b" not in plain
    assert ANSI.sub("", coloured).replace("\r", "") == plain
    no_color = io.StringIO()  # NO_COLOR on a terminal: rich drops every colour
    console = Console(width=width, file=no_color, force_terminal=True, no_color=True)
    console.print(*answer_renderables(three(), elapsed=None, title="Customer", width=width))
    assert not re.search(r"\x1b\[[0-9;]*3[13]m", no_color.getvalue())


# -- 8. noise and truncation -----------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120, 200])
def test_address_lines_shown_once_whole_and_never_under_other_fields(width: int) -> None:
    view = three()
    assert dict(view.customer)["Address"] == "#173, Mehta Nilaya, 2nd Cross, Near Bus Stand"
    assert not [key for key, _ in view.other if key.lower().startswith("addressline")]
    text = drawn(view, width)
    assert "Other fields" not in text
    assert text.count("2nd Cross") == 1


@pytest.mark.parametrize("width", [80, 120, 200])
def test_long_unknown_field_names_are_folded_never_cut(width: int) -> None:
    name = "transactionProfileEligibilityOverrideReasonDescriptionForRegulatoryReview"
    value = "https://example.invalid/" + "x" * 150
    answer = {**copy.deepcopy(SAMPLE_ENTRY), name: value, "responseCode": "00"}
    text = drawn(answer_view(answer, today=TODAY), width)
    assert "…" not in text
    cells = [re.findall(r"│ (.*?) *(?=│)", line) for line in text.splitlines()]
    rows = [found for found in cells if len(found) == 2]
    assert "".join(first.strip() for first, _ in rows).endswith(name)
    assert value in "".join(second.strip() for _, second in rows)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_section_titles_are_never_wrapped(width: int) -> None:
    title = "Customer (customer id custid_V3_juyWqcUUxz)"
    answer = {"firstName": "A", "urn": 1, "responseCode": "1303"}
    text = drawn(
        answer_view(answer, client_txn_id="WM1", searched={"customer_id": "custid_V3_x"}),
        width,
        title=title,
    )
    lines = [line.rstrip() for line in text.splitlines()]
    assert title in lines
    assert "The platform answered with an error (searched: --customer-id custid_V3_x)" in lines


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_time_is_never_alone_on_a_line(width: int) -> None:
    answer = {
        "responseCode": "00",
        "accosaTransactionId": 7445,
        "clientTxnId": "WMX3XRHCHBT29R",  # the first line 74 wide: no room left for the time
        "responseMessage": "SUCCESS",
    }
    lines = footer(answer_view(answer), 0.148, width=width).splitlines()
    assert lines[-1].endswith(" · 148 ms") and lines[-1] != "148 ms"
    assert all(len(line) <= width for line in lines)
    if width == 80:  # the case: the time went to a line of its own
        assert lines == [
            "responseCode 00 SUCCESS · accosaTransactionId 7445",
            "clientTxnId WMX3XRHCHBT29R · 148 ms",
        ]


def test_tables_written_to_a_pipe_have_no_trailing_spaces(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    for args in (
        ("lookup", "--mobile", THREE_CARDS_MOBILE),
        ("lookup", "--urn", "123"),
        ("codes",),
        ("codes", "1303"),
        ("profiles", "list"),
    ):
        result = cli(*args)
        assert result.stdout.strip(), (args, result.stderr)
        assert not [line for line in result.stdout.splitlines() if line.endswith(" ")], args


# -- 9. error answers ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(IDENTIFIER_NAMES))
@pytest.mark.parametrize("code", ["1303", "1001", "1357"])
def test_advice_fits_the_identifier_searched(kind: str, code: str) -> None:
    known = explain(code)
    assert known is not None
    said = advice(known, [kind])
    others = said.split("by ", 1)[1].split(" to see")[0]
    assert IDENTIFIER_NAMES[kind] not in others  # never "try the URN" after --urn
    assert all(name in others for k, name in IDENTIFIER_NAMES.items() if k != kind)
    if code != "1357":
        assert said.startswith(f"Check the {IDENTIFIER_NAMES[kind]} ")
    assert advice(known, []) == known.action == advice(known, ["urn", "mobile"])


def sent_ids(sandbox: Sandbox) -> list[str | None]:
    return [r.client_txn_id for r in sandbox.requests if r.api == "lookup"]


def test_an_error_answer_echoes_the_search_and_advises_for_it(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={})
    result = cli("lookup", "--urn", "123")
    assert result.exit_code == 1, result.stderr
    out = " ".join(result.stdout.split())
    assert "The platform answered with an error (searched: --urn 123)" in out
    assert "Check the URN for typos" in out
    assert "by mobile number, customer id or email address" in out
    assert f"clientTxnId {sent_ids(sandbox)[-1]} (sent)" in out

    cardless = cli("lookup", "--customer-id", CARDLESS_CUSTOMER_ID)
    assert cardless.exit_code == 1, cardless.stderr
    out = " ".join(cardless.stdout.split())
    assert "1001" in out and f"(searched: --customer-id {CARDLESS_CUSTOMER_ID})" in out
    assert "Check the customer id" in out and "Check the URN" not in out


def test_json_error_answers_carry_the_sent_id_beside_the_platforms_keys(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    sandbox = start_sandbox(profile={})
    result = cli("lookup", "--urn", "123", "-o", "json")
    assert result.exit_code == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer[SENT_TXN_KEY] == sent_ids(sandbox)[-1]
    assert "clientTxnId" not in answer  # the platform's answer had none: none is made up
    assert answer["responseCode"] == "1303"
    found = json.loads(cli("lookup", "--mobile", THREE_CARDS_MOBILE, "-o", "json").stdout)
    assert SENT_TXN_KEY not in found and found["clientTxnId"] == sent_ids(sandbox)[-1]


def test_file_error_rows_carry_the_sent_id(cli: Invoke, start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox(profile={})
    result = cli("lookup", "--file", "-", input="urn\n123\n389\nnot-a-urn\n")
    assert result.exit_code == 2, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["error"]["code"] == "1303"
    assert rows[0]["error"]["clientTxnId"] in sent_ids(sandbox)
    assert rows[1]["ok"] is True and "clientTxnId" not in rows[1].get("error", {})
    assert "clientTxnId" not in rows[2]["error"]  # refused before anything was sent


# -- a real terminal ------------------------------------------------------------------------


def on_a_pty(*args: str, columns: int, **env: str) -> str:
    """`wibmo ARGS` with stdout on a pty `columns` wide: what the terminal received."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = child_env(**env)
    environment.pop("COLUMNS", None)  # the pty's size is what rich must read
    environment.pop("LINES", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "wibmo_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    os.close(follower)
    received = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            received += chunk
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return received.decode()


@pytest.mark.parametrize(
    ("columns", "wide"), [(80, False), pytest.param(200, True, marks=pytest.mark.slow)]
)
def test_on_a_real_terminal(start_sandbox: StartSandbox, columns: int, wide: bool) -> None:
    start_sandbox(profile={})
    shown = on_a_pty("lookup", "--mobile", THREE_CARDS_MOBILE, columns=columns, TERM="xterm")
    assert styled(shown, "Blocked (2)") == "\x1b[1;31m", shown
    assert styled(shown, "HIGH") == "\x1b[1;31m"
    assert ("Card 1 of 3" not in shown) == wide
    plain = on_a_pty(
        "lookup", "--mobile", THREE_CARDS_MOBILE, columns=columns, TERM="xterm", NO_COLOR="1"
    )
    assert "Blocked (2)" in plain
    assert not re.search(r"\x1b\[[0-9;]*3[13]m", plain)  # no red, no yellow

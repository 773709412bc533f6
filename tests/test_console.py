"""`wibmo shell`'s pure core (wibmo_cli/console.py): what a pasted line is, the command
words, the masked history, what `copy` takes; and the console driven in-process with
lines on stdin (a pipe: no prompt, one answer a line)."""

from __future__ import annotations

import base64
import json

import pytest
from support import Invoke, StartSandbox, codec

from wibmo_cli import console
from wibmo_cli.console import Command, History, Lookup, Token, Unknown, recognise
from wibmo_cli.messages import Identifiers

TOKEN = codec().encrypt_json({"messageCode": 1930, "urn": "389"})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("9897123456", Lookup("mobile", "9897123456")),
        ("  +91 98971 23456 ", Lookup("mobile", "+91 98971 23456")),
        ("389", Lookup("urn", "389")),
        ("abc@xyz.com", Lookup("email", "abc@xyz.com")),
        ("custid_V3_juyWqcUUxz", Lookup("customer_id", "custid_V3_juyWqcUUxz")),
        (TOKEN, Token(TOKEN)),
        (f'{{"token": "{TOKEN}"}}', Token(f'{{"token": "{TOKEN}"}}')),
        ("explain 1303", Command("explain", "1303")),
        ("explain", Command("explain", "")),
        ("again", Command("again")),
        ("json", Command("json")),
        ("history", Command("history")),
        ("copy", Command("copy")),
        ("help", Command("help")),
        ("quit", Command("quit")),
        ("exit", Command("exit")),
        ("hello world", Unknown("hello world")),
    ],
)
def test_each_kind_of_line_is_recognised(line: str, expected: console.Input) -> None:
    assert recognise(line) == expected


@pytest.mark.parametrize("line", ["", "   ", "\n"])
def test_a_blank_line_is_nothing(line: str) -> None:
    assert recognise(line) is None


@pytest.mark.parametrize("line", ["copy2", "history_1", "json x", "hsitory"])
def test_commands_win_only_for_their_exact_word(line: str) -> None:
    found = recognise(line)
    assert not isinstance(found, Command), found


@pytest.mark.parametrize(
    ("line", "word", "argument"),
    [("JSON", "json", ""), ("Again", "again", ""), ("Help", "help", ""),
     ("EXIT", "exit", ""), ("explain\t1303", "explain", "1303")],
)  # fmt: skip
def test_a_command_word_in_any_case_or_after_a_tab_is_a_command(
    line: str, word: str, argument: str
) -> None:
    assert recognise(line) == Command(word, argument)


def test_a_command_word_with_more_after_it_is_not_an_identifier() -> None:
    assert recognise("json x") == Unknown("json x")


def test_a_base64_word_no_longer_than_a_customer_id_is_a_customer_id() -> None:
    # 16 bytes in base64 without padding: 22 characters, longer than any customer id
    short = base64.b64encode(b"x" * 15).decode()  # 20 characters, 15 bytes: no token
    assert recognise(short) == Lookup("customer_id", short)
    block = base64.b64encode(b"x" * 16).decode()
    assert recognise(block) == Token(block)


def test_a_long_run_of_digits_is_a_urn_not_a_token() -> None:
    digits = "1" * 24  # base64 characters, 18 bytes: but digits are a URN
    assert recognise(digits) == Lookup("urn", digits)


def test_completion_offers_the_command_words() -> None:
    assert console.completions("h") == ["history", "help"]
    assert console.completions("") == list(console.COMMANDS)
    assert console.completions("x") == []


def test_help_names_every_command() -> None:
    text = "\n".join(console.help_lines())
    assert all(word in text for word in console.COMMANDS)


def test_history_is_masked_newest_last_and_bounded() -> None:
    history = History()
    for n in range(60):
        history.add(Identifiers(urn=f"10000{n:05d}"), "00")
    history.add(Identifiers(mobile="919897123456"), "1303")
    history.add(Identifiers(email="abc@xyz.com"), None)
    lines = history.lines()
    assert len(lines) == console.HISTORY_SIZE == 50
    assert "919897123456" not in "\n".join(lines)
    assert "abc@xyz.com" not in "\n".join(lines)
    assert lines[-2].endswith("mobile ********3456: responseCode 1303")
    assert lines[-1].endswith("no answer")
    assert "a***@xyz.com" in lines[-1] or "xyz.com" in lines[-1]
    assert lines[0].lstrip().startswith("1 ")
    assert "1000000012" not in lines[0] and lines[0].endswith("*0012: responseCode 00")


def test_copy_takes_the_urn_of_one_card_else_the_customer_id() -> None:
    one = {"cardList": [{"urn": 389, "customerId": "custid_A"}]}
    assert console.copy_target(one) == ("URN", "389")
    two = {"cardList": [{"urn": 1, "customerId": "custid_A"}, {"urn": 2, "customerId": "custid_A"}]}
    assert console.copy_target(two) == ("customer id", "custid_A")
    two_ids = {"cardList": [{"urn": 1, "customerId": "a"}, {"urn": 2, "customerId": "b"}]}
    assert console.copy_target(two_ids) == ("URN", "1")
    assert console.copy_target({"customerId": "custid_B"}) == ("customer id", "custid_B")
    assert console.copy_target({"responseCode": "1303"}) is None


def test_copy_takes_nothing_a_terminal_or_a_paste_could_be_fooled_by() -> None:
    assert console.copy_target({"cardList": [{"urn": "38\x1b]0;x\x07"}]}) is None
    assert console.copy_target({"customerId": "c" * 65}) is None
    assert console.copy_target({"customerId": True}) is None
    sneaky = {"cardList": [{"urn": "1\n2"}, {"urn": 389}]}
    assert console.copy_target(sneaky) == ("URN", "389")


def test_a_response_code_in_the_history_is_shown_safe_and_short() -> None:
    history = History()
    history.add(Identifiers(urn="389"), "\x1b[2J" + "9" * 40)
    (line,) = history.lines()
    assert "\x1b" not in line and "\\x1b[2J" in line
    assert len(line) < 60


def test_osc52_carries_the_value_in_base64() -> None:
    escape = console.osc52("389")
    assert escape == "\x1b]52;c;Mzg5\x07"


# -- the console in-process, lines piped in ------------------------------------------------


def test_piped_lines_each_get_their_answer_and_end_of_input_exits_0(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    lines = ["389", "99999", "explain 1303", "history", "json", "copy", TOKEN, "bogus words"]
    result = cli("-o", "json", "shell", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    found = json.loads(out[0])
    assert found["responseCode"] == "00"
    assert found["cardList"][0]["docList"][0]["docNumber"].startswith("*")  # masked
    assert json.loads(out[1])["responseCode"] == "1303"  # an error answer: it goes on
    assert json.loads(out[2])["name"] == "CUSTOMER_DETAILS_NOT_PRESENT"
    assert json.loads(out[3]) == {  # -o json: every line of stdout a JSON document
        "history": [" 1  urn ***: responseCode 00", " 2  urn *9999: responseCode 1303"]
    }
    assert json.loads(out[4])["responseCode"] == "1303"  # json: the last answer
    assert "clientTxnIdSent" in json.loads(out[4])
    assert "copy: the last answer has no URN or customer id" in result.stderr
    assert json.loads(out[5]) == {"messageCode": 1930, "urn": "389"}  # the token
    assert len(out) == 6
    assert "not something the console reads" in result.stderr
    assert "wibmo:" not in result.stderr  # no prompt on a pipe


def test_piped_again_repeats_the_last_lookup_on_the_same_client(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    result = cli("-o", "json", "shell", input="again\n9897123456\nagain\ncopy\nquit\n389\n")
    assert result.exit_code == 0, result.stderr
    assert "again: no lookup yet" in result.stderr
    out = result.stdout.splitlines()
    first, second = json.loads(out[0]), json.loads(out[1])
    assert first["cardList"] == second["cardList"]
    assert first["clientTxnId"] != second["clientTxnId"]  # sent again
    assert json.loads(out[2]) == {"copied": "URN", "value": "389"}  # one card: its URN
    assert "nothing copied" in result.stderr
    assert len(out) == 3  # quit: the line after it is not read


def test_an_unknown_code_and_a_bad_identifier_are_one_line_each(
    cli: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={})
    result = cli("shell", input="explain 4242\nexplain\nabc@\n0000000000\n389\n")
    assert result.exit_code == 0, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 4, result.stderr
    assert "unknown code '4242'" in errors[0]
    assert "explain what?" in errors[1]
    assert "--" not in errors[3] and "urn '0000000000'" in errors[3]  # no option it lacks
    assert "Customer (urn 389)" in result.stdout  # and the console went on


def test_a_network_error_is_one_line_and_the_console_goes_on(cli: Invoke) -> None:
    from support import write_profiles

    write_profiles("http://127.0.0.1:9", retries=0, timeout=2)
    result = cli("shell", input="389\nagain\nhistory\njson\nexplain 1303\n")
    assert result.exit_code == 0, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, result.stderr  # the lookup, `again` (sent again), `json`
    assert errors[0] == errors[1]
    assert errors[2].startswith("error: json: no answer yet")
    assert " 1  urn ***: no answer\n 2  urn ***: no answer" in result.stdout
    assert "CUSTOMER_DETAILS_NOT_PRESENT" in result.stdout


@pytest.mark.parametrize("target", [">&-", "> /dev/full"])
def test_a_stdout_that_cannot_be_written_ends_the_console_with_74(
    target: str, start_sandbox: StartSandbox
) -> None:
    from support import shell

    start_sandbox(profile={})
    done = shell(f'printf "389\\n389\\n" | "$@" shell {target}')
    assert done.returncode == 74, done.stderr
    assert done.stderr.count(b"cannot write the output") == 1  # stopped at the first

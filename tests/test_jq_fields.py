"""Issue 13: `--jq EXPR` and `--fields a,b` on every output that is JSON.

Network commands run against the sandbox served on loopback (profile `hard`); the token
commands use the built-in demo profile's key. Checked on each JSON output: lookup (one,
and `--file`'s JSON lines), encrypt, decrypt (one token, many), codes, audit, profiles
list/show/check/where, sandbox customers/reset, update-profile (-o json, --dry-run).
A jq program that fails on a value: one line on stderr, the other values still written,
a success turned into exit 2, a write's own exit status kept.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from support import (
    Invoke,
    StartSandbox,
    assert_one_line_error,
    audit_entries,
    records,
    shell,
    spawn,
)

from wibmo_cli.crypto import IvScheme, TokenCodec, parse_key
from wibmo_cli.jsonfilter import JsonFilter
from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.runtime import FORMATS_OFFERED_BY, OutputFormat
from wibmo_cli.sandbox import SAMPLE_MOBILE, SAMPLE_URN, Sandbox

NOT_FOUND_MOBILE = "9000000000"
DEMO = TokenCodec(parse_key(str(DEMO_PROFILE["encryption_key"])), IvScheme.parse("zero"))


@pytest.fixture
def served(start_sandbox: StartSandbox) -> Sandbox:
    """The sandbox, and ./profiles.toml's default profile `hard` pointing at it."""
    return start_sandbox(profile={"retries": 0})


def lookups(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests if r.api == "lookup")


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return str(result.stdout)


# -- lookup ------------------------------------------------------------------------------------


def test_lookup_jq_strings_print_raw_and_others_as_json(cli: Invoke, served: Sandbox) -> None:
    out = ok(cli("lookup", "--urn", str(SAMPLE_URN), "--jq", ".responseMessage, .cardList[0].urn"))
    assert out.splitlines() == ["SUCCESS", str(SAMPLE_URN)]
    out = ok(cli("lookup", "--urn", str(SAMPLE_URN), "--jq", "{code: .responseCode}"))
    assert json.loads(out) == {"code": "00"}


def test_lookup_fields_dotted_paths_map_over_cards(cli: Invoke, served: Sandbox) -> None:
    out = ok(cli("lookup", "--urn", str(SAMPLE_URN), "--fields", "responseCode,cardList.urn,nope"))
    assert json.loads(out) == {"responseCode": "00", "cardList.urn": [SAMPLE_URN], "nope": None}


def test_lookup_filters_a_masked_answer(cli: Invoke, served: Sandbox) -> None:
    out = ok(cli("lookup", "--urn", str(SAMPLE_URN), "--jq", "[.cardList[].docList[].docNumber]"))
    numbers = json.loads(out)
    assert numbers and all(n.startswith("*") for n in numbers), numbers


def test_a_jq_string_has_its_control_characters_made_visible(
    cli: Invoke, served: Sandbox, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE customers SET first_name = ? WHERE id = 1", ("Evil\x1b[2J\x07",))
    result = cli("lookup", "--urn", str(SAMPLE_URN), "--jq", ".cardList[0].firstName")
    assert ok(result) == "Evil\\x1b[2J\\x07\n"
    assert "\x1b" not in result.stdout


def test_a_jq_runtime_error_is_one_line_and_exit_2(cli: Invoke, served: Sandbox) -> None:
    result = cli(
        "lookup", "--urn", str(SAMPLE_URN), "--jq", ".responseCode, (.responseMessage|tonumber)"
    )
    assert_one_line_error(result, 2, "--jq: ")
    assert "cannot be parsed as a number" in result.stderr
    assert result.stdout == "00\n"  # what came before the failure is written


def test_a_jq_error_keeps_a_status_that_says_more(cli: Invoke, served: Sandbox) -> None:
    result = cli("lookup", "--mobile", NOT_FOUND_MOBILE, "--jq", ".responseMessage | tonumber")
    assert result.exit_code == 1  # not found: what a script branches on, kept
    assert "--jq: " in result.stderr


def test_a_bad_jq_program_is_usage_and_nothing_is_sent(cli: Invoke, served: Sandbox) -> None:
    result = cli("lookup", "--urn", str(SAMPLE_URN), "--jq", ".[")
    assert_one_line_error(result, 2, "--jq: ")
    assert lookups(served) == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--jq", ".a", "--fields", "a"), "--jq and --fields cannot be used together"),
        (("--jq", ".a", "-o", "table"), "--jq filters JSON: it cannot be used with -o table"),
        (("--fields", "a", "-o", "md"), "--fields filters JSON: it cannot be used with -o md"),
        (("--fields", "a,,b."), "is not a list of names"),
    ],
)
def test_filter_options_refused_before_anything_is_sent(
    cli: Invoke, served: Sandbox, args: tuple[str, ...], fragment: str
) -> None:
    result = cli("lookup", "--urn", str(SAMPLE_URN), *args)
    assert_one_line_error(result, 2, fragment)
    assert lookups(served) == 0


def batch_file(*values: str) -> str:
    Path("in.csv").write_text("mobile\n" + "\n".join(values) + "\n", encoding="utf-8")
    return "in.csv"


def test_lookup_file_filters_each_line(cli: Invoke, served: Sandbox) -> None:
    path = batch_file(SAMPLE_MOBILE, NOT_FOUND_MOBILE, "12")
    result = cli("lookup", "--file", path, "--jq", "[.row, .ok]")
    assert result.exit_code == 2  # the worst row: "12" is bad input
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        [2, True],
        [3, False],
        [4, False],
    ]
    result = cli("lookup", "--file", path, "--fields", "row,answer.cardList.urn,error.code")
    assert records(result.stdout) == [
        {"row": 2, "answer.cardList.urn": [SAMPLE_URN], "error.code": None},
        {"row": 3, "answer.cardList.urn": None, "error.code": "1303"},
        {"row": 4, "answer.cardList.urn": None, "error.code": None},
    ]


def test_lookup_file_goes_on_past_a_jq_error(cli: Invoke, served: Sandbox) -> None:
    path = batch_file(SAMPLE_MOBILE, SAMPLE_MOBILE, SAMPLE_MOBILE)
    program = 'if .row == 3 then error("boom") else .row end'
    result = cli("lookup", "--file", path, "--jq", program)
    assert result.stdout.splitlines() == ["2", "4"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: --jq: boom (JSON line 2)"]
    assert result.exit_code == 2  # every row found, but not all of them written
    assert lookups(served) == 3


def test_resume_with_a_filter_is_refused(cli: Invoke, served: Sandbox) -> None:
    path = batch_file(SAMPLE_MOBILE)
    Path("out.jsonl").write_text("", encoding="utf-8")
    for args in (("--jq", ".row"), ("--fields", "row"), ("-o", "csv")):
        result = cli("lookup", "--file", path, "--resume", "out.jsonl", *args)
        assert_one_line_error(result, 2, "--resume reads the earlier run's JSON lines")
    assert lookups(served) == 0


# -- encrypt, decrypt --------------------------------------------------------------------------


def test_encrypt_json_is_the_token_body_and_filters(cli: Invoke) -> None:
    payload = '{"messageCode":1930,"urn":"389"}'
    token = ok(cli("encrypt", payload)).strip()
    assert json.loads(ok(cli("encrypt", payload, "-o", "json"))) == {"token": token}
    assert ok(cli("encrypt", payload, "--jq", ".token")).strip() == token
    assert json.loads(ok(cli("encrypt", payload, "--fields", "token"))) == {"token": token}


def test_decrypt_one_token_filters(cli: Invoke) -> None:
    token = DEMO.encrypt_json({"responseCode": "00", "urn": 389, "docNumber": "ABCDE1234A"})
    assert ok(cli("decrypt", token, "--jq", ".urn")) == "389\n"
    assert json.loads(ok(cli("decrypt", token, "--fields", "docNumber"))) == {
        "docNumber": "******234A"  # masked before the filter sees it
    }


def test_decrypt_many_tokens_filters_each_line(cli: Invoke, isolated: Path) -> None:
    tokens = [DEMO.encrypt_json({"n": n, "name": f"c{n}"}) for n in range(5)]
    tokens[2] = "not a token"
    Path("tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    result = cli("decrypt", "tokens.txt", "--jq", ".n")
    assert result.exit_code == 4  # a line could not be decrypted: its status, kept
    assert result.stdout.splitlines() == ["0", "1", "null", "3", "4"]
    result = cli("decrypt", "tokens.txt", "--fields", "name,line")
    assert records(result.stdout)[:2] == [
        {"name": "c0", "line": None},
        {"name": "c1", "line": None},
    ]
    assert records(result.stdout)[2] == {"name": None, "line": 3}


def test_decrypt_many_goes_on_past_a_jq_error(cli: Invoke, isolated: Path) -> None:
    values: list[Any] = [1, "two", 3]
    tokens = [DEMO.encrypt_json({"n": v}) for v in values]
    Path("tokens.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    result = cli("decrypt", "tokens.txt", "--jq", ".n + 1")
    assert result.stdout.splitlines() == ["2", "4"]
    assert_one_line_error(result, 2, "(JSON line 2)")


# -- codes, audit ------------------------------------------------------------------------------


def test_codes_jq_and_fields_pick_in_each_row(cli: Invoke) -> None:
    assert ok(cli("codes", "1303", "--jq", ".name")) == "CUSTOMER_DETAILS_NOT_PRESENT\n"
    catalogue = json.loads(ok(cli("codes", "--fields", "code,name")))
    assert set(catalogue) == {"codes", "http"}
    assert {"code": "1303", "name": "CUSTOMER_DETAILS_NOT_PRESENT"} in catalogue["codes"]
    assert all(set(row) == {"code", "name"} for row in catalogue["codes"] + catalogue["http"])
    count = int(ok(cli("codes", "--jq", ".codes | length")))
    assert count == len(catalogue["codes"]) > 40


def write_audit(*entries: dict[str, Any]) -> str:
    Path("audit.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), "utf-8")
    return "audit.jsonl"


ENTRIES = (
    {"time": "2026-01-01T10:00:00+00:00", "user": "asha", "command": "lookup", "action": "reveal"},
    {"time": "2026-01-01T10:05:00+00:00", "user": "ravi", "command": "update-profile",
     "action": "update", "result": "answered", "responseCode": "00", "fields": ["city"]},
)  # fmt: skip


def test_audit_filters_each_entry(cli: Invoke) -> None:
    log = write_audit(*ENTRIES)
    assert ok(cli("audit", "--audit-log", log, "--jq", ".user")).splitlines() == ["asha", "ravi"]
    out = ok(cli("audit", "--audit-log", log, "--fields", "user,responseCode"))
    assert records(out) == [
        {"user": "asha", "responseCode": None},
        {"user": "ravi", "responseCode": "00"},
    ]
    result = cli("audit", "--audit-log", log, "--jq", ".responseCode | tonumber")
    assert_one_line_error(result, 2, "(JSON line 1)")
    assert result.stdout == "0\n"


# -- profiles, sandbox -------------------------------------------------------------------------


def test_profiles_commands_filter(cli: Invoke, served: Sandbox) -> None:
    names = json.loads(ok(cli("profiles", "list", "--fields", "name")))
    assert {"name": "hard"} in names and all(set(n) == {"name"} for n in names)
    assert ok(cli("profiles", "show", "hard", "--jq", ".values.base_url")) == f"{served.url}\n"
    assert ok(cli("profiles", "where", "--jq", ".profile")) == "hard\n"
    check = json.loads(ok(cli("profiles", "check", "hard", "--fields", "profile,checks.status")))
    assert check["profile"] == "hard" and "ok" in check["checks.status"]


def test_sandbox_commands_filter(cli: Invoke, isolated: Path) -> None:
    kinds = json.loads(ok(cli("sandbox", "customers", "--jq", "[.[].kind]")))
    assert "sample" in kinds
    out = ok(cli("sandbox", "reset", "--db", str(isolated / "s.db"), "--fields", "customers"))
    assert set(json.loads(out)) == {"customers"}


# -- update-profile ----------------------------------------------------------------------------


def test_update_profile_dry_run_filters(cli: Invoke, served: Sandbox) -> None:
    result = cli("update-profile", "--urn", str(SAMPLE_URN), "--city", "Pune", "--dry-run",
                 "--jq", ".dryRun, .payload.urn")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["true", str(SAMPLE_URN)]


def test_update_profile_keeps_its_outcome_when_jq_fails(
    cli: Invoke, served: Sandbox, db_path: Path
) -> None:
    result = cli("update-profile", "--urn", str(SAMPLE_URN), "--city", "Pune", "--yes",
                 "--jq", ".responseMessage | tonumber")  # fmt: skip
    assert result.exit_code == 0, result.stderr  # the update was applied: its status
    assert "--jq: " in result.stderr
    assert "the exit status is the answer's (0)" in result.stderr
    assert [e["result"] for e in audit_entries()][-1] == "answered"
    assert ("Pune",) in sqlite3.connect(db_path).execute("SELECT city FROM customers").fetchall()
    applied = cli("update-profile", "--urn", str(SAMPLE_URN), "--state", "Goa", "--yes",
                  "--jq", ".responseCode")  # fmt: skip
    assert applied.exit_code == 0 and applied.stdout == "00\n"


# -- which commands have which format ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("profiles", "list", "-o", "csv"), "-o csv: wibmo profiles list prints table or json"),
        (("codes", "-o", "md"), "-o md: wibmo codes prints table, json, csv or tsv"),
        (("decrypt", "x", "-o", "tsv"), "-o tsv: wibmo decrypt prints table or json"),
        (("profiles", "example", "--jq", "."), "--jq: wibmo profiles example prints no JSON"),
        (("profiles", "example", "-o", "json"), "-o json: wibmo profiles example prints table"),
    ],
)
def test_a_format_a_command_lacks_is_refused(
    cli: Invoke, args: tuple[str, ...], fragment: str
) -> None:
    result = cli(*args)
    assert_one_line_error(result, 2, fragment)
    asked = OutputFormat(args[-1]) if args[-2] == "-o" else None
    if asked in FORMATS_OFFERED_BY:
        assert f"({asked}: {FORMATS_OFFERED_BY[asked]})" in result.stderr


def test_the_formats_said_to_be_offered_are(cli: Invoke, served: Sandbox) -> None:
    """FORMATS_OFFERED_BY names where csv, tsv and md are: each of those takes them."""
    batch = batch_file(SAMPLE_MOBILE)
    where = {
        "lookup --file": ("lookup", "--file", batch),
        "audit": ("audit", "--audit-log", write_audit(*ENTRIES)),
        "codes": ("codes",),
        "lookup of one customer": ("lookup", "--urn", str(SAMPLE_URN)),
    }
    for asked, offered in FORMATS_OFFERED_BY.items():
        for name in offered.replace(" and ", ", ").split(", "):
            result = cli(*where[name], "-o", str(asked))
            assert result.exit_code == 0, (name, asked, result.stderr)


def test_jq_cannot_read_the_environment_where_secrets_live(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`$ENV` and `env` are jq's window on the process environment, where the profiles
    file's ${VAR} secrets are: a filter sees the JSON it is given, nothing else."""
    monkeypatch.setenv("SOME_API_KEY", "sk-live-not-for-jq")
    program = "[$ENV.SOME_API_KEY, env.SOME_API_KEY, ($ENV | length), (def f: .name; f)] # end"
    result = wibmo("codes", "00", "--jq", program)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [None, None, 0, "SUCCESS"]
    assert "sk-live-not-for-jq" not in result.stdout + result.stderr


def test_jq_strings_keep_tabs_and_line_feeds_as_jq_r_does(wibmo: Invoke) -> None:
    """`@tsv` and multi-line strings are what `jq -r` gives (real tabs, real line feeds);
    every other control character is still shown escaped."""
    program = '[.code, .name] | @tsv, "a\\nb\\u001b[31m\\rc"'
    result = wibmo("codes", "00", "--jq", program)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "00\tSUCCESS\na\nb\\x1b[31m\\rc\n"


def test_codes_list_in_one_order_in_every_format(wibmo: Invoke) -> None:
    as_json = wibmo("codes", "--jq", ".codes[].code")
    as_csv = wibmo("codes", "-o", "csv", "--fields", "code")
    assert as_json.exit_code == as_csv.exit_code == 0
    assert as_json.stdout.split() == as_csv.stdout.split()[1:]  # below the csv header
    assert as_json.stdout.split()[:2] == ["00", "0000"]


@pytest.mark.slow  # a process left to start its loop (~1 s)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_jq_program_that_never_ends_is_ended_by_ctrl_c_and_sigterm(signum: int) -> None:
    """jq's C loop holds the interpreter: Python's handlers cannot run, so the signals end
    the process as they do by default (it used to take SIGKILL)."""
    process = spawn("codes", "00", "--jq", "last(range(1e12))")
    try:
        time.sleep(1.0)
        process.send_signal(signum)
        process.communicate(timeout=10)
    finally:
        process.kill()  # no loop left behind when the signal did not end it
        process.communicate()
    assert process.returncode in (-signum, 128 + signum, 130)


def test_many_results_of_one_line_are_written_as_they_come() -> None:
    """`--jq 'range(3e7)'` on a stream's line: results go out in batches (memory bounded),
    so `| head` ends it at once; they used to be held until the line was done."""
    codec = TokenCodec(parse_key(DEMO_PROFILE["encryption_key"]), IvScheme("zero"))
    script = 'printf "%s\\n" "$TOKEN" | "$@" | head -2'
    args = ("decrypt", "-p", "demo", "-", "--jq", "range(3e7)")
    result = shell(script, *args, timeout=20, env={"TOKEN": codec.encrypt_json({"a": 1})})
    # (without the batches: wibmo computes every result first, and the shell's timeout)
    assert result.returncode == 0 and result.stdout == b"0\n1\n", result.stderr


def test_fields_index_and_count_lists_as_csv_columns_do() -> None:
    """`--fields cardList.0.urn` is the first card's (it gave [null]); `cardList.#` counts."""
    picked = JsonFilter.parse(None, "cardList.0.urn,cardList.#,cardList.urn,cardList.5.urn")
    assert picked is not None
    answer = {"cardList": [{"urn": 389}, {"urn": 390}]}
    assert list(picked.results(answer)) == [
        {"cardList.0.urn": 389, "cardList.#": 2, "cardList.urn": [389, 390], "cardList.5.urn": None}
    ]

"""Issue 13: `-o csv` / `-o tsv` for `lookup --file`, `audit` and `codes`.

The flattening rule (`wibmo_cli.tabular`) unit by unit; then each command's output read
back with the csv module: the header, the documented columns, `--fields` choosing them,
the spreadsheet-formula guard, control characters made visible, and `lookup --file -o
csv` keeping --file's guarantees (one line per row, in order, errors as rows, the worst
row's exit code) against the sandbox served on loopback.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import Invoke, StartSandbox, assert_one_line_error, budget

from wibmo_cli.sandbox import SAMPLE_CUSTOMER_ID, SAMPLE_MOBILE, SAMPLE_URN, Sandbox
from wibmo_cli.tabular import Column, Rows, cell, chosen, row, values_at
from wibmo_cli.views.batch import CSV_COLUMNS

NOT_FOUND_MOBILE = "9000000000"
LOOKUP_HEADER = [column.name for column in CSV_COLUMNS]


def read(text: str, *, tsv: bool = False) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter="\t" if tsv else ","))


def read_dicts(text: str, *, tsv: bool = False) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter="\t" if tsv else ","))


# -- the flattening rule -----------------------------------------------------------------------

ANSWER = {
    "responseCode": "00",
    "cardList": [
        {"urn": 389, "firstName": "ABC", "cardStatus": 0, "tags": ["a", "b"]},
        {"urn": 390, "firstName": "ABC", "cardStatus": 12},
    ],
}


def test_values_at_reads_keys_indexes_counts_and_lists() -> None:
    assert values_at(ANSWER, "responseCode") == ["00"]
    assert values_at(ANSWER, "cardList.urn") == [389, 390]
    assert values_at(ANSWER, "cardList.1.urn") == [390]
    assert values_at(ANSWER, "cardList.5.urn") == []
    assert values_at(ANSWER, "cardList.#") == [2]
    assert values_at(ANSWER, "cardList.0.tags") == ["a", "b"]
    assert values_at(ANSWER, "nope.deeper") == []
    assert values_at({"a": None}, "a") == [None]


def test_a_cell_joins_values_in_order() -> None:
    assert cell(values_at(ANSWER, "cardList.urn")) == "389; 390"
    assert cell(values_at(ANSWER, "cardList.firstName")) == "ABC; ABC"  # one per card
    assert cell(values_at(ANSWER, "cardList.firstName"), per_item=False) == "ABC"
    assert cell([True, None, 1.5]) == "true; ; 1.5"
    assert cell([{"b": 1}]) == '{"b":1}'
    assert cell([], missing="0") == "0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+91 98971", "'+91 98971"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        (-5, "-5"),  # a number is no formula
        ("a=b", "a=b"),
        ("\tx", "\\tx"),  # control characters visible: no tab or line break in a cell
        ("x\r\ny", "x\\r\\ny"),
        ("Evil\x1b[2J", "Evil\\x1b[2J"),
    ],
)
def test_formula_guard_and_visible_controls(value: Any, shown: str) -> None:
    assert cell([value]) == shown


def test_first_path_a_row_has_wins() -> None:
    column = Column.at("email", "answer.email", "answer.cardList.email")
    flat = {"answer": {"email": "flat@x.com", "cardList": [{"email": "card@x.com"}]}}
    carded = {"answer": {"cardList": [{"email": "card@x.com"}]}}
    assert row(flat, [column]) == ["flat@x.com"]
    assert row(carded, [column]) == ["card@x.com"]


def test_fields_choose_documented_columns_or_paths() -> None:
    picked = chosen(CSV_COLUMNS, ["urn", "answer.cardList.0.dob"])
    assert picked[0] == next(c for c in CSV_COLUMNS if c.name == "urn")
    assert picked[1] == Column("answer.cardList.0.dob", ("answer.cardList.0.dob",))
    assert chosen(CSV_COLUMNS, []) == CSV_COLUMNS


class _Collect(io.StringIO):
    def flush(self) -> None:
        pass


text_values = st.one_of(
    st.text(max_size=30), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)


@budget(200)
@given(st.lists(st.lists(text_values, min_size=3, max_size=3), max_size=8), st.booleans())
def test_rows_read_back_with_the_csv_module(table: list[list[Any]], tsv: bool) -> None:
    columns = [Column.at("a"), Column.at("b"), Column.at("c")]
    out = _Collect()
    rows = Rows(out, columns, tsv=tsv)  # type: ignore[arg-type]
    for values in table:
        rows.write(json.dumps(dict(zip("abc", values, strict=True))) + "\n")
    rows.finish()
    back = read(out.getvalue(), tsv=tsv)
    assert back[0] == ["a", "b", "c"]
    assert back[1:] == [[cell([v]) for v in values] for values in table]
    assert len(out.getvalue().splitlines()) == len(table) + 1  # one line per row


# -- lookup --file -o csv ----------------------------------------------------------------------


@pytest.fixture
def served(start_sandbox: StartSandbox) -> Sandbox:
    return start_sandbox(profile={"retries": 0})


def batch_file(*values: str, header: str = "mobile") -> str:
    Path("in.csv").write_text(header + "\n" + "\n".join(values) + "\n", encoding="utf-8")
    return "in.csv"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_lookup_file_rows_one_line_each_in_order(cli: Invoke, served: Sandbox, fmt: str) -> None:
    path = batch_file(SAMPLE_MOBILE, NOT_FOUND_MOBILE, "12", SAMPLE_MOBILE)
    result = cli("lookup", "--file", path, "-o", fmt, "--concurrency", "4")
    assert result.exit_code == 2, result.stderr  # the worst row's: "12" is bad input
    assert len(result.stdout.splitlines()) == 5
    table = read_dicts(result.stdout, tsv=fmt == "tsv")
    assert list(table[0]) == LOOKUP_HEADER
    assert [r["row"] for r in table] == ["2", "3", "4", "5"]
    found, missing, bad, again = table
    assert found["ok"] == "true" and found["responseCode"] == "00" and found["exit_code"] == "0"
    assert found["urn"] == str(SAMPLE_URN) and found["customerId"] == SAMPLE_CUSTOMER_ID
    assert found["firstName"] == "ABC" and found["cards"] == "1"
    assert found["mobile"] == "91" + SAMPLE_MOBILE and found["availableBalance"].isdigit()
    assert missing["ok"] == "false" and missing["responseCode"] == "1303"
    assert missing["exit_code"] == "1" and missing["clientTxnId"]
    assert "CUSTOMER_DETAILS_NOT_PRESENT" in missing["error"] and not missing["urn"]
    assert bad["exit_code"] == "2" and "10-digit" in bad["error"] and bad["input"] == "12"
    assert again["urn"] == found["urn"]
    assert "lookup: 4 rows" in result.stderr  # the summary, as with JSON lines


def test_lookup_file_fields_choose_the_columns(cli: Invoke, served: Sandbox) -> None:
    path = batch_file(SAMPLE_MOBILE, NOT_FOUND_MOBILE)
    result = cli(
        "lookup", "--file", path, "-o", "csv", "--fields", "row,urn,answer.cardList.0.dob,error"
    )
    assert result.exit_code == 1, result.stderr
    rows = read(result.stdout)
    assert rows[0] == ["row", "urn", "answer.cardList.0.dob", "error"]
    assert rows[1][:3] == ["2", str(SAMPLE_URN), "11-Jul-1993"]
    assert rows[2][0] == "3" and rows[2][1:3] == ["", ""] and "1303" not in rows[2][3]


def test_lookup_file_csv_guards_formulas_and_keeps_odd_names_whole(
    cli: Invoke, served: Sandbox, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE customers SET first_name = ?, last_name = ? WHERE id = 1",
            ('=HYPERLINK("http://x","y")', 'O"Brien, Jr\x1b[2J'),
        )
    result = cli("lookup", "--file", batch_file(SAMPLE_MOBILE), "-o", "csv")
    assert result.exit_code == 0, result.stderr
    (found,) = read_dicts(result.stdout)
    assert found["firstName"] == '\'=HYPERLINK("http://x","y")'
    assert found["lastName"] == 'O"Brien, Jr\\x1b[2J'
    assert "\x1b" not in result.stdout


def test_lookup_file_csv_header_even_with_no_row_answered(cli: Invoke, served: Sandbox) -> None:
    Path("in.csv").write_text("mobile\n", encoding="utf-8")
    result = cli("lookup", "--file", "in.csv", "-o", "csv")
    assert result.exit_code == 0, result.stderr
    assert read(result.stdout) == [LOOKUP_HEADER]


def test_one_lookup_refuses_csv_and_sends_nothing(cli: Invoke, served: Sandbox) -> None:
    result = cli("lookup", "--urn", str(SAMPLE_URN), "-o", "csv")
    assert_one_line_error(result, 2, "-o csv: rows are for lookup --file")
    assert not [r for r in served.requests if r.api == "lookup"]


# -- audit, codes ------------------------------------------------------------------------------


def write_audit() -> str:
    entries = [
        {"time": "2026-01-01T10:00:00+00:00", "user": "asha", "profile": "uat",
         "command": "lookup", "action": "reveal", "identifiers": ["mobile ******3456"]},
        {"time": "2026-01-01T10:05:00+00:00", "user": "ravi", "profile": "uat",
         "command": "update-profile", "action": "update", "clientTxnId": "T1",
         "fields": ["city", "state"], "result": "answered", "responseCode": "00",
         "error": "-1 =cmd"},
    ]  # fmt: skip
    Path("audit.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), "utf-8")
    return "audit.jsonl"


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_audit_rows(cli: Invoke, fmt: str) -> None:
    result = cli("audit", "--audit-log", write_audit(), "-o", fmt)
    assert result.exit_code == 0, result.stderr
    table = read_dicts(result.stdout, tsv=fmt == "tsv")
    assert list(table[0])[:6] == ["time", "user", "profile", "command", "action", "identifiers"]
    assert [r["user"] for r in table] == ["asha", "ravi"]
    assert table[0]["identifiers"] == "mobile ******3456"
    assert table[1]["fields"] == "city; state" and table[1]["responseCode"] == "00"
    assert table[1]["error"] == "'-1 =cmd"


def test_audit_fields_and_an_empty_log(cli: Invoke) -> None:
    result = cli("audit", "--audit-log", write_audit(), "-o", "csv", "--fields", "user,result")
    assert read(result.stdout) == [["user", "result"], ["asha", ""], ["ravi", "answered"]]
    Path("empty.jsonl").write_text("", encoding="utf-8")
    result = cli("audit", "--audit-log", "empty.jsonl", "-o", "csv", "--fields", "user")
    assert result.exit_code == 0 and read(result.stdout) == [["user"]]


def test_codes_rows(cli: Invoke) -> None:
    table = read_dicts(cli("codes", "-o", "csv").stdout)
    assert list(table[0]) == ["code", "name", "apis", "meaning", "action"]
    by_code = {r["code"]: r for r in table}
    assert by_code["1303"]["name"] == "CUSTOMER_DETAILS_NOT_PRESENT"
    assert by_code["00"]["apis"] == "lookup; update"
    json_codes = json.loads(cli("codes", "-o", "json").stdout)["codes"]
    assert len(table) == len(json_codes)
    http = read(cli("codes", "503", "-o", "tsv").stdout, tsv=True)
    assert http[0] == ["http_status", "name", "meaning", "action"] and http[1][0] == "503"
    one = read(cli("codes", "1303", "-o", "csv", "--fields", "code,name").stdout)
    assert one == [["code", "name"], ["1303", "CUSTOMER_DETAILS_NOT_PRESENT"]]


def test_card_columns_line_up_card_by_card() -> None:
    """Two cards, the same status on both: the status cell still has one value per card,
    so a reader can tell which card each value belongs to (a customer's name, repeated in
    each card, is shown once)."""
    answer = {
        "cardList": [
            {"urn": 1, "cardStatus": 0, "statusDescription": "Active", "firstName": "A"},
            {"urn": 2, "cardStatus": 0, "statusDescription": "Active", "firstName": "A"},
        ]
    }
    line = {"row": 1, "input": "1", "ok": True, "answer": answer}
    cells = dict(zip([c.name for c in CSV_COLUMNS], row(line, CSV_COLUMNS), strict=True))
    assert (cells["urn"], cells["cardStatus"], cells["statusDescription"]) == (
        "1; 2",
        "0; 0",
        "Active; Active",
    )
    assert cells["firstName"] == "A"

"""`wibmo codes`: the catalogue as a table and as JSON, one code explained, filters."""

from __future__ import annotations

import json

import pytest
from support import Invoke

from wibmo_cli.codes import CATALOGUE, HTTP_STATUSES, explain, in_code_order


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal, so table cells are not folded across lines."""
    monkeypatch.setenv("COLUMNS", "250")


def test_catalogue_table(cli: Invoke, wide: None) -> None:
    result = cli("codes")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    for code in CATALOGUE:
        row = next(line for line in result.stdout.splitlines() if f"│ {code.code} " in line)
        assert code.name in row and code.meaning[:40] in row
    assert "HTTP statuses" in result.stdout
    for status in HTTP_STATUSES:
        assert status.name in result.stdout


def test_catalogue_table_is_readable_in_80_columns(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("codes")
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    # The meaning column keeps real words, not an ellipsis per row.
    assert "CUSTOMER_DETAILS_NOT_PRESENT"[:20] in result.stdout
    assert "No customer matches" in result.stdout


def test_catalogue_json_holds_every_code(cli: Invoke) -> None:
    result = cli("codes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [c["code"] for c in data["codes"]] == [c.code for c in in_code_order(CATALOGUE)]
    assert [s["http_status"] for s in data["http"]] == [s.status for s in HTTP_STATUSES]
    by_code = {c["code"]: c for c in data["codes"]}
    for code in CATALOGUE:
        assert by_code[code.code] == {
            "code": code.code,
            "name": code.name,
            "apis": list(code.apis),
            "meaning": code.meaning,
            "action": code.action,
        }


def test_one_code_explained(cli: Invoke, wide: None) -> None:
    entry = explain("1303")
    assert entry is not None
    result = cli("codes", "1303")
    assert result.exit_code == 0, result.stderr
    assert "CUSTOMER_DETAILS_NOT_PRESENT" in result.stdout
    assert entry.meaning in result.stdout
    assert entry.action in result.stdout
    assert "what to do" in result.stdout
    data = json.loads(cli("codes", "1303", "-o", "json").stdout)
    assert data["code"] == "1303" and data["name"] == "CUSTOMER_DETAILS_NOT_PRESENT"
    assert data["action"] == entry.action and data["apis"] == ["lookup"]


def test_an_http_status_explained(cli: Invoke, wide: None) -> None:
    result = cli("codes", "503")
    assert result.exit_code == 0, result.stderr
    assert "HTTP 503" in result.stdout and "Service Unavailable" in result.stdout
    data = json.loads(cli("codes", "503", "-o", "json").stdout)
    assert data["http_status"] == 503 and data["name"] == "Service Unavailable"
    assert data["action"].startswith("Retry later")


@pytest.mark.parametrize("spelling", ["0", "00", " 0 "])
def test_zero_is_success(cli: Invoke, spelling: str) -> None:
    result = cli("codes", spelling)
    assert result.exit_code == 0, result.stderr
    assert "SUCCESS" in result.stdout
    data = json.loads(cli("codes", spelling, "-o", "json").stdout)
    assert data["code"] == "00" and data["name"] == "SUCCESS"


@pytest.mark.parametrize("code", ["9999", "418", "999", "abc", "", "²²²", "13O3", "000"])
def test_unknown_code_is_exit_2(cli: Invoke, code: str) -> None:
    result = cli("codes", code)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"unknown code {code.strip()!r}: not in the catalogue" in result.stderr
    assert "`wibmo codes` lists them all" in result.stderr


def test_api_filter(cli: Invoke, wide: None) -> None:
    data = json.loads(cli("codes", "--api", "update", "-o", "json").stdout)
    codes = {c["code"] for c in data["codes"]}
    assert codes == {c.code for c in CATALOGUE if "update" in c.apis}
    assert {"00", "1088", "1239"} <= codes
    assert "1303" not in codes and "1262" not in codes  # lookup-only, gateway
    table = cli("codes", "--api", "gateway")
    assert table.exit_code == 0
    assert "1311" in table.stdout and "1303" not in table.stdout
    assert "HTTP statuses" not in table.stdout


def test_api_filter_refuses_an_unknown_api(cli: Invoke) -> None:
    result = cli("codes", "--api", "payments")
    assert result.exit_code == 2
    assert "--api 'payments': must be lookup, update, gateway or public" in result.stderr


def test_0000_is_explained_as_success_only_where_a_profile_says(cli: Invoke) -> None:
    result = cli("codes", "0000")
    assert result.exit_code == 0, result.stderr
    assert "success_codes" in result.stdout

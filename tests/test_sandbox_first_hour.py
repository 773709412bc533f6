"""Issue 12, item 23: the sandbox as a place to try things.

`wibmo sandbox reset` puts the seed back (so the README's email change does not break its
later `lookup --email abc@xyz.com`), `wibmo sandbox customers [--kind]` lists the demo
customers worth trying from the database, and `wibmo sandbox [--port ...]` still serves.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from support import assert_one_line_error, data_dir, query

from wibmo_cli.sandbox import SAMPLE_CUSTOMER_ID, SAMPLE_MOBILE, demo
from wibmo_cli.sandbox.store import Store
from wibmo_cli.views.demo import customers_table


@pytest.fixture
def demo_db(seeded_database: Path) -> Path:
    """The database the built-in demo profile (and `wibmo sandbox`) uses, seeded."""
    path = data_dir() / "sandbox.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(seeded_database, path))


def _email_change(cli, *extra: str):  # type: ignore[no-untyped-def]
    return cli(
        "update-profile", "--mobile", SAMPLE_MOBILE, "--email", "asha.k@example.com", "--yes",
        *extra,
    )  # fmt: skip


# -- reset -------------------------------------------------------------------------------------


def test_reset_brings_back_what_the_readme_changed(cli, demo_db: Path) -> None:
    assert _email_change(cli).exit_code == 0
    assert cli("lookup", "--email", "abc@xyz.com").exit_code == 1  # 1303: changed away
    result = cli("sandbox", "reset")
    assert result.exit_code == 0, result.stderr
    assert str(demo_db) in result.stderr and result.stdout == ""
    found = cli("lookup", "--email", "abc@xyz.com", "-o", "json")
    assert found.exit_code == 0, found.stderr
    assert SAMPLE_CUSTOMER_ID in found.stdout


def test_a_running_sandbox_sees_the_reset_without_a_restart(cli, start_sandbox, db_path) -> None:
    start_sandbox(profile={})
    assert _email_change(cli).exit_code == 0
    assert cli("lookup", "--email", "abc@xyz.com").exit_code == 1
    assert cli("sandbox", "reset", "--db", str(db_path)).exit_code == 0
    assert cli("lookup", "--email", "abc@xyz.com").exit_code == 0  # the same server


def test_the_control_endpoint_puts_the_seed_back_when_asked(cli, start_sandbox) -> None:
    sandbox = start_sandbox(profile={})
    assert _email_change(cli).exit_code == 0
    with httpx.Client(base_url=sandbox.url) as http:
        assert http.post("/__sandbox/reset").json() == {"ok": True}  # records and faults only
        assert cli("lookup", "--email", "abc@xyz.com").exit_code == 1
        for bad in ({"seed": "yes"}, [True]):
            assert http.post("/__sandbox/reset", json=bad).status_code == 400
        assert http.post("/__sandbox/reset", json={"seed": True}).json() == {"ok": True}
    assert cli("lookup", "--email", "abc@xyz.com").exit_code == 0


def test_reset_is_a_new_database(db_path: Path, seeded_database: Path) -> None:
    every = (
        "SELECT * FROM customers ORDER BY id",
        "SELECT * FROM cards ORDER BY urn",
        "SELECT * FROM documents ORDER BY id",
        "SELECT * FROM txns",
        "SELECT * FROM meta WHERE key != 'changes' ORDER BY key",  # the stamp is random
    )
    fresh = [query(seeded_database, sql) for sql in every]
    store = Store.open(db_path)
    try:
        with store.transaction():
            store.update_customer(1, {"email": "changed@example.com"})
            store.remember_txn("T1", "update", "now")
            store.next_ref_no()
        store.reseed()
    finally:
        store.close()
    assert [query(db_path, sql) for sql in every] == fresh


def test_reset_json_counts_what_it_wrote(cli, demo_db: Path) -> None:
    result = cli("sandbox", "reset", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "db": str(demo_db),
        "customers": query(demo_db, "SELECT count(*) FROM customers")[0][0],
        "cards": query(demo_db, "SELECT count(*) FROM cards")[0][0],
    }


def test_reset_never_empties_another_programs_database(cli, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.execute("INSERT INTO customers VALUES ('kept')")
    conn.close()
    result = cli("sandbox", "reset", "--db", str(other))
    assert_one_line_error(result, 2, "not a sandbox database")
    assert query(other, "SELECT * FROM customers") == [("kept",)]
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    assert_one_line_error(cli("sandbox", "reset", "--db", str(text)), 2, "not a sandbox database")
    assert text.read_text() == "hello\n"


def test_reset_creates_a_missing_database(cli, tmp_path: Path) -> None:
    path = tmp_path / "new" / "sandbox.db"
    assert cli("sandbox", "reset", "--db", str(path)).exit_code == 0
    assert query(path, "SELECT count(*) FROM cards WHERE urn = 389") == [(1,)]


@pytest.mark.parametrize("command", ["reset", "customers"])
def test_serving_options_before_a_command_are_refused(cli, command: str) -> None:
    result = cli("sandbox", "--port", "0", "--latency-ms", "5", command)
    assert_one_line_error(result, 2, "--port, --latency-ms: for serving the sandbox")
    assert f"wibmo sandbox {command} --help" in result.stderr


def test_global_options_before_a_command_still_apply(cli, demo_db: Path) -> None:
    result = cli("sandbox", "-o", "json", "customers", "--kind", "sample")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["customerId"] == SAMPLE_CUSTOMER_ID


def test_sandbox_still_serves_and_lists_its_commands(cli) -> None:
    assert cli("sandbox", "--variant", "list").stdout.startswith("seed: ")
    assert_one_line_error(cli("sandbox", "--port", "70000"), 2, "--port 70000")
    helped = cli("sandbox", "--help")
    assert helped.exit_code == 0
    assert "reset" in helped.stdout and "customers" in helped.stdout


# -- customers ---------------------------------------------------------------------------------


def _customers(cli, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = cli("sandbox", "customers", "-o", "json", *args)
    assert result.exit_code == 0, result.stderr
    found: list[dict] = json.loads(result.stdout)
    return found


def test_every_kind_has_an_example_in_the_seed(cli, demo_db: Path) -> None:
    found = _customers(cli)
    assert [each["kind"] for each in found] == list(demo.NAMES)
    by_kind = {each["kind"]: each for each in found}
    assert by_kind["sample"]["customerId"] == SAMPLE_CUSTOMER_ID
    for level in (1, 30, 150, 200, 300):
        assert level in [c["kycProfile"] for c in by_kind[f"kyc-{level}"]["cards"]]
    assert "Blocked" in [c["status"] for c in by_kind["blocked"]["cards"]]
    assert {"Lost", "Stolen"} & {c["status"] for c in by_kind["lost"]["cards"]}
    assert len(by_kind["several-cards"]["cards"]) > 1
    assert by_kind["no-card"]["cards"] == []


def test_the_examples_answer_as_their_kind_says(cli, demo_db: Path) -> None:
    by_kind = {each["kind"]: each for each in _customers(cli)}
    for kind in ("kyc-1", "kyc-30", "kyc-200", "kyc-300", "blocked", "several-cards"):
        mobile = by_kind[kind]["mobile"]  # its own: a lookup by it finds one customer
        answered = cli("lookup", "--mobile", mobile, "-o", "json")
        assert answered.exit_code == 0, (kind, answered.stderr)
    for kind, code in (("shared-mobile", "1237"), ("shared-email", "1307")):
        option = "--mobile" if kind == "shared-mobile" else "--email"
        value = by_kind[kind]["mobile" if kind == "shared-mobile" else "email"]
        answered = cli("lookup", option, value, "-o", "json")
        assert answered.exit_code == 1 and json.loads(answered.stdout)["responseCode"] == code
    wallet = cli("lookup", "--mobile", by_kind["sub-wallets"]["mobile"], "-o", "json")
    assert "subwalletListDetails" in wallet.stdout


def test_customers_are_read_from_the_database_not_a_copy(cli, demo_db: Path) -> None:
    assert _email_change(cli).exit_code == 0
    assert _customers(cli, "--kind", "sample")[0]["email"] == "asha.k@example.com"
    assert cli("sandbox", "reset").exit_code == 0
    assert _customers(cli, "--kind", "sample")[0]["email"] == "abc@xyz.com"


def test_a_kind_lists_all_of_its_customers(cli, demo_db: Path) -> None:
    shared = _customers(cli, "--kind", "SHARED-MOBILE")
    assert len(shared) == 2 and len({each["mobile"] for each in shared}) == 1
    blocked = _customers(cli, "--kind", "blocked")
    assert (
        len(blocked)
        == query(
            demo_db,
            "SELECT count(DISTINCT customer) FROM cards WHERE status_description = 'Blocked'",
        )[0][0]
    )


def test_an_unknown_kind_names_the_kinds(cli, demo_db: Path) -> None:
    result = cli("sandbox", "customers", "--kind", "frozen")
    assert_one_line_error(result, 2, "--kind 'frozen': must be one of sample, kyc-1")


def test_a_kind_with_no_customer_left_says_how_to_get_them_back(cli, demo_db: Path) -> None:
    sqlite3.connect(demo_db).execute("UPDATE customers SET re_kyc = 0").connection.commit()
    result = cli("sandbox", "customers", "--kind", "re-kyc")
    assert result.exit_code == 0 and result.stdout == ""
    assert "wibmo sandbox reset" in result.stderr
    assert _customers(cli, "--kind", "re-kyc") == []


@pytest.mark.parametrize("width", [80, 120, 200])
def test_identifiers_are_never_wrapped(db_path: Path, width: int) -> None:
    store = Store.open(db_path)
    try:
        found = demo.worth_trying(demo.records(store.every_customer(), store.every_card()))
    finally:
        store.close()
    console = Console(width=width, record=True, color_system=None)
    console.print(customers_table(found))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    for each in found:
        record = each.to_json()
        for line in (f"--mobile {record['mobile']}", f"--customer-id {record['customerId']}"):
            assert line in text, (width, line)
        assert f"--email {record['email']}" in text
        for card in record["cards"]:
            assert f"--urn {card['urn']}" in text
        assert each.kind.name in text

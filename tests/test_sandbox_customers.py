"""Many customers: `wibmo sandbox --customers N` (SandboxSettings.customers) seeds N
generated customers besides the fixed ones, deterministically; a database remembers its
count, refuses another rather than losing its changes, and `reset --customers N` reseeds
it; GET /__sandbox/urns addresses them (one URN each, email and city as held now)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import (
    Invoke,
    Platform,
    assert_one_line_error,
    data_dir,
    query,
    records,
    run_text,
    running,
    sandbox_process,
    write_demo_profiles,
    write_profiles,
)

from wibmo_cli.sandbox import CARDLESS_CUSTOMER_ID, DUPLICATE_EMAIL, DUPLICATE_MOBILE, seed
from wibmo_cli.sandbox.store import SeededOtherwise, Store
from wibmo_cli.sandbox.wallets import WALLETS

pytestmark = pytest.mark.e2e


def generated_ids(db: Path) -> list[str]:
    return [row[0] for row in query(db, "SELECT customer_id FROM customers") if row[0][:2] == "IN"]


def urns(url: str) -> list[dict[str, Any]]:
    answer = httpx.get(url + "/__sandbox/urns", timeout=10)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert isinstance(found, list)
    return found


@pytest.mark.slow  # 3,000 lookups (~7 s alone, 25 s on a busy run)
def test_3000_customers_are_each_found_by_urn(cli: Invoke, tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    with running(db, customers=3000) as sandbox:
        write_profiles(sandbox.url)
        addressed = urns(sandbox.url)
        assert len(generated_ids(db)) == 3000
        generated = [each for each in addressed if each["customer_id"][:2] == "IN"]
        assert len(generated) == 3000 - 1  # every generated customer but the cardless one
        assert len({each["urn"] for each in addressed}) == len(addressed)
        rows = tmp_path / "urns.csv"
        rows.write_text("urn\n" + "".join(f"{each['urn']}\n" for each in addressed))
        result = cli("lookup", "--file", str(rows), "--concurrency", "8", "-o", "json")
        assert result.exit_code == 0, result.stderr[-2000:]
        answers = records(result.stdout)
    assert len(answers) == len(addressed)
    for each, line in zip(addressed, answers, strict=True):
        answer = line["answer"]
        assert answer["responseCode"] == "00", line
        assert {card["urn"] for card in answer["cardList"]} >= {each["urn"]}
        assert answer["cardList"][0]["customerId"] == each["customer_id"]


def test_the_last_generated_customer_is_found_by_a_single_lookup(
    cli: Invoke, tmp_path: Path
) -> None:
    with running(tmp_path / "big.db", customers=3000) as sandbox:
        write_profiles(sandbox.url)
        last = [each for each in urns(sandbox.url) if each["customer_id"][:2] == "IN"][-1]
        result = cli("lookup", "--urn", str(last["urn"]), "-o", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["cardList"][0]["customerId"] == "IN0000003000"
    assert answer["cardList"][0]["email"] == last["email"]


@pytest.mark.slow  # a reset and two processes (~8 s)
def test_a_reset_to_many_customers_serves_them_to_wibmo_sandbox_and_the_embedded_demo(
    cli: Invoke,
) -> None:
    reset = cli("sandbox", "reset", "--customers", "3000")  # the data dir's database
    assert reset.exit_code == 0, reset.stderr
    db = data_dir() / "sandbox.db"
    store = Store.open(db)
    try:
        last = [each for each in store.urns() if each.customer_id[:2] == "IN"][-1]
    finally:
        store.close()
    assert last.customer_id == "IN0000003000"
    with sandbox_process() as url:  # `wibmo sandbox` as a process, on that database
        write_demo_profiles(url)
        for profile in ("served", "local"):  # over HTTP, and the embedded sandbox
            done = run_text("-p", profile, "lookup", "--urn", str(last.urn), "-o", "json")
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["cardList"][0]["customerId"] == last.customer_id


def test_urns_show_the_customer_as_held_now(tmp_path: Path) -> None:
    with running(tmp_path / "sandbox.db") as sandbox:
        first = urns(sandbox.url)[0]
        assert first == {
            "urn": 389,
            "customer_id": "custid_V3_juyWqcUUxz",
            "mobile": "9897123456",
            "email": "abc@xyz.com",
            "city": "",
        }
        platform = Platform(sandbox.url)
        try:
            answer = platform.update(
                urn="389", cardProfileId="150", emailId="now@example.com", city="Pune"
            )
        finally:
            platform.close()
        assert answer["responseCode"] == "00", answer
        now = urns(sandbox.url)[0]
    assert (now["email"], now["city"]) == ("now@example.com", "Pune")


def test_the_seed_is_the_same_for_every_count_as_far_as_it_goes() -> None:
    default, bigger = seed.build(), seed.build(600)
    assert bigger.customers[: 1 + seed.GENERATED] == default.customers[: 1 + seed.GENERATED]
    assert seed.build(600) == bigger  # deterministic
    assert len(bigger.customers) == 1 + 600 + len(WALLETS)


def test_many_customers_keep_the_fixed_ones_and_every_identifier_unique() -> None:
    data = seed.build(5000)
    mobiles = Counter(customer.mobile for customer in data.customers)
    assert mobiles[DUPLICATE_MOBILE] == 2
    assert [m for m, n in mobiles.items() if n > 1] == [DUPLICATE_MOBILE]
    emails = Counter(customer.email.lower() for customer in data.customers)
    assert [e for e, n in emails.items() if n > 1] == [DUPLICATE_EMAIL]
    assert len({card.urn for card in data.cards}) == len(data.cards)
    with_cards = {card.customer for card in data.cards}
    cardless = [c.customer_id for c in data.customers if c.id not in with_cards]
    assert cardless == [CARDLESS_CUSTOMER_ID]
    assert {w.urn for w in WALLETS} <= {card.urn for card in data.cards}


@pytest.mark.slow
def test_the_largest_seed_stays_below_the_wallets() -> None:
    data = seed.build(seed.MAX_GENERATED)
    generated = [card.urn for card in data.cards if card.urn not in {w.urn for w in WALLETS}]
    assert max(generated) < min(w.urn for w in WALLETS)
    assert len({c.mobile for c in data.customers}) == len(data.customers) - 1


def test_a_database_refuses_another_count_and_reset_changes_it(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    Store.open(db).close()
    with pytest.raises(SeededOtherwise, match="holds 240 generated customers, not 500"):
        Store.open(db, 500)
    store = Store.open(db, 240)
    try:
        store.reseed(500)
        assert store.generated() == 500
        store.reseed()  # the count it has
        assert store.generated() == 500
    finally:
        store.close()
    Store.open(db, 500).close()
    assert len(generated_ids(db)) == 500


def test_the_control_reset_keeps_the_count(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with running(db, customers=50) as sandbox:
        answer = httpx.post(sandbox.url + "/__sandbox/reset", json={"seed": True}, timeout=10)
        assert answer.status_code == 200, answer.text
    assert len(generated_ids(db)) == 50


def test_wibmo_sandbox_customers_refuses_a_database_of_another_count(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Any] = []
    monkeypatch.setattr("wibmo_cli.sandbox.serve", lambda s, *a, **k: served.append(s))
    db = str(tmp_path / "sandbox.db")
    assert cli("sandbox", "--db", db).exit_code == 0  # a new database: the default count
    result = cli("sandbox", "--customers", "500", "--db", db)
    assert_one_line_error(result, 2, "holds 240 generated customers")
    assert f"wibmo sandbox reset --customers 500 --db {db}" in result.stderr
    reset = cli("sandbox", "reset", "--customers", "500", "--db", db, "-o", "json")
    assert reset.exit_code == 0, reset.stderr
    assert json.loads(reset.stdout)["customers"] == 1 + 500 + len(WALLETS)
    assert cli("sandbox", "--customers", "500", "--db", db).exit_code == 0
    assert [s.customers for s in served] == [None, 500]


@pytest.mark.parametrize("count", ["5", "100001"])
def test_a_count_out_of_range_is_one_line(cli: Invoke, tmp_path: Path, count: str) -> None:
    db = tmp_path / "sandbox.db"
    for args in (("sandbox",), ("sandbox", "reset")):
        result = cli(*args, "--customers", count, "--db", str(db))
        assert_one_line_error(result, 2, f"--customers {count}: customers must be 10-100,000")
    assert not db.exists()

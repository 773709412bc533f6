"""The sandbox's demo data and its database: deterministic, varied, valid, quick."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from wibmo_cli import kyc, validate
from wibmo_cli.errors import InputError
from wibmo_cli.sandbox import seed
from wibmo_cli.sandbox.model import display_date
from wibmo_cli.sandbox.store import Store


@pytest.fixture(scope="module")
def data() -> seed.SeedData:
    return seed.build()


def generated(data: seed.SeedData) -> list[int]:
    return [c.id for c in data.customers if c.customer_id != seed.SAMPLE_CUSTOMER_ID]


def test_deterministic(data: seed.SeedData) -> None:
    assert seed.build() == data


def test_sample_customer(data: seed.SeedData) -> None:
    sample = data.customers[0]
    assert (sample.customer_id, sample.first_name, sample.last_name) == (
        "custid_V3_juyWqcUUxz",
        "ABC",
        "LastName",
    )
    assert (sample.mobile, sample.email, sample.dob) == ("9897123456", "abc@xyz.com", "19930711")
    (card,) = [c for c in data.cards if c.customer == sample.id]
    assert (card.urn, card.card_number, card.profile_id, card.balance) == (
        389,
        "179947 XXXXXX 4216",
        150,
        100000,
    )
    docs = [d.doc_type for d in data.documents if d.customer == sample.id]
    assert docs == ["Passport", "Aadhar", "VoterId", "Pancard", "Driverlicense"]


def test_volume_and_variety(data: seed.SeedData) -> None:
    assert len(generated(data)) >= 200
    per_customer = Counter(c.customer for c in data.cards)
    assert set(per_customer.values()) == {1, 2, 3}
    assert {c.profile_id for c in data.cards} == set(kyc.PROFILES)
    assert {c.status for c in data.cards} >= {0, 1, 2, 3, 5, 6}
    assert all(c.status_description for c in data.cards)
    assert {d.doc_type for d in data.documents} == set(validate.DOC_TYPES)
    balances = [c.balance for c in data.cards]
    assert min(balances) == 0 and max(balances) > 100000
    assert any(c.extra != "{}" for c in data.customers)


def test_generated_values_are_valid(data: seed.SeedData) -> None:
    sample_id = data.customers[0].id
    for customer in data.customers[1:]:
        validate.mobile(customer.mobile)
        validate.email(customer.email)
        validate.customer_id(customer.customer_id)
        validate.date_yyyymmdd(customer.dob, past=True)
        validate.zip_code(customer.zip_code)
        validate.name(customer.first_name)
        validate.name(customer.last_name)
        validate.gender(customer.gender)
        assert display_date(customer.dob) != customer.dob
    for doc in data.documents:
        if doc.customer != sample_id:
            assert validate.document(doc.doc_type, doc.doc_number) == (
                doc.doc_type,
                doc.doc_number,
            )
    urns = [c.urn for c in data.cards if c.customer != sample_id]
    assert len(set(urns)) == len(urns)
    assert all(len(str(urn)) == 10 for urn in urns)


def test_sample_documents_are_kept_even_where_invalid(data: seed.SeedData) -> None:
    with pytest.raises(InputError):  # "1234 5678 6015" starts with 1: not a real Aadhaar
        validate.aadhaar("1234 5678 6015")


def test_special_customers(data: seed.SeedData) -> None:
    mobiles = Counter(c.mobile for c in data.customers)
    assert mobiles[seed.DUPLICATE_MOBILE] == 2
    assert [m for m, n in mobiles.items() if n > 1] == [seed.DUPLICATE_MOBILE]
    emails = Counter(c.email.lower() for c in data.customers)
    assert emails[seed.DUPLICATE_EMAIL] == 2
    carded = {c.customer for c in data.cards}
    cardless = [c.customer_id for c in data.customers if c.id not in carded]
    assert cardless == [seed.CARDLESS_CUSTOMER_ID]


def test_new_database_is_seeded_quickly_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sandbox.db"
    started = time.perf_counter()
    store = Store.open(path)
    elapsed = time.perf_counter() - started
    store.close()
    assert elapsed < 1.0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] >= 201


def test_existing_database_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE customers SET first_name = 'Kept' WHERE id = 1")
    store = Store.open(path)
    try:
        customer = store.customer(1)
    finally:
        store.close()
    assert customer is not None and customer.first_name == "Kept"

"""The sandbox's SQLite database: schema, seeding, the queries and the updates.

One connection per server, used only from its event-loop thread. WAL mode with
``synchronous=OFF``: every request commits (its clientTxnId is remembered for
duplicate detection), and that must stay cheap: a commit never waits for the disk (the
WAL's checkpoints fsynced under NORMAL, about 65 us a request on the event loop). A
commit survives wibmo crashing or being killed; only the machine losing power may lose
the last ones, and a sandbox's test data can afford that. Locking, and so sharing one
database between processes, is the same in every mode.

Several processes may share one database (`wibmo sandbox`, its workers, and any number
of commands running the embedded sandbox). What lookups read is kept between requests
(`Store.remembered`) only while the database's change stamp stays the same: triggers
give it a new random value on every insert, update or delete of a customer, card or
document, whichever process or program makes it, and each request's transaction reads
it with its clientTxnId, so an update is seen by the next request in every process.
Each request is one ``BEGIN IMMEDIATE`` transaction (`Store.transaction`), so the
accosaTransactionId and accosaRefNo it draws are read from the database under the write
lock and cannot be drawn twice; a new database is created and seeded once, under that
same lock; and a connection waits up to `BUSY_TIMEOUT` seconds for another process's
transaction, in sleeps from 50 us (`Store._begin`; SQLite's own wait sleeps 1 ms at
least, the time of several requests, with the event loop blocked).

The database holds whole document numbers: a new file is created 0600 (SQLite gives
its -wal and -shm files the same mode), and a data directory created here 0700.

A database remembers how many customers its seed generated (``meta``: customers; one
made before it had `seed.GENERATED`): opened asking for another count, it is refused
(`SeededOtherwise`) rather than silently reseeded, and `reseed` keeps the count unless
told another.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import asdict, astuple, dataclass
from pathlib import Path
from typing import Any, Final, TypeVar, cast

import wibmo_cli.sandbox.seed as seed
from wibmo_cli.sandbox.model import (
    CARD_COLUMNS,
    CUSTOMER_COLUMNS,
    DOCUMENT_COLUMNS,
    Card,
    Customer,
    Document,
)

T = TypeVar("T")

SCHEMA_VERSION: Final = "1"
FIRST_ACCOSA_ID: Final = 7442  # the retrieve document's sample answer is 7441
FIRST_REF_NO: Final = 123212  # the update document's sample accosaRefNo
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
BUSY_TIMEOUT: Final = 10.0  # seconds a connection waits for another's write lock
_FIRST_WAIT: Final = 50e-6  # seconds; then doubled each time the lock is still held
_LONGEST_WAIT: Final = 0.005
REMEMBERED: Final = 8192  # lookups' findings kept at most (then forgotten, all at once)

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL,
    mobile TEXT NOT NULL, email TEXT NOT NULL, alternate_email TEXT NOT NULL,
    dob TEXT NOT NULL, gender TEXT NOT NULL,
    address TEXT NOT NULL, address1 TEXT NOT NULL, address2 TEXT NOT NULL,
    address3 TEXT NOT NULL, city TEXT NOT NULL, state TEXT NOT NULL,
    country TEXT NOT NULL, zip_code TEXT NOT NULL,
    pan_valid INTEGER NOT NULL, re_kyc INTEGER NOT NULL, extra TEXT NOT NULL,
    created_on TEXT NOT NULL, updated_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_mobile ON customers (mobile);
CREATE INDEX IF NOT EXISTS customers_email ON customers (email COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS cards (
    urn INTEGER PRIMARY KEY,
    customer INTEGER NOT NULL REFERENCES customers (id),
    card_number TEXT NOT NULL, card_type TEXT NOT NULL,
    status INTEGER NOT NULL, status_description TEXT NOT NULL,
    entity_name TEXT NOT NULL, profile_id INTEGER NOT NULL, balance INTEGER NOT NULL,
    created_on TEXT NOT NULL, updated_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cards_customer ON cards (customer);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    customer INTEGER NOT NULL REFERENCES customers (id),
    doc_type TEXT NOT NULL, doc_number TEXT NOT NULL,
    doc_country TEXT NOT NULL, doc_expiry TEXT NOT NULL,
    UNIQUE (customer, doc_type)
);
CREATE TABLE IF NOT EXISTS txns (
    client_txn_id TEXT PRIMARY KEY,
    accosa_id INTEGER NOT NULL UNIQUE,
    api TEXT NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
"""

# The change stamp (`Store.remembered`): a new random value whenever what a lookup
# reads changes. A trigger body holds a semicolon, so these are run one by one.
_STAMPED: Final = ("customers", "cards", "documents")
_NEW_STAMP: Final = "UPDATE meta SET value = hex(randomblob(8)) WHERE key = 'changes'"
_TRIGGERS: Final = {
    f"{table}_{event.lower()}": f"AFTER {event} ON {table} BEGIN {_NEW_STAMP}; END"
    for table in _STAMPED
    for event in ("INSERT", "UPDATE", "DELETE")
}
_STAMP_ROW: Final = "INSERT OR {} INTO meta (key, value) VALUES ('changes', hex(randomblob(8)))"

# Update Profile may change these customer columns, nothing else.
UPDATABLE: Final = frozenset(CUSTOMER_COLUMNS) - {"id", "customer_id", "extra", "created_on"}


def _select(table: str, columns: tuple[str, ...], where: str) -> str:
    """A SELECT over the dataclass's columns (never built from input)."""
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {where}"  # noqa: S608


_SELECT_CUSTOMER: Final = _select("customers", CUSTOMER_COLUMNS, "id = ?")
_SELECT_CARDS: Final = _select("cards", CARD_COLUMNS, "customer = ? ORDER BY created_on, urn")
_SELECT_DOCS: Final = _select("documents", DOCUMENT_COLUMNS, "customer = ? ORDER BY id")


class SeededOtherwise(Exception):
    """The database holds another count of generated customers than the one asked for."""

    def __init__(self, path: Path, held: int, wanted: int) -> None:
        super().__init__(f"{path} holds {held:,} generated customers, not {wanted:,}")
        self.path = path
        self.held = held
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class Addressed:
    """A customer as a test or a bench addresses them: one URN and what they hold now."""

    urn: int
    customer_id: str
    mobile: str
    email: str
    city: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Store:
    """Customers, cards, documents and seen clientTxnIds, in one SQLite file."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._stamp: str | None = None  # the change stamp `_remembered` was found under
        self._fresh = False  # this transaction read the stamp: `_remembered` may serve
        self._remembered: dict[Hashable, Any] = {}

    @classmethod
    def open(cls, path: Path, customers: int | None = None) -> Store:
        """Open ``path``, creating and seeding it when it is new (with ``customers``
        generated customers; None: `seed.GENERATED`). Given a count, a database seeded
        with another is `SeededOtherwise`; None takes whatever it holds."""
        _create_private(path)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA foreign_keys=ON")
            store = cls(conn)
            with store._locked():
                for statement in _statements(SCHEMA):
                    conn.execute(statement)
                seeded = conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
                if seeded is None:
                    _seed(conn, seed.GENERATED if customers is None else customers)
                elif customers is not None and store.generated() != customers:
                    raise SeededOtherwise(path, store.generated(), customers)
                else:  # made by an earlier version, maybe: the stamp and its triggers
                    _stamp(conn, new=False)
            conn.execute("PRAGMA busy_timeout = 0")  # from now on `_begin` waits
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One request's work: ``BEGIN IMMEDIATE`` (the write lock, waited for), then
        COMMIT, or ROLLBACK when the body raises."""
        with self._locked():
            try:
                yield
            finally:
                self._fresh = False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._begin()
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:  # SQLite may have rolled back already
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``: the write lock, waited for up to `BUSY_TIMEOUT` seconds
        while another connection holds it (a request's transaction holds it for tens of
        microseconds), in sleeps from `_FIRST_WAIT` doubling to `_LONGEST_WAIT`."""
        wait, deadline = _FIRST_WAIT, time.monotonic() + BUSY_TIMEOUT  # SQLite's own
        while True:  # wait (while opening) counts too
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY:  # or BUSY_*
                    raise
                now = time.monotonic()
                if now >= deadline:
                    raise
                time.sleep(min(wait, deadline - now))
                wait = min(wait * 2, _LONGEST_WAIT)

    def _note_stamp(self, stamp: str | None) -> None:
        """The change stamp as this transaction read it: what was remembered under
        another is forgotten."""
        if stamp != self._stamp or stamp is None:
            self._remembered.clear()
            self._stamp = stamp
        self._fresh = stamp is not None

    def remembered(self, key: Hashable, find: Callable[[], T]) -> T:
        """What ``find()`` returns, kept for ``key`` until a customer, card or document
        changes (in any process). For reads after `remember_txn` in a `transaction`
        (which reads the stamp), of what the request itself does not change; elsewhere
        ``find()`` is simply called. What ``find`` raises is not kept."""
        if not self._fresh:
            return find()
        try:
            return cast(T, self._remembered[key])
        except KeyError:
            pass
        value = find()
        if len(self._remembered) >= REMEMBERED:
            self._remembered.clear()
        self._remembered[key] = value
        return value

    def generated(self) -> int:
        """How many customers this database's seed generated."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'customers'").fetchone()
        return seed.GENERATED if row is None else int(row[0])

    # -- transactions ------------------------------------------------------------------

    def remember_txn(self, client_txn_id: str, api: str, at: str) -> int | None:
        """A new accosaTransactionId for ``client_txn_id``, or None when it was seen before.

        The id is the database's highest plus one, drawn inside the caller's transaction
        (which holds the write lock): whatever other processes wrote is counted. The
        change stamp is read with it (`remembered`).
        """
        row = self._conn.execute(
            "INSERT INTO txns (client_txn_id, accosa_id, api, at) "
            "SELECT ?, max(coalesce(max(accosa_id), 0), ?) + 1, ?, ? FROM txns "
            "WHERE true ON CONFLICT (client_txn_id) DO NOTHING "
            "RETURNING accosa_id, (SELECT value FROM meta WHERE key = 'changes')",
            (client_txn_id, FIRST_ACCOSA_ID - 1, api, at),
        ).fetchone()
        if row is None:
            return None
        self._note_stamp(row[1])
        return int(row[0])

    def next_ref_no(self) -> int:
        """The next accosaRefNo (the update document's auto-generated sequence number),
        from a sequence row in ``meta``, in the caller's transaction."""
        row = self._conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'ref_no' "
            "RETURNING value"
        ).fetchone()
        if row is not None:
            return int(row[0])
        # A database made before the sequence row: start where the old counter would have.
        last = self._conn.execute("SELECT max(accosa_id) FROM txns").fetchone()[0]
        ref = FIRST_REF_NO + max(int(last or 0) - FIRST_ACCOSA_ID, -1) + 1
        self._conn.execute("INSERT INTO meta (key, value) VALUES ('ref_no', ?)", (str(ref),))
        return ref

    # -- finding customers -------------------------------------------------------------

    def _ids(self, sql: str, value: object) -> list[int]:
        return [row[0] for row in self._conn.execute(sql, (value,))]

    def by_mobile(self, mobile10: str) -> list[int]:
        return self._ids("SELECT id FROM customers WHERE mobile = ? ORDER BY id", mobile10)

    def by_email(self, email: str) -> list[int]:
        return self._ids(
            "SELECT id FROM customers WHERE email = ? COLLATE NOCASE ORDER BY id", email
        )

    def by_customer_id(self, customer_id: str) -> list[int]:
        return self._ids("SELECT id FROM customers WHERE customer_id = ?", customer_id)

    def by_urn(self, urn: int) -> list[int]:
        if not _INT64_MIN <= urn <= _INT64_MAX:  # SQLite cannot bind it; no card has it
            return []
        return self._ids("SELECT customer FROM cards WHERE urn = ?", urn)

    # -- reading -----------------------------------------------------------------------

    def customer(self, rowid: int) -> Customer | None:
        row = self._conn.execute(_SELECT_CUSTOMER, (rowid,)).fetchone()
        return None if row is None else _customer(row)

    def cards(self, rowid: int) -> list[Card]:
        return [Card(*row) for row in self._conn.execute(_SELECT_CARDS, (rowid,))]

    def documents(self, rowid: int) -> list[Document]:
        return [Document(*row) for row in self._conn.execute(_SELECT_DOCS, (rowid,))]

    def every_customer(self) -> list[Customer]:
        """Every customer, in id order (`wibmo sandbox customers` picks from them)."""
        rows = self._conn.execute(_select("customers", CUSTOMER_COLUMNS, "true ORDER BY id"))
        return [_customer(row) for row in rows]

    def urns(self) -> list[Addressed]:
        """One URN per customer with a card (the first, as `cards` orders them), in
        customer order, with what the customer holds now."""
        rows = self._conn.execute(
            "SELECT (SELECT urn FROM cards WHERE customer = customers.id "
            "ORDER BY created_on, urn LIMIT 1) AS first_urn, "
            "customer_id, mobile, email, city FROM customers "
            "WHERE first_urn IS NOT NULL ORDER BY id"
        )
        return [Addressed(*row) for row in rows]

    def every_card(self) -> list[Card]:
        """Every card, by customer then as `cards` orders them."""
        sql = _select("cards", CARD_COLUMNS, "true ORDER BY customer, created_on, urn")
        return [Card(*row) for row in self._conn.execute(sql)]

    # -- writing (the caller commits) --------------------------------------------------

    def reseed(self, customers: int | None = None) -> None:
        """The seed again (`wibmo sandbox reset`): every customer, card and document, the
        remembered clientTxnIds and the sequences as a new database has them, in one
        transaction; ``customers`` generated ones (None: as many as before). Another
        process (a running sandbox) sees the old data or the new, never a mix, and needs
        no restart: the change stamp is new, so it forgets what it remembered."""
        with self.transaction():
            count = self.generated() if customers is None else customers
            _drop_triggers(self._conn)  # one per deleted row otherwise; `_seed` makes them
            for table in ("documents", "cards", "customers", "txns", "meta"):
                self._conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
            _seed(self._conn, count)

    def update_customer(self, rowid: int, changes: dict[str, str]) -> None:
        """Set customer columns (only those in `UPDATABLE`)."""
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if not changes:
            return
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self._conn.execute(
            f"UPDATE customers SET {assignments} WHERE id = ?",  # noqa: S608 (column whitelist)
            (*changes.values(), rowid),
        )

    def touch_cards(self, rowid: int, day: str) -> None:
        self._conn.execute("UPDATE cards SET updated_on = ? WHERE customer = ?", (day, rowid))

    def set_profile(self, urns: list[int], profile_id: int) -> None:
        self._conn.executemany(
            "UPDATE cards SET profile_id = ? WHERE urn = ?", [(profile_id, urn) for urn in urns]
        )

    def merge_documents(self, documents: list[Document]) -> None:
        """Insert each document, or replace the customer's document of the same type."""
        self._conn.executemany(
            "INSERT INTO documents (customer, doc_type, doc_number, doc_country, doc_expiry) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer, doc_type) DO UPDATE SET "
            "doc_number = excluded.doc_number, "
            "doc_country = coalesce(nullif(excluded.doc_country, ''), doc_country), "
            "doc_expiry = coalesce(nullif(excluded.doc_expiry, ''), doc_expiry)",
            [astuple(doc) for doc in documents],
        )


def _customer(row: Any) -> Customer:
    customer = Customer(*row)
    customer.pan_valid = bool(customer.pan_valid)
    customer.re_kyc = bool(customer.re_kyc)
    return customer


def foreign(path: Path) -> str | None:
    """Why `path` is not a sandbox database (it holds other data: reset must not empty
    it), or None when it is one, is empty, or is not there yet."""
    try:
        if path.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'seeded'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"not a sandbox database ({exc})"
    return None if row is not None else "not a sandbox database (it was never seeded)"


def _seed(conn: sqlite3.Connection, customers: int) -> None:
    """Insert the seed, in the caller's transaction; the change stamp's triggers are
    dropped meanwhile (one per row would cost a seed of 100,000 customers 15 %)."""
    data = seed.build(customers)
    _drop_triggers(conn)

    def insert(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            rows,
        )

    insert("customers", CUSTOMER_COLUMNS, [astuple(c) for c in data.customers])
    insert("cards", CARD_COLUMNS, [astuple(c) for c in data.cards])
    insert("documents", DOCUMENT_COLUMNS, [astuple(d) for d in data.documents])
    conn.execute(
        "INSERT INTO meta (key, value) VALUES "
        "('seeded', ?), ('schema', ?), ('ref_no', ?), ('customers', ?)",
        (str(seed.SEED), SCHEMA_VERSION, str(FIRST_REF_NO - 1), str(customers)),
    )
    _stamp(conn, new=True)


def _stamp(conn: sqlite3.Connection, *, new: bool) -> None:
    """The change stamp's row and triggers (`Store.remembered`); ``new``: a new value."""
    for name, body in _TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    conn.execute(_STAMP_ROW.format("REPLACE" if new else "IGNORE"))


def _drop_triggers(conn: sqlite3.Connection) -> None:
    for name in _TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")


def _statements(script: str) -> list[str]:
    """The statements of `SCHEMA` (no semicolons inside them), to run in one transaction."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def _create_private(path: Path) -> None:
    """Create the database file 0600 (and its directory 0700) unless it exists.

    SQLite would create it with the umask's mode (0644); created here first, it and the
    -wal and -shm files SQLite adds beside it (which take its mode) are the owner's only.
    An existing file is left as it is.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)

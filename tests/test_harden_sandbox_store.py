"""Issue 9, items 10 and 13: several processes on one sandbox database; its file modes.

`wibmo sandbox` and every command using an embedded profile open the same
``$WIBMO_DATA_DIR/sandbox.db``; each must keep working whatever the others write, a new
database must be seeded exactly once however many commands start at once, and the file
(it holds whole document numbers) must be the owner's only.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import (
    Invoke,
    Platform,
    data_dir,
    query,
    run_text,
    running,
    sandbox_process,
    start_text,
    write_demo_profiles,
)

from wibmo_cli.sandbox import SAMPLE_MOBILE, SAMPLE_URN, seed
from wibmo_cli.sandbox.store import Store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 10: ids from the database, seeding once --------------------------------------------


def test_two_sandboxes_on_one_database_take_turns(tmp_path: Path) -> None:
    """Two servers (two connections) on one file, interleaved: every request is answered
    as itself, never 1054, and every accosaTransactionId / accosaRefNo is new."""
    db = tmp_path / "shared.db"
    with running(db) as first, running(db) as second:
        clients = [Platform(first.url), Platform(second.url)]
        try:
            accosa: list[int] = []
            refs: list[int] = []
            for turn in range(8):
                client = clients[turn % 2]
                answer = client.lookup(customerMobile=SAMPLE_MOBILE)
                assert answer["responseCode"] == "00", answer
                accosa.append(answer["accosaTransactionId"])
                update = client.update(
                    urn=SAMPLE_URN, cardProfileId=150, emailId=f"turn{turn}@example.com"
                )
                assert update["responseCode"] == "00", update
                accosa.append(update["accosaTransactionId"])
                refs.append(update["accosaRefNo"])
            assert accosa == sorted(set(accosa)), accosa
            assert refs == sorted(set(refs)), refs
            other = clients[0].lookup(urn=SAMPLE_URN)
            assert other["cardList"][0]["email"] == "turn7@example.com"
        finally:
            for client in clients:
                client.close()


def test_a_txn_id_seen_by_another_process_is_still_a_duplicate(tmp_path: Path) -> None:
    """The check that stays: a clientTxnId really used before is 1054, wherever it came."""
    db = tmp_path / "shared.db"
    with running(db) as first, running(db) as second:
        one, two = Platform(first.url), Platform(second.url)
        try:
            assert one.lookup(urn=SAMPLE_URN, clientTxnId="SAME-1")["responseCode"] == "00"
            assert two.lookup(urn=SAMPLE_URN, clientTxnId="SAME-1")["responseCode"] == "1054"
            assert two.lookup(urn=SAMPLE_URN, clientTxnId="OTHER-1")["responseCode"] == "00"
        finally:
            one.close()
            two.close()


def _raw_update(db: Path, sql: str, *args: object) -> None:
    """A change made behind the sandbox's back: another program on the same file."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        with conn:
            conn.execute(sql, args)
    finally:
        conn.close()


def test_a_lookup_sees_every_change_made_by_any_program_at_its_next_request(
    tmp_path: Path,
) -> None:
    """What lookups read is remembered between requests; a change to a customer, a card
    or a document, made by any program, is seen by the next one all the same."""
    db = tmp_path / "shared.db"
    with running(db) as sandbox:
        client = Platform(sandbox.url)
        try:
            first = client.lookup(urn=SAMPLE_URN)["cardList"][0]
            assert client.lookup(urn=SAMPLE_URN)["cardList"][0] == first  # remembered
            _raw_update(db, "UPDATE customers SET email = 'raw@example.com' WHERE id = 1")
            assert client.lookup(urn=SAMPLE_URN)["cardList"][0]["email"] == "raw@example.com"
            _raw_update(db, "UPDATE cards SET balance = 4242 WHERE urn = ?", int(SAMPLE_URN))
            assert client.lookup(urn=SAMPLE_URN)["cardList"][0]["availableBalance"] == 4242
            _raw_update(db, "UPDATE documents SET doc_number = 'ZZ' WHERE customer = 1")
            docs = client.lookup(urn=SAMPLE_URN)["cardList"][0]["docList"]
            assert {doc["docNumber"] for doc in docs} == {"ZZ"}
            _raw_update(db, "DELETE FROM cards WHERE urn = ?", int(SAMPLE_URN))
            assert client.lookup(urn=SAMPLE_URN)["responseCode"] == "1303"
        finally:
            client.close()


def test_a_database_made_before_the_change_stamp_gets_it_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:  # as an earlier version left it
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM meta WHERE key = 'changes'")
    with running(db) as sandbox:
        client = Platform(sandbox.url)
        try:
            assert client.lookup(urn=SAMPLE_URN)["responseCode"] == "00"
            _raw_update(db, "UPDATE customers SET first_name = 'Raw' WHERE id = 1")
            assert client.lookup(urn=SAMPLE_URN)["cardList"][0]["firstName"] == "Raw"
        finally:
            client.close()
    assert query(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == [(9,)]


def test_a_transaction_waits_for_another_connections_write_lock(tmp_path: Path) -> None:
    """SQLite's own wait is off (it sleeps 1 ms at least, the event loop blocked); the
    store's waits in short sleeps for as long as the other holds the lock."""
    db = tmp_path / "held.db"
    store = Store.open(db)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, holder.execute, ("COMMIT",))
        release.start()
        with store.transaction():
            assert store.remember_txn("WAITED-1", "lookup", "20240101120000") is not None
        release.join()
    finally:
        holder.close()
        store.close()
    assert query(db, "SELECT count(*) FROM txns WHERE client_txn_id = 'WAITED-1'") == [(1,)]


def test_four_stores_opened_at_once_on_a_new_file_seed_it_once(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sandbox.db"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            Store.open(path).close()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    expected = len(seed.build().customers)
    assert query(path, "SELECT count(*) FROM customers") == [(expected,)]


def test_a_database_made_before_the_ref_no_sequence_continues_it(tmp_path: Path) -> None:
    """A sandbox.db from an earlier version (no sequence row) keeps working."""
    db = tmp_path / "old.db"
    Store.open(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'ref_no'")
    with running(db) as sandbox:
        client = Platform(sandbox.url)
        try:
            first = client.update(urn=SAMPLE_URN, cardProfileId=150, city="Pune")
            second = client.update(urn=SAMPLE_URN, cardProfileId=150, city="Agra")
        finally:
            client.close()
    assert first["responseCode"] == second["responseCode"] == "00"
    assert second["accosaRefNo"] == first["accosaRefNo"] + 1


@pytest.mark.slow
def test_wibmo_sandbox_and_embedded_commands_share_one_data_dir() -> None:
    """`wibmo sandbox` running, embedded-profile lookups and updates from other processes
    in between its own requests: every one is answered 00."""
    with sandbox_process("-p", "demo") as url:
        write_demo_profiles(url)
        steps = [
            ("served", "lookup", "--mobile", SAMPLE_MOBILE),
            ("local", "lookup", "--mobile", SAMPLE_MOBILE),
            ("served", "lookup", "--mobile", SAMPLE_MOBILE),
            ("local", "update-profile", "--urn", "389", "--email", "one@example.com", "--yes"),
            ("served", "update-profile", "--urn", "389", "--email", "two@example.com", "--yes"),
            ("local", "lookup", "--urn", "389"),
            ("served", "lookup", "--urn", "389"),
        ]
        answers = []
        for profile, *args in steps:
            result = run_text("-p", profile, "-o", "json", *args)
            assert result.returncode == 0, (profile, args, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr
            answers.append(json.loads(result.stdout))
    assert all(answer["responseCode"] == "00" for answer in answers)
    assert answers[-2]["cardList"][0]["email"] == "two@example.com"
    assert answers[-1]["cardList"][0]["email"] == "two@example.com"
    ids = [answer["accosaTransactionId"] for answer in answers]
    assert len(set(ids)) == len(ids), ids


@pytest.mark.slow
def test_four_concurrent_first_runs_on_an_empty_data_dir_all_succeed() -> None:
    assert not data_dir().exists()
    processes = [start_text("-o", "json", "lookup", "--mobile", SAMPLE_MOBILE) for _ in range(4)]
    results = [process.communicate(timeout=60) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, (out, err)
        assert json.loads(out)["responseCode"] == "00"
        assert "Traceback" not in err and "UNIQUE" not in err
    expected = len(seed.build().customers)
    assert query(data_dir() / "sandbox.db", "SELECT count(*) FROM customers") == [(expected,)]


# -- item 13: the database is the owner's only -------------------------------------------------


def test_a_new_database_and_its_wal_files_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "made-by-wibmo" / "sandbox.db"
    old = os.umask(0o022)
    try:
        with running(path) as sandbox:
            client = Platform(sandbox.url)
            try:
                assert client.lookup(urn=SAMPLE_URN)["responseCode"] == "00"
            finally:
                client.close()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(file.exists() for file in files)
            assert {file.name: _mode(file) for file in files} == {
                file.name: 0o600 for file in files
            }
    finally:
        os.umask(old)
    assert _mode(path.parent) == 0o700


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    Store.open(folder / "sandbox.db").close()
    assert _mode(folder) == 0o755
    assert _mode(folder / "sandbox.db") == 0o600


def test_the_embedded_sandbox_creates_a_private_data_dir(wibmo: Invoke) -> None:
    old = os.umask(0o022)
    try:
        result = wibmo("lookup", "--mobile", SAMPLE_MOBILE, "-o", "json")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    assert _mode(data_dir()) == 0o700
    assert _mode(data_dir() / "sandbox.db") == 0o600


def test_a_database_locked_too_long_is_a_503_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from wibmo_cli.sandbox import store

    monkeypatch.setattr(store, "BUSY_TIMEOUT", 0.2)
    db = tmp_path / "locked.db"
    with running(db) as sandbox:
        client = Platform(sandbox.url)
        holder = sqlite3.connect(db, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            response = client.send("POST", "/api/v2/customer/retrieveCustRecord", {})
            assert response.status_code == 503
            assert "database" in response.json()["message"]
            holder.execute("ROLLBACK")
            assert client.lookup(urn=SAMPLE_URN)["responseCode"] == "00"
        finally:
            holder.close()
            client.close()
    assert "Traceback" not in caplog.text


def test_an_answered_request_is_remembered_even_when_the_sandbox_is_killed(
    db_path: Path,
) -> None:
    """synchronous=OFF (no fsync on the event loop): a commit still reaches the database
    file's WAL before the answer leaves, so SIGKILL right after loses nothing."""
    code = f"""
import os, signal, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from support import LOOKUP, Platform, running
with running(Path({str(db_path)!r})) as sandbox:
    platform = Platform(sandbox.url)
    answer = platform.answer(platform.send("POST", LOOKUP, {{
        "messageCode": 1930, "clientTxnId": "KILLED0000001", "urn": "389"}}))
    assert answer["responseCode"] == "00", answer
    os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    store = Store.open(db_path)  # the sandbox opens it again, and it remembers the id
    try:
        assert store.remember_txn("KILLED0000001", "lookup", "20240101120000") is None
    finally:
        store.close()


def test_opening_a_locked_database_waits_busy_timeout_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own wait while opening and the store's own are one wait, not two."""
    from wibmo_cli.sandbox import store

    monkeypatch.setattr(store, "BUSY_TIMEOUT", 1.0)
    db = tmp_path / "locked.db"
    Store.open(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            Store.open(db)
        waited = time.monotonic() - started
    finally:
        holder.close()
    assert 0.9 <= waited < 1.7, waited  # two waits took 2.0 s

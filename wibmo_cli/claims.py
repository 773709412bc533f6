"""Which clientTxnIds this user's bulk applies have handed to the network, whatever their
journal: a plan copied to another name, or applied with another `--journal`, must not
send a row a second time.

A journal makes one apply at most once; this makes every apply of one plan's rows at most
once on this machine. Before a row's "sending" is journaled, its clientTxnId is claimed
here for that journal: a claim by another journal refuses the row ("sent by another
run"); a claim by the same journal (a resume) is no obstacle, the journal decides.

An SQLite table in the user data dir (`claims.db`, 0600): one row per clientTxnId, its
PRIMARY KEY doing the refusing, so two applies running at once on copies of one plan
cannot both claim a row. WAL with synchronous=NORMAL: a claim survives the process being
killed (the journal's own fsync covers a power loss of the row's intent).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

from wibmo_cli.errors import ConfigError
from wibmo_cli.journal import now_iso

FILE: Final = "claims.db"


class Claims:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, data_dir: Path) -> Claims:
        path = data_dir / FILE
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
            conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS claims ("
                "txn TEXT PRIMARY KEY, journal TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID"
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open {path}: {exc}") from None
        return cls(conn, path)

    def claim(self, txn: str, journal: Path) -> str | None:
        """Claim `txn` for `journal`; None when it is this journal's now, else the
        journal that claimed it first."""
        mine = str(journal.resolve())
        try:
            self._conn.execute(
                "INSERT OR IGNORE INTO claims (txn, journal, at) VALUES (?, ?, ?)",
                (txn, mine, now_iso()),
            )
            row = self._conn.execute("SELECT journal FROM claims WHERE txn = ?", (txn,)).fetchone()
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: {exc}") from None
        holder = str(row[0]) if row else mine
        return None if holder == mine else holder

    def close(self) -> None:
        self._conn.close()

"""Which clientTxnIds this user's bulk applies have handed to the network, whatever their
journal: a plan copied to another name, or applied with another `--journal`, must not
send a row a second time.

A journal makes one apply at most once; this makes every apply of one plan's rows at most
once on this machine. Before a row's "sending" is journaled, its clientTxnId is claimed
here for that journal, known by the id in its header (not its path: a journal moved is
the same journal, a journal deleted and begun again is another): a claim by another
journal refuses the row ("sent by another apply"); a claim by the same journal (a
resume) is no obstacle, the journal decides.

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
                "CREATE TABLE IF NOT EXISTS sent (txn TEXT PRIMARY KEY, journal TEXT NOT NULL, "
                "path TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID"
            )
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open {path}: {exc}") from None
        return cls(conn, path)

    def claim(self, txn: str, journal: str, path: Path) -> str | None:
        """Claim `txn` for the journal whose id is `journal` (at `path`); None when it is
        this journal's now, else where the journal that claimed it first was."""
        try:
            self._conn.execute(
                "INSERT OR IGNORE INTO sent (txn, journal, path, at) VALUES (?, ?, ?, ?)",
                (txn, journal, str(path.resolve()), now_iso()),
            )
            row = self._conn.execute(
                "SELECT journal, path FROM sent WHERE txn = ?", (txn,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise ConfigError(f"{self.path}: {exc}") from None
        if row is None or row[0] == journal:
            return None
        return str(row[1])

    def close(self) -> None:
        self._conn.close()

"""Append-only audit log of writes and reveals (DESIGN.md, Reliability).

One JSON object per line in `<data dir>/audit.jsonl` (or `$WIBMO_AUDIT_LOG`, or
`--audit-log`), created 0600. Entries hold who, when, profile, command and masked
identifiers: never a secret, never a whole document number.

The log is opened without following a symbolic link and without waiting on a FIFO, and
must be a regular file. What it guards fails when it cannot be written, before anything
is sent or shown: an update, a dry run, a `--reveal` (`check`, then `record`).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import stat
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wibmo_cli.errors import ConfigError
from wibmo_cli.paths import user_path
from wibmo_cli.textsafe import json_text

FILENAME = "audit.jsonl"


def log_path(override: str | None, env: Mapping[str, str], data_dir: Path) -> Path:
    """Where the log is: `override` (`--audit-log`), else $WIBMO_AUDIT_LOG, else in the
    data dir."""
    explicit = override or env.get("WIBMO_AUDIT_LOG")
    return user_path(explicit) if explicit else data_dir / FILENAME


@dataclass
class AuditLog:
    path: Path
    profile: str = ""

    def record(self, **fields: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "user": _user(),
            "profile": self.profile,
        }
        entry.update({k: v for k, v in fields.items() if v is not None})
        line = (json_text(entry) + "\n").encode()  # a lone surrogate cannot break it
        fd = self._open(os.O_RDWR | os.O_APPEND | os.O_CREAT, "write", write_only_ok=True)
        try:
            if _torn(fd):  # a write cut short (disk full, ulimit -f, kill -9) left half a
                line = b"\n" + line  # line: start on a line of our own, or be lost in it
            while line:  # one write() as a rule; the loop is for a short one
                line = line[os.write(fd, line) :]
        except OSError as exc:
            raise ConfigError(f"cannot write the audit log {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)
        return entry

    def check(self) -> None:
        """Fail now (ConfigError, exit 3) if entries cannot be appended: before anything
        is sent or shown. A log that does not exist yet is not created here: the nearest
        existing folder above it must be a writable directory."""
        if self.path.exists() or self.path.is_symlink():
            os.close(self._open(os.O_WRONLY | os.O_APPEND, "write"))
            return
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        problem = f"cannot write the audit log {self.path}"
        if not folder.is_dir():
            raise ConfigError(f"{problem}: {folder} is not a directory")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConfigError(f"{problem}: {folder} is not writable")

    def _open(self, flags: int, verb: str, *, write_only_ok: bool = False) -> int:
        """The log's descriptor: a symbolic link is not followed, a FIFO not waited on,
        anything but a regular file refused. `write_only_ok`: a log we may append to but
        not read (mode 0200, a shared append-only log) is opened for writing only."""
        problem = f"cannot {verb} the audit log {self.path}"
        try:
            if flags & os.O_CREAT:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
            except PermissionError:
                if not (write_only_ok and flags & os.O_RDWR):
                    raise
                flags = (flags & ~os.O_RDWR) | os.O_WRONLY
                fd = os.open(self.path, flags | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP and self.path.is_symlink():
                raise ConfigError(f"{problem}: it is a symbolic link (not followed)") from None
            if exc.errno == errno.ENXIO:  # a FIFO nobody reads
                raise ConfigError(f"{problem}: not a regular file") from None
            raise ConfigError(f"{problem}: {exc.strerror}") from None
        try:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
        except OSError:
            regular = False
        if not regular:
            os.close(fd)
            raise ConfigError(f"{problem}: not a regular file")
        return fd

    def tail(self, limit: int) -> list[Mapping[str, Any]]:
        """The last `limit` entries, oldest first (bad lines are skipped)."""
        if not self.path.exists():
            return []
        # deque needs a C-sized maxlen: `wibmo audit -n 99999999999999999999` means "all"
        entries: deque[Mapping[str, Any]] = deque(maxlen=min(limit, sys.maxsize))
        fd = self._open(os.O_RDONLY, "read")
        try:
            with os.fdopen(fd, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    with contextlib.suppress(ValueError):
                        value = json.loads(line)
                        if isinstance(value, dict):
                            entries.append(value)
        except OSError as exc:
            raise ConfigError(f"cannot read the audit log {self.path}: {exc.strerror}") from None
        return list(entries)


def _torn(fd: int) -> bool:
    """Whether the file ends without a line feed (its last entry was cut short)."""
    size = os.fstat(fd).st_size
    try:
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
    except OSError:  # opened for writing only: it cannot be told, nor mended
        return False


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid:{os.getuid()}"

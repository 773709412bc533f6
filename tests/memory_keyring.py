"""A keyring backend for tests: entries in memory, or in the JSON file $TEST_KEYRING_FILE
when set (so a wibmo process started with PYTHON_KEYRING_BACKEND=memory_keyring.Keyring
and this directory on PYTHONPATH sees what the test stored). Never the OS keyring."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class Keyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, str] = {}

    def _file(self) -> Path | None:
        name = os.environ.get("TEST_KEYRING_FILE")
        return Path(name) if name else None

    def _load(self) -> dict[str, str]:
        path = self._file()
        if path is not None and path.is_file():
            return dict(json.loads(path.read_text(encoding="utf-8")))
        return self.entries

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}/{username}"] = password
        path = self._file()
        if path is not None:
            path.write_text(json.dumps(entries), encoding="utf-8")
        self.entries = entries

    def delete_password(self, service: str, username: str) -> None:
        self.set_password(service, username, "")

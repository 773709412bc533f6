"""Helpers for tests/test_harden_sandbox*.py: wibmo run as a real process, and
`wibmo sandbox` run as one in the background."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wibmo_cli.profiles import DEMO_PROFILE


def run(*args: str, timeout: float = 30.0, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`python -m wibmo_cli ARGS` in the test's environment and working directory."""
    return subprocess.run(
        [sys.executable, "-m", "wibmo_cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def start(*args: str) -> subprocess.Popen[str]:
    """`python -m wibmo_cli ARGS` started, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-m", "wibmo_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def sandbox_process(*args: str, timeout: float = 15.0) -> Iterator[str]:
    """`wibmo [ARGS] sandbox --port 0` in the background: its URL, then stopped."""
    process = start(*args, "sandbox", "--port", "0")
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        url = ""
        while not url and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                url = process.stdout.readline().strip()
                if not url:
                    break
        assert url.startswith("http://127.0.0.1:"), (url, process.poll())
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        assert "Traceback" not in err, err


def write_demo_profiles(url: str, path: Path | None = None) -> Path:
    """profiles.toml: `served` (the demo's credentials at `url`) and `local` (embedded)."""
    lines: list[str] = ['default_profile = "local"']
    for name, base in (("served", url), ("local", "embedded")):
        lines += ["", f"[profiles.{name}]"]
        for key, value in {**DEMO_PROFILE, "base_url": base, "retries": 0}.items():
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif isinstance(value, int | float):
                shown = str(value)
            else:
                shown = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {shown}")
    path = path or Path.cwd() / "profiles.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def data_dir() -> Path:
    return Path(os.environ["WIBMO_DATA_DIR"])

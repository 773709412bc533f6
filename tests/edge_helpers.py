"""Helpers for the edge tests: wibmo run as a real process (signals, pipes, descriptors)
against a sandbox on loopback, and the audit log it leaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hardening import ENV_VARS, settings, write_profiles

from wibmo_cli.sandbox import Faults, Sandbox

WIBMO = (sys.executable, "-m", "wibmo_cli")


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment (isolated dirs, secrets), no bytecode written (`ulimit -f`)."""
    env = dict(os.environ)
    env.update(ENV_VARS)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@contextmanager
def sandbox(db: Path, *, profile: dict[str, Any] | None = None, **faults: Any) -> Iterator[Sandbox]:
    """A sandbox with these fault knobs, and ./profiles.toml (profile `hard`) pointing at it."""
    running = Sandbox(settings(db, faults=Faults(**faults)))
    running.start()
    try:
        write_profiles(running.url, **(profile or {}))
        yield running
    finally:
        running.stop()


def spawn(*args: str, ignore_ctrl_c: bool = False, **popen: Any) -> subprocess.Popen[bytes]:
    """wibmo as a process; `ignore_ctrl_c`: started with SIGINT ignored, as a shell starts
    a background job (`wibmo ... &` in a script)."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("stdin", subprocess.DEVNULL)
    argv = [*WIBMO, *args]
    if ignore_ctrl_c:
        argv = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *argv]
    return subprocess.Popen(argv, env=child_env(), **popen)


def shell(
    script: str, *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`sh -c SCRIPT` where "$@" is wibmo with `args` (for `>&-`, `ulimit -f`, ...)."""
    return subprocess.run(
        ["sh", "-c", script, "sh", *WIBMO, *args],
        env=child_env(**(env or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def audit_path() -> Path:
    return Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"


def audit_entries(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or audit_path()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def wait_for(condition: Any, seconds: float = 20, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def no_traceback(err: bytes) -> bool:
    return b"Traceback" not in err

"""Shared by the input-file hardening tests: a sandbox on loopback with a profiles file for
it, the CLI as a real process under a memory limit, and output lines read back."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from wibmo_cli.endpoint import sandbox_settings
from wibmo_cli.profiles import DEMO_PROFILE, resolve
from wibmo_cli.sandbox import Faults, Sandbox

MEMORY_LIMIT = 600 << 20  # address space of one CLI run: ample for it, far below gigabytes


@contextmanager
def sandbox_with_profiles(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """A sandbox on loopback speaking the demo profile's protocol, and a profiles file
    (default profile `t`) pointing at it."""
    profile = resolve("t", DEMO_PROFILE, {}, source="test")
    settings = sandbox_settings(profile, tmp_path / "sandbox.db", faults=Faults(seed=9))
    with Sandbox(settings) as sandbox:
        path = tmp_path / "profiles.toml"
        values = {**DEMO_PROFILE, "base_url": sandbox.url}
        body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
        path.write_text(f'default_profile = "t"\n[profiles.t]\n{body}')
        path.chmod(0o600)
        yield sandbox, path


def lookups(sandbox: Sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.api == "lookup")


def records(data: str | bytes) -> list[dict[str, Any]]:
    text = data.decode() if isinstance(data, bytes) else data
    return [json.loads(line) for line in text.splitlines()]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def cli(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "wibmo_cli", *args]


def start(
    args: Sequence[str],
    *,
    stdin: int | IO[Any] = subprocess.DEVNULL,
    stdout: int | IO[Any] = subprocess.PIPE,
    limit_memory: bool = True,
) -> subprocess.Popen[bytes]:
    """`wibmo ARGS` as a real process (its address space capped at `MEMORY_LIMIT`)."""
    return subprocess.Popen(
        cli(args),
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory if limit_memory else None,
        env=dict(os.environ),
    )


@dataclass
class Finished:
    code: int
    stdout: bytes
    stderr: str
    seconds: float


def run(
    args: Sequence[str], *, stdin: int | IO[Any] = subprocess.DEVNULL, timeout: float = 20
) -> Finished:
    """Run `wibmo ARGS` to its end, memory-capped and time-bounded."""
    began = time.monotonic()
    process = start(args, stdin=stdin)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Finished(process.returncode, out, err.decode(), time.monotonic() - began)


def interrupt_after(process: subprocess.Popen[bytes], seconds: float) -> Finished:
    """Let `process` run `seconds` (it must still be running), then Ctrl-C it."""
    began = time.monotonic()
    try:
        time.sleep(seconds)
        assert process.poll() is None, (process.returncode, process.communicate())
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Finished(process.returncode, out or b"", err.decode(), time.monotonic() - began)


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines")

"""`wibmo sandbox --workers N`: several processes serving one port, one database.

Each test runs the real command and talks to it over fresh loopback connections, so the
kernel (SO_REUSEPORT) spreads them over the workers.
"""

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

import httpx
import pytest
from support import WIBMO, Invoke, Platform, assert_one_line_error, write_profiles

from wibmo_cli.sandbox import SAMPLE_URN

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="--workers needs Linux's SO_REUSEPORT"
)


class Served:
    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def workers(self) -> set[int]:
        """The pids of the worker processes (the supervisor's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def status(self) -> dict[str, object]:
        """GET /__sandbox/status over a connection of its own."""
        answer = httpx.get(self.url + "/__sandbox/status", timeout=5)
        assert answer.status_code == 200, answer.text
        value = answer.json()
        assert isinstance(value, dict)
        return value

    def lookup(self, **fields: object) -> dict[str, Any]:
        """A lookup over a connection of its own."""
        client = Platform(self.url)
        try:
            return client.lookup(**fields)
        finally:
            client.close()


@contextmanager
def served(tmp_path: Path, workers: int = 2, new_session: bool = False) -> Iterator[Served]:
    write_profiles("http://127.0.0.1:9")  # the test credentials; the URL is not used here
    args = ("sandbox", "--port", "0", "--db", str(tmp_path / "w.db"), "--workers", str(workers))
    process = subprocess.Popen(
        [*WIBMO, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(20), "no URL within 20 s"
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), (url, process.poll())
        yield Served(process, url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _gone(pids: set[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                alive.add(pid)
        if not alive:
            return True
        time.sleep(0.05)
    return False


def test_connections_are_spread_over_the_workers_sharing_one_database(tmp_path: Path) -> None:
    with served(tmp_path) as sandbox:
        workers = sandbox.workers()
        assert len(workers) == 2
        answering = {sandbox.status()["pid"] for _ in range(40)}
        assert answering == workers  # 2 x 0.5**40: never all on one by chance
        assert {sandbox.status()["workers"] for _ in range(3)} == {2}
        # one clientTxnId over many connections: taken once, a duplicate everywhere else
        codes = [
            sandbox.lookup(urn=SAMPLE_URN, clientTxnId="ONCE-1")["responseCode"] for _ in range(12)
        ]
        assert sorted(codes) == ["00"] + ["1054"] * 11
        # an update through one worker is seen by the next lookup through every worker
        client = Platform(sandbox.url)
        try:
            update = client.update(urn=SAMPLE_URN, cardProfileId=150, emailId="w@example.com")
        finally:
            client.close()
        assert update["responseCode"] == "00", update
        for _ in range(12):
            assert sandbox.lookup(urn=SAMPLE_URN)["cardList"][0]["email"] == "w@example.com"


def test_one_workers_records_and_knobs_are_refused_as_the_sandboxs(tmp_path: Path) -> None:
    with served(tmp_path) as sandbox:
        for method, path in (
            ("GET", "/__sandbox/requests"),
            ("POST", "/__sandbox/faults"),
            ("POST", "/__sandbox/reset"),
        ):
            answer = httpx.request(method, sandbox.url + path, json={}, timeout=5)
            assert answer.status_code == 409, (path, answer.text)
            assert "--workers 1" in answer.json()["message"]
            seed = "wibmo sandbox reset --db PATH" in answer.json()["message"]
            assert seed == (path == "/__sandbox/reset")
        assert httpx.get(sandbox.url + "/__sandbox/faults", timeout=5).status_code == 200
        assert httpx.get(sandbox.url + "/__sandbox/urns", timeout=5).status_code == 200


def test_a_killed_worker_is_started_again_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    with served(tmp_path) as sandbox:
        first = sandbox.workers()
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            victim in sandbox.workers() or len(sandbox.workers()) < 2
        ):
            time.sleep(0.05)
        now = sandbox.workers()
        assert victim not in now and len(now) == 2, now
        assert {sandbox.status()["pid"] for _ in range(40)} == now
        sandbox.process.send_signal(signal.SIGTERM)
        _, err = sandbox.process.communicate(timeout=15)
        assert sandbox.process.returncode == 0, err
        assert "was killed by SIGKILL; starting it again" in err
        assert err.rstrip().endswith("sandbox stopped")
        assert "Traceback" not in err
        assert _gone(now, within=5)


def test_ctrl_c_at_a_terminal_stops_every_process(tmp_path: Path) -> None:
    with served(tmp_path, new_session=True) as sandbox:
        workers = sandbox.workers()
        assert sandbox.lookup(urn=SAMPLE_URN)["responseCode"] == "00"
        os.killpg(sandbox.process.pid, signal.SIGINT)  # what the terminal sends its group
        _, err = sandbox.process.communicate(timeout=15)
        assert sandbox.process.returncode == 0, err
        assert "Traceback" not in err
        assert _gone(workers, within=5)


def test_workers_stop_by_themselves_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    with served(tmp_path) as sandbox:
        workers = sandbox.workers()
        sandbox.process.kill()
        sandbox.process.wait(10)
        assert _gone(workers, within=10)


@pytest.mark.parametrize("count", ["0", "65", "-1"])
def test_a_worker_count_out_of_range_is_refused(cli: Invoke, count: str) -> None:
    result = cli("sandbox", "--port", "0", "--workers", count)
    assert_one_line_error(result, 2, f"--workers {count}: must be 1-64")


def test_a_port_another_sandboxs_workers_hold_is_refused(tmp_path: Path, cli: Invoke) -> None:
    """SO_REUSEPORT would let a second sandbox share the port, each answering a part of
    the connections: it is refused as any port in use is."""
    with served(tmp_path) as sandbox:
        port = sandbox.url.rsplit(":", 1)[1]
        result = cli(
            "sandbox", "--port", port, "--db", str(tmp_path / "other.db"), "--workers", "2"
        )
        assert_one_line_error(result, 2, f"cannot listen on 127.0.0.1:{port}")
        result = cli("sandbox", "--port", port, "--db", str(tmp_path / "other.db"))
        assert_one_line_error(result, 2, f"cannot listen on 127.0.0.1:{port}")

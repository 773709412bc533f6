"""Issue 14's review of where secrets come from: secrets.env gives back any one-line
secret as it was written, a .env is size-capped, the `*_command` keys of a profile share
one time limit, run in a process group of their own that is killed whole (on a timeout
and when wibmo is interrupted), say which limit they hit and leave no thread behind, and
a keyring that never answers is given up on."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from memory_keyring import Keyring
from support import (
    WIBMO,
    Invoke,
    assert_one_line_error,
    child_env,
    profile_values,
    wait_for,
    write_tables,
)

from wibmo_cli import secret_sources
from wibmo_cli.commands.profiles_add import append_secrets
from wibmo_cli.environment import SECRETS_ENV, environment
from wibmo_cli.errors import ConfigError, InputError
from wibmo_cli.profiles import resolve
from wibmo_cli.secret_sources import read_keyring, run_secret_command

ONE_LINE_SECRETS = [
    "ak\\x\\",  # written as 'ak\x\': read back as an unterminated quote
    "AAAAAAA\\\\Z",  # read back one backslash short
    "\\",
    "'",
    "\\'",
    'it\'s "quoted"',
    "#not a comment",
    "$HOME ${HOME} $(id)",
    "  spaced  ",
    "a=b",
    "tab\there",
]


# -- finding 5: secrets.env round trip ------------------------------------------------------


def test_secrets_env_gives_back_every_one_line_secret(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text("", encoding="utf-8")
    written = {f"S{i}": value for i, value in enumerate(ONE_LINE_SECRETS)}
    append_secrets(tmp_path / SECRETS_ENV, written)
    values = environment(tmp_path / "elsewhere", profiles).values
    assert {var: values.get(var) for var in written} == written


def test_a_secret_with_a_line_break_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="line break"):
        append_secrets(tmp_path / SECRETS_ENV, {"S": "a\nb"})


def test_commands_still_read_secrets_env_after_a_backslash_secret(
    cli: Invoke, tmp_path: Path, isolated: Path
) -> None:
    write_tables({"a": profile_values("https://a.example", api_key="${S0}")}, default="a")
    append_secrets(isolated / SECRETS_ENV, {"S0": "ak\\x\\"})
    result = cli("profiles", "show", "-o", "json")
    assert result.exit_code == 0, result.stderr


def test_a_variable_in_single_quotes_in_a_dotenv_is_not_expanded(isolated: Path) -> None:
    (isolated / ".env").write_text(
        "A=1\nB=\"${A}x\"\nC=${A}y\nD='${A}z'\nexport E='${A}'\n", encoding="utf-8"
    )
    values = environment(isolated).values
    assert [values[k] for k in "BCDE"] == ["1x", "1y", "${A}z", "${A}"]


# -- finding 6: a .env is capped ------------------------------------------------------------


@pytest.mark.parametrize("name", [".env", SECRETS_ENV])
def test_a_huge_dotenv_is_one_line_at_once(cli: Invoke, isolated: Path, name: str) -> None:
    write_tables({"a": profile_values("https://a.example")}, default="a")
    with (isolated / name).open("wb") as fh:
        fh.truncate(300 << 20)  # sparse: no disk used
    started = time.monotonic()
    result = cli("profiles", "show")
    assert_one_line_error(result, 3, "is larger than 1 MiB")
    assert time.monotonic() - started < 5


# -- findings 9-12: secret commands ---------------------------------------------------------


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(secret_sources, "COMMAND_TIMEOUT", 1.0)
    return 1.0


def test_a_profiles_commands_share_one_time_limit(short_timeout: float) -> None:
    table = profile_values("https://a.example")
    for key in ("api_key", "secure_code", "encryption_key"):
        del table[key]
        table[f"{key}_command"] = "sleep 100"
    started = time.monotonic()
    profile = resolve("a", table, {}, source="test")
    took = time.monotonic() - started
    assert took < 2.5 * short_timeout, took  # not one limit each (3 s)
    assert "did not finish within 1s" in profile.missing["api_key"]
    for key in ("secure_code", "encryption_key"):
        assert "was not run: the profile's secrets used up the 1s" in profile.missing[key]


def test_no_thread_is_left_to_fail_when_a_late_child_prints(
    short_timeout: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    late = "sh -c 'echo A; (sleep 1.5; echo TOPSECRETLATE; sleep 1) &'"
    with pytest.raises(ConfigError, match="did not finish within 1s"):
        run_secret_command(late, "api_key_command")
    time.sleep(2.5)  # when the late child would have printed into a closed pipe
    assert failures == []


def test_a_timeout_kills_the_commands_children_too(short_timeout: float, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = f"sh -c 'sleep 100 & echo $! > {pid_file}; wait'"
    with pytest.raises(ConfigError, match="did not finish within 1s"):
        run_secret_command(command, "api_key_command")
    gone(int(pid_file.read_text()))


def test_sigterm_to_wibmo_kills_the_running_command(tmp_path: Path, isolated: Path) -> None:
    import subprocess

    pid_file = tmp_path / "pid"
    table = profile_values("https://a.example", api_key=None)
    table["api_key_command"] = f"sh -c 'sleep 100 & echo $! > {pid_file}; wait'"
    write_tables({"a": table}, default="a")
    process = subprocess.Popen(
        [*WIBMO, "lookup", "--urn", "389"],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip(), 30, "the command")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert b"Traceback" not in err
    gone(int(pid_file.read_text()))


def gone(pid: int) -> None:
    """`pid` has ended (killed; a zombie waiting for its reaper counts as ended)."""

    def ended() -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        return state in ("Z", "X")

    try:
        wait_for(ended, 10, f"process {pid} to end")
    finally:
        if not ended():
            os.kill(pid, signal.SIGKILL)


def test_a_command_that_closes_its_output_early_is_waited_for() -> None:
    assert run_secret_command("sh -c 'echo S; exec >&-; sleep 1'") == "S"


def test_each_limit_is_named_alone(short_timeout: float) -> None:
    with pytest.raises(ConfigError) as late:
        run_secret_command("sh -c 'echo S; exec >&-; sleep 5'", "api_key_command")
    assert "did not finish within 1s (it closed its output but kept running)" in str(late.value)
    assert "printed more than" not in str(late.value)
    flood = f"{sys.executable} -c 'import sys; sys.stdout.write(\"x\" * 10_000_000)'"
    with pytest.raises(ConfigError) as much:
        run_secret_command(flood, "api_key_command")
    assert "printed more than 65536 bytes" in str(much.value)
    assert "did not finish" not in str(much.value)


# -- finding 14: a keyring that never answers --------------------------------------------------


class StuckKeyring(Keyring):
    """A backend whose reads wait until `release` is set (a locked daemon's prompt)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()  # one per backend: a test sets it as it ends

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


@pytest.fixture
def stuck_keyring() -> Iterator[StuckKeyring]:
    before = keyring.get_keyring()
    backend = StuckKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()
    keyring.set_keyring(before)


def test_a_keyring_that_never_answers_is_given_up_on(
    stuck_keyring: StuckKeyring, short_timeout: float
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="the keyring did not answer within 1s"):
        read_keyring("wibmo-t", "api_key")
    assert time.monotonic() - started < 5


def test_a_profiles_keyring_entries_share_the_time_limit(
    stuck_keyring: StuckKeyring, short_timeout: float
) -> None:
    refs = {key: f"${{keyring:wibmo-t/{key}}}" for key in ("api_key", "secure_code")}
    started = time.monotonic()
    profile = resolve("a", profile_values("https://a.example", **refs), {}, source="test")
    assert time.monotonic() - started < 1.9 * short_timeout  # not one limit each
    assert "did not answer within 1s" in profile.missing["api_key"]
    assert "not read: the profile's secrets used up the 1s" in profile.missing["secure_code"]


def test_edit_opens_no_keyring(stuck_keyring: StuckKeyring, cli: Invoke) -> None:
    refs = {key: f"${{keyring:wibmo-t/{key}}}" for key in ("api_key", "secure_code")}
    write_tables({"a": profile_values("https://a.example", **refs)}, default="a")
    started = time.monotonic()
    result = cli("profiles", "edit", "a", "timeout", "30")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 5  # the stuck keyring was never asked

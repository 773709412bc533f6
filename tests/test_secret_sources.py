"""Secrets from the OS keyring (`${keyring:SERVICE/NAME}`), from a command
(`api_key_command`) and from `secrets.env` beside the profiles file: each reaches the
request, and each way of failing is one line, exit 3, quoting nothing it was given."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from keyring.errors import KeyringLocked
from memory_keyring import Keyring
from support import (
    API_KEY,
    ENCRYPTION_KEY,
    ENV_VARS,
    SECURE_CODE,
    assert_one_line_error,
    child_env,
    leaks,
    profile_values,
    run_text,
    write_tables,
)

from wibmo_cli import secret_sources
from wibmo_cli.errors import ConfigError
from wibmo_cli.sandbox import Sandbox
from wibmo_cli.secret_sources import run_secret_command, store_in_keyring

SECRETS = {"api_key": API_KEY, "secure_code": SECURE_CODE, "encryption_key": ENCRYPTION_KEY}


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyring]:
    """The in-memory keyring in place of the OS's, and no `${HARD_...}` in the
    environment (so only the keyring can give the secrets)."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    before = keyring.get_keyring()
    backend = Keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def keyring_table(url: str, **override: Any) -> dict[str, Any]:
    refs = {key: f"${{keyring:wibmo-test/{key}}}" for key in SECRETS}
    return profile_values(url, **{**refs, **override})


def command_table(url: str, vault: Path, **override: Any) -> dict[str, Any]:
    """The secrets from `cat VAULT/KEY` (a password manager's stand-in), one per secret."""
    vault.mkdir(exist_ok=True)
    table = profile_values(url)
    for key, value in SECRETS.items():
        del table[key]
        (vault / key).write_text(f"{value}\n", encoding="utf-8")
        table[f"{key}_command"] = f"cat {vault / key}"
    table.update(override)
    return table


def test_store_in_keyring_returns_the_reference_a_profile_reads(
    memory_keyring: Keyring, sandbox: Sandbox, cli: Any
) -> None:
    refs = {key: store_in_keyring("wibmo-test", key, value) for key, value in SECRETS.items()}
    assert refs["api_key"] == "${keyring:wibmo-test/api_key}"
    assert memory_keyring.entries["wibmo-test/api_key"] == API_KEY
    write_tables({"hard": profile_values(sandbox.url, **refs)}, default="hard")
    result = cli("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert not leaks(result.stdout + result.stderr)
    checked = cli("profiles", "check")
    assert "written literally" not in checked.stdout  # a reference is not a literal secret


def test_a_keyring_entry_not_set_is_a_config_error_naming_it(
    memory_keyring: Keyring, sandbox: Sandbox, cli: Any
) -> None:
    write_tables({"hard": keyring_table(sandbox.url)}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "keyring entry wibmo-test/api_key, which is not set")


def test_without_a_keyring_backend_one_line_and_no_fallback(
    memory_keyring: Keyring, sandbox: Sandbox, cli: Any
) -> None:
    keyring.set_keyring(fail.Keyring())
    write_tables({"hard": keyring_table(sandbox.url)}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "reads the OS keyring, and none is available here")
    with pytest.raises(ConfigError, match="none is available"):
        store_in_keyring("wibmo-test", "api_key", API_KEY)


class LockedKeyring(Keyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked(f"locked while reading {ENCRYPTION_KEY}")


def test_a_failing_keyring_is_one_line_not_quoting_its_error(
    memory_keyring: Keyring, sandbox: Sandbox, cli: Any, wibmo: Any
) -> None:
    keyring.set_keyring(LockedKeyring())
    write_tables({"hard": keyring_table(sandbox.url)}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "reads the OS keyring, and it failed (KeyringLocked)")
    debug = wibmo("--debug", "lookup", "--urn", "389")  # its traceback: not the backend's
    assert debug.exit_code == 3 and "Traceback" in debug.stderr
    assert not leaks(debug.stdout + debug.stderr)


def test_without_the_keyring_library_the_error_names_the_extra(
    memory_keyring: Keyring, sandbox: Sandbox, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import keyring -> ImportError
    write_tables({"hard": keyring_table(sandbox.url)}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "pip install 'wibmo-cli[keyring]'")
    shown = cli("profiles", "check", "-o", "json")
    assert "pip install 'wibmo-cli[keyring]'" in shown.stdout


def test_a_profile_without_keyring_references_never_imports_keyring(isolated: Path) -> None:
    write_tables({"hard": profile_values("http://127.0.0.1:9")}, default="hard")
    probe = (
        "import sys; from wibmo_cli import profiles; "
        "profiles.load(profiles.choose(None, None)); print('keyring' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=child_env(), check=True
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_process_reads_the_keyring_its_backend_names(
    tmp_path: Path, sandbox: Sandbox, isolated: Path
) -> None:
    """The real program, its keyring chosen as users choose one: PYTHON_KEYRING_BACKEND."""
    store = tmp_path / "keyring.json"
    env = child_env(
        PYTHONPATH=str(Path(__file__).parent),
        PYTHON_KEYRING_BACKEND="memory_keyring.Keyring",
        TEST_KEYRING_FILE=str(store),
    )
    for name in ENV_VARS:
        env.pop(name)
    store.write_text(json.dumps({f"wibmo-test/{k}": v for k, v in SECRETS.items()}), "utf-8")
    write_tables({"hard": keyring_table(sandbox.url)}, default="hard")
    done = run_text("lookup", "--urn", "389", "-o", "json", env=env, cwd=isolated)
    assert done.returncode == 0, done.stderr
    assert '"urn"' in done.stdout
    assert not leaks(done.stdout + done.stderr)


def test_secrets_from_commands_reach_the_request(
    sandbox: Sandbox, cli: Any, tmp_path: Path
) -> None:
    write_tables({"hard": command_table(sandbox.url, tmp_path / "vault")}, default="hard")
    result = cli("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert not leaks(result.stdout + result.stderr)
    shown = cli("profiles", "show", "hard")
    assert not leaks(shown.stdout + shown.stderr)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            f"{sys.executable} -c 'import sys; print({json.dumps(API_KEY)}); "
            f"print({json.dumps(SECURE_CODE)}, file=sys.stderr); sys.exit(4)'",
            "failed with exit status 4; its output is not shown",
        ),
        (f"{sys.executable} -c 'print()'", "printed nothing on its first line"),
        ("/no/such/password-manager show it", "cannot be run"),
        ("pass show 'unclosed", "is not a command line"),
        ("   ", "api_key comes from api_key_command, which is empty"),
    ],
    ids=["fails", "empty", "no-program", "bad-quoting", "blank"],
)
def test_a_failing_command_is_one_line_quoting_nothing_it_printed(
    sandbox: Sandbox, cli: Any, tmp_path: Path, command: str, said: str
) -> None:
    table = command_table(sandbox.url, tmp_path / "vault", api_key_command=command)
    write_tables({"hard": table}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, said)
    assert not leaks(result.stdout + result.stderr)
    checked = cli("profiles", "check", "-o", "json")
    assert said in checked.stdout and not leaks(checked.stdout + checked.stderr)


@pytest.mark.slow  # waits out a command's time limit
def test_a_command_that_hangs_or_floods_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secret_sources, "COMMAND_TIMEOUT", 0.5)
    hang = f"{sys.executable} -c 'import time; print(1, flush=True); time.sleep(30)'"
    with pytest.raises(ConfigError, match=r"did not finish within 0.5s"):
        run_secret_command(hang, "api_key_command")
    flood = f"{sys.executable} -c 'import sys; sys.stdout.write(\"x\" * 10_000_000)'"
    with pytest.raises(ConfigError, match="printed more than 65536 bytes"):
        run_secret_command(flood, "api_key_command")


def test_a_command_gives_its_first_line_stripped() -> None:
    command = f"{sys.executable} -c 'print(\"  s3cret \\nsecond line\")'"
    assert run_secret_command(command) == "s3cret"


def test_a_secret_with_both_a_value_and_a_command_is_refused(
    sandbox: Sandbox, cli: Any, tmp_path: Path
) -> None:
    table = command_table(sandbox.url, tmp_path / "vault", api_key="${HARD_API_KEY}")
    write_tables({"hard": table}, default="hard")
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "set api_key or api_key_command, not both")


def test_secrets_env_beside_the_profiles_file_is_read_and_its_mode_checked(
    tmp_path: Path, sandbox: Sandbox, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    write_tables(
        {"hard": profile_values(sandbox.url)}, default="hard", path=config / "profiles.toml"
    )
    secrets = config / "secrets.env"
    secrets.write_text("".join(f"{k}={v}\n" for k, v in ENV_VARS.items()), encoding="utf-8")
    secrets.chmod(0o600)
    assert cli("lookup", "--urn", "389").exit_code == 0
    quiet = cli("profiles", "check", "-o", "json")
    assert "secrets.env" not in quiet.stdout
    secrets.chmod(0o644)
    checked = cli("profiles", "check", "-o", "json")
    assert f"{secrets} is readable by group or others (mode 0644)" in checked.stdout

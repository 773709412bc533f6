"""Issue 14's review of `profiles add | edit | remove | set-default` and `show | check`:
changes made at once lose nothing, the profiles file and secrets.env are never anything
but regular files (a FIFO, a directory refused; a symbolic link followed or refused), a
name from the file is shown escaped, a reference is a reference, and a secret typed at a
question that is interrupted does not stay in the terminal's input."""

from __future__ import annotations

import os
import pty
import select
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from support import (
    API_KEY,
    BANK_ID,
    CLIENT_ID,
    ENCRYPTION_KEY,
    SECURE_CODE,
    WIBMO,
    Invoke,
    assert_one_line_error,
    child_env,
    profile_values,
    shell,
    write_tables,
)

from wibmo_cli.profile_edit import is_reference, locked

SECRET_VARS = {"NEW_API": API_KEY, "NEW_CODE": SECURE_CODE, "NEW_ENC": ENCRYPTION_KEY}
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def add_args(name: str, *extra: str) -> list[str]:
    """`profiles add NAME` with every answer given (the secrets from SECRET_VARS)."""
    return [
        "profiles", "add", name, "--yes", "--base-url", "https://new.example",
        "--variant", "seed", "--client-id", CLIENT_ID, "--bank-id", BANK_ID,
        "--api-key-env", "NEW_API", "--secure-code-env", "NEW_CODE",
        "--encryption-key-env", "NEW_ENC", "--no-check", *extra,
    ]  # fmt: skip


@pytest.fixture
def secret_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)


def tables_in(path: Path) -> set[str]:
    import tomllib

    return set(tomllib.loads(path.read_text(encoding="utf-8")).get("profiles", {}))


# -- finding 2: names from the file reach the terminal escaped ----------------------------

HOSTILE = "x\x1b]52;c;ZWNobyBwd25lZA==\x1b\\\x1b[2J[bold]"


@pytest.mark.parametrize("command", ["show", "check"])
def test_a_profile_name_with_escape_sequences_is_shown_escaped(cli: Invoke, command: str) -> None:
    table = profile_values("https://x.example", literal=True)
    lines = [f"default_profile = {_basic(HOSTILE)}", f"[profiles.{_basic(HOSTILE)}]"]
    lines += [f"{key} = {_basic(str(v)) if isinstance(v, str) else v}" for key, v in table.items()]
    Path("profiles.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    Path("profiles.toml").chmod(0o600)
    result = cli("profiles", command)
    assert "\x1b" not in result.stdout + result.stderr
    assert "x\\x1b]52;c;ZWNobyBwd25lZA==\\x1b\\\\x1b[2J[bold]" in result.stdout


def _basic(text: str) -> str:
    """`text` as a TOML basic string (control characters as \\u escapes)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


# -- finding 3: changes at once ----------------------------------------------------------


def test_ten_adds_at_once_keep_every_profile(secret_vars: None, isolated: Path) -> None:
    path = Path(os.environ["WIBMO_CONFIG_DIR"]) / "profiles.toml"  # none yet: made by one
    env = child_env(**NO_KEYRING)
    runs = [
        subprocess.Popen(
            [*WIBMO, *add_args(f"c{i}")],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(10)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    assert tables_in(path) == {f"c{i}" for i in range(10)}


def test_a_change_waits_for_the_lock_and_reads_the_file_under_it(
    cli: Invoke, isolated: Path
) -> None:
    path = write_tables({"a": profile_values("https://a.example")}, default="a")
    with locked(path):
        edit = subprocess.Popen(
            [*WIBMO, "profiles", "edit", "a", "timeout", "30"],
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_in_flock(edit)
        # changed meanwhile by the holder: the edit must start from this text
        path.write_text(path.read_text() + '\n[profiles.b]\nbase_url = "https://b"\n')
    _, err = edit.communicate(timeout=60)
    assert edit.returncode == 0, err
    text = path.read_text(encoding="utf-8")
    assert "timeout = 30" in text and "[profiles.b]" in text


def wait_in_flock(process: subprocess.Popen[bytes]) -> None:
    """Until `process` waits for a file lock (Linux says so in /proc/PID/wchan); it must
    not end first (without the lock it would have changed the file already)."""
    deadline = time.monotonic() + 60
    wchan = Path(f"/proc/{process.pid}/wchan")
    while "lock" not in wchan.read_text():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "never waited for the lock"
        time.sleep(0.05)


# -- findings 4, 7, 8: what the profiles file may be -------------------------------------


def test_a_fifo_given_as_the_profiles_file_is_refused_not_replaced(
    cli: Invoke, secret_vars: None, tmp_path: Path
) -> None:
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    result = cli("--profiles-file", str(fifo), *add_args("new"))
    assert_one_line_error(result, 3, "is not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_directory_given_as_the_profiles_file_is_one_line(
    cli: Invoke, secret_vars: None, tmp_path: Path
) -> None:
    result = cli("--profiles-file", str(tmp_path), *add_args("new"))
    assert_one_line_error(result, 3, "is a directory")


def test_a_profiles_file_in_a_file_not_a_directory_is_one_line(
    cli: Invoke, secret_vars: None, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")  # the file's "directory" is a file
    result = cli("--profiles-file", str(blocker / "profiles.toml"), *add_args("new"))
    assert_one_line_error(result, 3, "Not a directory")


def test_a_profiles_file_that_cannot_be_written_is_one_line(
    secret_vars: None, isolated: Path
) -> None:
    path = write_tables({"a": profile_values("https://a.example")}, default="a")
    before = path.read_text(encoding="utf-8")
    # no file may grow (root writes in any directory: a size limit fails every user)
    done = shell('ulimit -f 0; exec "$@"', "profiles", "edit", "a", "timeout", "30")
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert err.startswith("error: cannot write profiles file") and len(err.splitlines()) == 1
    assert path.read_text(encoding="utf-8") == before
    assert not [p for p in isolated.iterdir() if p.name.endswith(".tmp")]


def test_a_symlinked_profiles_file_stays_a_link_and_its_target_changes(
    cli: Invoke, secret_vars: None, tmp_path: Path, isolated: Path
) -> None:
    target = write_tables(
        {"a": profile_values("https://a.example")}, default="a", path=tmp_path / "dots" / "p.toml"
    )
    link = isolated / "profiles.toml"
    link.symlink_to(target)
    assert cli("profiles", "edit", "a", "timeout", "30").exit_code == 0
    assert cli(*add_args("new")).exit_code == 0
    assert cli("profiles", "set-default", "new").exit_code == 0
    assert cli("profiles", "remove", "a", "--yes").exit_code == 0
    assert link.is_symlink() and link.readlink() == target
    assert tables_in(target) == {"new"}
    assert 'default_profile = "new"' in target.read_text(encoding="utf-8")
    assert not [p for p in isolated.iterdir() if p.name.endswith(".tmp")]


# -- finding 8: secrets.env is a regular file of its own ----------------------------------


def test_a_symlinked_secrets_env_is_refused_and_its_target_untouched(
    cli: Invoke, secret_vars: None, tmp_path: Path, isolated: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep\n", encoding="utf-8")
    elsewhere.chmod(0o644)
    (isolated / "secrets.env").symlink_to(elsewhere)
    write_tables({"a": profile_values("https://a.example")}, default="a")
    done = subprocess.run(
        [*WIBMO, *add_args("new", "--secrets-file")],
        env=child_env(**NO_KEYRING),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 74, done.stderr
    assert "symbolic link: refused" in done.stderr and "Traceback" not in done.stderr
    assert elsewhere.read_text(encoding="utf-8") == "keep\n"
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644
    assert tables_in(isolated / "profiles.toml") == {"a"}  # nothing written half


def test_a_fifo_secrets_env_is_refused_at_once(
    secret_vars: None, tmp_path: Path, isolated: Path
) -> None:
    os.mkfifo(isolated / "secrets.env")
    write_tables({"a": profile_values("https://a.example")}, default="a")
    done = subprocess.run(
        [*WIBMO, *add_args("new", "--secrets-file")],
        env=child_env(**NO_KEYRING),
        capture_output=True,
        text=True,
        timeout=60,  # it used to wait for a reader for good
    )
    assert done.returncode == 74, done.stderr
    assert "not a regular file: refused" in done.stderr


# -- findings 9 and 13: edit checks settings; a reference is a reference --------------------


def test_edit_runs_no_secret_command(cli: Invoke, tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    table = profile_values("https://a.example", api_key=None, api_key_command=f"touch {mark}")
    write_tables({"a": table}, default="a")
    result = cli("profiles", "edit", "a", "timeout", "30")
    assert result.exit_code == 0, result.stderr
    assert not mark.exists()


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("${WIBMO_UAT_API_KEY}", True),
        ("${_x9}", True),
        ("${keyring:wibmo-uat/api_key}", True),
        ("${MyRealS3cret!}", False),
        ("${9abc}", False),
        ("${}", False),
        ("${keyring:}", False),
        ("${keyring:svc/}", False),
        ("${keyring:wibmo-t/api_key", False),
        ("${a b}", False),
    ],
)
def test_only_a_variable_name_or_a_keyring_entry_is_a_reference(text: str, reference: bool) -> None:
    assert is_reference(text) is reference


def test_edit_refuses_a_secret_dressed_as_a_reference(cli: Invoke) -> None:
    write_tables({"a": profile_values("https://a.example")}, default="a")
    result = cli("profiles", "edit", "a", "api_key", "${MyRealS3cret!}")
    assert_one_line_error(result, 2, "api_key is a secret")
    assert "MyRealS3cret" not in Path("profiles.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "value",
    ["${keyring:}", "${keyring:svc/}", "${keyring:wibmo-t/api_key", "ak${NOT CLOSED", "${x-y}"],
)
def test_a_broken_reference_is_a_config_error_naming_the_key(cli: Invoke, value: str) -> None:
    write_tables({"a": profile_values("https://a.example", api_key=value)}, default="a")
    for args in (("lookup", "--urn", "389"), ("profiles", "show")):
        result = cli(*args)
        assert_one_line_error(result, 3, "api_key has a '${' that begins no reference")
        assert value not in result.stderr


# -- finding 15: an interrupted hidden question leaves nothing in the terminal's input ----------


def test_sigterm_at_a_hidden_question_discards_what_was_typed(isolated: Path) -> None:
    leader, follower = pty.openpty()
    args = [
        "profiles", "add", "new", "--base-url", "https://new.example", "--variant", "seed",
        "--client-id", CLIENT_ID, "--bank-id", BANK_ID, "--entity-id", "100",
    ]  # fmt: skip
    process = subprocess.Popen(
        [*WIBMO, *args],
        stdin=follower,
        stderr=follower,
        stdout=subprocess.DEVNULL,
        env=child_env(**NO_KEYRING),
    )
    shown = b""
    try:
        deadline = time.monotonic() + 30
        while b"API key (not echoed)" not in shown and time.monotonic() < deadline:
            if select.select([leader], [], [], 1)[0]:
                shown += os.read(leader, 4096)
        assert b"API key (not echoed)" in shown, shown
        os.write(leader, b"TYPEDSECRET")  # no Enter
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 130
        # the terminal stays open (a shell holds it): what it would read next
        os.write(leader, b"\n")
        assert select.select([follower], [], [], 5)[0]
        assert os.read(follower, 4096) == b"\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
        os.close(follower)

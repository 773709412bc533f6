"""`profiles add` (guided on a terminal, and scripted), `edit`, `remove`, `set-default`:
the file keeps its comments, secrets are never echoed nor written unasked (issue 14)."""

from __future__ import annotations

import importlib
import json
import os
import pty
import selectors
import stat
import subprocess
import sys
import time
import types
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
    StartSandbox,
    assert_one_line_error,
    child_env,
    codec,
)
from typer.testing import Result

from wibmo_cli.errors import ConfigError
from wibmo_cli.profile_edit import add_profile, parse
from wibmo_cli.sandbox.seed import SAMPLE_MOBILE
from wibmo_cli.sandbox.variants import V3

COMMENTED = """# ops: our environments (keep this comment)
default_profile = "old"

[profiles.old]  # the retired host
base_url = "https://old.example"  # it stays
client_id = "X"
bank_id = "1"
api_key = "${OLD_KEY}"
secure_code = "${OLD_CODE}"
encryption_key = "${OLD_ENC}"
"""
SECRET_VARS = {"NEW_API": API_KEY, "NEW_CODE": SECURE_CODE, "NEW_ENC": ENCRYPTION_KEY}


def refused(result: Result, fragment: str) -> None:
    """Bad input: exit 2, one line naming the fault."""
    assert_one_line_error(result, 2, fragment)


def scripted(url: str, *extra: str) -> list[str]:
    return [
        "profiles", "add", "new", "--yes", "--base-url", url, "--variant", "seed",
        "--client-id", CLIENT_ID, "--bank-id", BANK_ID,
        "--api-key-env", "NEW_API", "--secure-code-env", "NEW_CODE",
        "--encryption-key-env", "NEW_ENC", *extra,
    ]  # fmt: skip


@pytest.fixture
def commented() -> Path:
    path = Path.cwd() / "profiles.toml"
    path.write_text(COMMENTED, encoding="utf-8")
    path.chmod(0o600)
    return path


def converse(
    args: list[str], dialog: list[tuple[str, str]], env: dict[str, str]
) -> tuple[int, str, str]:
    """wibmo on a pseudo-terminal (stdin and stderr): each answer typed once its question
    shows; (exit status, stdout, all the terminal showed, echo included)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*WIBMO, *args], stdin=follower, stderr=follower, stdout=subprocess.PIPE, env=env
    )
    os.close(follower)
    shown = b""
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(leader, selectors.EVENT_READ)
            for question, answer in dialog:
                deadline = time.monotonic() + 30
                while question.encode() not in shown and time.monotonic() < deadline:
                    if selector.select(timeout=1):
                        shown += os.read(leader, 4096)
                assert question.encode() in shown, shown.decode()
                shown = shown.replace(question.encode(), b"<asked>", 1)
                os.write(leader, answer.encode() + b"\r")
            assert process.stdout is not None
            with process.stdout:
                out = process.stdout.read()
            process.wait(timeout=60)
            while selector.select(timeout=0.2):
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal's other end closed
                    break
                if not chunk:
                    break
                shown += chunk
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return process.returncode, out.decode(), shown.decode(errors="replace")


def test_guided_add_asks_everything_hides_secrets_then_a_lookup_works(
    start_sandbox: StartSandbox, commented: Path
) -> None:
    sandbox = start_sandbox()
    dialog = [
        ("Variant (seed, mob1, v3) [seed]: ", "seed"),
        ("Base URL (https://...): ", sandbox.url),
        ("Client id: ", CLIENT_ID),
        ("Bank id: ", BANK_ID),
        ("Entity id [100]: ", ""),
        ("API key (not echoed): ", API_KEY),
        ("Secure code (not echoed): ", SECURE_CODE),
        ("Encryption key (not echoed): ", ENCRYPTION_KEY),
        ("Mobile prefix [91]: ", ""),
        ("Is this a production environment? [y/N]: ", "n"),
        ("(mode 0600)? [y/N]: ", "y"),  # no keyring here: kept in secrets.env, asked
    ]
    # keyring's own backend that has no keyring: never the real one of whoever runs this
    no_keyring = child_env(COLUMNS="200", PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    code, out, shown = converse(["profiles", "add", "new", "--default"], dialog, no_keyring)
    assert code == 0, shown
    for secret in (API_KEY, SECURE_CODE, ENCRYPTION_KEY):
        assert secret not in shown and secret not in out
    assert CLIENT_ID in shown  # the echo of what is not secret stays on
    assert "mob1: lookup POST /mob1/api/onboarding/v2/retrieveCustRecord (headers)" in shown
    assert (
        "no OS keyring to keep the secrets in" in shown and "secrets.env (mode 0600)" in shown + out
    )
    assert "lookup round trip OK" in out
    text = commented.read_text(encoding="utf-8")
    assert text.startswith("# ops: our environments (keep this comment)\n")
    assert (
        '[profiles.old]  # the retired host\nbase_url = "https://old.example"  # it stays' in text
    )
    assert 'default_profile = "new"' in text
    for secret in (API_KEY, SECURE_CODE, ENCRYPTION_KEY):
        assert secret not in text
    assert 'api_key = "${WIBMO_NEW_API_KEY}"' in text
    secrets_env = commented.parent / "secrets.env"
    assert stat.S_IMODE(secrets_env.stat().st_mode) == 0o600
    env = child_env()  # the secrets come from secrets.env beside the profiles file
    looked_up = subprocess.run(
        [*WIBMO, "lookup", "--mobile", SAMPLE_MOBILE, "-o", "json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert looked_up.returncode == 0, looked_up.stderr
    assert json.loads(looked_up.stdout)["responseCode"] == "00"


def test_scripted_add_references_the_variables_and_checks_online(
    cli: Invoke, start_sandbox: StartSandbox, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = start_sandbox()
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    result = cli(*scripted(sandbox.url), "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["profile"] == "new"
    text = commented.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED)  # appended: the earlier text as it was
    assert 'api_key = "${NEW_API}"' in text and 'default_profile = "old"' in text
    assert stat.S_IMODE(commented.stat().st_mode) == 0o600
    looked_up = cli("-p", "new", "lookup", "--mobile", SAMPLE_MOBILE, "-o", "json")
    assert looked_up.exit_code == 0, looked_up.stderr


def test_scripted_add_for_v3_writes_its_paths_and_placement(
    cli: Invoke, start_sandbox: StartSandbox, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = start_sandbox(variant=V3)
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    args = scripted(sandbox.url)
    args[args.index("seed")] = "v3"
    result = cli(*args, "--consumer-custom-id", "C1")
    assert result.exit_code == 0, result.stderr + result.stdout
    text = commented.read_text(encoding="utf-8")
    assert 'lookup_path = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"' in text
    assert 'lookup_credentials = "body"' in text and 'update_fields = "sample"' in text
    assert cli("-p", "new", "lookup", "--mobile", SAMPLE_MOBILE).exit_code == 0


def test_the_encrypt_helper_proves_the_iv_written(
    cli: Invoke, start_sandbox: StartSandbox, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = start_sandbox(iv="key")  # not the default: only the helper can tell
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    result = cli(*scripted(sandbox.url))
    assert result.exit_code == 0, result.stderr + result.stdout
    assert 'encrypt helper proves iv = "key"' in result.stderr
    assert 'iv = "key"' in commented.read_text(encoding="utf-8")
    assert cli("-p", "new", "lookup", "--mobile", SAMPLE_MOBILE).exit_code == 0


def test_detect_writes_the_iv_of_a_captured_token(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    token = codec("prepend").encrypt_json({"responseCode": "00"})
    result = cli(*scripted("https://new.example", "--detect", token, "--no-check"))
    assert result.exit_code == 0, result.stderr
    assert 'iv = "prepend"' in commented.read_text(encoding="utf-8")


def test_secrets_file_only_when_asked_and_private(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    args = scripted("https://new.example", "--no-check")
    missing = list(args)
    del missing[missing.index("--api-key-env") : missing.index("--api-key-env") + 2]
    refused(cli(*missing), "pass --api-key-env")  # --yes: nothing to read it from
    fake_keyring(monkeypatch, None)  # none answers (and the real one is never touched)
    secrets = commented.parent / "secrets.env"
    assert cli(*args).exit_code == 0
    assert not secrets.exists()  # not asked: the variables stay where they are
    assert cli("profiles", "remove", "new", "--yes").exit_code == 0
    written = cli(*args, "--secrets-file")
    assert written.exit_code == 0, written.stderr
    assert "no OS keyring to keep the secrets in" in written.stderr
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    kept = secrets.read_text(encoding="utf-8")
    assert f"WIBMO_NEW_API_KEY='{API_KEY}'" in kept
    text = commented.read_text(encoding="utf-8")
    assert 'api_key = "${WIBMO_NEW_API_KEY}"' in text
    for secret in (API_KEY, SECURE_CODE, ENCRYPTION_KEY):
        assert secret not in text and secret not in written.stdout + written.stderr


def fake_keyring(monkeypatch: pytest.MonkeyPatch, stored: dict[str, str] | None) -> None:
    """secret_sources.store_in_keyring in memory (None: no keyring answers)."""
    module = types.ModuleType("wibmo_cli.secret_sources")

    def store_in_keyring(service: str, name: str, value: str) -> str:
        if stored is None:
            raise ConfigError("reads the OS keyring, and none is available here")
        stored[f"{service}/{name}"] = value
        return f"${{keyring:{service}/{name}}}"

    try:  # the real module where it exists (profiles read its keyring references)
        real = importlib.import_module("wibmo_cli.secret_sources")
    except ImportError:
        module.store_in_keyring = store_in_keyring  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "wibmo_cli.secret_sources", module)
    else:
        monkeypatch.setattr(real, "store_in_keyring", store_in_keyring)


def test_secrets_go_to_the_keyring_where_there_is_one(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    stored: dict[str, str] = {}
    fake_keyring(monkeypatch, stored)
    result = cli(*scripted("https://new.example", "--no-check", "--secrets-file"))
    assert result.exit_code == 0, result.stderr
    assert stored == {
        "wibmo-new/api_key": API_KEY,
        "wibmo-new/secure_code": SECURE_CODE,
        "wibmo-new/encryption_key": ENCRYPTION_KEY,
    }
    text = commented.read_text(encoding="utf-8")
    assert 'api_key = "${keyring:wibmo-new/api_key}"' in text
    assert not (commented.parent / "secrets.env").exists()


def test_no_keyring_is_said_and_nothing_falls_back_unasked(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what headless Linux has: NoKeyringError
    try:
        kept = cli(*scripted("https://new.example", "--no-check", "--secrets-file"))
    finally:
        keyring.set_keyring(before)
    assert kept.exit_code == 0, kept.stderr
    said = [line for line in kept.stderr.splitlines() if "OS keyring" in line]
    assert said == [
        "no OS keyring to keep the secrets in: none is available here (e.g. headless Linux)"
    ]
    assert (commented.parent / "secrets.env").stat().st_mode & 0o077 == 0


def test_bad_inputs_exit_2_and_write_nothing(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    for extra, fragment in (
        (("--variant", "v9"), "unknown variant 'v9'"),
        (("--base-url", "ftp://x"), "must be an http(s):// URL"),
        (("--base-url", "http://plain.example"), "plain http://"),
        (("--mobile-prefix", "+91"), "mobile_prefix must be digits"),
        (("--iv", "sideways"), "iv"),
    ):
        refused(cli(*scripted("https://new.example", "--no-check"), *extra), fragment)
    monkeypatch.setenv("NEW_ENC", "short")
    refused(
        cli(*scripted("https://new.example", "--no-check")),
        "encryption key does not come to 24 bytes",
    )
    existing = scripted("https://x.example", "--no-check")
    existing[existing.index("new")] = "old"
    refused(cli(*existing), "profile 'old' exists already")
    refused(cli("profiles", "add", "bad name", "--yes"), "letters, digits")
    assert commented.read_text(encoding="utf-8") == COMMENTED


def test_edit_remove_set_default_keep_comments(cli: Invoke, commented: Path) -> None:
    assert cli("profiles", "edit", "old", "timeout", "30").exit_code == 0
    assert cli("profiles", "edit", "old", "iv", "key").exit_code == 0
    text = commented.read_text(encoding="utf-8")
    assert "timeout = 30" in text and 'iv = "key"' in text
    assert text.startswith(COMMENTED.rstrip("\n"))
    refused(cli("profiles", "edit", "old", "api_key", API_KEY), "is a secret")
    refused(cli("profiles", "edit", "old", "timeout", "soon"), "must be a number")
    refused(
        cli("profiles", "edit", "old", "timeout", "0"), "timeout must be a number of seconds > 0"
    )
    refused(cli("profiles", "edit", "old", "colour", "red"), "unknown key")
    refused(cli("profiles", "edit", "nope", "iv", "key"), "no profile 'nope'")
    assert cli("profiles", "edit", "old", "api_key", "${OTHER}").exit_code == 0
    assert cli("profiles", "set-default", "demo").exit_code == 0
    assert 'default_profile = "demo"' in commented.read_text(encoding="utf-8")
    refused(cli("profiles", "set-default", "nope"), "no profile 'nope'")
    refused(cli("profiles", "remove", "old"), "pass --yes")  # no terminal to ask
    removed = cli("profiles", "remove", "old", "--yes")
    assert removed.exit_code == 0, removed.stderr
    text = commented.read_text(encoding="utf-8")
    assert "[profiles.old]" not in text
    assert text.startswith("# ops: our environments (keep this comment)\n")


NEIGHBOURS = """\
# team profiles (the file's opening comment)

# UAT: the bank's test host
[profiles.uat]
base_url = "https://uat.example"

# LIVE: careful
# (two lines of heading)
[profiles.live]
base_url = "https://live.example"
# timeout = 60 (kept for later: a blank line follows)

# MOB1 gateway
[profiles.mob1]
base_url = "https://mob1.example"
"""


@pytest.mark.parametrize(
    ("name", "heading", "kept"),
    [
        ("uat", "# UAT", ["# team profiles", "# LIVE", "# MOB1", "# timeout = 60"]),
        ("live", "# LIVE", ["# team profiles", "# UAT", "# MOB1"]),
        ("mob1", "# MOB1", ["# team profiles", "# UAT", "# LIVE", "# timeout = 60"]),
    ],
)
def test_remove_takes_the_profiles_heading_and_keeps_its_neighbours(
    cli: Invoke, name: str, heading: str, kept: list[str]
) -> None:
    path = Path.cwd() / "profiles.toml"
    path.write_text(NEIGHBOURS, encoding="utf-8")
    assert cli("profiles", "remove", name, "--yes").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert heading not in text and f"[profiles.{name}]" not in text
    for comment in kept:
        assert comment in text
    for other in {"uat", "live", "mob1"} - {name}:  # each heading still right above its table
        at = text.index(f"[profiles.{other}]")
        assert text[:at].rstrip("\n").rsplit("\n", 1)[-1].startswith("#"), text


def test_remove_says_where_its_secrets_stay(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    fake_keyring(monkeypatch, None)
    assert cli(*scripted("https://new.example", "--no-check", "--secrets-file")).exit_code == 0
    removed = cli("profiles", "remove", "new", "--yes")
    assert removed.exit_code == 0, removed.stderr
    secrets = commented.parent / "secrets.env"
    assert removed.stderr.splitlines()[-1] == (
        "its secrets stay where they are kept: WIBMO_NEW_API_KEY, WIBMO_NEW_SECURE_CODE, "
        f"WIBMO_NEW_ENCRYPTION_KEY in {secrets}"
    )
    for secret in (API_KEY, SECURE_CODE, ENCRYPTION_KEY):
        assert secret not in removed.stdout + removed.stderr
    gone = cli("profiles", "remove", "old", "--yes")  # its variables are the user's own
    assert "stay" not in gone.stderr


def test_edit_without_a_profiles_file_is_a_config_error(cli: Invoke) -> None:
    result = cli("profiles", "edit", "x", "iv", "key")
    assert result.exit_code == 3 and "no profiles file" in result.stderr


def test_a_new_default_goes_below_the_files_opening_comments() -> None:
    doc = parse("# team profiles\n# second line\n", Path("profiles.toml"))
    add_profile(doc, "uat", {"base_url": "https://x.example"}, default=False)
    assert doc.as_string().startswith('# team profiles\n# second line\ndefault_profile = "uat"\n')


def test_secrets_file_in_a_folder_that_does_not_exist_yet(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fresh machine: no config folder yet. --secrets-file creates it (it crashed with
    exit 70, the typed secrets lost)."""
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    fake_keyring(monkeypatch, None)
    target = tmp_path / "fresh" / "profiles.toml"
    args = scripted("https://new.example", "--no-check", "--secrets-file")
    result = cli("--profiles-file", str(target), *args)
    assert result.exit_code == 0, result.stderr
    secrets = target.parent / "secrets.env"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert f"WIBMO_NEW_API_KEY='{API_KEY}'" in secrets.read_text(encoding="utf-8")


def test_an_embedded_environment_is_announced_once(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    added = cli(*scripted("embedded"))
    assert added.exit_code == 0, added.stderr
    assert "encrypt helper proves" in added.stderr  # the helper ran, quietly
    assert added.stderr.count("embedded sandbox") == 1


@pytest.mark.parametrize("command", ["add", "edit", "remove", "set-default"])
def test_help_of_a_command_naming_the_profile_leaves_out_profile(cli: Invoke, command: str) -> None:
    shown = cli("profiles", command, "--help")
    assert shown.exit_code == 0
    assert "--profile " not in shown.stdout and "--profiles-file" in shown.stdout
    assert "--profile " in cli("profiles", "show", "--help").stdout


def test_a_name_whose_secrets_would_be_another_profiles_is_refused(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    first = scripted("https://new.example", "--no-check")
    first[first.index("new")] = "prod-in"
    assert cli(*first).exit_code == 0
    second = scripted("https://other.example", "--no-check")
    second[second.index("new")] = "Prod_In"
    refused(cli(*second), "are profile 'prod-in''s; choose another name")


def test_secrets_go_on_a_line_of_their_own(
    cli: Invoke, commented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var, value in SECRET_VARS.items():
        monkeypatch.setenv(var, value)
    fake_keyring(monkeypatch, None)
    kept = commented.parent / "secrets.env"
    kept.write_text("OTHER=keepme")  # no line end
    kept.chmod(0o600)
    assert cli(*scripted("https://new.example", "--no-check", "--secrets-file")).exit_code == 0
    assert kept.read_text().splitlines()[0] == "OTHER=keepme"
    monkeypatch.setenv("NEW_API", "ab\udc85")  # a byte from the environment that is no text
    again = scripted("https://x.example", "--no-check", "--secrets-file")
    again[again.index("new")] = "other"
    bad = cli(*again)
    assert bad.exit_code == 2 and "the secret is not UTF-8 text; not written" in bad.stderr
    assert "WIBMO_OTHER" not in kept.read_text()

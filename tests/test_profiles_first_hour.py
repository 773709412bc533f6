"""Issue 12, items 14-17, 2 (profiles check --online) and 24 (profiles list): profiles as
a new user meets them: a file without default_profile, secrets in a .env beside the
profiles file, a bad $WIBMO_PROFILE, `profiles where` and `profiles example`, and an
answer `check --online` cannot decrypt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from rich.console import Console
from support import (
    ENV_VARS,
    Invoke,
    StartSandbox,
    assert_one_line_error,
    leaks,
    profile_values,
    write_tables,
)

from wibmo_cli.views.profiles import list_table

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "profiles.example.toml"
LONG_URL = "https://pp-sandbox.wibmo.example/uat/sbx/api/onboarding/v3/long/base"


def config_dir() -> Path:
    return Path(os.environ["WIBMO_CONFIG_DIR"])


def no_default(url: str = "https://pp-uat.example", path: Path | None = None) -> Path:
    """A profiles file as the README's step 1 has a user write it: no default_profile."""
    return write_tables({"uat": profile_values(url)}, path=path)


# -- 14: no default_profile ---------------------------------------------------------------


def test_a_file_without_default_profile_is_listed_shown_and_checked_by_name(
    cli: Invoke, isolated: Path
) -> None:
    no_default()
    listed = cli("profiles", "list", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert [(r["name"], r["default"]) for r in json.loads(listed.stdout)] == [
        ("uat", False),
        ("demo", False),
    ]
    assert cli("profiles", "list").exit_code == 0
    shown = cli("profiles", "show", "uat", "-o", "json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["missing"] == {}
    checked = cli("profiles", "check", "uat", "-o", "json")
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["ok"] is True


def test_only_a_command_that_needs_a_profile_and_got_none_asks_for_one(
    cli: Invoke, isolated: Path
) -> None:
    path = no_default()
    for args in (("lookup", "--urn", "1"), ("profiles", "show"), ("profiles", "check")):
        result = cli(*args)
        assert_one_line_error(result, 3, f"no profile chosen: {path} has no default_profile")
        assert "pass --profile (one of uat, demo)" in result.stderr


# -- 15: .env beside the profiles file -----------------------------------------------------


def test_secrets_in_a_dotenv_beside_the_profiles_file_work_from_anywhere(
    cli: Invoke, start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var)
    sandbox = start_sandbox()
    write_tables(
        {"uat": profile_values(sandbox.url)}, default="uat", path=config_dir() / "profiles.toml"
    )
    beside = config_dir() / ".env"
    beside.write_text("".join(f"{k}={v}\n" for k, v in ENV_VARS.items()), encoding="utf-8")
    beside.chmod(0o600)
    result = cli("lookup", "--mobile", "9897123456", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["responseCode"] == "00"
    assert not leaks(result.stdout + result.stderr)


def test_the_working_directory_wins_and_the_environment_wins_over_both(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    values = profile_values("https://pp-uat.example", client_id="${WHO}", bank_id="${BANK}")
    write_tables({"uat": values}, default="uat", path=config_dir() / "profiles.toml")
    (config_dir() / ".env").write_text("WHO=beside\nBANK=1111\n", encoding="utf-8")
    (isolated / ".env").write_text("WHO=here\n", encoding="utf-8")

    def shown() -> dict[str, str]:
        result = cli("profiles", "show", "-o", "json")
        assert result.exit_code == 0, result.stderr
        values = json.loads(result.stdout)["values"]
        return {"client_id": values["client_id"], "bank_id": values["bank_id"]}

    assert shown() == {"client_id": "here", "bank_id": "1111"}
    monkeypatch.setenv("WHO", "environment")
    assert shown() == {"client_id": "environment", "bank_id": "1111"}


def test_a_missing_variable_names_the_dotenv_files_looked_at(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.delenv("HARD_API_KEY")
    write_tables(
        {"uat": profile_values("https://pp-uat.example")},
        default="uat",
        path=config_dir() / "profiles.toml",
    )
    (config_dir() / ".env").write_text("OTHER=1\n", encoding="utf-8")
    result = cli("lookup", "--urn", "1")
    assert_one_line_error(
        result,
        3,
        "needs environment variable ${HARD_API_KEY}, which is not set (nor in .env); .env "
        f"files looked at: {isolated / '.env'} (no such file), {config_dir() / '.env'}",
    )


def test_profiles_check_checks_the_permissions_of_every_dotenv_read(
    cli: Invoke, isolated: Path
) -> None:
    write_tables(
        {"uat": profile_values("https://pp-uat.example")},
        default="uat",
        path=config_dir() / "profiles.toml",
    )
    (config_dir() / ".env").write_text("OTHER=1\n", encoding="utf-8")
    (config_dir() / ".env").chmod(0o644)
    result = cli("profiles", "check", "-o", "json")
    details = [c["detail"] for c in json.loads(result.stdout)["checks"] if c["status"] == "warn"]
    assert any(str(config_dir() / ".env") in d and "chmod 600" in d for d in details), details


# -- 16: $WIBMO_PROFILE, where it looked, `profiles where` --------------------------------


def test_a_bad_wibmo_profile_is_reported_naming_the_variable(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    path = no_default()
    monkeypatch.setenv("WIBMO_PROFILE", "nope")
    assert_one_line_error(
        cli("lookup", "--urn", "1"),
        3,
        f"$WIBMO_PROFILE names an unknown profile 'nope' ({path}); known profiles: uat, demo",
    )
    assert cli("profiles", "show", "uat").exit_code == 0  # a name given is the profile
    typed = cli("-p", "nope", "lookup", "--urn", "1")
    assert_one_line_error(typed, 3, f"unknown profile 'nope' ({path})")
    assert "WIBMO_PROFILE" not in typed.stderr


def test_an_unknown_default_profile_is_named_as_such(cli: Invoke, isolated: Path) -> None:
    path = write_tables({"uat": profile_values("https://pp-uat.example")}, default="prod")
    assert_one_line_error(
        cli("lookup", "--urn", "1"), 3, f"default_profile names an unknown profile 'prod' ({path})"
    )


def test_profiles_list_without_a_file_says_where_it_looked(cli: Invoke, isolated: Path) -> None:
    result = cli("profiles", "list", "-o", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        f"no profiles file: looked for {isolated / 'profiles.toml'} and "
        f"{config_dir() / 'profiles.toml'}\n"
    )


def test_profiles_where_lists_every_file_in_use(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    path = no_default(path=config_dir() / "profiles.toml")
    (config_dir() / ".env").write_text("OTHER=1\n", encoding="utf-8")
    monkeypatch.setenv("WIBMO_PROFILE", "uat")
    monkeypatch.setenv("WIBMO_AUDIT_LOG", str(tmp_path / "audit.log"))
    result = cli("profiles", "where", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "profiles_file": str(path),
        "looked_for": [str(isolated / "profiles.toml"), str(path)],
        "profile": "uat",
        "chosen_by": "$WIBMO_PROFILE",
        "problem": None,
        "dotenv": [
            {"path": str(isolated / ".env"), "found": False},
            {"path": str(config_dir() / ".env"), "found": True},
        ],
        "audit_log": str(tmp_path / "audit.log"),
        "sandbox_database": str(Path(os.environ["WIBMO_DATA_DIR"]) / "sandbox.db"),
    }
    monkeypatch.setenv("COLUMNS", "200")
    table = cli("profiles", "where")
    for line in (
        f"profiles file    │ {path}",
        "profile          │ uat ($WIBMO_PROFILE)",
        f".env             │ {config_dir() / '.env'} (read)",
        f"audit log        │ {tmp_path / 'audit.log'}",
    ):
        assert line in table.stdout, table.stdout


def test_profiles_where_still_answers_when_the_profiles_file_is_broken(
    cli: Invoke, isolated: Path
) -> None:
    (isolated / "profiles.toml").write_text("[profiles.uat\n", encoding="utf-8")
    result = cli("profiles", "where", "-o", "json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert "is not valid TOML" in record["problem"]
    assert record["audit_log"].endswith("audit.jsonl")


# -- 17: the example shipped ------------------------------------------------------------


def test_profiles_example_prints_the_repository_example(cli: Invoke) -> None:
    result = cli("profiles", "example")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == EXAMPLE.read_text(encoding="utf-8")


def test_the_installed_package_holds_the_example() -> None:
    """The editable install's package data (importlib.resources) is the repo root's file."""
    shipped = files("wibmo_cli").joinpath("profiles.example.toml")
    assert shipped.read_bytes() == EXAMPLE.read_bytes()


def test_a_build_of_the_package_copies_the_example_in(tmp_path: Path) -> None:
    """What a wheel is made from: setuptools' build_py of a copy of the source tree puts
    profiles.example.toml in the package as a regular file with the example's bytes (a
    wheel itself needs the `wheel` package, which the test extra does not install)."""
    tree = tmp_path / "src"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "profiles.example.toml"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(
        ROOT / "wibmo_cli",
        tree / "wibmo_cli",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    out = tmp_path / "lib"
    build = ("-q", "build_py", "--build-lib", str(out))
    subprocess.run(
        [sys.executable, "-c", "import setuptools; setuptools.setup()", *build],
        cwd=tree,
        check=True,
        capture_output=True,
        timeout=120,
    )
    built = out / "wibmo_cli" / "profiles.example.toml"
    assert built.is_file() and not built.is_symlink()
    assert built.read_bytes() == EXAMPLE.read_bytes()


# -- 2: check --online reads an answer it cannot decrypt -----------------------------------


def test_check_online_prints_the_iv_line_for_an_answer_it_cannot_decrypt(
    wibmo: Invoke, start_sandbox: StartSandbox
) -> None:
    start_sandbox(profile={"iv": "zero"}, iv="prepend")
    result = wibmo("profiles", "check", "--online", "-o", "json")
    assert result.exit_code == 3, result.stderr
    online = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "online")
    assert online["status"] == "fail"
    assert 'detect reads it with iv = "prepend"' in online["detail"]
    assert "write iv = \"prepend\" in profile 'hard'" in online["detail"]
    assert "capture" not in online["detail"]
    assert not leaks(result.stdout + result.stderr)


# -- 24: profiles list gives base_url the width ------------------------------------------


@pytest.mark.parametrize("width", [80, 120, 200])
def test_profiles_list_shows_base_url_whole(width: int) -> None:
    where = "/home/agent/.config/wibmo/profiles.toml"
    rows = [
        {"name": "uat-v3", "default": True, "base_url": LONG_URL, "production": False},
        {"name": "prod", "default": False, "base_url": "https://pp.example", "production": True},
        {"name": "demo", "default": False, "base_url": "embedded", "production": False},
    ]
    for row in rows:
        row["source"] = "built-in" if row["name"] == "demo" else where
    console = Console(width=width, record=True, no_color=True)
    console.print(list_table(rows, where))
    text = console.export_text()
    assert "…" not in text
    assert text.splitlines()[0].strip() == f"Profiles ({where})"  # the file, once
    assert text.count(where) == 1
    cells = "".join(
        line.split("│")[3].strip() for line in text.splitlines() if line.count("│") == 5
    )
    assert LONG_URL in cells
    if width >= 120:
        assert any(LONG_URL in line for line in text.splitlines())
    assert "demo (built-in)" in text

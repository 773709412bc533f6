"""`wibmo profiles list | show | check` with a profiles file written for each test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import API_KEY, SECURE_CODE, Invoke
from typer.testing import Result

ENC_KEY_HEX = "00112233445566778899aabbccddeeff0011223344556677"
PROD_API_KEY = "prod-literal-api-key-3141592653"
PROD_SECURE = "prod-literal-secure-2718281828"
PROD_KEY = "prod-literal-key-24bytes"
SECRETS = (API_KEY, SECURE_CODE, ENC_KEY_HEX, PROD_API_KEY, PROD_SECURE, PROD_KEY)

PROFILES = f"""\
default_profile = "uat"

[profiles.uat]
base_url = "https://pp-uat.example"
client_id = "FintechA"
bank_id = "1234"
api_key = "${{UAT_API_KEY}}"
secure_code = "${{UAT_SECURE_CODE}}"
encryption_key = "${{UAT_ENC_KEY}}"
iv = "key"

[profiles.prod]
base_url = "https://pp.example"
client_id = "FintechA"
bank_id = 1234
api_key = "{PROD_API_KEY}"
secure_code = "{PROD_SECURE}"
encryption_key = "{PROD_KEY}"
production = true

[profiles.local]
base_url = "http://127.0.0.1:8080"
client_id = "FintechA"
bank_id = "1234"
api_key = "${{UAT_API_KEY}}"
secure_code = "${{UAT_SECURE_CODE}}"
encryption_key = "${{LOCAL_KEY}}"

[profiles.short]
base_url = "https://pp-uat.example"
client_id = "FintechA"
bank_id = "1234"
api_key = "${{UAT_API_KEY}}"
secure_code = "${{UAT_SECURE_CODE}}"
encryption_key = "${{SHORT_KEY}}"
"""


@pytest.fixture
def cli(cli: Invoke) -> Invoke:
    """conftest's `cli`, checking also that no whole secret is shown."""

    def run(*args: str) -> Result:
        result = cli(*args)
        for secret in SECRETS:  # never a whole secret, whatever the command
            assert secret not in result.stdout
            assert secret not in result.stderr
        return result

    return run


@pytest.fixture
def profiles_file(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = isolated / "profiles.toml"
    path.write_text(PROFILES, encoding="utf-8")
    path.chmod(0o600)
    (isolated / ".env").write_text(
        f"UAT_SECURE_CODE={SECURE_CODE}\nUAT_ENC_KEY={ENC_KEY_HEX}\nSHORT_KEY=only-16-chars-xx\n",
        encoding="utf-8",
    )
    (isolated / ".env").chmod(0o600)
    monkeypatch.setenv("UAT_API_KEY", API_KEY)
    return path


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


# -- list ----------------------------------------------------------------------------


def test_list_json(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["uat", "prod", "local", "short", "demo"]
    assert [r["name"] for r in rows if r["default"]] == ["uat"]
    assert [r["name"] for r in rows if r["production"]] == ["prod"]
    assert rows[0]["source"] == str(profiles_file)
    assert rows[0]["base_url"] == "https://pp-uat.example"
    assert rows[-1] == {
        "name": "demo",
        "default": False,
        "base_url": "embedded",
        "production": False,
        "source": "built-in",
    }


def test_list_table(cli: Invoke, profiles_file: Path, wide: None) -> None:
    result = cli("profiles", "list", "-p", "prod")
    assert result.exit_code == 0, result.stderr
    assert f"Profiles ({profiles_file})" in result.stdout
    lines = result.stdout.splitlines()
    prod = next(line for line in lines if " prod " in line)
    assert "*" in prod and "yes" in prod and "https://pp.example" in prod
    uat = next(line for line in lines if " uat " in line)
    assert "*" not in uat


def test_list_without_a_file_shows_the_demo(cli: Invoke) -> None:
    result = cli("profiles", "list", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [(r["name"], r["default"], r["source"]) for r in json.loads(result.stdout)] == [
        ("demo", True, "built-in")
    ]
    table = cli("profiles", "list")
    assert "no profiles file: built-in demo only" in table.stdout


def test_list_copes_with_a_profile_that_does_not_load(cli: Invoke, isolated: Path) -> None:
    (isolated / "profiles.toml").write_text(
        'default_profile = "odd"\n[profiles.odd]\nbase_url = 5\n', encoding="utf-8"
    )
    result = cli("profiles", "list")
    assert result.exit_code == 0, result.stderr
    assert "odd" in result.stdout
    assert "base_url must be a string" in cli("profiles", "show").stderr


# -- show ----------------------------------------------------------------------------


def test_show_redacts_secrets(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "show", "uat", "-o", "json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["name"] == "uat" and record["source"] == str(profiles_file)
    values = record["values"]
    assert values["api_key"] == "****" + API_KEY[-4:]
    assert values["secure_code"] == "****" + SECURE_CODE[-4:]
    assert values["encryption_key"] == "****" + ENC_KEY_HEX[-4:]
    assert values["iv"] == "key" and values["entity_id"] == "100"
    assert record["missing"] == {}


def test_show_table_redacts_literal_secrets(cli: Invoke, profiles_file: Path, wide: None) -> None:
    result = cli("profiles", "show", "prod")
    assert result.exit_code == 0, result.stderr
    assert "Profile prod" in result.stdout
    assert "****" + PROD_API_KEY[-4:] in result.stdout
    assert "****" + PROD_KEY[-4:] in result.stdout
    assert "https://pp.example" in result.stdout
    row = next(line for line in result.stdout.splitlines() if "production" in line)
    assert "true" in row


def test_show_reports_a_missing_variable(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "show", "local", "-o", "json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["values"]["encryption_key"] is None
    assert "${LOCAL_KEY}" in record["missing"]["encryption_key"]
    table = cli("profiles", "show", "local")
    assert "missing" in table.stdout and "${LOCAL_KEY}" in table.stdout


def test_show_the_chosen_profile_and_unknown_ones(cli: Invoke, profiles_file: Path) -> None:
    assert json.loads(cli("profiles", "show", "-o", "json").stdout)["name"] == "uat"
    result = cli("profiles", "show", "nope")
    assert result.exit_code == 3
    assert "unknown profile 'nope'" in result.stderr
    assert "known profiles: uat, prod, local, short, demo" in result.stderr


# -- check ---------------------------------------------------------------------------


def checks_of(result: Result) -> dict[str, tuple[str, str]]:
    report = json.loads(result.stdout)
    return {c["name"]: (c["status"], c["detail"]) for c in report["checks"]}


def test_check_a_good_profile(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "check", "uat", "-o", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["profile"] == "uat" and report["ok"] is True
    checks = checks_of(result)
    assert {status for status, _ in checks.values()} == {"ok"}
    assert checks["iv"] == ("ok", 'iv = "key"')
    status, detail = checks["encryption_key"]
    assert status == "ok" and "24 bytes (auto: read as hex)" in detail
    assert "****" + ENC_KEY_HEX[-4:] in detail
    table = cli("profiles", "check", "uat")
    assert table.exit_code == 0 and "Checking profile uat" in table.stdout


def test_check_warns_about_literal_secrets(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "check", "prod", "-o", "json")
    assert result.exit_code == 0, result.stderr  # warnings do not fail the check
    checks = json.loads(result.stdout)["checks"]
    warned = {c["name"]: c["detail"] for c in checks if c["status"] == "warn"}
    assert set(warned) == {"api_key", "secure_code", "encryption_key"}
    for key, detail in warned.items():
        assert detail.startswith(f"{key} is written literally in {profiles_file}; ")
        assert f'{key} = "${{VAR}}"' in detail
    assert ("production", "ok") in {(c["name"], c["status"]) for c in checks}
    assert "warn" in cli("profiles", "check", "prod").stdout


@pytest.mark.parametrize("name", ["profiles.toml", ".env"])
def test_check_warns_about_readable_files(
    cli: Invoke, profiles_file: Path, isolated: Path, name: str
) -> None:
    (isolated / name).chmod(0o644)
    result = cli("profiles", "check", "uat", "-o", "json")
    assert result.exit_code == 0, result.stderr
    status, detail = checks_of(result)[name]
    assert status == "warn"
    assert "readable by group or others (mode 0644)" in detail
    assert f"chmod 600 {isolated / name}" in detail
    table = cli("profiles", "check", "uat")
    assert "warn" in table.stdout


def test_check_fails_for_a_missing_variable(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "check", "local", "-o", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["ok"] is False
    status, detail = checks_of(result)["encryption_key"]
    assert status == "fail"
    assert "${LOCAL_KEY}" in detail and "not set" in detail
    assert checks_of(result)["base_url"] == ("ok", "http://127.0.0.1:8080")
    table = cli("profiles", "check", "local")
    assert table.exit_code == 3 and "FAIL" in table.stdout


def test_check_fails_for_a_bad_key(cli: Invoke, profiles_file: Path) -> None:
    result = cli("profiles", "check", "short", "-o", "json")
    assert result.exit_code == 3
    status, detail = checks_of(result)["encryption_key"]
    assert status == "fail"
    assert "profile 'short': the encryption key does not come to 24 bytes" in detail
    assert "got 16 characters" in detail
    assert "only-16-chars-xx" not in result.stdout


def test_check_fails_for_plain_http(cli: Invoke, isolated: Path, profiles_file: Path) -> None:
    text = PROFILES.replace("http://127.0.0.1:8080", "http://pp-uat.example")
    profiles_file.write_text(text, encoding="utf-8")
    (isolated / ".env").write_text(
        f"UAT_SECURE_CODE={SECURE_CODE}\nLOCAL_KEY={ENC_KEY_HEX}\n", encoding="utf-8"
    )
    result = cli("profiles", "check", "local", "-o", "json")
    assert result.exit_code == 3
    status, detail = checks_of(result)["base_url"]
    assert status == "fail" and "plain http:// to pp-uat.example is refused" in detail


def test_check_the_demo(cli: Invoke) -> None:
    result = cli("profiles", "check", "-o", "json")
    assert result.exit_code == 0, result.stderr
    checks = checks_of(result)
    assert {status for status, _ in checks.values()} == {"ok"}  # no literal-secret warnings
    assert checks["base_url"] == ("ok", "embedded")

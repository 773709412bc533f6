"""Issue 11: profiles.example.toml holds one complete, working profile per variant.

The example file itself is copied as a user would copy it: only the tested profile's
base_url is changed (to a sandbox serving that profile's variant on loopback), and the
secrets come from the environment, here the test credentials. Then a real lookup and a
real update-profile go through the CLI, and must be answered 00 at the variant's paths.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from support import (
    API_KEY,
    CLIENT_ID,
    ENCRYPTION_KEY,
    SECURE_CODE,
    Invoke,
    running,
)

from wibmo_cli.endpoint import sandbox_settings
from wibmo_cli.profiles import COMMAND_KEYS, DEFAULTS, DEMO_PROFILE, KNOWN_KEYS, resolve
from wibmo_cli.sandbox import Sandbox
from wibmo_cli.sandbox.variants import MOB1, SEED, V3, Variant

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parent.parent / "profiles.example.toml"
CONSUMER = "uat-consumer-1"
BANK_ID = "1234"  # the example's; the test's own is 2010
SECRETS = {
    "WIBMO_UAT_API_KEY": API_KEY,
    "WIBMO_UAT_SECURE_CODE": SECURE_CODE,
    "WIBMO_UAT_ENCRYPTION_KEY": ENCRYPTION_KEY,
    "WIBMO_UAT_CONSUMER_ID": CONSUMER,
}
# profile -> the variant it is written for, and whether that environment names a consumer id
PROFILES = {"uat": (SEED, ""), "uat-mob1": (MOB1, CONSUMER), "uat-v3": (V3, CONSUMER)}


def example_tables() -> dict[str, dict[str, Any]]:
    tables = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["profiles"]
    assert isinstance(tables, dict)
    return tables


def copy_pointing_at(name: str, url: str) -> Path:
    """The example file as ./profiles.toml, with profile `name`'s base_url set to `url`:
    the one line a user edits."""
    text = EXAMPLE.read_text(encoding="utf-8")
    head, header, rest = text.partition(f"[profiles.{name}]\n")
    assert header, f"no [profiles.{name}] in {EXAMPLE}"
    section, boundary, tail = rest.partition("\n[")
    section, count = re.subn(
        r'^base_url = "[^"]*"', f'base_url = "{url}"', section, count=1, flags=re.MULTILINE
    )
    assert count == 1, f"[profiles.{name}] has no base_url line"
    path = Path.cwd() / "profiles.toml"
    path.write_text(head + header + section + boundary + tail, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def lookup_and_update(cli: Invoke, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A real lookup and a real update-profile through the CLI with profile `name`."""
    found = cli("-p", name, "-o", "json", "lookup", "--urn", "389")
    assert found.exit_code == 0, found.stderr
    updated = cli(
        "-p", name, "-o", "json", "update-profile", "--urn", "389", "--city", "Pune", "--yes"
    )
    assert updated.exit_code == 0, updated.stderr
    return json.loads(found.stdout), json.loads(updated.stdout)


def paths_called(sandbox: Sandbox) -> set[tuple[str, str, str]]:
    return {(r.api, r.method, r.path) for r in sandbox.requests}


@pytest.mark.parametrize("name", list(PROFILES))
def test_each_variants_example_profile_works_against_that_variant(
    cli: Invoke, db_path: Path, secrets: None, name: str
) -> None:
    variant, consumer = PROFILES[name]
    with running(db_path, variant=variant, bank_id=BANK_ID, consumer_custom_id=consumer) as sb:
        copy_pointing_at(name, sb.url)
        found, updated = lookup_and_update(cli, name)
    assert found["responseCode"] == "00"
    assert found["messageCode"] == int(variant.lookup.message_codes[0]) + 1
    assert updated["responseCode"] == "00"
    assert paths_called(sb) == expected_calls(variant)


def expected_calls(variant: Variant) -> set[tuple[str, str, str]]:
    """The first path of each API (the one every example profile names), by its method."""
    return {
        ("lookup", variant.lookup.method, variant.lookup.paths[0]),
        ("update", variant.update.method, variant.update.paths[0]),
    }


def test_the_local_example_works_against_wibmo_sandbox(cli: Invoke, db_path: Path) -> None:
    """`local` speaks to `wibmo sandbox` as started with no options: the demo profile's
    credentials, the seed variant (its literal secrets are the demo's)."""
    demo = resolve("demo", DEMO_PROFILE, {}, source="test", builtin=True)
    with Sandbox(sandbox_settings(demo, db_path)) as sandbox:
        copy_pointing_at("local", sandbox.url)
        found, updated = lookup_and_update(cli, "local")
    assert (found["responseCode"], updated["responseCode"]) == ("00", "00")
    assert sandbox.settings.variant.name == SEED.name  # the seed, following the profile


@pytest.mark.parametrize(("name", "other"), [("uat-v3", MOB1), ("uat-mob1", V3), ("uat", V3)])
def test_an_example_profile_fails_against_another_variant(
    cli: Invoke, db_path: Path, secrets: None, name: str, other: Variant
) -> None:
    """The strict variants tell the examples apart: none works against a strict variant
    it is not written for."""
    with running(db_path, variant=other, bank_id=BANK_ID, consumer_custom_id=CONSUMER) as sb:
        copy_pointing_at(name, sb.url)
        result = cli("-p", name, "-o", "json", "lookup", "--urn", "389")
    assert result.exit_code != 0


def test_the_uat_table_lists_every_key_with_its_default() -> None:
    uat = example_tables()["uat"]
    assert set(uat) == set(KNOWN_KEYS) - set(COMMAND_KEYS)  # each the alternative of a secret
    for key, default in DEFAULTS.items():
        written = tuple(uat[key]) if isinstance(default, tuple) else uat[key]
        assert written == default, key


def test_every_example_profile_resolves(secrets: None) -> None:
    for name, table in example_tables().items():
        profile = resolve(name, table, SECRETS, source=str(EXAMPLE))
        assert profile.get("client_id") in (CLIENT_ID, DEMO_PROFILE["client_id"])


def test_the_v3_example_places_credentials_per_api() -> None:
    v3 = resolve("uat-v3", example_tables()["uat-v3"], SECRETS, source=str(EXAMPLE))
    assert (v3.get("lookup_credentials"), v3.get("update_credentials")) == ("body", "headers")
    assert (v3.get("update_fields"), v3.get("update_date_format")) == ("sample", "DD-MM-YYYY")
    assert v3.get("consumer_custom_id") == CONSUMER


def test_the_copy_changes_only_the_base_url(isolated: Path) -> None:
    url = "http://127.0.0.1:1"
    copied = tomllib.loads(copy_pointing_at("uat-v3", url).read_text(encoding="utf-8"))
    expected = example_tables()
    expected["uat-v3"]["base_url"] = url
    assert copied["profiles"] == expected

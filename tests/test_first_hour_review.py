"""Issue 12, what its new-user review found after the fixes: starting from `wibmo profiles
example > profiles.toml` (default profile `local`: the sandbox at port 8765) must say how
to start that sandbox; `sandbox customers` must offer a re-KYC customer who can be
looked up."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from support import Invoke

from wibmo_cli.answer import refused
from wibmo_cli.sandbox_port import DEFAULT_PORT


def test_refused_at_the_sandbox_port_says_how_to_start_it() -> None:
    error = refused(f"http://127.0.0.1:{DEFAULT_PORT}/x", f"127.0.0.1:{DEFAULT_PORT}")
    assert "no sandbox is running there" in error.message
    assert "wibmo sandbox" in str(error.hint)
    other = refused("https://pp.example:8443/x", "pp.example:8443")
    assert other.message.endswith("is the service up?") and other.hint is None


@pytest.mark.e2e
def test_the_example_files_default_profile_says_to_start_the_sandbox(wibmo: Invoke) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", DEFAULT_PORT)) == 0:
            pytest.skip(f"something listens on {DEFAULT_PORT}")
    example = wibmo("profiles", "example")
    assert example.exit_code == 0
    Path("profiles.toml").write_text(example.stdout, encoding="utf-8")
    result = wibmo("lookup", "--mobile", "9897123456")
    assert result.exit_code == 5
    assert "start one with `wibmo sandbox`" in result.stderr


@pytest.mark.e2e
def test_every_default_example_of_sandbox_customers_can_be_looked_up(wibmo: Invoke) -> None:
    listed = json.loads(wibmo("sandbox", "customers", "-o", "json").stdout)
    for found in listed:
        if found["kind"] in ("no-card", "shared-mobile", "shared-email"):
            continue  # their lookups answer 1001 / 1237 / 1307 on purpose
        result = wibmo("lookup", "--customer-id", found["customerId"], "-o", "json")
        assert result.exit_code in (0, 1), result.stderr
        assert json.loads(result.stdout)["responseCode"] != "1001", found["kind"]

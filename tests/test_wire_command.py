"""update-profile's side of send_update: when the preview shows, against the built-in
demo profile (the embedded sandbox, no set-up)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

Invoke = Callable[..., Result]
UPDATE = ("update-profile", "--urn", "389")


def test_sent_unasked_shows_the_notes_not_the_preview(wibmo: Invoke, isolated: Path) -> None:
    result = wibmo(*UPDATE, "--email", "unasked@example.com", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Update for" not in result.stderr  # looked up for the KYC profile only
    assert "see the change: wibmo -p demo lookup --urn 389" in result.stderr


def test_a_dry_run_that_looked_the_customer_up_shows_the_preview(
    wibmo: Invoke, isolated: Path
) -> None:
    result = wibmo(*UPDATE, "--email", "dry@example.com", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Update for urn 389" in result.stderr
    assert "dry run: nothing was sent (clientTxnId W" in result.stderr

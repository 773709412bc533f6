"""All masking and redaction rules live in masking.py: one "last four" rule, used everywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from wibmo_cli import profiles, validate
from wibmo_cli.errors import InputError
from wibmo_cli.masking import mask_identifier, mask_value, redact
from wibmo_cli.messages import Identifiers

SOURCE = Path(__file__).resolve().parents[1] / "wibmo_cli"


def _imports(module: str) -> set[str]:
    tree = ast.parse((SOURCE / module).read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("ABCPE1234F", "******234F"),
        ("1234 5678 6015", "**** **** 6015"),
        ("919897123456", "********3456"),
        ("389", "***"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_the_one_last_four_rule(value: str, shown: str) -> None:
    assert mask_value(value) == shown


def test_width_keeps_the_last_four_of_a_long_value() -> None:
    assert mask_value("A" * 100 + "1234", width=40) == "*" * 36 + "1234"
    assert mask_value("AB1234", width=40) == "**1234"


def test_identifiers_follow_the_same_rule() -> None:
    for kind in ("mobile", "urn", "customer_id", "customerId"):
        for value in ("919897123456", "70000000008", "389"):
            assert mask_identifier(kind, value) == mask_value(value)
    assert mask_identifier("email", "abc@example.com") == "a***@example.com"
    ids = Identifiers(mobile="919897123456", urn="389", customer_id="C1", email="ab@x.io")
    assert ids.describe() == "mobile ********3456, urn ***, customer id **, email a***@x.io"


@pytest.mark.parametrize(
    ("check", "typed"),
    [
        (validate.pan, "ABCPE 12345"),
        (validate.aadhaar, "1234 5678 9012"),
        (validate.passport, "Q1234567"),
        (validate.voter_id, "AB12345678"),
        (validate.ckyc_number, "1234-5678-9012"),
        (validate.pan, "Z" * 500),
    ],
)
def test_validation_messages_mask_document_numbers_by_the_rule(check: object, typed: str) -> None:
    with pytest.raises(InputError) as caught:
        check(typed, field="--doc number")  # type: ignore[operator]
    assert repr(mask_value(typed, width=40)) in caught.value.message
    assert typed[:-4] not in caught.value.message


def test_secrets_are_redacted_in_masking_only() -> None:
    assert redact("") == ""
    assert redact("short-key") == "****"
    assert redact("a-long-api-key-9f3e") == "****9f3e"
    assert not hasattr(profiles, "redact")  # one home: masking.py
    assert "redact" not in {
        node.name
        for node in ast.walk(ast.parse((SOURCE / "profiles.py").read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
    }


def test_the_pure_modules_import_no_io_and_masking_imports_no_profiles() -> None:
    assert not any(name.startswith("wibmo_cli.audit") for name in _imports("messages.py"))
    assert not any(name.startswith("wibmo_cli.profiles") for name in _imports("masking.py"))
    assert "mask_identifier" not in (SOURCE / "audit.py").read_text(encoding="utf-8")

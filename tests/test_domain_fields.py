"""One table of Update Profile fields (fields.FIELDS) drives every place a field appears."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from wibmo_cli import fields, validate
from wibmo_cli.app import app
from wibmo_cli.commands import update_profile as update_profile_cmd
from wibmo_cli.fields import BY_NAME, FIELDS, Field
from wibmo_cli.sandbox import update_rules as sandbox_update
from wibmo_cli.sandbox.model import CUSTOMER_COLUMNS, PlatformError, checked, platform_code
from wibmo_cli.views.customer import CUSTOMER_FIELDS


def _holder(func: Any) -> typer.Typer:
    holder = typer.Typer()
    holder.command()(func)
    return holder


def _command(func: Any) -> Any:
    return typer.main.get_command(_holder(func))


def _options(command: Any) -> dict[str, Any]:
    return {opt: param for param in command.params for opt in param.opts}


def test_update_profile_has_one_option_per_row_with_its_help() -> None:
    options = _options(_command(update_profile_cmd.update_profile))
    for f in FIELDS:
        param = options[f.option]
        assert param.help == f.help
        assert param.name == f.parameter
        if f.flag:
            assert param.secondary_opts == [f"--no-{f.option[2:]}"]
        else:
            assert not param.is_flag


def test_help_lists_every_field_option() -> None:
    result = CliRunner().invoke(app, ["update-profile", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for f in FIELDS:
        assert f.option in result.output
        assert f.help.split(" (")[0] in result.output


def test_the_options_reach_the_payload_under_the_platforms_names() -> None:
    argv = [
        "update-profile", "--urn", "389", "--card-profile-id", "150", "--dry-run",
        "--city", "Pune", "--zip-code", "411 001", "--no-doc-consent", "--sor-disable",
    ]  # fmt: skip
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.split("# Token")[0].split("\n", 1)[1])
    assert payload["cardholderCity"] == "Pune"
    assert payload["cardholderZipCode"] == "411001"
    assert payload["docConsent"] is False and payload["sorDisable"] is True


def test_a_new_row_is_a_new_option(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Field("nickName", "--nick-name", "Nick name", "A nick name.", "name")
    monkeypatch.setattr(update_profile_cmd, "FIELDS", (*FIELDS, extra))
    seen: dict[str, Any] = {}

    @update_profile_cmd.field_options
    def toy(changes: dict[str, Any] | None = None) -> None:
        seen.update(changes or {})

    assert _options(_command(toy))["--nick-name"].help == "A nick name."
    result = CliRunner().invoke(_holder(toy), ["--nick-name", "Bo", "--city", "Pune"])
    assert result.exit_code == 0, result.output
    assert seen["nickName"] == "Bo" and seen["cardholderCity"] == "Pune"
    assert seen["firstName"] is None


def test_the_lookup_view_takes_labels_and_keys_from_the_table() -> None:
    rows = dict(CUSTOMER_FIELDS)
    for f in FIELDS:
        if f.label in rows:
            assert rows[f.label][: len(f.shown_as)] == f.shown_as


def test_the_sandbox_keeps_the_rows_with_a_column() -> None:
    kept = {f.column for f in FIELDS if f.column}
    assert kept <= set(CUSTOMER_COLUMNS)
    assert {f.name for f in sandbox_update._KEPT} == {f.name for f in FIELDS if f.column}


@pytest.mark.parametrize(
    ("name", "bad", "code"),
    [
        ("mobile", "12345", "1034"),
        ("emailId", "not-an-email", "1092"),
        ("dateOfBirth", "31-02-1990", "1088"),
        ("gender", "x", "1055"),
        ("cardholderZipCode", "012345", "1055"),
    ],
)
def test_a_failed_field_check_is_one_platform_code(name: str, bad: str, code: str) -> None:
    f = BY_NAME[name]
    assert platform_code(f.check) == code
    with pytest.raises(PlatformError) as caught:
        checked(f.normalise, bad, where=name, code=platform_code(f.check), mobile_prefix="")
    assert caught.value.code == code


@pytest.mark.parametrize(("doc_type", "code"), [("Pancard", "1242"), ("Aadhar", "1240")])
def test_documents_map_to_their_validators_and_codes(doc_type: str, code: str) -> None:
    check = validate.DOCUMENTS[doc_type].check
    with pytest.raises(PlatformError) as caught:
        checked(check, "1", field="docNumber")
    assert caught.value.code == code


def test_every_row_is_complete_and_unique() -> None:
    assert len({f.name for f in FIELDS}) == len({f.option for f in FIELDS}) == len(FIELDS)
    spellings = [s.lower() for f in FIELDS for s in f.file_names]
    assert len(spellings) == len(set(spellings))
    for f in FIELDS:
        assert f.help.endswith(".") and f.label and f.option.startswith("--")
        assert f.parameter.isidentifier() and f.check is getattr(validate, f.validator)
    assert {f.name: f for f in FIELDS} == fields.BY_NAME


def test_the_generated_options_complete_in_the_shell() -> None:
    command = _command(update_profile_cmd.update_profile)
    ctx = command.make_context("update-profile", [], resilient_parsing=True)
    assert [c.value for c in command.shell_complete(ctx, "--ci")] == ["--city"]
    flags = [c.value for c in command.shell_complete(ctx, "--no-")]
    assert flags == ["--no-doc-consent", "--no-sor-disable"]

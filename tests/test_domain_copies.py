"""What used to be written twice is written once: dates, timestamps, the JSON-object
reader, the stream helpers, the sandbox's default port."""

from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import wibmo_cli
from wibmo_cli import changes, streams, tokenio
from wibmo_cli.changes import parse_request, read_patch
from wibmo_cli.commands import sandbox_cmd
from wibmo_cli.errors import InputError
from wibmo_cli.messages import Identifiers, request_datetime
from wibmo_cli.sandbox_port import DEFAULT_PORT, SANDBOX_URL
from wibmo_cli.views import customer
from wibmo_cli.views import preview as update_view

SOURCE = Path(__file__).resolve().parents[1] / "wibmo_cli"
NOW = datetime(2024, 5, 1, 10, 30, 0)


def _defined(module: str) -> set[str]:
    tree = ast.parse((SOURCE / module).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_one_readable_date_formatter() -> None:
    assert update_view.readable_date is customer.readable_date
    assert "_readable_date" not in _defined("views/preview.py")


def test_one_timestamp_maker() -> None:
    assert "_stamp" not in _defined("changes.py")
    ids = Identifiers(urn="389")
    stamp = request_datetime(NOW)
    assert parse_request(ids, {"kycDateStamp": stamp}, now=NOW).changes["kycDateStamp"] == stamp
    with pytest.raises(InputError, match="must not be in the future"):
        parse_request(ids, {"kycDateStamp": "20240501103001"}, now=NOW)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is empty: give a JSON object"),
        ("  \n", "is empty: give a JSON object"),
        ("{", "is not valid JSON: "),
        ("[1]", "is JSON but not an object: "),
        ("[" * 100_000, "is not valid JSON: nested too deeply"),
    ],
)
def test_one_json_object_reader(text: str, says: str) -> None:
    with pytest.raises(InputError) as payload:
        tokenio.parse_json_payload(text.encode(), "stdin")
    with pytest.raises(InputError) as patch:
        read_patch(text, "p.json")
    assert payload.value.message.startswith(f"stdin {says}")
    assert patch.value.message.startswith(f"--from-file p.json {says}")


def test_only_the_patch_refuses_a_key_given_twice() -> None:
    assert tokenio.parse_json_payload(b'{"a": 1, "a": 2}', "stdin") == {"a": 2}
    with pytest.raises(InputError, match='the key "a" is given twice; give it once'):
        read_patch('{"x": {"a": 1, "a": 2}}', "p.json")
    assert "_DuplicateKey" not in vars(changes) and "_no_duplicates" not in vars(changes)


def test_stream_kinds(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    with path.open() as handle:
        assert streams.is_regular_file(handle) and not streams.is_terminal(handle)
    assert not streams.is_regular_file(handle)  # closed
    assert not streams.is_terminal(handle)
    read, write = os.pipe()
    with os.fdopen(read) as pipe, os.fdopen(write, "w"):
        assert not streams.is_regular_file(pipe) and not streams.is_terminal(pipe)
    for nothing in (None, object()):
        assert not streams.is_regular_file(nothing) and not streams.is_terminal(nothing)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("batchio.py", "is_regular_file"),
        ("commands/tokens.py", "_is_regular_file"),
        ("views/batch.py", "_is_terminal"),
    ],
)
def test_no_local_stream_helpers(module: str, name: str) -> None:
    assert name not in _defined(module)


def test_one_default_port() -> None:
    assert DEFAULT_PORT == 8765 and SANDBOX_URL == "http://127.0.0.1:8765"
    package = Path(wibmo_cli.__file__).parent
    written = [p for p in package.rglob("*.py") if "8765" in p.read_text(encoding="utf-8")]
    assert written == [package / "sandbox_port.py"]
    defaults = inspect.signature(sandbox_cmd.sandbox).parameters
    assert defaults["port"].default == DEFAULT_PORT


def test_the_port_is_named_without_loading_the_sandbox() -> None:
    code = "import sys, wibmo_cli.sandbox_port; print('wibmo_cli.sandbox' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_streams_asks_a_stream_what_it_is() -> None:
    """`.isatty()` lives in streams.py: elsewhere a closed or missing stream would raise
    where streams.is_terminal answers False."""
    package = Path(wibmo_cli.__file__).parent
    asking = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "streams.py" and ".isatty(" in p.read_text(encoding="utf-8")
    ]
    assert asking == []

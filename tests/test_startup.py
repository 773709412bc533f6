"""Start-up: the quick commands import only what they need (functional, not timed).

Each case runs the CLI in a fresh interpreter and lists what got imported: no httpx,
no rich, no sandbox, no pydantic (typer's own option conversion would bring it), no
python-dotenv, no platformdirs, no asyncio, and (but for --help, which lists them)
no other command's module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wibmo_cli.crypto import IvScheme, TokenCodec, parse_key
from wibmo_cli.profiles import DEMO_PROFILE

HEAVY = (
    *("httpx", "rich.table", "rich.console", "wibmo_cli.sandbox", "pydantic", "dotenv"),
    *("platformdirs", "asyncio"),
)
OTHER_COMMANDS = ("wibmo_cli.commands.update_profile", "wibmo_cli.commands.lookup")

PROBE = """
import contextlib, io, json, sys
out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
sys.argv = ["wibmo", *json.loads(sys.argv[1])]
from wibmo_cli.app import main
with contextlib.redirect_stdout(out):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
out.flush()
stdout = out.buffer.getvalue().decode()
print(json.dumps({"code": code, "stdout": stdout, "modules": sorted(sys.modules)}))
"""


def run_probe(*args: str, cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    assert isinstance(result, dict)
    return result


def token() -> str:
    codec = TokenCodec(parse_key(DEMO_PROFILE["encryption_key"]), IvScheme("zero"))
    return codec.encrypt_json({"messageCode": 1930, "urn": "389"})


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("decrypt", "{token}"), id="decrypt"),
        pytest.param(("decrypt", "tokens.txt"), id="decrypt-file"),
        pytest.param(("encrypt", '{"urn": "389"}'), id="encrypt"),
        pytest.param(("-o", "json", "codes", "1303"), id="codes"),
        pytest.param(("--help",), id="help"),
        pytest.param(("decrypt", "--help"), id="decrypt-help"),
    ],
)
def test_quick_commands_stay_light(args: tuple[str, ...], isolated: Path) -> None:
    (isolated / "tokens.txt").write_text(token() + "\n" + token() + "\n")
    given = tuple(a.replace("{token}", token()) for a in args)
    result = run_probe(*given, cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    modules = set(result["modules"])  # type: ignore[arg-type]
    unwanted = HEAVY if "--help" in given else HEAVY + OTHER_COMMANDS  # help lists them all
    loaded = sorted(
        name
        for name in modules
        for heavy in unwanted
        if name == heavy or name.startswith(heavy + ".")
    )
    assert loaded == [], f"{' '.join(given)} imported {loaded}"


def test_a_lookup_does_import_what_it_needs(isolated: Path) -> None:
    """The probe can see imports: a lookup does bring httpx in."""
    result = run_probe("lookup", "--urn", "389", "-o", "json", cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    assert "httpx" in result["modules"]  # type: ignore[operator]

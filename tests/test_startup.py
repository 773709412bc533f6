"""Start-up: the quick commands import only what they need (functional, not timed).

Each case runs the CLI in a fresh interpreter and lists what got imported: no httpx,
no rich, no sandbox, no pydantic (typer's own option conversion would bring it), no
python-dotenv, no platformdirs, no asyncio, and (but for --help, which lists them)
no other command's module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import imports_of

from wibmo_cli.crypto import IvScheme, TokenCodec, parse_key
from wibmo_cli.profiles import DEMO_PROFILE

HEAVY = (
    *("httpx", "rich.table", "rich.console", "wibmo_cli.sandbox", "pydantic", "dotenv"),
    *("platformdirs", "asyncio"),
    *("wibmo_cli.completion", "shlex"),  # only for a Tab press (and a command that quotes)
)
OTHER_COMMANDS = (
    *("wibmo_cli.commands.update_profile", "wibmo_cli.commands.lookup"),
    *("wibmo_cli.commands.call", "wibmo_cli.commands.har_cmd", "wibmo_cli.commands.decrypt_scan"),
    *("wibmo_cli.jsonfilter", "jq"),  # only with --jq / --fields
)


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
        pytest.param(("shell", "--help"), id="shell-help"),
    ],
)
def test_quick_commands_stay_light(args: tuple[str, ...], isolated: Path) -> None:
    (isolated / "tokens.txt").write_text(token() + "\n" + token() + "\n")
    given = tuple(a.replace("{token}", token()) for a in args)
    result = imports_of(*given, cwd=isolated)
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
    result = imports_of("lookup", "--urn", "389", "-o", "json", cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    assert "httpx" in result["modules"]  # type: ignore[operator]

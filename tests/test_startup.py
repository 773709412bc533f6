"""Start-up: the quick commands import only what they need (functional, not timed).

Each case runs the CLI in a fresh interpreter and lists what got imported: no httpx,
no rich, no sandbox, no pydantic (typer's own option conversion would bring it), no
python-dotenv, no platformdirs, no asyncio, and (but for --help, which lists them)
no other command's module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import imports_of, write_profiles

from wibmo_cli.crypto import IvScheme, TokenCodec, parse_key
from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.sandbox import Sandbox

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


def test_a_lookup_of_the_demo_runs_the_sandbox_in_process(isolated: Path) -> None:
    """The probe can see imports: the built-in demo's lookup brings the sandbox in."""
    result = imports_of("lookup", "--urn", "389", "-o", "json", cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    assert "wibmo_cli.sandbox" in result["modules"]  # type: ignore[operator]


ASYNC_STACK = ("httpx", "httpcore", "anyio", "asyncio", "wibmo_cli.client")


def _loaded(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


@pytest.mark.parametrize("output", ["json", "table"])
def test_one_lookup_against_a_server_needs_no_async_stack(
    output: str, isolated: Path, sandbox: Sandbox
) -> None:
    """One lookup goes straight over a socket (direct.py): no asyncio, no httpx; and
    with -o json, no rich either. The answer is the sandbox's."""
    write_profiles(sandbox.url)
    result = imports_of("lookup", "--urn", "389", "-o", output, cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    assert "wibmo_cli.direct" in result["modules"]  # type: ignore[operator]
    unwanted = (*ASYNC_STACK, "wibmo_cli.sandbox", "platformdirs", "_strptime", "secrets")
    if output == "json":
        unwanted = (*unwanted, "rich")
    assert _loaded(result["modules"], unwanted) == []
    assert [r.api for r in sandbox.requests] == ["lookup"]


def test_with_a_proxy_configured_one_lookup_goes_through_httpx(
    isolated: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: only httpx knows proxies, so a proxy in the environment takes the
    lookup there (NO_PROXY lets it reach the sandbox)."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "*")
    write_profiles(sandbox.url)
    result = imports_of("lookup", "--urn", "389", "-o", "json", cwd=isolated)
    assert result["code"] in (0, None), result["stdout"]
    assert "httpx" in result["modules"]  # type: ignore[operator]
    assert "wibmo_cli.direct" not in result["modules"]  # type: ignore[operator]


def test_the_console_starts_light(isolated: Path, sandbox: Sandbox) -> None:
    """`wibmo shell` up to its first prompt (piped: no readline): one kept-alive
    connection (direct.py, no httpx), no rich until an answer is shown, no other
    command's module, no completion code, no sandbox."""
    write_profiles(sandbox.url)
    result = imports_of("shell", cwd=isolated, stdin="quit\n")
    assert result["code"] in (0, None), result["stdout"]
    assert "wibmo_cli.direct" in result["modules"]  # type: ignore[operator]
    unwanted = (*HEAVY, *OTHER_COMMANDS, "wibmo_cli.client", "httpcore", "anyio", "readline")
    unwanted = tuple(name for name in unwanted if name != "asyncio")  # its event loop
    assert _loaded(result["modules"], unwanted) == []

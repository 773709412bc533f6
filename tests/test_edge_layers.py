"""docs/ARCHITECTURE.md's layering, kept true: the imports of every wibmo_cli module,
read with `ast` (lazy imports inside functions and `TYPE_CHECKING` ones count too).

- Only the renderer (render.py, views/) imports rich: it owns the terminal.
- Only the network modules (client.py, answer.py) import httpx.
- The core (everything but the CLI layer: commands/, app.py, typer_glue.py,
  __main__.py) never imports typer, nor the CLI layer, nor `runtime` (a command's
  context): core functions take plain values.
- No command imports another: what they share lives in commands/options.py (options),
  views/ (rendering) or the core.
- The sandbox imports nothing from commands/.
- Commands return an exit status; only the edge (app.py, and the signal handlers of
  __main__.py and interrupts.py) exits.
- Only the renderer (render.py, views/) writes to stdout or stderr; the edge (app.py)
  only puts render's guards around them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from wibmo_cli.app import COMMANDS

PACKAGE = Path(__file__).resolve().parent.parent / "wibmo_cli"

CLI_LAYER = ("wibmo_cli.commands", "wibmo_cli.app", "wibmo_cli.typer_glue", "wibmo_cli.__main__")
RICH_ALLOWED = (
    "wibmo_cli.render",
    "wibmo_cli.views",
    # textsafe.cell: text from the network made safe as a rich Text for a table cell, next
    # to the same rule for plain lines (`visible`), so the two cannot drift apart; rich is
    # imported only inside cell(), which only views/ call.
    "wibmo_cli.textsafe",
)
HTTPX_ALLOWED = ("wibmo_cli.client", "wibmo_cli.answer")
COMMAND_MODULES = frozenset(target.partition(":")[0] for target in COMMANDS.values())

# Known exceptions: modules another part of issue 10 is rewriting; remove each entry
# once that part is merged.
KNOWN: frozenset[tuple[str, str]] = frozenset()  # (importer, imported)
KNOWN_EXITS: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports (for `from a import b`: `a` and `a.b`)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _within(module: str, prefixes: tuple[str, ...] | frozenset[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


TREES: dict[str, ast.Module] = {
    _module_name(path): ast.parse(path.read_text(encoding="utf-8"))
    for path in sorted(PACKAGE.rglob("*.py"))
}
IMPORTS: dict[str, set[str]] = {
    _module_name(path): set(_imports(path)) for path in sorted(PACKAGE.rglob("*.py"))
}


def _dotted(node: ast.expr) -> str:
    """`a.b.c` for an attribute chain on a name ("" for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _calls(module: str) -> Iterator[str]:
    """What `module` calls or raises, as dotted names (`print`, `sys.stdout.write`, ...)."""
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Call):
            yield _dotted(node.func)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            yield f"raise {_dotted(raised)}"


def _breaches(importers: list[str], forbidden: tuple[str, ...] | frozenset[str]) -> list[str]:
    return sorted(
        f"{importer} imports {imported}"
        for importer in importers
        for imported in IMPORTS[importer]
        if _within(imported, forbidden) and (importer, imported) not in KNOWN
    )


def _exits(module: str) -> list[str]:
    return [
        call
        for call in _calls(module)
        if call in ("sys.exit", "exit", "os._exit")
        or (
            call.startswith("raise ") and call.rpartition(".")[2] in ("Exit", "SystemExit", "Abort")
        )
    ]


def _terminal_writes(module: str) -> list[str]:
    return [
        call
        for call in _calls(module)
        if call == "print"
        or (
            call.startswith(("sys.stdout.", "sys.stderr.", "sys.__stdout__", "sys.__stderr__"))
            and call.rpartition(".")[2] in ("write", "writelines", "flush")
        )
    ]


def test_every_module_is_read() -> None:
    assert set(TREES) == set(IMPORTS)
    assert "wibmo_cli.app" in IMPORTS
    assert "wibmo_cli.sandbox.server" in IMPORTS or "wibmo_cli.sandbox" in IMPORTS
    assert "typer" in IMPORTS["wibmo_cli.app"]
    assert "wibmo_cli.commands.options.command_options" in IMPORTS["wibmo_cli.commands.codes"]


def test_only_the_renderer_imports_rich() -> None:
    others = [m for m in IMPORTS if not _within(m, RICH_ALLOWED)]
    assert _breaches(others, ("rich",)) == []


def test_only_the_network_modules_import_httpx() -> None:
    others = [m for m in IMPORTS if m not in HTTPX_ALLOWED]
    assert _breaches(others, ("httpx", "httpcore")) == []


def test_the_core_knows_nothing_of_the_cli() -> None:
    core = [m for m in IMPORTS if not _within(m, CLI_LAYER)]
    forbidden = ("typer", "click", "wibmo_cli.runtime", *CLI_LAYER)
    assert _breaches(core, forbidden) == []


@pytest.mark.parametrize("command", sorted(COMMAND_MODULES))
def test_no_command_imports_another(command: str) -> None:
    assert _breaches([command], COMMAND_MODULES - {command}) == []


# A forked sandbox worker (`sandbox.server.Workers`) ends with os._exit, as a forked
# child must: returning would run the parent's command to its end, atexit included.
FORKED_CHILD_EXITS = {"wibmo_cli.sandbox.server": ["os._exit"]}


def test_only_the_edge_exits() -> None:
    # __main__ and interrupts: a signal before start-up, or after the exit code is known,
    # ends the process at once (interrupts.py: "signals at the edge")
    edge = ("wibmo_cli.app", "wibmo_cli.__main__", "wibmo_cli.interrupts")
    others = [m for m in TREES if m not in edge and m not in KNOWN_EXITS]
    assert {m: _exits(m) for m in others if _exits(m)} == FORKED_CHILD_EXITS
    assert _exits("wibmo_cli.app")  # the test can see one


def test_only_the_renderer_writes_to_the_terminal() -> None:
    others = [m for m in TREES if not _within(m, ("wibmo_cli.render", "wibmo_cli.views"))]
    assert {m: _terminal_writes(m) for m in others if _terminal_writes(m)} == {}


def test_the_sandbox_imports_nothing_from_the_commands() -> None:
    sandbox = [m for m in IMPORTS if _within(m, ("wibmo_cli.sandbox",))]
    assert sandbox
    assert _breaches(sandbox, ("wibmo_cli.commands", "wibmo_cli.app")) == []

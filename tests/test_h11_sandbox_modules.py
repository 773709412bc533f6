"""Issue 10: every sandbox module imports on its own, in any order, and the fault draws
are an explicit, visible part of `Faults` (no ``__setattr__`` reseeding a hidden RNG)."""

from __future__ import annotations

import ast
import json
import pkgutil
import random
import subprocess
import sys
from pathlib import Path

import pytest

import wibmo_cli.sandbox
from wibmo_cli.sandbox import Faults

# Exhaustive (each sandbox module imported alone, in a process of its own): slow, run by CI.
pytestmark = pytest.mark.slow

PACKAGE = Path(wibmo_cli.sandbox.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))


def test_the_package_has_the_modules_this_test_expects() -> None:
    assert {"connection", "gateway", "server", "settings", "store"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import wibmo_cli.sandbox.{module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_all_modules_import_in_reverse_order_in_one_interpreter() -> None:
    imports = "; ".join(f"import wibmo_cli.sandbox.{m}" for m in reversed(MODULES))
    done = subprocess.run(
        [sys.executable, "-c", imports], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def _sibling_imports(module: str) -> set[str]:
    """The sandbox modules ``module`` imports when it runs (type-checking imports aside);
    "<package>" for a name taken from the package itself."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in tree.body:  # top level only: the imports that run at import time
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "wibmo_cli.sandbox":
                names = ["<package>"]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name == "<package>":
                found.add(name)
            elif name.startswith("wibmo_cli.sandbox."):
                found.add(name.removeprefix("wibmo_cli.sandbox.").split(".")[0])
    return found


@pytest.mark.parametrize("module", [m for m in MODULES if m != "__init__"])
def test_no_module_takes_a_name_from_the_package(module: str) -> None:
    """`from wibmo_cli.sandbox import X` inside the package works only if __init__ has
    got that far when the module runs: siblings are imported by their own path."""
    assert "<package>" not in _sibling_imports(module)


def test_the_modules_import_each_other_without_a_cycle() -> None:
    graph = {module: _sibling_imports(module) for module in MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for imported in graph.get(module, set()):
            visit(imported, (*path, module))
        done.add(module)

    for module in MODULES:
        visit(module, ())


# -- the fault draws -------------------------------------------------------------------


def test_faults_has_no_magic_setattr() -> None:
    assert Faults.__setattr__ is object.__setattr__


def test_the_draw_sequence_is_a_visible_field() -> None:
    faults = Faults(seed=7)
    expected = random.Random(7)
    assert isinstance(faults.draws, random.Random)
    assert [faults.draws.random() for _ in range(3)] == [expected.random() for _ in range(3)]


def _draws(faults: Faults, count: int = 20) -> list[str | None]:
    return [faults.take() for _ in range(count)]


def test_the_same_seed_gives_the_same_faults() -> None:
    first = _draws(Faults(fail_rate=0.5, seed=42))
    assert set(first) == {None, "503"}
    assert _draws(Faults(fail_rate=0.5, seed=42)) == first
    assert _draws(Faults(fail_rate=0.5, seed=43)) != first


def test_a_seed_set_again_through_set_from_json_replays_the_faults() -> None:
    faults = Faults()
    faults.set_from_json({"fail_rate": 0.5, "seed": 42})
    first = _draws(faults)
    faults.set_from_json({"seed": 42})
    assert _draws(faults) == first


def test_changing_another_knob_does_not_restart_the_draws() -> None:
    reference = _draws(Faults(fail_rate=0.5, seed=42), 40)
    faults = Faults(fail_rate=0.5, seed=42)
    first = _draws(faults)
    faults.set_from_json({"latency_ms": 5})
    assert first + _draws(faults) == reference


def test_restart_draws_replays_from_the_seed() -> None:
    faults = Faults(fail_rate=0.5, seed=3)
    first = _draws(faults)
    faults.restart_draws()
    assert _draws(faults) == first


def test_reset_clears_the_knobs_and_the_seed() -> None:
    faults = Faults(fail_rate=0.5, seed=3, queue=["503"])
    faults.reset()
    assert faults == Faults()
    assert faults.seed is None
    assert faults.take() is None


def test_to_json_is_the_knobs_only_and_a_copy() -> None:
    faults = Faults(queue=["503"], seed=1)
    value = faults.to_json()
    assert "draws" not in value
    assert json.loads(json.dumps(value)) == value
    value["queue"].append("ok")
    assert faults.queue == ["503"]
    other = Faults()
    other.set_from_json(value)
    assert other.queue == ["503", "ok"]


def test_equality_ignores_where_the_draws_are() -> None:
    one, two = Faults(fail_rate=0.5), Faults(fail_rate=0.5)
    one.take()
    assert one == two
    assert "draws" not in repr(one)


def test_the_draw_sequence_is_not_a_knob() -> None:
    """POST /__sandbox/faults {"draws": 1} was taken, and the next fault draw was a 500
    (float has no .random): only what to_json lists can be set."""
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault 'draws'") as refused:
        faults.set_from_json({"draws": 1})
    assert "draws" not in str(refused.value).partition("known:")[2]
    faults.set_from_json({"fail_rate": 0.5})
    assert {faults.take() for _ in range(50)} == {None, "503"}  # drawn, not a crash

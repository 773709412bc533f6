"""Issue 14's review of completion: a Tab press runs nothing a file holds (a CSV header
cell or a profile name written as shell code), never waits on a FIFO and never ends in a
traceback; zsh gets each backslash escaped (fish takes a candidate as it is).

The zsh checks eval typer's answer as the script does (`eval $(...)`) and then the
`((...))` candidates as zsh's own `_arguments` does (`eval ws\\=\\( "${action[3,-3]}" \\)`,
/usr/share/zsh/functions/Completion/Base/_arguments), in a real zsh when one is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import WIBMO, child_env, write_tables
from typer._click.shell_completion import CompletionItem, get_completion_class

from wibmo_cli.completion import COLUMN_KINDS, column_names, is_safe, profile_names
from wibmo_cli.typer_glue import enable_completion

pytestmark = pytest.mark.usefixtures("isolated")

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")

# _arguments as far as it reads the candidates: the `((...))` action eval'ed into words
ZSH_ARGUMENTS = (
    "_arguments() { local action=${1#\\*: :}; local -a ws; "
    'eval ws\\=\\( "${action[3,-3]}" \\); print -rl -- $ws; }'
)


def completing(shell: str, line: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """wibmo asked for `line`'s candidates as `shell`'s script asks (a real process)."""
    env = child_env(_WIBMO_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=line, **extra)
    return subprocess.run([*WIBMO], env=env, capture_output=True, text=True, timeout=20)


def zsh_words(answer: str) -> list[str]:
    """The candidates zsh offers for typer's `answer`, eval'ed as zsh evals it."""
    script = f"{ZSH_ARGUMENTS}\neval $(cat)"
    done = subprocess.run(
        ["zsh", "-f", "-c", script], input=answer, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def zsh_answer(value: str) -> str:
    """The line wibmo's zsh completion writes for one candidate `value`."""
    enable_completion()
    zsh = get_completion_class("zsh")
    assert zsh is not None
    formatted = zsh(None, {}, "wibmo", "_WIBMO_COMPLETE").format_completion(  # type: ignore[arg-type]
        CompletionItem(value)
    )
    return f"_arguments '*: :(({formatted}))'"


CODE_CELL = "\\$(touch {mark})"  # `\$(...)`: typer wrote it as `"\\$(...)"`, a live $(...)


@pytest.mark.parametrize(
    "value", ["\\$(touch {mark})", "a\\\\b", "\\`touch {mark}\\`", "x\\"], ids=repr
)
@needs_zsh
def test_zsh_offers_a_value_with_backslashes_as_it_is_and_runs_nothing(
    tmp_path: Path, value: str
) -> None:
    mark = tmp_path / "pwned"
    value = value.format(mark=mark)
    assert zsh_words(zsh_answer(value)) == [value]
    assert not mark.exists()


@needs_fish
def test_fish_offers_a_value_with_backslashes_as_it_is(tmp_path: Path) -> None:
    enable_completion()
    fish = get_completion_class("fish")
    assert fish is not None
    value = "a\\b\\\\c"
    line = fish(None, {}, "wibmo", "_WIBMO_COMPLETE").format_completion(  # type: ignore[arg-type]
        CompletionItem(value)
    )
    (tmp_path / "candidates").write_text(line + "\n", encoding="utf-8")
    script = (
        f"function gen; cat {tmp_path / 'candidates'}; end\n"
        "complete --command foo --no-files --arguments '(gen)'\n"
        "complete -C 'foo '\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        ["fish", "--no-config", "-c", script], capture_output=True, text=True, timeout=20, env=env
    )
    assert done.stdout.splitlines() == [value], done.stderr


def test_a_csv_header_cell_of_shell_code_is_not_offered(tmp_path: Path) -> None:
    mark = tmp_path / "pwned"
    csv = tmp_path / "h.csv"
    csv.write_text(f"{CODE_CELL.format(mark=mark)},Mobile No,urn\nx,1,2\n", encoding="utf-8")
    assert column_names(str(csv)) == ["Mobile No", "urn", "mobile", "customerId", "email"]
    answer = completing("zsh", f"wibmo lookup --file {csv} --column ")
    assert answer.returncode == 0 and "touch" not in answer.stdout
    if shutil.which("zsh"):
        assert zsh_words(answer.stdout)[:2] == ["Mobile No", "urn"]
        assert not mark.exists()


def test_a_profile_name_of_shell_code_is_not_offered(tmp_path: Path, isolated: Path) -> None:
    mark = tmp_path / "pwned"
    (isolated / "profiles.toml").write_text(
        f"[profiles.'{CODE_CELL.format(mark=mark)}']\n[profiles.uat]\n[profiles.\"a;b\"]\n",
        encoding="utf-8",
    )
    assert profile_names(None, {}, isolated) == ["uat", "demo"]
    answer = completing("zsh", "wibmo lookup -p ")
    assert answer.returncode == 0 and "touch" not in answer.stdout
    if shutil.which("zsh"):
        assert zsh_words(answer.stdout) == ["uat", "demo"]
        assert not mark.exists()


@pytest.mark.parametrize(
    ("candidate", "safe"),
    [
        ("Mobile No", True),
        ("cust.email@x:1+2=3/4-5_6,7", True),
        ("Nom_complet_é", True),
        ("", False),
        ("a$b", False),
        ("a\\b", False),
        ("a`b", False),
        ('a"b', False),
        ("a'b", False),
        ("a\x1bb", False),
        ("a\nb", False),
        ("a*b", False),
        ("a;b", False),
    ],
)
def test_only_plain_candidates_are_safe(candidate: str, safe: bool) -> None:
    assert is_safe(candidate) is safe


def test_a_fifo_as_the_file_offers_the_kinds_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    answer = completing("zsh", f"wibmo lookup --file {fifo} --column ")  # no writer: no wait
    assert answer.returncode == 0, answer.stderr
    assert answer.stderr == ""
    assert '"mobile"' in answer.stdout


@pytest.mark.parametrize("size", [200 * 1024, 2 << 20], ids=["over-csv-field-limit", "over-cap"])
def test_a_huge_header_cell_offers_the_kinds_without_a_traceback(tmp_path: Path, size: int) -> None:
    csv = tmp_path / "wide.csv"
    csv.write_bytes(b"x" * size + b",urn\n1,2\n")
    assert column_names(str(csv)) == list(COLUMN_KINDS)
    words = f"wibmo lookup --file {csv} --column "
    answer = completing("bash", "", COMP_WORDS=words, COMP_CWORD="5")
    assert answer.returncode == 0 and answer.stderr == "", answer.stderr


def test_written_profile_names_still_complete(isolated: Path) -> None:
    write_tables({"uat-1": {}, "prod_2": {}}, default="uat-1")
    assert profile_names(None, {}, isolated) == ["uat-1", "prod_2", "demo"]

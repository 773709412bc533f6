"""Issue 14, shell completion: `wibmo completion SHELL` prints the script, and a Tab press
(click's environment variables, as the scripts set them) gets the right candidates.

Completion runs as a separate process each time, as a shell runs it: `$_WIBMO_COMPLETE`
with COMP_WORDS/COMP_CWORD (bash) or `$_TYPER_COMPLETE_ARGS` (zsh, fish).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import WIBMO, Invoke, assert_one_line_error, child_env, imports_of, write_tables
from test_startup import HEAVY

from wibmo_cli.completion import column_names, profile_names, response_codes

pytestmark = pytest.mark.usefixtures("isolated")


def bash(line: str) -> list[str]:
    """The candidates bash gets for `line` (the word being completed is its last)."""
    words = line.split(" ")
    env = child_env(
        _WIBMO_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1)
    )
    done = subprocess.run([*WIBMO], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout.splitlines()


def other_shell(shell: str, line: str, **extra: str) -> str:
    env = child_env(_WIBMO_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=line, **extra)
    done = subprocess.run([*WIBMO], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_commands_are_candidates() -> None:
    got = bash("wibmo ")
    assert {"lookup", "decrypt", "codes", "profiles", "sandbox", "completion"} <= set(got)
    assert bash("wibmo dec") == ["decrypt"]
    assert bash("wibmo completion ") == ["bash", "zsh", "fish"]


def test_options_are_candidates() -> None:
    got = bash("wibmo lookup --")
    assert {"--mobile", "--urn", "--file", "--column", "--profile", "--output"} <= set(got)


def test_output_formats() -> None:
    assert bash("wibmo -o ") == ["table", "json", "csv", "tsv", "md"]
    assert bash("wibmo lookup --output c") == ["csv"]


def test_profile_names_from_the_profiles_file_found(isolated: Path) -> None:
    write_tables({"uat": {}, "uat-mob1": {}, "prod": {}})  # ./profiles.toml
    assert bash("wibmo lookup -p ") == ["uat", "uat-mob1", "prod", "demo"]
    assert bash("wibmo -p uat") == ["uat", "uat-mob1"]


def test_profile_names_from_the_file_named_earlier_on_the_line(isolated: Path) -> None:
    write_tables({"here": {}})
    other = write_tables({"there": {}, "demo": {}}, path=isolated / "other.toml")
    assert bash(f"wibmo --profiles-file {other} lookup --profile ") == ["there", "demo"]
    assert bash(f"wibmo decrypt --profiles-file {other} -p t") == ["there"]


def test_profile_names_from_the_variable(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = write_tables({"from-var": {}}, path=isolated / "elsewhere.toml")
    monkeypatch.setenv("WIBMO_PROFILES", str(named))
    assert bash("wibmo codes -p ") == ["from-var", "demo"]


def test_response_codes() -> None:
    got = bash("wibmo codes ")
    assert "1303" in got and "00" in got
    assert bash("wibmo codes 130") == sorted(c for c in got if c.startswith("130"))
    assert "duplicate_request" in bash("wibmo codes dup")


def test_column_names_from_the_files_header(isolated: Path) -> None:
    (isolated / "customers.csv").write_text("Name;Mobile No\nA;9897123456\n")
    assert bash("wibmo lookup --column ") == ["mobile", "urn", "customerId", "email"]
    got = bash("wibmo lookup --file customers.csv --column ")
    # bash puts a candidate on the line as given: one with a space comes quoted
    assert got == ["Name", "'Mobile No'", "mobile", "urn", "customerId", "email"]
    assert bash("wibmo lookup --file customers.csv --column 'Mob") == ["'Mobile No'"]


def test_profile_arguments_complete_to_profile_names(isolated: Path) -> None:
    write_tables({"uat": {}, "prod": {}})
    assert bash("wibmo profiles show ") == ["uat", "prod", "demo"]
    assert bash("wibmo profiles set-default p") == ["prod"]
    assert bash("wibmo profiles remove ") == ["uat", "prod"]  # not the built-in demo
    assert bash("wibmo profiles edit u") == ["uat"]


@pytest.mark.slow  # four processes
def test_zsh_and_fish_get_candidates_with_their_help() -> None:
    zsh = other_shell("zsh", "wibmo codes dup")
    assert '"duplicate_request":"1054"' in zsh
    fish = other_shell("fish", "wibmo -o j", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert fish.split() == ["json"]
    assert "lookup\t" in other_shell("fish", "wibmo ", _TYPER_COMPLETE_FISH_ACTION="get-args")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_for_each_shell(cli: Invoke, shell: str) -> None:
    result = cli("completion", shell)
    assert result.exit_code == 0, result.stderr
    assert "_WIBMO_COMPLETE" in result.stdout
    assert f"complete_{shell}" in result.stdout
    assert result.stderr == ""


def test_an_unknown_shell_is_a_usage_error(wibmo: Invoke) -> None:
    result = wibmo("completion", "tcsh")
    assert_one_line_error(result, 2, "'tcsh': must be bash, zsh or fish")
    assert_one_line_error(wibmo("completion"), 2, "Missing argument 'shell'")


def test_the_script_has_no_json_form(wibmo: Invoke) -> None:
    assert wibmo("completion", "bash", "-o", "json").exit_code == 2


@pytest.mark.parametrize(
    "line",
    [
        "wibmo lookup -p ",
        *(
            pytest.param(line, marks=pytest.mark.slow)  # a process each
            for line in ("wibmo ", "wibmo codes 13", "wibmo lookup --column ")
        ),
    ],
)
def test_completing_stays_light(line: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tables({"uat": {}})
    monkeypatch.setenv("_WIBMO_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(line.split(" ")) - 1))
    result = imports_of(cwd=isolated)
    assert result["code"] == 0 and result["stdout"], result
    modules: list[str] = result["modules"]
    heavy = [h for h in HEAVY if h not in ("wibmo_cli.completion", "shlex")]  # a Tab's own
    loaded = [m for m in modules for h in heavy if m == h or m.startswith(h + ".")]
    assert loaded == [], f"completing {line!r} imported {loaded}"


# -- the candidates, as plain functions ----------------------------------------------------


def test_a_broken_or_missing_profiles_file_offers_only_demo(isolated: Path) -> None:
    (isolated / "profiles.toml").write_text("[profiles.x\n")
    assert profile_names(None, {}, isolated) == ["demo"]
    assert profile_names(str(isolated / "absent.toml"), {}, isolated) == ["demo"]
    assert profile_names("~nosuchuser-wibmo/p.toml", {}, isolated) == ["demo"]


def test_an_unreadable_file_offers_only_the_kinds(isolated: Path) -> None:
    assert column_names(str(isolated / "absent.csv")) == ["mobile", "urn", "customerId", "email"]
    (isolated / "tabs.tsv").write_text("urn\tx\n1\t2\n")
    assert column_names(str(isolated / "tabs.tsv")) == ["urn", "x", "mobile", "customerId", "email"]


def test_codes_are_offered_by_name_in_the_case_typed() -> None:
    assert ("DUPLICATE_REQUEST", "1054") in response_codes("D")
    assert ("duplicate_request", "1054") in response_codes("d")
    assert ("1054", "DUPLICATE_REQUEST") in response_codes("")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_sources_the_script_and_completes(isolated: Path) -> None:
    """The script as a user installs it: eval'd by bash, its function called as bash
    calls it on Tab, with `wibmo` (this environment's) on the PATH."""
    write_tables({"uat": {}})
    script = (
        'eval "$(wibmo completion bash)"; COMP_WORDS=(wibmo -p u); COMP_CWORD=2; '
        '_wibmo_completion wibmo; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "--norc", "-c", script],
        env=child_env(PATH=path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["uat"]

"""Issue 12, item 24: what everyone sees in the first hour.

`codes` sorted and never breaking a word (80, 120 and 200 columns, and a real terminal),
`wibmo codes NAME`, `-o` in any case (or one plain line), no capital after a semicolon,
a parent path that is a file named as such, a bare `wibmo` showing help with exit 0, and
`--version` / `-V`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from rich.console import Console
from support import assert_one_line_error, run_text

from wibmo_cli import __version__, codes
from wibmo_cli.errors import InputError
from wibmo_cli.sandbox import Faults
from wibmo_cli.views.codes import catalogue_table

# -- wibmo, --version, -V -------------------------------------------------------------------


def test_a_bare_wibmo_shows_help_and_succeeds(cli) -> None:
    result = cli()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: wibmo ") and "Commands:" in result.stdout
    assert result.stderr == ""


def test_a_bare_wibmo_as_a_process_exits_0() -> None:
    result = run_text()
    assert result.returncode == 0 and "Usage: " in result.stdout and "Commands:" in result.stdout


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(cli, flag: str) -> None:
    result = cli(flag)
    assert (result.exit_code, result.stdout) == (0, f"wibmo {__version__}\n")


# -- -o in any case ----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["JSON", "Json", "jSoN"])
def test_output_in_any_case(cli, spelling: str) -> None:
    after = cli("codes", "1303", "-o", spelling)
    before = cli("-o", spelling, "codes", "1303")
    for result in (after, before):
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["code"] == "1303"
    assert cli("codes", "1303", "-o", "TABLE").stdout.startswith("code ")


@pytest.mark.parametrize("args", [("codes", "-o", "yaml"), ("-o", "XML", "codes")])
def test_a_bad_output_is_one_plain_line(cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert_one_line_error(result, 2, f"'{args[args.index('-o') + 1]}': must be table, json")
    assert "Value error" not in result.stderr


# -- codes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["DUPLICATE_REQUEST", "duplicate_request", "Duplicate Request", "duplicate-request"]
)
def test_a_code_by_its_name(cli, name: str) -> None:
    result = cli("codes", name, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["code"] == "1054"


def test_an_unknown_name_is_still_an_unknown_code(cli) -> None:
    assert_one_line_error(cli("codes", "NO_SUCH_THING"), 2, "unknown code 'NO_SUCH_THING'")


def _numbers(text: str) -> list[str]:
    """The codes in a rendered catalogue table, top to bottom."""
    return re.findall(r"^[│|] (\d{2,4}) ", text, flags=re.MULTILINE)


def _render(width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(catalogue_table(codes.in_code_order(codes.CATALOGUE)))
    return console.export_text()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_catalogue_table_is_in_code_order(width: int) -> None:
    listed = _numbers(_render(width))
    assert listed == sorted(listed, key=lambda code: (int(code), code))
    assert sorted(listed) == sorted(c.code for c in codes.CATALOGUE)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_catalogue_table_breaks_no_word(width: int) -> None:
    text = _render(width)
    assert max(len(line) for line in text.splitlines()) <= width
    words = {"code", "name", "name,", "meaning", "api", "Response", "codes"}
    for code in codes.CATALOGUE:
        assert code.name in text, (width, code.name)  # whole, on one line
        words |= {code.code, code.name, *code.meaning.split(), *", ".join(code.apis).split()}
    shown = set(re.findall(r"[^\s\u2500-\u257f]+", text))  # less the box drawing
    assert shown - words == set(), width


def test_the_catalogue_command_lists_in_code_order(cli) -> None:
    listed = _numbers(cli("codes").stdout.split("HTTP statuses")[0])
    assert listed == sorted(listed, key=lambda code: (int(code), code))
    json_order = [c["code"] for c in json.loads(cli("codes", "-o", "json").stdout)["codes"]]
    assert json_order == listed  # one order in every format (JSON, csv, the table)


def test_the_catalogue_on_a_real_terminal_breaks_no_word() -> None:
    pty = pytest.importorskip("pty")
    import fcntl
    import struct
    import termios

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(NO_COLOR="1", TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # the child: wibmo on a terminal of 80 columns
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 80, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "wibmo_cli", "codes"], env)  # noqa: S606
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())  # bold stays
    for code in codes.CATALOGUE:
        assert code.name in text
    assert max(len(line.rstrip("\r")) for line in text.splitlines()) <= 80


# -- no capital after a semicolon ------------------------------------------------------------


def test_a_hint_reads_on_after_the_semicolon() -> None:
    assert str(InputError("no such customer", hint="Check the URN")) == (
        "no such customer; check the URN"
    )
    assert str(InputError("refused", hint="URN 389 is blocked")) == "refused; URN 389 is blocked"
    assert str(InputError("refused", hint="A")) == "refused; A"


def test_an_http_error_reads_on_after_the_semicolon(cli, start_sandbox) -> None:
    start_sandbox(profile={"retries": 0}, faults=Faults(fail_rate=1.0, fail_status=503))
    result = cli("lookup", "--urn", "389")
    assert_one_line_error(result, 6, "HTTP 503")
    assert re.search(r"; [A-Z][a-z]", result.stderr) is None, result.stderr


# -- a parent path that is a file --------------------------------------------------------------


def test_a_database_under_a_file_names_the_file(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    result = cli("sandbox", "--db", str(blocker / "sub" / "sandbox.db"))
    assert_one_line_error(result, 2, f"{blocker} is a file, not a directory")


def test_a_data_dir_that_is_a_file_is_named(cli, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    monkeypatch.setenv("WIBMO_DATA_DIR", str(blocker))
    result = cli("lookup", "--mobile", "9897123456")
    assert_one_line_error(result, 3, f"{blocker} is a file, not a directory")


def test_a_data_dir_that_links_to_nothing_is_named(cli, tmp_path: Path, monkeypatch) -> None:
    link = tmp_path / "gone"
    link.symlink_to(tmp_path / "missing")
    monkeypatch.setenv("WIBMO_DATA_DIR", str(link))
    for args, code in ((("lookup", "--mobile", "9897123456"), 3), (("sandbox", "reset"), 3)):
        result = cli(*args)
        assert_one_line_error(result, code, f"{link} is a symbolic link to nothing")
        assert "File exists" not in result.stderr

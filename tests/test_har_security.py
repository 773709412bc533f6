"""`decrypt --har CAPTURE --out CLEAN.har` under attack (issue 13's review): the file it
writes never lands on anything but a regular file, and no credential or secret survives
in it, however it was written (URL-encoded, JSON-escaped, in any URL, under any of a
browser session's credential names, inside a binary answer)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from support import Invoke, assert_one_line_error, write_profiles

from wibmo_cli import har_clean
from wibmo_cli.errors import InputError

CAPTURE = {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": []}}


@pytest.fixture
def capture() -> Path:
    """capture.har (no entries) in the working directory, and the profile `hard`."""
    write_profiles("http://127.0.0.1:1")
    path = Path("capture.har")
    path.write_text(json.dumps(CAPTURE))
    return path


def out(cli: Invoke, target: Path | str, *more: str) -> Any:
    return cli("decrypt", "--har", "capture.har", "--out", str(target), *more)


def leftovers() -> list[str]:
    """Temporary files `write` may have left beside its target."""
    return [p.name for p in Path.cwd().iterdir() if p.name.endswith(".tmp")]


# -- where --out may write -------------------------------------------------------------------


def test_a_fifo_is_refused_and_left_a_fifo(capture: Path, cli: Invoke) -> None:
    os.mkfifo("pipe")
    result = out(cli, "pipe", "--force")
    assert_one_line_error(result, 2, "--out pipe is a named pipe (FIFO), not a regular file")
    assert stat.S_ISFIFO(os.lstat("pipe").st_mode) and leftovers() == []


def test_a_character_device_is_refused_and_left_a_device(capture: Path, cli: Invoke) -> None:
    """A copy of /dev/null's node (the real /dev/null and /dev/full are not touched by a
    test); only root may make one."""
    try:
        os.mknod("null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    result = out(cli, "null", "--force")
    assert_one_line_error(result, 2, "--out null is a character device, not a regular file")
    assert stat.S_ISCHR(os.lstat("null").st_mode) and leftovers() == []


@pytest.mark.parametrize("points_to", ["/dev/null", "/proc/self/fd/1", "other.txt", "nowhere.txt"])
def test_a_symbolic_link_is_refused_and_left_a_link(
    capture: Path, cli: Invoke, points_to: str
) -> None:
    """A device, the process's own stdout, another file, nothing: a link is refused
    whatever it leads to, and with --force too; neither it nor its target changes."""
    Path("other.txt").write_text("precious")
    null_before = Path("/dev/null").stat()
    Path("link.har").symlink_to(points_to)
    for force in ((), ("--force",)):
        result = out(cli, "link.har", *force)
        assert_one_line_error(result, 2, "--out link.har is a symbolic link: give the file")
        assert str(Path("link.har").readlink()) == points_to
    assert Path("other.txt").read_text() == "precious" and not Path("nowhere.txt").exists()
    null_after = Path("/dev/null").stat()
    assert stat.S_ISCHR(null_after.st_mode) and null_after.st_rdev == null_before.st_rdev
    assert leftovers() == []


def test_a_regular_file_is_still_replaced_with_force(capture: Path, cli: Invoke) -> None:
    Path("clean.har").write_text("old")
    assert_one_line_error(out(cli, "clean.har"), 2, "exists: give --force to replace it")
    result = out(cli, "clean.har", "--force")
    assert result.exit_code == 0, result.stderr
    assert json.loads(Path("clean.har").read_text())["log"]["entries"] == []
    assert stat.S_IMODE(os.lstat("clean.har").st_mode) == 0o600 and leftovers() == []


@pytest.mark.parametrize("force", [True, False])
def test_a_target_that_changes_after_the_check_is_not_replaced(
    monkeypatch: pytest.MonkeyPatch, force: bool
) -> None:
    """The target is looked at again just before the rename: a FIFO put in its place
    meanwhile (or, without --force, any file) stays, and the temporary file goes."""
    check = har_clean.check_target

    def then_a_fifo(path: Path, *, source: Path, force: bool) -> None:
        check(path, source=source, force=force)
        os.mkfifo(path)

    monkeypatch.setattr(har_clean, "check_target", then_a_fifo)
    with pytest.raises(InputError, match="named pipe"):
        har_clean.write(Path("clean.har"), CAPTURE, source=Path("capture.har"), force=force)
    assert stat.S_ISFIFO(os.lstat("clean.har").st_mode) and leftovers() == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_directory_where_no_file_can_be_made_is_one_line(capture: Path, cli: Invoke) -> None:
    """/proc takes no new file, not even from root: exit 74, not a bug's 70."""
    result = out(cli, "/proc/wibmo-clean.har")
    assert_one_line_error(result, 74, "cannot write /proc/wibmo-clean.har")

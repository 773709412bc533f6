"""Where a secret may come from besides `${VAR}`: the OS keyring and a command.

    api_key = "${keyring:wibmo-uat/api_key}"      the keyring's entry (service "wibmo-uat",
                                                  name "api_key"), via the `keyring` library
                                                  (the optional extra wibmo-cli[keyring]),
                                                  imported only when a reference is read
    api_key_command = "pass show wibmo/uat/key"   the first line of what the command prints
                                                  (like aws's credential_process)

A source that cannot give its secret says why in one line (`SecretUnavailable`) and never
falls back to anything else; a command's output (stdout or stderr) is never shown, as a
password manager's complaint may quote what it was asked for.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import ConfigError
from wibmo_cli.lazyre import lazy

if TYPE_CHECKING:  # profiles.py imports this module on every start: the rest when used
    import subprocess

KEYRING_PATTERN: Final = r"\$\{keyring:([^/{}]+)/([^{}]+)\}"
KEYRING_RE: Final = lazy(KEYRING_PATTERN)
INSTALL_HINT: Final = "pip install 'wibmo-cli[keyring]'"
COMMAND_SUFFIX: Final = "_command"
COMMAND_TIMEOUT: Final = 10.0  # seconds: a password manager that waits on a prompt is stopped
MAX_COMMAND_OUTPUT: Final = 64 * 1024  # a secret is a line; more is not a secret


class SecretUnavailable(ConfigError):
    """A keyring entry or a command could not give the secret (exit 3 when it is needed).
    `reason` is the why alone (no keyring here, the library missing), for a caller that
    words its own line around it, as `profiles add` does."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


def keyring_reference(service: str, name: str) -> str:
    """How a profile value names the keyring entry `service`/`name`."""
    reference = f"${{keyring:{service}/{name}}}"
    if KEYRING_RE.fullmatch(reference) is None or not service.strip() or not name.strip():
        raise ConfigError(
            f"keyring service {service!r} and name {name!r} must be non-empty, "
            "the service without '/', neither with '{' or '}'"
        )
    return reference


def _keyring() -> Any:
    """The keyring library, or one line saying how to install it."""
    try:
        import keyring
    except ImportError:
        reason = f"the keyring library is not installed ({INSTALL_HINT})"
        raise SecretUnavailable(f"reads the OS keyring, and {reason}", reason=reason) from None
    return keyring


def _keyring_failed(exc: Exception) -> SecretUnavailable:
    """One line for a keyring that is missing (headless Linux) or failed (locked, its
    service down): a backend's own exception may be of any class, and its text is not
    shown (it may name the entry's value in a backend's debug output)."""
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        said = "none is available here (e.g. headless Linux)"
    else:
        said = f"it failed ({type(exc).__name__})"
    return SecretUnavailable(
        f"reads the OS keyring, and {said}: use a *_command key, or secrets.env beside "
        "the profiles file",
        reason=said,
    )


def store_in_keyring(service: str, name: str, value: str) -> str:
    """Store `value` in the OS keyring as `service`/`name`; return the reference a profile
    writes to read it back: `${keyring:SERVICE/NAME}`. Raises `SecretUnavailable` (a
    ConfigError) when the library or a keyring is missing: nothing is written elsewhere."""
    reference = keyring_reference(service, name)
    keyring = _keyring()
    try:
        keyring.set_password(service, name, value)
    except Exception as exc:  # noqa: BLE001 - a backend may raise any class: one line, exit 3
        raise _keyring_failed(exc) from None
    return reference


def read_keyring(service: str, name: str, *, deadline: float | None = None) -> str:
    """The keyring's secret `service`/`name`; `SecretUnavailable` when there is none, or
    when the backend has not answered within COMMAND_TIMEOUT (or by `deadline`, a
    time.monotonic() shared by the secrets of one profile): a locked keyring daemon
    that waits on an unlock dialog nobody sees would hang wibmo for good."""
    import threading
    import time

    where = f"reads keyring entry {service}/{name}"
    left = COMMAND_TIMEOUT if deadline is None else deadline - time.monotonic()
    if left <= 0:
        raise SecretUnavailable(
            f"{where}, not read: the profile's secrets used up the {COMMAND_TIMEOUT:g}s "
            "they have together"
        )
    keyring = _keyring()
    answer: list[Any] = []
    failure: list[Exception] = []

    def ask() -> None:
        try:
            answer.append(keyring.get_password(service, name))
        except Exception as exc:  # noqa: BLE001 - a backend may raise any class: one line, exit 3
            failure.append(exc)

    asking = threading.Thread(target=ask, daemon=True)  # left behind if it never answers
    asking.start()
    asking.join(left)
    if asking.is_alive():
        raise SecretUnavailable(
            f"{where}, and the keyring did not answer within {COMMAND_TIMEOUT:g}s "
            "(locked, waiting on an unlock prompt?)"
        )
    if failure:
        raise _keyring_failed(failure[0])
    value = answer[0] if answer else None
    if not value:
        raise SecretUnavailable(f"{where}, which is not set")
    return str(value)


def run_secret_command(command: str, key: str = "secret", *, deadline: float | None = None) -> str:
    """The first line (stripped) of what `command` prints: run without a shell, within
    COMMAND_TIMEOUT (or until `deadline`, a time.monotonic() shared by the commands of one
    profile), stdout capped at MAX_COMMAND_OUTPUT, stderr discarded. `key` (e.g.
    api_key_command) names it in the one-line error (worded to follow the secret's name:
    "api_key comes from api_key_command (pass), which..."), which never quotes its output.

    The command runs in a process group of its own, killed whole when it outlasts its
    time, prints too much, or wibmo is interrupted (Ctrl-C, SIGTERM): a `sh -c` wrapper's
    children go with it, and none is left running after wibmo."""
    import shlex
    import subprocess
    import time

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SecretUnavailable(f"comes from {key}, which is not a command line: {exc}") from None
    if not argv:
        raise SecretUnavailable(f"comes from {key}, which is empty")
    said = f"comes from {key} ({argv[0]}), which"
    if deadline is None:
        deadline = time.monotonic() + COMMAND_TIMEOUT
    if deadline <= time.monotonic():
        raise SecretUnavailable(
            f"{said} was not run: the profile's secrets used up the {COMMAND_TIMEOUT:g}s "
            "they have together"
        )
    held = _hold_signals()  # a signal while Popen runs would lose the child it started
    proc: subprocess.Popen[bytes] | None = None
    try:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise SecretUnavailable(f"{said} cannot be run: {exc.strerror}") from None
        finally:
            _release_signals(held)  # a signal held is acted on now: the child is known
        out, why = _read_capped(proc, deadline)
    finally:
        if proc is not None:
            if proc.returncode is None:  # stopped early, or wibmo interrupted: the group
                _kill_group(proc)
            assert proc.stdout is not None
            proc.stdout.close()
    if out is None:
        raise SecretUnavailable(f"{said} {why}; its output is not shown")
    if proc.returncode != 0:
        raise SecretUnavailable(
            f"{said} failed with exit status {proc.returncode}; its output is not shown"
        )
    first = out.decode("utf-8", "replace").splitlines()[0].strip() if out.strip() else ""
    if not first:
        raise SecretUnavailable(f"{said} printed nothing on its first line")
    return first


def _read_capped(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bytes | None, str]:
    """(stdout of `proc` once it has exited, "") or (None, why not): it outlasted
    `deadline` (printing or after closing its output), or printed more than
    MAX_COMMAND_OUTPUT. Read here, with select(): no thread to outlive the pipe."""
    import select
    import subprocess
    import time

    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    total = 0
    late = f"did not finish within {COMMAND_TIMEOUT:g}s"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, late
        if not select.select([fd], [], [], left)[0]:
            continue
        chunk = os.read(fd, 8192)
        if not chunk:
            break
        total += len(chunk)
        if total > MAX_COMMAND_OUTPUT:
            return None, f"printed more than {MAX_COMMAND_OUTPUT} bytes"
        chunks.append(chunk)
    try:  # its output closed: its exit status, within what is left of the time
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None, f"{late} (it closed its output but kept running)"
    return b"".join(chunks), ""


Held = tuple[dict[int, Any], list[int]]
_INTERRUPTING: Final = ("SIGINT", "SIGTERM")


def _hold_signals() -> Held:
    """Ctrl-C and SIGTERM noted, not acted on, until `_release_signals` (in the main
    thread, where Python runs signal handlers; elsewhere nothing is held)."""
    import signal
    import threading

    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return {}, noted
    before = {}
    for name in _INTERRUPTING:
        signum = getattr(signal, name)
        before[signum] = signal.signal(signum, lambda number, frame: noted.append(number))
    return before, noted


def _release_signals(held: Held) -> None:
    """The handlers put back, and each signal noted meanwhile sent again to them."""
    import signal

    before, noted = held
    for signum, handler in before.items():  # None: a handler not set from Python
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)
    for signum in dict.fromkeys(noted):
        os.kill(os.getpid(), signum)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill `proc` and every process of its group, and reap it."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:  # already gone
        proc.kill()
    proc.wait()

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
import re
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import ConfigError

if TYPE_CHECKING:  # profiles.py imports this module on every start: the rest when used
    import subprocess

KEYRING_RE: Final = re.compile(r"\$\{keyring:([^/{}]+)/([^{}]+)\}")
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


def read_keyring(service: str, name: str) -> str:
    """The keyring's secret `service`/`name`; `SecretUnavailable` when there is none."""
    keyring = _keyring()
    try:
        value = keyring.get_password(service, name)
    except Exception as exc:  # noqa: BLE001 - a backend may raise any class: one line, exit 3
        raise _keyring_failed(exc) from None
    if not value:
        raise SecretUnavailable(f"reads keyring entry {service}/{name}, which is not set")
    return str(value)


def resolve_keyring(value: str) -> str:
    """`value` with each `${keyring:SERVICE/NAME}` replaced by the keyring's secret."""
    return KEYRING_RE.sub(lambda m: read_keyring(m.group(1), m.group(2)), value)


def run_secret_command(command: str, key: str = "secret") -> str:
    """The first line (stripped) of what `command` prints: run without a shell, within
    COMMAND_TIMEOUT, stdout capped at MAX_COMMAND_OUTPUT, stderr discarded. `key` (e.g.
    api_key_command) names it in the one-line error (worded to follow the secret's name:
    "api_key comes from api_key_command (pass), which..."), which never quotes its output."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SecretUnavailable(f"comes from {key}, which is not a command line: {exc}") from None
    if not argv:
        raise SecretUnavailable(f"comes from {key}, which is empty")
    said = f"comes from {key} ({argv[0]}), which"
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError as exc:
        raise SecretUnavailable(f"{said} cannot be run: {exc.strerror}") from None
    out = _read_capped(proc)
    if out is None:
        raise SecretUnavailable(
            f"{said} did not finish within {COMMAND_TIMEOUT:g}s or printed more than "
            f"{MAX_COMMAND_OUTPUT} bytes; its output is not shown"
        )
    if proc.returncode != 0:
        raise SecretUnavailable(
            f"{said} failed with exit status {proc.returncode}; its output is not shown"
        )
    first = out.decode("utf-8", "replace").splitlines()[0].strip() if out.strip() else ""
    if not first:
        raise SecretUnavailable(f"{said} printed nothing on its first line")
    return first


def _read_capped(proc: subprocess.Popen[bytes]) -> bytes | None:
    """stdout of `proc` once it exits, or None (the process killed) when it outlasts
    COMMAND_TIMEOUT or prints more than MAX_COMMAND_OUTPUT."""
    import subprocess
    import threading

    assert proc.stdout is not None
    chunks: list[bytes] = []
    too_much: list[bool] = []
    stream = proc.stdout

    def drain() -> None:
        total = 0
        while chunk := _read_some(stream.fileno()):
            total += len(chunk)
            if total > MAX_COMMAND_OUTPUT:
                too_much.append(True)
                proc.kill()
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    reader.join(COMMAND_TIMEOUT)
    try:
        proc.wait(timeout=max(0.1, COMMAND_TIMEOUT / 100))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(1.0)  # its pipe closed by the kill (unless a child of it holds it)
        return None
    finally:
        stream.close()
    if reader.is_alive() or too_much:
        return None
    return b"".join(chunks)


def _read_some(fd: int) -> bytes:
    """Up to 8 KiB from `fd`; b"" at its end or once it is closed under the reader."""
    try:
        return os.read(fd, 8192)
    except OSError:
        return b""

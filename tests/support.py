"""Plain helpers shared by the tests (the fixtures are in conftest.py).

One set of test credentials, with every form in which a secret could leak; a profiles file
pointing at a sandbox that accepts them; a small client speaking the platform's protocol
(independent of `wibmo_cli.client`: the sandbox tests pin the sandbox's wire behaviour, not
the tool's); wibmo run as a real process; and the checks every failing command must pass.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import pty
import resource
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from hypothesis import settings as hypothesis_settings
from typer.testing import Result

from wibmo_cli.app import INTERNAL_ERROR
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.endpoint import sandbox_settings
from wibmo_cli.profiles import DEMO_PROFILE, Profile, resolve
from wibmo_cli.sandbox import Faults, Sandbox, SandboxSettings

Invoke = Callable[..., Result]
"""The `wibmo` fixture: `wibmo("decrypt", token, input="...")` -> Result."""
StartSandbox = Callable[..., Sandbox]
"""The `start_sandbox` fixture: `start_sandbox(profile={...}, faults=Faults(...))` -> Sandbox."""


def budget(examples: int) -> Callable[[Any], Any]:
    """`max_examples` for a test whose examples are costly: `examples` under the ci profile
    (100 examples), scaled with the profile loaded (a quarter under dev, 30 times under fuzz)."""
    scale = hypothesis_settings.default.max_examples / 100
    return hypothesis_settings(max_examples=max(1, round(examples * scale)))


# -- the one set of test credentials -----------------------------------------------------------

API_KEY = "hk-ApiKey-9rT2wQ7zLmX4"
SECURE_CODE = "HK-SecureCode-4xV8pN"
ENCRYPTION_KEY = "Hk24ByteTextKeyForTest!!"  # 24 characters: key_encoding auto reads it as text
KEY = ENCRYPTION_KEY.encode()
CLIENT_ID = "FintechA"
BANK_ID = "2010"
PROFILE = "hard"
ENV_VARS = {  # set for every test by conftest's `isolated`
    "HARD_API_KEY": API_KEY,
    "HARD_SECURE_CODE": SECURE_CODE,
    "HARD_KEY": ENCRYPTION_KEY,
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Every spelling of a secret that must never be written anywhere by the tool.
SECRET_FORMS: dict[str, str] = {
    "api_key": API_KEY,
    "api_key base64": _b64(API_KEY),
    "secure_code": SECURE_CODE,
    "secure_code base64": _b64(SECURE_CODE),
    "encryption_key": ENCRYPTION_KEY,
    "encryption_key hex": KEY.hex(),
    "encryption_key HEX": KEY.hex().upper(),
    "encryption_key base64": base64.b64encode(KEY).decode(),
    "encryption_key base64url": base64.urlsafe_b64encode(KEY).decode(),
}


def codec(iv: str = "zero") -> TokenCodec:
    return TokenCodec(KEY, IvScheme.parse(iv))


# -- the sandbox --------------------------------------------------------------------------------

LOOKUP = "/api/v2/customer/retrieveCustRecord"
LOOKUP_V3 = "/uat/sbx/api/onboarding/v3/retrieveCustRecord"
UPDATE = "/mob1/api/onboarding/v1/updateProfile"
UPDATE_V3 = "/uat/sbx/api/onboarding/v3/updateprofile"
LOOKUP_ERROR_KEYS = {
    "bankId",
    "responseDateTime",
    "accosaTransactionId",
    "messageCode",
    "responseMessage",
    "responseCode",
}


def settings(db_path: Path, **extra: Any) -> SandboxSettings:
    """A sandbox accepting the test credentials (zero IV), unless `extra` names others
    (`iv` may be named as a profile names it: "key", "prepend", ...)."""
    if isinstance(extra.get("iv"), str):
        extra["iv"] = IvScheme.parse(extra["iv"])
    values: dict[str, Any] = {
        "iv": IvScheme("zero"),
        "key": KEY,
        "api_key": API_KEY,
        "client_id": CLIENT_ID,
        "bank_id": BANK_ID,
        "secure_code": SECURE_CODE,
    }
    values.update(extra)
    return SandboxSettings(db_path=db_path, **values)


@contextmanager
def running(db_path: Path, **extra: Any) -> Iterator[Sandbox]:
    """A sandbox on `db_path` (seeded there if new) for the `with` block."""
    with Sandbox(settings(db_path, **extra)) as sandbox:
        yield sandbox


@contextmanager
def served(db: Path, *, profile: dict[str, Any] | None = None, **faults: Any) -> Iterator[Sandbox]:
    """A sandbox with these fault knobs, and ./profiles.toml (profile `hard`) pointing at it."""
    with running(db, faults=Faults(**faults)) as sandbox:
        write_profiles(sandbox.url, **(profile or {}))
        yield sandbox


@contextmanager
def sandbox_with_profiles(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """A sandbox on loopback speaking the demo profile's protocol, and a profiles file
    (default profile `t`) pointing at it."""
    profile = resolve("t", DEMO_PROFILE, {}, source="test")
    demo = sandbox_settings(profile, tmp_path / "sandbox.db", faults=Faults(seed=9))
    with Sandbox(demo) as sandbox:
        values = {**DEMO_PROFILE, "base_url": sandbox.url}
        yield sandbox, write_tables({"t": values}, default="t", path=tmp_path / "profiles.toml")


def lookups(sandbox: Sandbox) -> int:
    return sum(1 for request in sandbox.requests if request.api == "lookup")


def query(db_path: Path, sql: str) -> list[Any]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


_counter = itertools.count(1)


def txn_id() -> str:
    return f"T{next(_counter)}-{uuid.uuid4().hex[:12]}"


def credential_headers(**override: str | None) -> dict[str, str]:
    headers: dict[str, str | None] = {
        "x-api-key": API_KEY,
        "clientId": CLIENT_ID,
        "bankId": BANK_ID,
        "entityId": "100",
        "secureCode": SECURE_CODE,
    }
    headers.update(override)
    return {name: value for name, value in headers.items() if value is not None}


class Platform:
    """Sends plaintext payloads encrypted, as a client of the platform would."""

    def __init__(self, url: str, scheme: IvScheme | None = None, **client: Any) -> None:
        self.codec = TokenCodec(KEY, scheme or IvScheme("zero"))
        self.http = httpx.Client(base_url=url, timeout=client.pop("timeout", 5.0), **client)

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        path: str,
        payload: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        body_extra: dict[str, Any] | None = None,
    ) -> httpx.Response:
        body = {"token": self.codec.encrypt_json(payload), **(body_extra or {})}
        return self.http.request(
            method,
            path,
            json=body,
            headers=credential_headers() if headers is None else headers,
        )

    def answer(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        value = self.codec.decrypt_json(response.json()["token"])
        assert isinstance(value, dict)
        return value

    def lookup(self, path: str = LOOKUP, **fields: Any) -> dict[str, Any]:
        payload = {
            "messageCode": 1930,
            "clientTxnId": txn_id(),
            "requestDateTime": "20240101120000",
        }
        payload.update(fields)
        headers = payload.pop("_headers", None)
        body_extra = payload.pop("_body", None)
        return self.answer(self.send("POST", path, payload, headers=headers, body_extra=body_extra))

    def update(self, path: str = UPDATE, **fields: Any) -> dict[str, Any]:
        payload = {
            "messageCode": "1280",
            "clientTxnId": txn_id(),
            "requestDateTime": "20240101120000",
        }
        payload.update(fields)
        headers = payload.pop("_headers", None)
        return self.answer(self.send("PATCH", path, payload, headers=headers))


# The retrieve document's "Response (Success)" sample: its one cardList entry, exactly.
SAMPLE_ENTRY = {
    "lastName": "LastName",
    "panValid": False,
    "docList": [
        {"docNumber": "ABC0123456", "docType": "Passport"},
        {"docNumber": "1234 5678 6015", "docType": "Aadhar"},
        {"docNumber": "YCV0123456", "docType": "VoterId"},
        {"docNumber": "ABCDE1234A", "docType": "Pancard"},
        {"docNumber": "DL60 20211234567", "docType": "Driverlicense"},
    ],
    "cardType": "TRAVEL CARD",
    "mobile": "919897123456",
    "updatedOn": "16-Nov-2022",
    "kycName": "FULL_KYC",
    "createdOn": "16-Nov-2022",
    "availableBalance": 100000,
    "urn": 389,
    "firstName": "ABC",
    "lastFourDigit": "4216",
    "statusDescription": "Active",
    "entityName": "FintechA",
    "profileId": 150,
    "dob": "11-Jul-1993",
    "reKyc": False,
    "customerId": "custid_V3_juyWqcUUxz",
    "cardNumber": "179947 XXXXXX 4216",
    "cardStatus": 0,
    "email": "abc@xyz.com",
}


# -- profiles files ----------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def profile_values(url: str, *, literal: bool = False, **override: Any) -> dict[str, Any]:
    """The `hard` profile's values: the secrets as `${HARD_...}` unless `literal`."""
    values: dict[str, Any] = {
        "base_url": url,
        "client_id": CLIENT_ID,
        "bank_id": BANK_ID,
        "api_key": API_KEY if literal else "${HARD_API_KEY}",
        "secure_code": SECURE_CODE if literal else "${HARD_SECURE_CODE}",
        "encryption_key": ENCRYPTION_KEY if literal else "${HARD_KEY}",
        "timeout": 5,
        "retries": 0,
    }
    values.update(override)
    return {k: v for k, v in values.items() if v is not None}


def unit_profile(url: str, **override: Any) -> Profile:
    """A resolved profile `unit` with the test credentials (literal), for unit tests of the
    client and the core (no profiles file, no environment)."""
    return resolve("unit", profile_values(url, literal=True, **override), {}, source="test")


def write_tables(
    tables: dict[str, dict[str, Any]], *, default: str | None = None, path: Path | None = None
) -> Path:
    """profiles.toml (in the working directory unless `path`, mode 0600) with these tables."""
    lines = [f'default_profile = "{default}"'] if default else []
    for name, values in tables.items():
        lines += ["", f"[profiles.{name}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = path or Path.cwd() / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def write_profiles(
    url: str,
    *,
    literal: bool = False,
    path: Path | None = None,
    extra_profiles: dict[str, dict[str, Any]] | None = None,
    **override: Any,
) -> Path:
    """profiles.toml (in the working directory unless `path`), default profile `hard`."""
    tables = {PROFILE: profile_values(url, literal=literal, **override)}
    tables.update(extra_profiles or {})
    return write_tables(tables, default=PROFILE, path=path)


def write_demo_profiles(url: str, path: Path | None = None) -> Path:
    """profiles.toml: `served` (the demo's credentials at `url`) and `local` (embedded)."""
    tables = {
        name: {**DEMO_PROFILE, "base_url": base, "retries": 0}
        for name, base in (("served", url), ("local", "embedded"))
    }
    return write_tables(tables, default="local", path=path)


# -- checks ------------------------------------------------------------------------------------


def assert_one_line_error(result: Result, code: int, fragment: str) -> None:
    """Exit `code`, no traceback, and the message as exactly one line on stderr."""
    assert result.exit_code != INTERNAL_ERROR, result.stderr
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert fragment in lines[0], (fragment, lines[0])


def assert_usage_error(result: Result, fragment: str) -> None:
    """Exit 2 from click's own parsing, as one line naming the help to read."""
    assert_one_line_error(result, 2, fragment)
    assert "--help')" in result.stderr, result.stderr


def leaks(text: str) -> list[str]:
    """The names of the secret forms found in `text`."""
    return [name for name, form in SECRET_FORMS.items() if form in text]


def leaks_in_bytes(data: bytes) -> list[str]:
    found = [name for name, form in SECRET_FORMS.items() if form.encode() in data]
    # SQLite and other writers may store text as UTF-16.
    found += [
        f"{name} (utf-16)"
        for name, form in SECRET_FORMS.items()
        if form.encode("utf-16-le") in data
    ]
    return found


def no_traceback(err: bytes) -> bool:
    return b"Traceback" not in err


def records(data: str | bytes) -> list[dict[str, Any]]:
    """JSON lines."""
    text = data.decode() if isinstance(data, bytes) else data
    return [json.loads(line) for line in text.splitlines()]


def data_dir() -> Path:
    return Path(os.environ["WIBMO_DATA_DIR"])


def audit_path() -> Path:
    return data_dir() / "audit.jsonl"


def audit_entries(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or audit_path()
    if not path.exists():
        return []
    return records(path.read_text(encoding="utf-8"))


def wait_for(condition: Callable[[], object], seconds: float = 20, what: str = "it") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_lines(path: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    """Until `path` has `count` lines, while `process` runs."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines")


# -- wibmo as a real process -------------------------------------------------------------------

WIBMO = (sys.executable, "-m", "wibmo_cli")
MEMORY_LIMIT = 600 << 20  # address space of one CLI run: ample for it, far below gigabytes


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment (isolated dirs, secrets), no bytecode written (`ulimit -f`)."""
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def spawn(*args: str, ignore_ctrl_c: bool = False, **popen: Any) -> subprocess.Popen[bytes]:
    """wibmo as a process; `ignore_ctrl_c`: started with SIGINT ignored, as a shell starts
    a background job (`wibmo ... &` in a script)."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    popen.setdefault("stdin", subprocess.DEVNULL)
    argv = [*WIBMO, *args]
    if ignore_ctrl_c:
        argv = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *argv]
    return subprocess.Popen(argv, env=child_env(), **popen)


def shell(
    script: str, *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`sh -c SCRIPT` where "$@" is wibmo with `args` (for `>&-`, `ulimit -f`, ...)."""
    return subprocess.run(
        ["sh", "-c", script, "sh", *WIBMO, *args],
        env=child_env(**(env or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def run_text(*args: str, timeout: float = 30.0, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`wibmo ARGS` to its end, its output as text."""
    return subprocess.run(
        [*WIBMO, *args], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def start_text(*args: str) -> subprocess.Popen[str]:
    """`wibmo ARGS` started, not waited for, its output as text."""
    return subprocess.Popen(
        [*WIBMO, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@contextmanager
def sandbox_process(*args: str, timeout: float = 15.0) -> Iterator[str]:
    """`wibmo [ARGS] sandbox --port 0` in the background: its URL, then stopped."""
    process = start_text(*args, "sandbox", "--port", "0")
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        url = ""
        while not url and time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                url = process.stdout.readline().strip()
                if not url:
                    break
        assert url.startswith("http://127.0.0.1:"), (url, process.poll())
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        assert "Traceback" not in err, err


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def start_capped(
    args: Sequence[str],
    *,
    stdin: int | IO[Any] = subprocess.DEVNULL,
    stdout: int | IO[Any] = subprocess.PIPE,
    limit_memory: bool = True,
) -> subprocess.Popen[bytes]:
    """`wibmo ARGS` as a real process (its address space capped at `MEMORY_LIMIT`)."""
    return subprocess.Popen(
        [*WIBMO, *args],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory if limit_memory else None,
        env=dict(os.environ),
    )


@dataclass
class Finished:
    code: int
    stdout: bytes
    stderr: str
    seconds: float


def run_capped(
    args: Sequence[str], *, stdin: int | IO[Any] = subprocess.DEVNULL, timeout: float = 20
) -> Finished:
    """Run `wibmo ARGS` to its end, memory-capped and time-bounded."""
    began = time.monotonic()
    process = start_capped(args, stdin=stdin)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Finished(process.returncode, out, err.decode(), time.monotonic() - began)


def signal_and_wait(
    process: subprocess.Popen[bytes], sig: int, *, timeout: float = 15
) -> tuple[bytes, bytes]:
    """Send `sig` to `process` and collect its (stdout, stderr); killed if it outlives
    `timeout`, so a test never leaves it running."""
    try:
        process.send_signal(sig)
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return out or b"", err or b""


def interrupt_after(process: subprocess.Popen[bytes], seconds: float) -> Finished:
    """Let `process` run `seconds` (it must still be running), then Ctrl-C it."""
    began = time.monotonic()
    try:
        time.sleep(seconds)
        assert process.poll() is None, (process.returncode, process.communicate())
    except BaseException:
        process.kill()
        process.communicate()
        raise
    out, err = signal_and_wait(process, signal.SIGINT)
    return Finished(process.returncode, out, err.decode(), time.monotonic() - began)


_PROBE = """
import atexit, contextlib, io, json, os, sys
out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
sys.argv = ["wibmo", *json.loads(sys.argv[1])]
code = None

def report():  # at exit, however the process ends it (app.leave skips the teardown)
    out.flush()
    stdout = out.buffer.getvalue().decode()
    line = json.dumps({"code": code, "stdout": stdout, "modules": sorted(sys.modules)})
    os.write(1, (line + "\\n").encode())

atexit.register(report)
from wibmo_cli.app import main
with contextlib.redirect_stdout(out):
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
"""


def imports_of(*args: str, cwd: Path, stdin: str | None = None) -> dict[str, Any]:
    """`wibmo ARGS` run in a fresh interpreter: {"code", "stdout", "modules"} (every module
    it imported), for tests of what a command does not load. `stdin`: what it reads
    (else the test's own stdin)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=60,
    )
    assert done.stdout.strip(), done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert isinstance(result, dict), done.stderr
    if result["code"] is None:  # the process ended itself (app.leave): its exit status
        result["code"] = done.returncode
    return result


def run_on_terminal(args: list[str], prompt: str, answer: str) -> tuple[int, str, str]:
    """Run wibmo with stdin on a pseudo-terminal; answer `prompt` once it shows on stderr."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wibmo_cli", *args],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    assert process.stderr is not None
    err = b""
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stderr, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            while prompt.encode() not in err and time.monotonic() < deadline:
                if selector.select(timeout=1):
                    chunk = os.read(process.stderr.fileno(), 4096)
                    if not chunk:
                        break
                    err += chunk
        assert prompt.encode() in err, err.decode()
        os.write(leader, answer.encode())
        out, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    return process.returncode, out.decode(), (err + rest).decode()

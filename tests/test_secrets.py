"""Secrets never leak: every command, with -v and with --debug, on success and failure.

The profile's api key, secure code and encryption key are known values (from `${VAR}`s,
from `.env`, written literally in the file, from the keyring (`${keyring:S/N}`, an
in-memory backend) or from commands (`api_key_command = "cat VAULT/api_key"`)). After
each run, none of them, nor their base64 or hex forms, may appear in stdout, stderr, the
traceback --debug prints, or any file under HOME, the data dir, the config dir or the
working directory (the audit log, the embedded sandbox's database, ...), except the
profiles file and `.env` the test wrote itself.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import support
from support import (
    API_KEY,
    ENCRYPTION_KEY,
    ENV_VARS,
    SECRET_FORMS,
    SECURE_CODE,
    codec,
    leaks,
    leaks_in_bytes,
    running,
    write_profiles,
)
from typer.testing import CliRunner, Result

from wibmo_cli.app import app
from wibmo_cli.sandbox import SAMPLE_MOBILE, Sandbox

pytestmark = pytest.mark.e2e

TOKEN = codec().encrypt_json({"urn": "389", "docNumber": "ABCPE1234F"})
WRONG_KEY = "WrongKeyWrongKeyWrongKey"
UPDATE = ("update-profile", "--urn", "389")


@dataclass(frozen=True)
class Run:
    id: str
    args: tuple[str, ...]
    faults: dict[str, Any] = field(default_factory=dict)
    stdin: str | None = None
    slow: bool = False  # waits on a timeout or a backoff: run with one secrets source only


RUNS = [
    Run("lookup-found", ("lookup", "--urn", "389")),
    Run(
        "lookup-found-json-reveal", ("lookup", "--mobile", SAMPLE_MOBILE, "-o", "json", "--reveal")
    ),
    Run("lookup-not-found", ("lookup", "--urn", "99999")),
    Run("lookup-bad-input", ("lookup", "--mobile", "12")),
    Run("lookup-bad-key", ("-p", "badkey", "lookup", "--urn", "389")),
    Run("lookup-bad-api-key", ("-p", "badapi", "lookup", "--urn", "389")),
    # a retry's trace (-v) is checked for secrets with the sleep injected: test_client.py
    Run("lookup-garbage", ("lookup", "--urn", "389"), {"queue": ["garbage"]}),
    Run("lookup-embedded", ("-p", "emb", "lookup", "--urn", "389")),
    Run("lookup-refused", ("-p", "refused", "lookup", "--urn", "389"), slow=True),
    Run("lookup-file", ("lookup", "--file", "in.csv")),
    Run("lookup-file-reveal-json", ("lookup", "--file", "in.csv", "--reveal", "-o", "json")),
    Run("lookup-file-stdin", ("lookup", "--file", "-", "--column", "urn"), stdin="389\n0\n"),
    Run("lookup-file-resume", ("lookup", "--file", "in.csv", "--resume", "out.jsonl")),
    Run("lookup-file-bad-key", ("-p", "badkey", "lookup", "--file", "in.csv")),
    Run("lookup-file-bad-api-key", ("-p", "badapi", "lookup", "--file", "in.csv")),
    Run("lookup-file-embedded", ("-p", "emb", "lookup", "--file", "in.csv")),
    Run("update-dry-run", (*UPDATE, "--email", "s@example.com", "--dry-run")),
    Run(
        "update-dry-run-json",
        (
            *UPDATE,
            "--email",
            "s@example.com",
            "--dry-run",
            "--card-profile-id",
            "150",
            "-o",
            "json",
        ),
    ),
    Run("update-sent", (*UPDATE, "--city", "Pune", "--yes")),
    Run("update-bad-input", (*UPDATE, "--email", "bad@", "--yes")),
    Run("update-503", (*UPDATE, "--city", "Pune", "--yes"), {"queue": ["ok", "503"]}),
    Run("update-hang", (*UPDATE, "--city", "Pune", "--yes"), {"queue": ["ok", "hang"]}, slow=True),
    Run(
        "update-bad-api-key",
        ("-p", "badapi", *UPDATE, "--city", "Pune", "--yes", "--card-profile-id", "150"),
    ),
    Run("update-from-stdin", (*UPDATE, "--from-file", "-", "--yes"), stdin='{"city": "Pune"}'),
    Run("encrypt", ("encrypt", '{"messageCode": 1930}')),
    Run("encrypt-wrap-key-env", ("encrypt", "--wrap", "--key-env", "HARD_KEY", "-"), stdin="{}"),
    Run("encrypt-bad", ("encrypt", "[1]")),
    Run("decrypt", ("decrypt", TOKEN)),
    Run("decrypt-reveal", ("decrypt", "--reveal", TOKEN)),
    Run("decrypt-stdin", ("decrypt", "-"), stdin=f"{TOKEN}\nnot a token\n"),
    Run("decrypt-detect", ("decrypt", "--detect", TOKEN)),
    Run(
        "decrypt-detect-json", ("decrypt", "--detect", TOKEN, "--key-env", "HARD_KEY", "-o", "json")
    ),
    Run("decrypt-wrong-key", ("decrypt", TOKEN, "--key-env", "WRONG_KEY")),
    Run("decrypt-detect-wrong-key", ("decrypt", "--detect", TOKEN, "--key-env", "WRONG_KEY")),
    Run("decrypt-garbage", ("decrypt", "not-a-token")),
    Run("codes", ("codes",)),
    Run("codes-one", ("codes", "1311")),
    Run("profiles-list", ("profiles", "list")),
    Run("profiles-list-json", ("profiles", "list", "-o", "json")),
    Run("profiles-show", ("profiles", "show")),
    Run("profiles-show-json", ("profiles", "show", "-o", "json")),
    Run("profiles-show-badapi", ("profiles", "show", "badapi", "-o", "json")),
    Run("profiles-check", ("profiles", "check")),
    Run("profiles-check-online", ("profiles", "check", "--online", "-o", "json")),
    Run("profiles-check-online-bad-key", ("profiles", "check", "badkey", "--online")),
    Run("profiles-check-online-bad-api", ("profiles", "check", "badapi", "--online")),
    Run("audit", ("audit",)),
    Run("audit-json", ("audit", "-o", "json")),
    Run("sandbox-bad-shape", ("sandbox", "--shape", "round")),
    Run("sandbox-port-in-use", ("sandbox", "--port", "{port}")),
]


@dataclass
class World:
    sandbox: Sandbox
    written: set[Path]
    roots: list[Path]
    source: str


@pytest.fixture(params=["env", "dotenv", "literal", "keyring", "command"])
def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    """The sandbox, and profiles whose secrets come from the environment, from `.env`,
    are written in the file, come from the keyring or from commands."""
    where = request.param
    monkeypatch.setenv("WRONG_KEY", WRONG_KEY)
    written = {isolated / "profiles.toml"}
    (isolated / "in.csv").write_text("urn,mobile\n389,\n99999,\n,12\n", encoding="utf-8")
    (isolated / "out.jsonl").write_text('{"row": 2, "input": "389", "ok": true}\n{"row', "utf-8")
    if where == "env":
        for name, value in ENV_VARS.items():
            monkeypatch.setenv(name, value)
    elif where == "dotenv":
        for name in ENV_VARS:
            monkeypatch.delenv(name, raising=False)
        dotenv = isolated / ".env"
        dotenv.write_text("".join(f"{k}={v}\n" for k, v in ENV_VARS.items()), encoding="utf-8")
        dotenv.chmod(0o600)
        written.add(dotenv)
    else:
        for name in ENV_VARS:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HARD_KEY", ENCRYPTION_KEY)  # for --key-env HARD_KEY only
    if where == "keyring":
        import keyring
        from memory_keyring import Keyring

        before = keyring.get_keyring()
        keyring.set_keyring(Keyring())
        request.addfinalizer(lambda: keyring.set_keyring(before))
        for key, value in SECRETS.items():
            keyring.set_password("wibmo-test", key, value)
    vault = tmp_path / "vault"  # the command source's files: outside every root checked
    if where == "command":
        vault.mkdir()
        for key, value in SECRETS.items():
            (vault / key).write_text(value + "\n", encoding="utf-8")
    literal = where == "literal"
    sourced = {"keyring": _from_keyring, "command": partial(_from_commands, vault)}.get(where)
    if sourced is not None:
        monkeypatch.setattr("support.profile_values", _sourcing(sourced))
    with running(tmp_path / "sandbox.db", shape="cardList") as sandbox:
        refused = "http://127.0.0.1:9"
        write_profiles(
            sandbox.url,
            literal=literal,
            timeout=1,
            retries=1,
            extra_profiles={
                "badkey": _table(sandbox.url, literal, encryption_key=WRONG_KEY),
                "badapi": _table(sandbox.url, literal, api_key="wrong-api-key-0000"),
                "emb": _table("embedded", literal),
                "refused": _table(refused, literal, retries=0),
            },
        )
        roots = [Path(os.environ[v]) for v in ("HOME", "WIBMO_DATA_DIR", "WIBMO_CONFIG_DIR")]
        yield World(sandbox, written, [*roots, isolated], where)


SECRETS = {"api_key": API_KEY, "secure_code": SECURE_CODE, "encryption_key": ENCRYPTION_KEY}


def _from_keyring(table: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """The table with each secret not overridden read from the keyring."""
    for key in SECRETS:
        if key not in written:
            table[key] = f"${{keyring:wibmo-test/{key}}}"
    return table


def _from_commands(vault: Path, table: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """The table with each secret not overridden given by `cat VAULT/KEY`."""
    for key in SECRETS:
        if key not in written:
            del table[key]
            table[f"{key}_command"] = f"cat {vault / key}"
    return table


def _sourcing(
    sourced: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """support.profile_values with the secrets taken from another source."""
    original = support.profile_values

    def values(url: str, *, literal: bool = False, **override: Any) -> dict[str, Any]:
        return sourced(original(url, literal=literal, **override), override)

    return values


def _table(url: str, literal: bool, **override: Any) -> dict[str, Any]:
    from support import profile_values

    return profile_values(url, literal=literal, **{"timeout": 1, "retries": 1, **override})


def invoke(args: list[str], stdin: str | None) -> tuple[Result, str]:
    """Run in-process; the text a real run would print, traceback (--debug) included."""
    result = CliRunner().invoke(app, args, input=stdin, catch_exceptions=True)
    shown = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown += "".join(traceback.format_exception(result.exception))
        shown += repr(result.exception.args)
    return result, shown


def files_leaking(world: World) -> dict[str, list[str]]:
    found = {}
    for root in world.roots:
        for path in root.rglob("*"):
            if path.is_file() and path not in world.written:
                names = leaks_in_bytes(path.read_bytes())
                if names:
                    found[str(path)] = names
    return found


def test_the_secret_forms_are_distinct_and_long() -> None:
    assert {API_KEY, SECURE_CODE, ENCRYPTION_KEY} <= set(SECRET_FORMS.values())
    assert all(len(form) >= 16 for form in SECRET_FORMS.values())


@pytest.mark.slow  # every command, three ways of giving the secrets: 10-15 s
def test_every_command_keeps_every_secret(world: World) -> None:
    port = world.sandbox.url.rsplit(":", 1)[1]
    ran: dict[str, set[int]] = {}
    for run in RUNS:
        if run.slow and world.source != "env":
            continue
        for flags in (["-v"], ["-v", "--debug"]):
            world.sandbox.settings.faults.reset()
            if run.faults:
                world.sandbox.settings.faults.set_from_json(run.faults)
            args = [*flags, *(a.replace("{port}", port) for a in run.args)]
            result, shown = invoke(args, run.stdin)
            assert not leaks(shown), (run.id, flags, leaks(shown), shown[-3000:])
            assert "Traceback" not in shown or "--debug" in flags, (run.id, shown[-3000:])
            ran.setdefault(run.id, set()).add(result.exit_code)
        assert files_leaking(world) == {}, run.id
    # both paths were taken: successes and failures, across every command
    every = {0, 1, 2, 3, 4, 6} | ({5} if world.source == "env" else set())
    assert {code for codes in ran.values() for code in codes} >= every
    assert ran["lookup-found"] == {0}
    assert 0 not in ran["lookup-bad-key"] and 0 not in ran["update-503"]
    audit = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    assert audit.stat().st_size > 0  # writes and reveals were logged (and checked above)
    assert (Path(os.environ["WIBMO_DATA_DIR"]) / "sandbox.db").exists()  # emb's database


@pytest.mark.parametrize("credentials", ["headers", "body"])
def test_a_credential_http_cannot_carry_is_refused_by_name_not_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    """A credential with a line break or a space at either end used to be quoted whole
    in the error httpx raised (and a non-ASCII one was an internal error); now it is
    refused by name, before anything is sent, with or without --debug."""
    monkeypatch.setenv("HARD_API_KEY", API_KEY + "\n")
    monkeypatch.setenv("HARD_SECURE_CODE", " " + SECURE_CODE)
    monkeypatch.setenv("HARD_KEY", ENCRYPTION_KEY)
    with running(tmp_path / "sandbox.db") as sandbox:
        write_profiles(sandbox.url, credentials=credentials)
        for flags in ([], ["--debug"], ["-v", "--debug"]):
            result, shown = invoke([*flags, "lookup", "--urn", "389"], None)
            assert result.exit_code == 3  # --debug adds the traceback, keeps the code
            assert not leaks(shown), shown
            assert "api_key cannot be sent in an HTTP header" in shown
        monkeypatch.setenv("HARD_API_KEY", API_KEY)
        result, shown = invoke(["lookup", "--urn", "389"], None)
        if credentials == "headers":
            assert "secure_code cannot be sent in an HTTP header" in shown
        else:  # in the body, JSON carries it as it is: the gateway decides
            assert result.exit_code in (0, 1)
        assert not leaks(shown), shown
        assert [r.api for r in sandbox.requests] == ([] if credentials == "headers" else ["lookup"])

"""Issue 12, item 18: every example in README.md's ```sh blocks and in each command's --help
"Examples:" section runs as written, and exits as it says (0 unless its comment says
"exits N").

Each example runs as a real shell command, `wibmo` on the PATH, in a fresh HOME, config
dir, data dir and working directory (conftest's `isolated`): no profiles file, so the
built-in `demo` profile and its embedded sandbox answer. An example that needs more (a
profile of yours, a file, a running `wibmo sandbox`, a terminal to answer a question) is
declared in `NEEDS`, with the small fixture the test gives it; the README or the help must
say the same in words. A new example that is neither runnable as it is nor declared fails
`test_every_example_runs_as_written_or_is_declared`; a declaration whose example is gone
fails `test_no_declaration_outlives_its_example`.

Running the examples is `slow` (each is a process; CI runs them all); the checks of the
table itself run by default.
"""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import child_env, sandbox_process
from typer.testing import CliRunner

from wibmo_cli.app import app
from wibmo_cli.crypto import IvScheme, TokenCodec
from wibmo_cli.profiles import DEMO_PROFILE
from wibmo_cli.typer_glue import ClickContext

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TIMEOUT = 60.0

# -- the examples --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    text: str  # the command as written: continuation lines joined, its comment left out
    exit: int  # what it says it exits with: 0 unless its comment says "exits N"
    where: str  # "README.md:LINE" or "wibmo COMMAND --help"


_EXIT_SAID = re.compile(r"\bexits? (\d+)\b")
_SCRIPT = re.compile(r"^#!|<<|(\bwhile\b|\bfor\b).*\bdo$", re.MULTILINE)


def _split_comment(line: str) -> tuple[str, str]:
    """A shell line and its trailing comment (a # after whitespace, outside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def _commands(lines: list[str], where: str, first_line: int | None = None) -> Iterator[Example]:
    """Shell lines to examples: a script (a heredoc, a loop, a #! line) is one example,
    otherwise each command (a line and its `\\` continuations) is one."""

    def at(number: int) -> str:
        return where if first_line is None else f"{where}:{first_line + number}"

    commands = "\n".join(_split_comment(line)[0] for line in lines)
    if _SCRIPT.search(commands) or lines[0].startswith("#!"):
        block = "\n".join(lines).strip()
        said = _EXIT_SAID.search(block.splitlines()[0])
        yield Example(block, int(said.group(1)) if said else 0, at(0))
        return
    pending: list[str] = []
    comments: list[str] = []
    for number, raw in enumerate(lines):
        command, comment = _split_comment(raw.strip())
        comments.append(comment)
        if not command and not pending:
            comments.clear()
            continue
        if command.endswith("\\"):
            pending.append(command[:-1].strip())
            continue
        text = " ".join([*pending, command])
        said = _EXIT_SAID.search(" ".join(comments))
        yield Example(text, int(said.group(1)) if said else 0, at(number))
        pending.clear()
        comments.clear()


def readme_examples() -> list[Example]:
    lines = README.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    start: int | None = None
    for number, line in enumerate(lines, start=1):
        fence = line.strip()
        if start is None and fence == "```sh":
            start = number
        elif start is not None and fence.startswith("```"):
            block = lines[start : number - 1]
            indent = min((len(s) - len(s.lstrip()) for s in block if s.strip()), default=0)
            found += _commands([s[indent:] for s in block], "README.md", start + 1)
            start = None
    return found


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and group, by the names typed (the root is ())."""
    import typer.main

    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def visit(command: object, path: tuple[str, ...], ctx: ClickContext) -> None:
        paths.append(path)
        list_commands = getattr(command, "list_commands", None)
        if list_commands is None:
            return
        for name in list_commands(ctx):
            child = command.get_command(ctx, name)  # type: ignore[attr-defined]
            if child is not None and not getattr(child, "hidden", False):
                visit(child, (*path, name), ClickContext(child, parent=ctx, info_name=name))

    visit(root, (), ClickContext(root, info_name="wibmo"))
    return paths


def help_examples() -> list[Example]:
    found: list[Example] = []
    runner = CliRunner()
    for path in _command_paths():
        shown = runner.invoke(app, [*path, "--help"], catch_exceptions=False)
        assert shown.exit_code == 0, (path, shown.stderr)
        lines = shown.stdout.splitlines()
        starts = [i for i, line in enumerate(lines) if line.strip() == "Examples:"]
        for start in starts:
            block: list[str] = []
            for line in lines[start + 1 :]:
                if not line.strip():
                    break
                block.append(line)
            where = f"wibmo {' '.join(path)} --help".replace("wibmo  ", "wibmo ")
            found += _commands(block, where)
    return found


def all_examples() -> list[Example]:
    """README's and the help's, each command once (the first place it is written)."""
    seen: dict[str, Example] = {}
    for example in [*readme_examples(), *help_examples()]:
        seen.setdefault(example.text, example)
    return list(seen.values())


# -- what an example needs ------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """What an example needs beyond a fresh clone, and the fixture the test gives it."""

    why: str
    files: Mapping[str, str] = field(default_factory=dict)  # written in the working dir
    profiles: str = ""  # a profiles file made from profiles.example.toml, at this path
    setup: str = ""  # shell run first (an earlier run's output, an audit entry)
    env: Mapping[str, str] = field(default_factory=dict)
    server: bool = False  # runs until Ctrl-C: started, its URL awaited, then Ctrl-C
    sandbox: bool = False  # `wibmo sandbox` running: its URL stands for :8765's
    terminal: bool = False  # asks a question: run on a terminal, answered "y"
    skip: str = ""  # not run, and why


DEMO_KEY = str(DEMO_PROFILE["encryption_key"])
PAYLOAD = '{"messageCode":1930,"clientTxnId":"T1","requestDateTime":"20250101120000","urn":"389"}'
PATCH = (
    '{"cardholderCity": "Pune", "cardholderState": "Maharashtra", "cardholderZipCode": "411001"}'
)


def _token(scheme: str, plaintext: str = PAYLOAD) -> str:
    return TokenCodec(DEMO_KEY.encode(), IvScheme.parse(scheme)).encrypt_json(json.loads(plaintext))


BULK_CHANGES = "urn,emailId,cardholderCity\n1000099810,abhishek.m@example.com,Pune\n"
CUSTOMERS = "mobile,urn\n9897123456,389\n9000012345,2000000011\n"
EXPORT = "name,city,mobile\nABC,Kochi,9897123456\nSneha,Mumbai,9000012346\n"
A_PROFILE = "profiles.toml with the profile it names (the test: profiles.example.toml's, embedded)"
A_FILE = "a file of yours"
TOKENS = {"token.txt": _token("prepend") + "\n", "request.json": PAYLOAD + "\n"}
ANSWER = '{"responseCode":"00","docList":[{"docNumber":"ABC0123456","docType":"Passport"}]}'
_OTHER_KEY = TokenCodec(b"AnotherEnvironmentKey24!", IvScheme("zero"))  # another environment's
APP_LOG = {  # a service's log: tokens of the demo key in every form, and one of another key
    "app.log": f'2024-06-19 INFO --> POST body={{"token":"{_token("zero")}"}}\n'
    f'2024-06-19 INFO <-- 200 {{"token": "{_token("zero", ANSWER)}"}}\n'
    f'curl -X POST https://h.example/x --data \'{{"token":"{_token("zero")}"}}\'\n'
    f"2024-06-19 INFO callback token={_token('zero', ANSWER).replace('+', '-').replace('/', '_')}\n"
    f"2024-06-19 WARN cached {_OTHER_KEY.encrypt_json(json.loads(PAYLOAD))} (uat)\n"
}


def _har() -> str:
    """A HAR capture of one lookup, its tokens the demo profile's (decrypt --har)."""
    answer = '{"clientTxnId":"T1","messageCode":1931,"responseCode":"00"}'
    pair = {"cookies": [], "headers": [], "httpVersion": "HTTP/1.1", "headersSize": -1}
    request = {
        **pair,
        "method": "POST",
        "url": "https://pp.example/api/v2/customer/x",
        "queryString": [],
        "bodySize": -1,
        "postData": {"mimeType": "application/json", "text": json.dumps({"token": _token("zero")})},
    }
    response = {
        **pair,
        "status": 200,
        "statusText": "OK",
        "redirectURL": "",
        "bodySize": -1,
        "content": {
            "size": -1,
            "mimeType": "application/json",
            "text": json.dumps({"token": _token("zero", answer)}),
        },
    }
    entry = {
        "startedDateTime": "2026-11-30T09:15:02.125+05:30",
        "time": 48.2,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 1, "wait": 45, "receive": 2.2},
    }
    creator = {"name": "example", "version": "1"}
    return json.dumps({"log": {"version": "1.2", "creator": creator, "entries": [entry]}})


A_HAR = Needs("a HAR capture of yours", files={"capture.har": _har()})
NO_MITMPROXY = Needs("mitmproxy", skip="mitmproxy is not a dependency of wibmo")

NEEDS: dict[str, Needs] = {
    # set-up lines: the suite runs in what they make
    (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . "
        "&& .venv/bin/wibmo lookup --mobile 9897123456"
    ): Needs(
        "set-up: installs wibmo (its lookup runs below as `wibmo lookup --mobile 9897123456`)",
        skip="installs the package",
    ),
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest": Needs(
        "set-up: runs this suite", skip="runs the suite that runs this test"
    ),
    # lookups
    "wibmo -p uat lookup --urn 389": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo -p uat shell": Needs(
        f"{A_PROFILE}; it reads lines from stdin (here none: it ends at once, exit 0)",
        profiles="profiles.toml",
    ),
    "wibmo lookup --file customers.csv > answers.jsonl": Needs(
        A_FILE, files={"customers.csv": CUSTOMERS}
    ),
    (
        "wibmo lookup --file customers.csv --column urn --concurrency 16 --rate 50/s "
        "> answers.jsonl"
    ): Needs(A_FILE, files={"customers.csv": CUSTOMERS}),
    "cut -d, -f3 export.csv | wibmo -p uat lookup -f - --column mobile > answers.jsonl": Needs(
        f"{A_FILE}, and {A_PROFILE}", files={"export.csv": EXPORT}, profiles="profiles.toml"
    ),
    "wibmo lookup --file customers.csv --resume answers.jsonl >> answers.jsonl": Needs(
        "a file of yours, and the output of a run cut short",
        files={"customers.csv": CUSTOMERS},
        setup="wibmo lookup --file customers.csv 2>/dev/null | head -n 1 > answers.jsonl",
    ),
    "jq -r 'select(.ok | not) | [.row, .input, .error.message] | @tsv' answers.jsonl": Needs(
        "a batch's output, and jq",
        files={"customers.csv": CUSTOMERS},
        setup="wibmo lookup --file customers.csv > answers.jsonl 2>/dev/null",
    ),
    "wibmo lookup --file customers.csv --column mobile > answers.jsonl": Needs(
        A_FILE, files={"customers.csv": CUSTOMERS}
    ),
    "cut -d, -f3 export.csv | wibmo -p uat lookup -f - --concurrency 16 --rate 50/s": Needs(
        f"{A_FILE}, and {A_PROFILE}", files={"export.csv": EXPORT}, profiles="profiles.toml"
    ),
    # filters and formats (README "Filters and formats", lookup --help)
    "wibmo lookup --file customers.csv --jq 'select(.ok | not) | .input' > failed.txt": Needs(
        A_FILE, files={"customers.csv": CUSTOMERS}
    ),
    "wibmo lookup --file customers.csv -o csv > answers.csv": Needs(
        A_FILE, files={"customers.csv": CUSTOMERS}
    ),
    "wibmo lookup --file customers.csv -o tsv --fields row,input,urn,availableBalance,error": (
        Needs(A_FILE, files={"customers.csv": CUSTOMERS})
    ),
    # updates
    "wibmo update-profile --mobile 8258989696 --email abhishek.m@example.com": Needs(
        "a terminal to answer the question", terminal=True
    ),
    "wibmo update-profile --urn 1000104854 --email aarav.d@example.com": Needs(
        "a terminal to answer the question", terminal=True
    ),
    (
        "wibmo -p production update-profile --urn 1000165273 --from-file patch.json --yes "
        "--production-ok"
    ): Needs(
        f"{A_PROFILE}, and a file of yours",
        files={"patch.json": PATCH},
        profiles="profiles.toml",
    ),
    # tokens
    "wibmo encrypt payload.json --wrap": Needs(A_FILE, files={"payload.json": PAYLOAD}),
    "cat payload.json | wibmo -p uat encrypt - --iv key": Needs(
        f"{A_FILE}, and {A_PROFILE}", files={"payload.json": PAYLOAD}, profiles="profiles.toml"
    ),
    "wibmo encrypt payload.json --key-env MY_KEY --iv ecb": Needs(
        "a file of yours, and the key in $MY_KEY",
        files={"payload.json": PAYLOAD},
        env={"MY_KEY": DEMO_KEY},
    ),
    "wibmo decrypt - < captured.txt": Needs(
        "a file of tokens", files={"captured.txt": f"{_token('zero')}\n"}
    ),
    "wibmo decrypt captured.txt > decoded.jsonl": Needs(
        "a file of tokens", files={"captured.txt": f"{_token('zero')}\n{_token('zero')}\n"}
    ),
    "wibmo decrypt captured-tokens.txt > decoded.jsonl": Needs(
        "a file of tokens", files={"captured-tokens.txt": f"{_token('zero')}\n"}
    ),
    "wibmo decrypt --detect captured-token.txt": Needs(
        "a captured token", files={"captured-token.txt": _token("prepend")}
    ),
    "wibmo decrypt --detect token.txt --key-env UAT_KEY": Needs(
        "a captured token and its key in $UAT_KEY", files=TOKENS, env={"UAT_KEY": DEMO_KEY}
    ),
    "wibmo decrypt --detect token.txt --plaintext request.json": Needs(
        "a captured token and the JSON it holds", files=TOKENS
    ),
    "wibmo decrypt --scan app.log > app.decrypted.log": Needs("a log of yours", files=APP_LOG),
    "wibmo decrypt --scan app.log -o json": Needs("a log of yours", files=APP_LOG),
    "wibmo decrypt --scan app.log --jq 'select(.error) | .token'": Needs(
        "a log of yours", files=APP_LOG
    ),
    "grep 'INFO' app.log | wibmo decrypt --scan -": Needs("a log of yours", files=APP_LOG),
    "cat app.log | wibmo decrypt --scan - -o json --jq 'select(.error)'": Needs(
        "a log of yours", files=APP_LOG
    ),
    # HAR captures, mitmproxy
    "wibmo decrypt --har capture.har": A_HAR,
    "wibmo decrypt --har capture.har --out clean.har": A_HAR,
    (
        "wibmo decrypt --har capture.har -o json --jq "
        "'.exchanges[] | [.clientTxnId, .responseCode] | @tsv'"
    ): A_HAR,
    "wibmo decrypt --har capture.har -o json --fields entry,clientTxnId,responseCode": A_HAR,
    'mitmproxy -s "$(wibmo mitm-addon)" --set wibmo_profile=uat': NO_MITMPROXY,
    'WIBMO_PROFILE=uat mitmdump -s "$(wibmo mitm-addon)"': NO_MITMPROXY,
    # profiles
    "wibmo profiles show uat": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles check uat": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles check uat --online": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles check uat --calibrate": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles add uat": Needs(
        "asks every question on a terminal",
        skip="interactive: tests/test_profiles_add.py answers each question on a terminal",
    ),
    (
        "wibmo profiles add ci --yes --base-url https://pp-sandbox.example --variant v3 "
        "--client-id FintechA --bank-id 1234 --consumer-custom-id C1 --api-key-env UAT_KEY "
        "--secure-code-env UAT_CODE --encryption-key-env UAT_ENC --no-check"
    ): Needs(
        "the variables it names",
        env={"UAT_KEY": "k", "UAT_CODE": "c", "UAT_ENC": str(DEMO_PROFILE["encryption_key"])},
    ),
    "wibmo profiles edit uat iv key": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles edit uat api_key '${WIBMO_UAT_API_KEY}'": Needs(
        A_PROFILE, profiles="profiles.toml"
    ),
    "wibmo profiles set-default uat": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles remove uat-v3": Needs(A_PROFILE, profiles="profiles.toml", terminal=True),
    "wibmo profiles remove uat-v3 --yes": Needs(A_PROFILE, profiles="profiles.toml"),
    "wibmo profiles list --profiles-file ops/profiles.toml -o json": Needs(
        "that profiles file", profiles="ops/profiles.toml"
    ),
    # the sandbox: runs until Ctrl-C (on a free port in the test: the suite runs in parallel)
    "wibmo sandbox": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --port 0 --db scratch.db": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --latency-ms 50 --fail-rate 0.2 --fail-status 503 --seed 1": Needs(
        "runs until Ctrl-C", server=True
    ),
    "wibmo sandbox --latency-ms 50 --fail-rate 0.2 --fail-status 503": Needs(
        "runs until Ctrl-C", server=True
    ),
    "wibmo sandbox --shape mixed": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --variant v3": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --drop-after-rate 0.1 --seed 7": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --customers 10000 --db big.db": Needs("runs until Ctrl-C", server=True),
    "wibmo sandbox --port 0 --workers 2": Needs("runs until Ctrl-C", server=True),
    "wibmo -p uat-v3 sandbox --variant v3": Needs(
        f"runs until Ctrl-C; {A_PROFILE}", server=True, profiles="profiles.toml"
    ),
    'curl -X POST http://127.0.0.1:8765/__sandbox/faults -d \'{"queue": ["503", "hang"]}\'': Needs(
        "`wibmo sandbox` running", sandbox=True
    ),
    "wibmo -p uat update-profile --apply plan.jsonl --resume --yes": Needs(
        f"{A_PROFILE}, and a plan applied before",
        files={"changes.csv": BULK_CHANGES},
        profiles="profiles.toml",
        setup="wibmo -p uat update-profile --file changes.csv --plan plan.jsonl && "
        "wibmo -p uat update-profile --apply plan.jsonl --yes",
    ),
    "wibmo -p uat reconcile plan.jsonl.journal": Needs(
        f"{A_PROFILE}, and a plan applied before",
        files={"changes.csv": BULK_CHANGES},
        profiles="profiles.toml",
        setup="wibmo -p uat update-profile --file changes.csv --plan plan.jsonl && "
        "wibmo -p uat update-profile --apply plan.jsonl --yes",
    ),
    "wibmo -p uat reconcile plan.jsonl.journal --jq 'select(.verdict != \"applied\")'": Needs(
        f"{A_PROFILE}, and a plan applied before",
        files={"changes.csv": BULK_CHANGES},
        profiles="profiles.toml",
        setup="wibmo -p uat update-profile --file changes.csv --plan plan.jsonl && "
        "wibmo -p uat update-profile --apply plan.jsonl --yes",
    ),
    "wibmo -p uat update-profile --apply plan.jsonl --if-unchanged --yes": Needs(
        f"{A_PROFILE}, and a plan",
        files={"changes.csv": BULK_CHANGES},
        profiles="profiles.toml",
        setup="wibmo -p uat update-profile --file changes.csv --plan plan.jsonl",
    ),
}
# The README's scripts, by their first line.
SCRIPTS: dict[str, Needs] = {
    "#!/bin/sh": Needs(
        f"{A_PROFILE}, and changes.csv",
        files={"changes.csv": BULK_CHANGES},
        profiles="profiles.toml",
    ),
}


def needs_of(example: Example) -> Needs | None:
    return NEEDS.get(example.text) or SCRIPTS.get(example.text.splitlines()[0])


# -- running one ----------------------------------------------------------------------------


@dataclass
class Ran:
    code: int
    output: str


def _shim(directory: Path) -> dict[str, str]:
    """The environment with `wibmo` on the PATH: this interpreter's wibmo_cli."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "wibmo"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m wibmo_cli "$@"\n')
    shim.chmod(0o755)
    env = child_env()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _profiles_file(path: Path) -> None:
    """profiles.example.toml as a user copies it, its hosts made the embedded sandbox."""
    text = (ROOT / "profiles.example.toml").read_text(encoding="utf-8")
    text = re.sub(r'"https://pp(-sandbox)?\.example"', '"embedded"', text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def _profile_secrets() -> dict[str, str]:
    """The example profiles' secrets: the demo's, which the embedded sandbox accepts."""
    values = {
        "API_KEY": str(DEMO_PROFILE["api_key"]),
        "SECURE_CODE": str(DEMO_PROFILE["secure_code"]),
        "ENCRYPTION_KEY": DEMO_KEY,
    }
    env = {
        f"WIBMO_{env}_{name}": value for env in ("UAT", "PROD") for name, value in values.items()
    }
    env["WIBMO_UAT_CONSUMER_ID"] = "demo-consumer"
    return env


def _run_shell(text: str, env: dict[str, str], cwd: Path) -> Ran:
    shell = "sh" if text.startswith("#!/bin/sh") else "bash"
    done = subprocess.run(
        [shell, "-c", text],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Ran(done.returncode, done.stdout + done.stderr)


def _read_until(
    fd: int, wanted: re.Pattern[str], seen: list[str], process: subprocess.Popen[bytes]
) -> bool:
    """Read `fd` into `seen` until `wanted` shows, the process ends, or TIMEOUT passes."""
    import time

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if wanted.search("".join(seen)):
            return True
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's other end closed
                return bool(wanted.search("".join(seen)))
            if not chunk:
                return bool(wanted.search("".join(seen)))
            seen.append(chunk.decode("utf-8", "replace"))
        elif process.poll() is not None and not ready:
            return bool(wanted.search("".join(seen)))
    return False


def _run_on_terminal(text: str, env: dict[str, str], cwd: Path) -> Ran:
    """On a pseudo-terminal, answering "y" to the question it asks."""
    main, other = os.openpty()
    process = subprocess.Popen(
        ["bash", "-c", text], cwd=cwd, env=env, stdin=other, stdout=other, stderr=other
    )
    os.close(other)
    seen: list[str] = []
    try:
        if _read_until(main, re.compile(r"\[y/N\]"), seen, process):
            os.write(main, b"y\n")
        _read_until(main, re.compile(r"(?!)"), seen, process)
        code = process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    return Ran(code, "".join(seen))


def _run_server(text: str, env: dict[str, str], cwd: Path) -> Ran:
    """Started on a free port, its URL awaited on stdout, then Ctrl-C."""
    if "--port" not in text:
        text += " --port 0"
    process = subprocess.Popen(
        ["bash", "-c", f"exec {text}"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        listening = _read_until(
            process.stdout.fileno(), re.compile(r"http://127\.0\.0\.1:\d+"), seen, process
        )
        assert listening, "".join(seen)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return Ran(process.returncode, "".join(seen) + out.decode() + err.decode())


def run_example(example: Example, work: Path) -> Ran:
    needs = needs_of(example) or Needs("nothing: runs as written")
    env = _shim(work.parent)
    env.update(needs.env)
    if needs.profiles:
        _profiles_file(work / needs.profiles)
        env.update(_profile_secrets())
    for name, content in needs.files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(content, encoding="utf-8")
    if needs.setup:
        prepared = _run_shell(needs.setup, env, work)
        assert prepared.code == 0, prepared.output
    if needs.server:
        return _run_server(example.text, env, work)
    if needs.terminal:
        return _run_on_terminal(example.text, env, work)
    if needs.sandbox:
        with sandbox_process() as url:
            return _run_shell(example.text.replace("http://127.0.0.1:8765", url), env, work)
    return _run_shell(example.text, env, work)


# -- the tests ------------------------------------------------------------------------------

EXAMPLES = all_examples()


def _param(example: Example) -> object:
    # Every example is a process (bash and wibmo): together they cost the default run
    # about 20 s, so they are `slow` (CI runs them); the table checks run by default.
    marks = [pytest.mark.slow]
    needs = needs_of(example)
    if needs and needs.skip:
        marks.append(pytest.mark.skip(reason=needs.skip))
    return pytest.param(
        example, id=f"{example.where}: {example.text.splitlines()[0][:60]}", marks=marks
    )


@pytest.mark.parametrize("example", [_param(e) for e in EXAMPLES])
def test_every_example_runs_as_written_or_is_declared(example: Example, isolated: Path) -> None:
    ran = run_example(example, isolated)
    assert "Traceback" not in ran.output, ran.output
    needs = needs_of(example)
    assert ran.code == example.exit, (
        f"{example.where}: `{example.text}` exited {ran.code}, the example says {example.exit}"
        + ("" if needs else " (it needs something: declare it in NEEDS and say so beside it)")
        + f"\n{ran.output}"
    )


def test_the_examples_are_found() -> None:
    readme = {e.text for e in readme_examples()}
    helps = {e.where for e in help_examples()}
    assert "wibmo lookup --mobile 9897123456" in readme
    assert "wibmo codes --api update -o json" in readme
    assert any(text.startswith("#!/bin/sh") for text in readme)  # a script is one example
    for command in ("lookup", "update-profile", "encrypt", "decrypt", "codes", "sandbox"):
        assert f"wibmo {command} --help" in helps, helps
    assert "wibmo profiles check --help" in helps
    assert "wibmo --help" in helps


def test_an_example_says_its_exit_code_in_its_comment() -> None:
    lines = ["wibmo codes 9999        # an unknown code: exits 1", "wibmo codes 1303"]
    assert [(e.text, e.exit) for e in _commands(lines, "x")] == [
        ("wibmo codes 9999", 1),
        ("wibmo codes 1303", 0),
    ]
    joined = list(_commands(["wibmo a \\", "    --b 'x # y' \\", "    --c   # done"], "x"))
    assert [e.text for e in joined] == ["wibmo a --b 'x # y' --c"]


def test_no_declaration_outlives_its_example() -> None:
    texts = {e.text for e in EXAMPLES}
    firsts = {e.text.splitlines()[0] for e in EXAMPLES}
    assert not [t for t in NEEDS if t not in texts], "declared, but no longer an example"
    assert not [t for t in SCRIPTS if t not in firsts], "declared, but no longer a script"

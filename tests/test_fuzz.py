"""Fuzzing: random bytes and text into the token codec, the input parsers and the CLI.

The promise: whatever comes in, the only exceptions that escape are the tool's own
(`WibmoError` subclasses, each of the kind the function documents), and the CLI ends
every run with a documented exit code, never 70 (internal error) and never a
traceback. Each test runs the examples its `budget` and the hypothesis profile give (a
quarter under the default `dev`, its budget under CI's `ci`); `bench/fuzz_campaign.py`
runs the same tests under `fuzz` (thirty times as many) and reports the count.

tests/test_crypto.py and tests/test_validate.py already fuzz decode_base64,
extract_token, decrypt and each validator with plain text; this file covers what they
do not: the stream decrypter, key and IV settings, payload and patch parsing,
identifiers, whole update requests, and the command line itself.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support import KEY, StartSandbox, budget, codec
from typer.testing import CliRunner

from wibmo_cli import batchio, batchresume, changes, tokenio, tokenstream
from wibmo_cli.app import INTERNAL_ERROR, app
from wibmo_cli.crypto import (
    KEY_ENCODINGS,
    IvScheme,
    TokenCodec,
    detect,
    extract_token,
    key_interpretations,
    parse_key,
)
from wibmo_cli.errors import ConfigError, CryptoError, InputError, WibmoError
from wibmo_cli.masking import mask
from wibmo_cli.messages import Identifiers
from wibmo_cli.sandbox import Sandbox

# Exhaustive (random inputs in their hundreds): slow, run by CI with its ci profile.
pytestmark = pytest.mark.slow

# -- strategies ------------------------------------------------------------------------------

SCHEMES = [IvScheme.parse(s) for s in ("zero", "key", "prepend", "ecb", "0f" * 16)]
schemes = st.sampled_from(SCHEMES)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=6)
DOC_KEYS = ["docNumber", "pan", "aadhaar", "cKycNo", "docType", "urn", "name"]
masked_objects = st.dictionaries(st.sampled_from(DOC_KEYS), json_values, max_size=5)
# Lines a captured-tokens file may hold: good tokens, bodies, garbage, truncations.
token_lines = st.one_of(
    st.builds(lambda s, o: codec(str(s)).encrypt_json(o), schemes, masked_objects),
    st.builds(lambda o: json.dumps({"token": codec().encrypt_json(o)}), masked_objects),
    st.builds(lambda o: codec().encrypt_json(o)[:-5], masked_objects),
    st.builds(lambda b: codec().encrypt(b), st.binary(max_size=40)),
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=40).filter(lambda t: "\n" not in t),
    st.just(""),
    st.just("{"),
)


def only(kind: type[WibmoError], call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call; a `kind` error with a one-line message is fine, anything else escapes."""
    try:
        return call(*args, **kwargs)
    except kind as exc:
        assert exc.message
        assert "\n" not in str(exc), str(exc)
        return None


# -- the token codec ---------------------------------------------------------------------------


@budget(300)
@given(value=st.text(max_size=80), encoding=st.sampled_from([*KEY_ENCODINGS, "rot13"]))
def test_parse_key_gives_24_bytes_or_a_config_error(value: str, encoding: str) -> None:
    key = only(ConfigError, parse_key, value, encoding)
    assert key is None or len(key) == 24
    for _, reading in key_interpretations(value):
        assert len(reading) == 24


@budget(300)
@given(value=st.text(max_size=40) | st.binary(max_size=16).map(bytes.hex))
def test_iv_scheme_parse_gives_a_scheme_or_a_config_error(value: str) -> None:
    scheme = only(ConfigError, IvScheme.parse, value)
    if scheme is not None:
        assert IvScheme.parse(str(scheme)) == scheme


@budget(300)
@given(
    token=token_lines | st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
    key=st.binary(min_size=24, max_size=24),
)
def test_detect_raises_only_crypto_errors_and_orders_working_first(token: str, key: bytes) -> None:
    results = only(CryptoError, detect, token, [("text", KEY), ("raw", key)], (SCHEMES[-1],))
    if results:
        oks = [r.ok for r in results]
        assert oks == sorted(oks, reverse=True)
        assert all(r.padding_ok for r in results if r.ok)


@budget(300)
@given(scheme=schemes, data=st.binary(max_size=120))
def test_decrypt_json_of_random_bytes_raises_only_crypto_errors(
    scheme: IvScheme, data: bytes
) -> None:
    tokens = TokenCodec(KEY, scheme)
    only(CryptoError, tokens.decrypt_json, data)
    only(CryptoError, tokens.decrypt_json, base64.b64encode(data))
    only(CryptoError, tokens.decrypt_json, tokens.encrypt(data))


# -- tokenio: what encrypt and decrypt read -----------------------------------------------------


@budget(300)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_parse_json_payload_gives_an_object_or_an_input_error(data: bytes) -> None:
    payload = only(InputError, tokenio.parse_json_payload, data, "stdin")
    assert payload is None or isinstance(payload, dict)


@budget(300)
@given(argument=st.text(max_size=40))
@example(argument="~nosuchuser/tokens.txt")  # Path.expanduser raises RuntimeError for it
def test_existing_file_never_raises_but_an_input_error(argument: str) -> None:
    only(InputError, tokenio.existing_file, argument)


@budget(200)
@given(lines=st.lists(token_lines, max_size=12), reveal=st.booleans(), crlf=st.booleans())
def test_decrypt_stream_answers_each_line_as_decrypting_it_alone_would(
    lines: list[str], reveal: bool, crlf: bool
) -> None:
    """One JSON line out per line in (blank lines skipped), in order; the same answer as
    decrypting that line by itself; masked unless `reveal`."""
    ending = "\r\n" if crlf else "\n"
    data = "".join(line + ending for line in lines).encode()
    out = io.BytesIO()
    summary = tokenstream.decrypt_stream(codec(), io.BytesIO(data), out.write, reveal=reveal)
    written = out.getvalue().decode().split("\n")  # JSON lines: "\n" ends each, nothing else
    assert written.pop() == ""
    kept = [(n, line) for n, line in enumerate(lines, 1) if line.encode().strip()]
    assert len(written) == len(kept) == summary.lines
    failed = 0
    for (number, line), shown in zip(kept, written, strict=True):
        record = json.loads(shown)
        try:
            expected = codec().decrypt_json(
                extract_token(line) if line.strip().startswith("{") else line
            )
        except CryptoError:
            failed += 1
            assert record["line"] == number
            assert record["exit_code"] == 4
            continue
        assert record == (expected if reveal else mask(expected))
    assert summary.failed == failed


@budget(300)
@given(data=st.binary(max_size=300))
def test_first_document_keeps_every_byte(data: bytes) -> None:
    stream = io.BytesIO(data)
    first, whole = tokenio.first_document(stream)
    rest = b"" if whole else stream.read()
    assert first + rest == data


# -- identifiers and update requests -----------------------------------------------------------

identifier_text = st.none() | st.text(max_size=24) | st.from_regex(r"\+?[0-9 ()\-.]{0,16}")


@budget(400)
@given(
    mobile=identifier_text,
    urn=identifier_text,
    customer_id=identifier_text,
    email=identifier_text,
    prefix=st.sampled_from(["91", "", "0091"]),
)
def test_identifiers_parse_gives_valid_identifiers_or_an_input_error(
    mobile: str | None, urn: str | None, customer_id: str | None, email: str | None, prefix: str
) -> None:
    found = only(
        InputError,
        Identifiers.parse,
        mobile=mobile,
        urn=urn,
        customer_id=customer_id,
        email=email,
        mobile_prefix=prefix,
    )
    if found is not None:
        assert found.any()
        fields = found.fields()
        if found.mobile:
            assert re.fullmatch(re.escape(prefix) + r"[6-9][0-9]{9}", fields["customerMobile"])
        if found.urn:
            assert fields["urn"].isdigit()
        assert "\n" not in found.describe()


@budget(300)
@given(text=st.text(max_size=200) | json_values.map(json.dumps))
def test_read_patch_gives_an_object_or_an_input_error(text: str) -> None:
    patch = only(InputError, changes.read_patch, text, "patch.json")
    assert patch is None or isinstance(patch, dict)


FILE_NAMES = sorted(
    {spelling for f in changes.FIELDS for spelling in f.file_names}
    | {"docList", "cardProfileId", "clientTxnId", "urn", "colour"}
)
doc_objects = st.dictionaries(
    st.sampled_from(["docType", "docNumber", "docCountry", "docExpiry", "docNum"]),
    json_scalars | st.sampled_from(["PAN", "ABCPE1234F", "Aadhaar", "20991231", "India"]),
    max_size=4,
)
patch_values = (
    json_values
    | st.sampled_from(["a@b.co", "9897123456", "20000101", "150", "Pune", "411001", "M"])
    | st.lists(doc_objects | st.text(max_size=20), max_size=3)
)
doc_options = st.lists(
    st.text(max_size=30)
    | st.sampled_from(["PAN:ABCPE1234F", "Aadhaar:234567890124", "Passport:A1234567:India"]),
    max_size=3,
)


@budget(400)
@given(
    patch=st.dictionaries(st.sampled_from(FILE_NAMES) | st.text(max_size=10), patch_values),
    options=st.dictionaries(
        st.sampled_from(["emailId", "dateOfBirth", "cardholderZipCode", "docConsent"]),
        st.text(max_size=20) | st.booleans(),
        max_size=2,
    ),
    docs=doc_options,
    card_profile_id=st.none() | st.sampled_from(["30", "150", "300", "7", "x"]),
    current=st.sampled_from([30, 150, 300]),
)
def test_update_requests_validate_and_plan_or_raise_input_errors(
    patch: dict[str, Any],
    options: dict[str, Any],
    docs: list[str],
    card_profile_id: str | None,
    current: int,
) -> None:
    """From whatever a file and the options hold to a payload: InputError or a plan."""
    now = datetime(2025, 1, 1, 12, 0, 0)
    request = only(
        InputError,
        changes.parse_request,
        Identifiers(urn="389"),
        options,
        docs=docs,
        card_profile_id=card_profile_id,
        patch=patch,
        patch_label="patch.json",
        now=now,
    )
    if request is None:
        return
    plan = only(InputError, changes.plan, request, current, now=now)
    if plan is not None:
        assert plan.payload["urn"] == "389"
        assert "clientTxnId" in plan.payload
        json.dumps(plan.payload)  # what is sent is JSON


# -- lookup --file: the rows of a CSV or a list, and an earlier run's output --------------------


@budget(300)
@given(
    text=st.text(max_size=300)
    | st.lists(st.sampled_from(["mobile", "urn", ",", '"', "\n", "\r\n", "9897123456", "x"])).map(
        "".join
    ),
    column=st.none() | st.sampled_from(["mobile", "urn", "email", "phone", "customer_id"]),
)
def test_batch_rows_are_read_or_refused_with_an_input_error(text: str, column: str | None) -> None:
    """Any input gives rows numbered in order, each with an identifier or the reason it
    has none; only a bad --column is refused, as a whole."""
    stream = io.StringIO(text, newline="")
    reader = only(InputError, batchio.RowReader, stream, column=column, name="in.csv")
    if reader is None:
        return
    numbers = []
    for row in reader:
        numbers.append(row.number)
        assert row.value or row.problem
        assert row.kind in (None, *batchio.KINDS)
        assert batchio.sniff_kind(row.value or "x") in batchio.KINDS
    assert numbers == sorted(set(numbers))


@budget(300)
@given(
    lines=st.lists(
        st.sampled_from(['{"row": 1, "input": "x", "ok": true}', '{"row": 2, "inp', "junk", ""])
        | st.text(max_size=30),
        max_size=6,
    ),
    ending=st.sampled_from(["", "\n"]),
)
def test_resume_changes_its_file_only_by_repairing_a_torn_record(
    tmp_path: Path, lines: list[str], ending: str
) -> None:
    """An earlier run's output loses nothing but a torn record at its end, and any other
    file is refused unchanged."""
    path = tmp_path / "out.jsonl"
    data = ("\n".join(lines) + ending).encode()
    path.write_bytes(data)
    only(InputError, batchresume.read_answered, path)
    after = path.read_bytes()
    if after != data:
        assert after == data + b"\n" or (
            data.startswith(after) and data[len(after) :].lstrip().startswith(b"{")
        ), (data, after)


# -- the command line ------------------------------------------------------------------------

# Argument lists built the way people type them: options with plausible or random
# values, in any order, any number of times, now and then a stray word.
anything = st.text(max_size=16)


def pick(*good: str) -> st.SearchStrategy[str]:
    """Mostly one of `good`, sometimes anything at all."""
    return st.one_of(*[st.sampled_from(good)] * 3, anything)


def flag(name: str) -> st.SearchStrategy[list[str]]:
    return st.just([name])


def option(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [name, value])


def positional(values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return values.map(lambda value: [value])


TOKEN = codec().encrypt_json({"docList": [{"docType": "Pancard", "docNumber": "ABCPE1234F"}]})
KEY_OPTIONS = [
    option("--key-env", pick("HARD_KEY", "HOME", "NO_SUCH_VAR")),
    option("--key-file", pick("payload.json", "key.txt", "nowhere")),
    option("--key-encoding", pick("auto", "text", "hex", "base64")),
    option("--iv", pick("zero", "key", "prepend", "ecb", "00" * 16)),
]
GLOBALS = [
    option("-p", pick("hard", "hard", "demo", "nope")),
    option("-o", pick("json", "table")),
    flag("-v"),
    flag("--debug"),
    option("--profiles-file", pick("profiles.toml", "nowhere.toml")),
]
OPTIONS: dict[str, list[st.SearchStrategy[list[str]]]] = {
    "lookup": [
        option("--mobile", pick("9897123456", "+91 98971-23456", "919897123456", "6000000000")),
        option("--urn", pick("389", "00389", "1000060900", "99999")),
        option("--customer-id", pick("custid_V3_juyWqcUUxz", "nobody")),
        option("--email", pick("abc@xyz.com", "nobody@example.com")),
        flag("--reveal"),
        option("--file", pick("in.csv", "-", "tokens.txt")),
        option("--column", pick("mobile", "urn", "email")),
        option("--concurrency", pick("1", "4", "0")),
        option("--rate", pick("200", "100/s", "0")),
        option("--resume", pick("out.jsonl", "in.csv")),
    ],
    "update-profile": [
        option("--urn", pick("389", "1000060900")),
        option("--mobile", pick("9897123456")),
        option("--customer-id", pick("custid_V3_juyWqcUUxz")),
        option("--email", pick("new@example.com", "bad@")),
        option("--new-mobile", pick("9000000001")),
        option("--dob", pick("19900101", "2999-01-01")),
        option("--gender", pick("M", "Female")),
        option("--city", pick("Pune")),
        option("--zip-code", pick("411001")),
        option("--address", pick("12, MG Road, Pune")),
        option("--new-card-profile-id", pick("30", "150", "300")),
        option("--card-profile-id", pick("30", "150", "300")),
        option("--kyc-date-stamp", pick("20240501103000")),
        option("--doc", pick("PAN:ABCPE1234F", "Aadhaar:234567890124", "Passport:A1234567")),
        flag("--doc-consent"),
        option("--from-file", pick("patch.json", "payload.json", "-")),
        flag("--dry-run"),
        flag("--yes"),
        flag("--yes"),
    ],
    "encrypt": [
        positional(pick('{"messageCode": 1930}', "[]", "payload.json", "-")),
        flag("--wrap"),
        flag("--compact"),
        *KEY_OPTIONS,
    ],
    "decrypt": [
        positional(pick(TOKEN, json.dumps({"token": TOKEN}), "tokens.txt", "-", TOKEN[:-4])),
        flag("--detect"),
        flag("--reveal"),
        *KEY_OPTIONS,
    ],
    "codes": [
        positional(pick("1303", "503", "00", "0", "1055", "999")),
        option("--api", pick("lookup", "update", "gateway")),
    ],
    "profiles": [positional(pick("hard", "demo", "nope")), flag("--online")],
    "audit": [option("-n", pick("1", "5", "0")), option("--audit-log", pick("audit.jsonl"))],
    "sandbox": [
        option("--port", pick("0", "80", "70000")),
        option("--db", pick("fuzz.db")),
        option("--latency-ms", pick("0", "5", "-1")),
        option("--fail-rate", pick("0", "0.5", "2")),
        option("--fail-status", pick("503", "200")),
        option("--hang-rate", pick("0", "0.1")),
        option("--drop-rate", pick("0", "0.1")),
        option("--shape", pick("cardList", "flat")),
        option("--seed", pick("1", "x")),
    ],
}
# What each command's arguments usually start with, so that runs get past the first check.
_UPDATE_WHO = st.one_of(
    option("--urn", pick("389", "1000060900")),
    option("--mobile", pick("9897123456")),
    option("--customer-id", pick("custid_V3_juyWqcUUxz")),
)
HEADS: dict[str, st.SearchStrategy[list[str]]] = {
    "lookup": st.sampled_from(OPTIONS["lookup"][:4]).flatmap(lambda strategy: strategy),
    "update-profile": st.builds(
        lambda who, what, how: [*who, *what, *how],
        _UPDATE_WHO,
        st.sampled_from(OPTIONS["update-profile"][3:15]).flatmap(lambda strategy: strategy),
        st.sampled_from([["--yes"], ["--dry-run"], ["--yes", "--card-profile-id", "150"], []]),
    ),
    "profiles": pick("list", "show", "check").map(lambda name: [name]),
}
# Options that name a file wibmo writes: keep what follows them inside the test's dir.
WRITES = ("--db", "--audit-log", "--resume")


LOCAL = ("fuzz.db", "audit.jsonl", "out.jsonl", "in.csv")


def _keep_writes_local(argv: list[str]) -> list[str]:
    safe = []
    for index, arg in enumerate(argv):
        if arg.startswith(tuple(f"{w}=" for w in WRITES)):
            arg = arg.split("=", 1)[0] + "=fuzz-out"
        elif index and argv[index - 1] in WRITES and arg not in LOCAL:
            arg = "fuzz-out"
        safe.append(arg)
    return safe


def argv_for(command: str) -> st.SearchStrategy[list[str]]:
    stray = positional(anything)
    part = st.sampled_from(OPTIONS[command] + GLOBALS).flatmap(lambda strategy: strategy)
    parts = st.lists(part, max_size=6)
    strays = st.one_of(*[st.just([])] * 4, st.lists(stray, min_size=1, max_size=2))
    before = st.lists(st.sampled_from(GLOBALS).flatmap(lambda strategy: strategy), max_size=2)
    head = st.one_of(*[HEADS[command]] * 4, st.just([])) if command in HEADS else st.just([])

    def build(
        head: list[list[str]], first: list[str], tail: list[list[str]], extra: list[list[str]]
    ) -> list[str]:
        words = [word for group in head for word in group] + [command, *first]
        words += [word for group in tail + extra for word in group]
        return _keep_writes_local(words)

    return st.builds(build, before, head, parts, strays)


stdin_data = st.none() | st.binary(max_size=120) | st.text(max_size=120) | token_lines


@pytest.fixture
def cli_env(
    start_sandbox: StartSandbox, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> Sandbox:
    """A sandbox the `hard` profile points at; `wibmo sandbox` returns once it is ready."""
    import wibmo_cli.sandbox

    def serve_once(
        settings: Any, host: str, port: int, *, on_ready: Any = None, on_notice: Any = None
    ) -> None:
        if on_ready is not None:
            on_ready(f"http://{host}:{port}")

    monkeypatch.setattr(wibmo_cli.sandbox, "serve", serve_once)
    (isolated / "payload.json").write_text('{"messageCode": 1930}', encoding="utf-8")
    (isolated / "tokens.txt").write_text(f"{TOKEN}\nx\n{TOKEN[:-4]}\n", encoding="utf-8")
    (isolated / "patch.json").write_text('{"city": "Pune"}', encoding="utf-8")
    (isolated / "key.txt").write_text(KEY.decode(), encoding="utf-8")
    (isolated / "in.csv").write_text("urn,mobile\n389,12\n99999,9897123456\n", encoding="utf-8")
    (isolated / "out.jsonl").write_text('{"row": 2, "input": "389", "ok": true}\n{"ro')
    return start_sandbox(profile={"timeout": 2})


def run_cli(argv: list[str], stdin: str | bytes | None) -> None:
    result = CliRunner().invoke(app, argv, input=stdin, catch_exceptions=True)
    shown = f"argv={argv!r} exit={result.exit_code}\nstderr={result.stderr[-2000:]}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # Only --debug lets an error escape, and then only the tool's own.
        assert "--debug" in argv, shown
        assert isinstance(result.exception, WibmoError), (repr(result.exception), shown)
    assert result.exit_code != INTERNAL_ERROR, shown
    assert result.exit_code in (0, 1, 2, 3, 4, 5, 6), shown
    if "--debug" not in argv:  # --debug adds the traceback, and keeps the exit code
        assert "Traceback" not in result.stderr, shown


@pytest.mark.parametrize("command", list(OPTIONS))
@budget(60)
@given(data=st.data())
def test_the_cli_survives_random_arguments_and_stdin(
    command: str, cli_env: Sandbox, data: st.DataObject
) -> None:
    run_cli(data.draw(argv_for(command), "argv"), data.draw(stdin_data, "stdin"))

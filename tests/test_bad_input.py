"""The bad-input battery: every command fed wrong input, each case checked the same way.

For every case: exactly the documented exit code (never 70, the internal-error code),
no traceback, the message as one line on stderr (click's own usage errors: one `Error:`
line plus its usage hint), and a sandbox on loopback that the profile points at records
no request at all: input rejected locally never reaches the network.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from support import (
    PROFILE,
    Invoke,
    StartSandbox,
    assert_one_line_error,
    assert_usage_error,
    codec,
    profile_values,
    write_profiles,
)

from wibmo_cli.app import INTERNAL_ERROR
from wibmo_cli.sandbox import Sandbox

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
HUGE = 20 << 20  # 20 MB

VALID_TOKEN = codec().encrypt_json({"messageCode": 1930, "urn": "389"})
TOKENS = {
    "valid": VALID_TOKEN,
    "truncated": VALID_TOKEN[:-8],
    "not_json": codec().encrypt(b"hello, this is not JSON"),
    "not_utf8": codec().encrypt(b"\xff\xfe\xfa not utf-8 \x80"),
    "list_body": '{"token": ["x"]}',
    "other_key": codec("zero").encrypt_json({"a": 1}),
}


@dataclass
class Ctx:
    work: Path
    url: str
    port: int
    monkeypatch: pytest.MonkeyPatch

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.work / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    def profiles(self, text: str) -> None:
        self.write("profiles.toml", text)

    def profile_with(self, **override: Any) -> None:
        write_profiles(self.url, **override)


Setup = Callable[[Ctx], object]
Kind = Literal["error", "usage", "stdout", "ok"]


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    message: str
    stdin: str | bytes | None = None
    setup: Setup | None = None
    kind: Kind = "error"
    env: dict[str, str | None] = field(default_factory=dict)
    marks: tuple[Any, ...] = ()


def binary(size: int = 4096) -> bytes:
    return random.Random(6).randbytes(size)


def huge_file(name: str, byte: bytes = b"a") -> Setup:
    def setup(ctx: Ctx) -> None:
        with (ctx.work / name).open("wb") as fh:
            fh.write(byte * HUGE)

    return setup


def directory(name: str) -> Setup:
    return lambda ctx: (ctx.work / name).mkdir()


def symlink_loop(name: str) -> Setup:
    def setup(ctx: Ctx) -> None:
        (ctx.work / f"{name}.other").symlink_to(ctx.work / name)
        (ctx.work / name).symlink_to(ctx.work / f"{name}.other")

    return setup


def unreadable(name: str, data: str = '{"a": 1}') -> Setup:
    def setup(ctx: Ctx) -> None:
        ctx.write(name, data).chmod(0)

    return setup


def file(name: str, data: str | bytes) -> Setup:
    return lambda ctx: ctx.write(name, data)


def profiles_text(text: str) -> Setup:
    return lambda ctx: ctx.profiles(text)


def profile_with(**override: Any) -> Setup:
    return lambda ctx: ctx.profile_with(**override)


def profile_table(**override: Any) -> Setup:
    """The profile with `override` written as TOML literally (for wrong types)."""

    def setup(ctx: Ctx) -> None:
        values = profile_values(ctx.url)
        lines = [f'default_profile = "{PROFILE}"', f"[profiles.{PROFILE}]"]
        for key, value in {**values, **override}.items():
            lines.append(f"{key} = {value if key in override else _quoted(value)}")
        ctx.profiles("\n".join(lines) + "\n")

    return setup


def _quoted(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def deep_json(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


ALWAYS_SKIP_AS_ROOT = pytest.mark.skipif(ROOT, reason="root reads a mode-000 file")
UPD = ("update-profile", "--urn", "389")  # a customer named; a field still to give
UPDY = ("update-profile", "--urn", "389", "--yes", "--card-profile-id", "30")

CASES: list[Case] = [
    # -- lookup: identifiers -------------------------------------------------------------
    Case("lookup-nobody", ("lookup",), 2, "say who: give --mobile, --urn"),
    Case("lookup-mobile-short", ("lookup", "--mobile", "123"), 2, "--mobile '123'"),
    Case("lookup-mobile-letters", ("lookup", "--mobile", "abcdefghij"), 2, "10-digit Indian"),
    Case("lookup-mobile-us", ("lookup", "--mobile", "+1 415 555 2671"), 2, "--mobile '+1 415"),
    Case("lookup-mobile-empty", ("lookup", "--mobile", ""), 2, "--mobile ''"),
    Case("lookup-mobile-starts-5", ("lookup", "--mobile", "5897123456"), 2, "starting 6-9"),
    Case("lookup-mobile-devanagari", ("lookup", "--mobile", "९८९७१२३४५६"), 2, "--mobile"),
    Case("lookup-mobile-long", ("lookup", "--mobile", "98971234567890"), 2, "10-digit"),
    Case("lookup-mobile-nul", ("lookup", "--mobile", "98971\x0023456"), 2, "--mobile"),
    Case("lookup-urn-letters", ("lookup", "--urn", "38x"), 2, "--urn '38x'"),
    Case("lookup-urn-empty", ("lookup", "--urn", ""), 2, "--urn ''"),
    Case("lookup-urn-negative", ("lookup", "--urn", "-1"), 2, "--urn '-1'"),
    Case("lookup-urn-12-digits", ("lookup", "--urn", "123456789012"), 2, "1-11 digits"),
    Case("lookup-urn-zeros", ("lookup", "--urn", "0000"), 2, "not all zeros"),
    Case("lookup-urn-fullwidth", ("lookup", "--urn", "３８９"), 2, "--urn"),
    Case("lookup-email-no-domain", ("lookup", "--email", "abc@"), 2, "--email 'abc@'"),
    Case("lookup-email-no-local", ("lookup", "--email", "@xyz.com"), 2, "email address"),
    Case("lookup-email-space", ("lookup", "--email", "a b@c.com"), 2, "--email"),
    Case("lookup-email-long", ("lookup", "--email", "a" * 60 + "@x.com"), 2, "at most 50"),
    Case("lookup-customer-id-space", ("lookup", "--customer-id", "a b"), 2, "no spaces"),
    Case("lookup-customer-id-empty", ("lookup", "--customer-id", ""), 2, "--customer-id"),
    Case("lookup-customer-id-long", ("lookup", "--customer-id", "c" * 21), 2, "1-20"),
    Case("lookup-customer-id-unicode", ("lookup", "--customer-id", "ç1"), 2, "--customer-id"),
    Case("lookup-huge-arg", ("lookup", "--urn", "9" * 1_000_000), 2, "--urn '999"),
    # -- lookup: usage ---------------------------------------------------------------------
    Case("lookup-missing-value", ("lookup", "--mobile"), 2, "requires an argument", kind="usage"),
    Case("lookup-unknown-option", ("lookup", "--bogus"), 2, "No such option", kind="usage"),
    Case("lookup-bad-output", ("-o", "xml", "lookup", "--urn", "1"), 2, "xml", kind="usage"),
    Case("lookup-extra-arg", ("lookup", "--urn", "1", "extra"), 2, "extra", kind="usage"),
    # -- lookup: profiles and configuration --------------------------------------------------
    Case("profile-unknown", ("-p", "nope", "lookup", "--urn", "1"), 3, "unknown profile 'nope'"),
    Case(
        "profiles-file-missing",
        ("--profiles-file", "missing.toml", "lookup", "--urn", "1"),
        3,
        "missing.toml (--profiles-file) does not exist",
    ),
    Case(
        "profiles-env-missing",
        ("lookup", "--urn", "1"),
        3,
        "($WIBMO_PROFILES) does not exist",
        env={"WIBMO_PROFILES": "nowhere.toml"},
    ),
    Case(
        "profiles-file-directory",
        ("--profiles-file", "adir", "lookup", "--urn", "1"),
        3,
        "adir",
        setup=directory("adir"),
    ),
    Case(
        "profiles-file-loop",
        ("--profiles-file", "loop", "lookup", "--urn", "1"),
        3,
        "loop",
        setup=symlink_loop("loop"),
    ),
    Case(
        "profiles-file-device",
        ("--profiles-file", "/dev/zero", "lookup", "--urn", "1"),
        3,
        "profiles file /dev/zero (--profiles-file) is not a regular file",
    ),
    Case(
        "profiles-file-huge",
        ("--profiles-file", "huge.toml", "lookup", "--urn", "1"),
        3,
        "huge.toml is larger than 1 MiB: not a profiles file",
        setup=file("huge.toml", "#" * (2 << 20)),
    ),
    Case(
        "profiles-file-binary",
        ("--profiles-file", "bin.toml", "lookup", "--urn", "1"),
        3,
        "profiles file bin.toml is not UTF-8 text",
        setup=file("bin.toml", binary()),
    ),
    Case(
        "profiles-file-unreadable",
        ("--profiles-file", "locked.toml", "lookup", "--urn", "1"),
        3,
        "locked.toml",
        setup=unreadable("locked.toml"),
        marks=(ALWAYS_SKIP_AS_ROOT,),
    ),
    Case(
        "profiles-broken-toml",
        ("lookup", "--urn", "1"),
        3,
        "is not valid TOML",
        setup=profiles_text("[profiles.hard\nbase_url = 'x'\n"),
    ),
    Case(
        "profiles-truncated-toml",
        ("lookup", "--urn", "1"),
        3,
        "is not valid TOML",
        setup=profiles_text('[profiles.hard]\nbase_url = "http://127.0.0'),
    ),
    Case(
        "profiles-empty-file",
        ("lookup", "--urn", "1"),
        3,
        "no profile chosen",
        setup=profiles_text(""),
    ),
    Case(
        "profiles-unknown-top-key",
        ("lookup", "--urn", "1"),
        3,
        "unknown top-level key 'colour'",
        setup=profiles_text('colour = "red"\n'),
    ),
    Case(
        "profiles-default-not-string",
        ("lookup", "--urn", "1"),
        3,
        "default_profile must be a string",
        setup=profiles_text("default_profile = 5\n"),
    ),
    Case(
        "profiles-not-tables",
        ("lookup", "--urn", "1"),
        3,
        "profiles must be tables",
        setup=profiles_text("profiles = 5\n"),
    ),
    Case(
        "profile-unknown-key",
        ("lookup", "--urn", "1"),
        3,
        "unknown key 'base_uri'",
        setup=profile_with(base_uri="http://x"),
    ),
    Case(
        "profile-timeout-text",
        ("lookup", "--urn", "1"),
        3,
        "timeout must be a number of seconds > 0",
        setup=profile_table(timeout='"soon"'),
    ),
    Case(
        "profile-timeout-zero",
        ("lookup", "--urn", "1"),
        3,
        "timeout must be a number of seconds > 0",
        setup=profile_table(timeout="0"),
    ),
    Case(
        "profile-retries-negative",
        ("lookup", "--urn", "1"),
        3,
        "retries must be a whole number from 0 to 10",
        setup=profile_table(retries="-1"),
    ),
    Case(
        "profile-retries-fraction",
        ("lookup", "--urn", "1"),
        3,
        "retries must be a whole number",
        setup=profile_table(retries="1.5"),
    ),
    Case(
        "profile-production-text",
        ("lookup", "--urn", "1"),
        3,
        "production must be true or false",
        setup=profile_table(production='"yes"'),
    ),
    Case(
        "profile-base-url-number",
        ("lookup", "--urn", "1"),
        3,
        "base_url must be a string",
        setup=profile_table(base_url="5"),
    ),
    Case(
        "profile-base-url-table",
        ("lookup", "--urn", "1"),
        3,
        "base_url must be a string",
        setup=profile_table(base_url="{ a = 1 }"),
    ),
    Case(
        "profile-iv-unknown",
        ("lookup", "--urn", "1"),
        3,
        "iv 'nine' is not one of",
        setup=profile_with(iv="nine"),
    ),
    Case(
        "profile-iv-short-hex",
        ("lookup", "--urn", "1"),
        3,
        "32 hex digits",
        setup=profile_with(iv="00" * 15),
    ),
    Case(
        "profile-credentials-cookie",
        ("lookup", "--urn", "1"),
        3,
        'credentials must be "headers" or "body"',
        setup=profile_with(credentials="cookie"),
    ),
    Case(
        "profile-key-encoding-rot13",
        ("lookup", "--urn", "1"),
        3,
        "key_encoding must be one of",
        setup=profile_with(key_encoding="rot13"),
    ),
    Case(
        "profile-mobile-prefix-plus",
        ("lookup", "--urn", "1"),
        3,
        "mobile_prefix must be digits",
        setup=profile_with(mobile_prefix="+91"),
    ),
    Case(
        "profile-empty-lookup-path",
        ("lookup", "--urn", "1"),
        3,
        "lookup_path is empty",
        setup=profile_with(lookup_path=" "),
    ),
    Case(
        "profile-key-short",
        ("lookup", "--urn", "1"),
        3,
        "does not come to 24 bytes: got 5 characters",
        setup=profile_with(encryption_key="short"),
    ),
    Case(
        "profile-key-not-hex",
        ("lookup", "--urn", "1"),
        3,
        "the encryption key is not hex",
        setup=profile_with(key_encoding="hex"),
    ),
    Case(
        "profile-key-not-base64",
        ("lookup", "--urn", "1"),
        3,
        "the encryption key is not base64",
        setup=profile_with(key_encoding="base64"),
    ),
    Case(
        "profile-key-hex-16-bytes",
        ("lookup", "--urn", "1"),
        3,
        "decodes (hex) to 16 bytes",
        setup=profile_with(key_encoding="hex", encryption_key="00" * 16),
    ),
    Case(
        "profile-plain-http-remote",
        ("lookup", "--urn", "1"),
        3,
        "plain http:// to platform.example is refused",
        setup=lambda ctx: write_profiles("http://platform.example"),
    ),
    Case(
        "profile-ftp-url",
        ("lookup", "--urn", "1"),
        3,
        "must be an http(s):// URL",
        setup=lambda ctx: write_profiles("ftp://platform.example"),
    ),
    Case(
        "profile-url-no-host",
        ("lookup", "--urn", "1"),
        3,
        "must be an http(s):// URL",
        setup=lambda ctx: write_profiles("https://"),
    ),
    Case(
        "profile-url-broken-ipv6",
        ("lookup", "--urn", "1"),
        3,
        "base_url 'http://[::1' must be an http(s):// URL",
        setup=lambda ctx: write_profiles("http://[::1"),
    ),
    Case(
        "env-api-key-missing",
        ("lookup", "--urn", "1"),
        3,
        "api_key needs environment variable ${HARD_API_KEY}",
        env={"HARD_API_KEY": None},
    ),
    Case(
        "env-secure-code-missing",
        ("lookup", "--urn", "1"),
        3,
        "secure_code needs environment variable ${HARD_SECURE_CODE}",
        env={"HARD_SECURE_CODE": None},
    ),
    Case(
        "env-key-missing",
        ("lookup", "--urn", "1"),
        3,
        "encryption_key needs environment variable ${HARD_KEY}",
        env={"HARD_KEY": None},
    ),
    Case(
        "env-api-key-empty",
        ("lookup", "--urn", "1"),
        3,
        "api_key is empty",
        env={"HARD_API_KEY": ""},
    ),
    Case(
        "env-api-key-line-break",
        ("lookup", "--urn", "1"),
        3,
        "api_key cannot be sent in an HTTP header",
        env={"HARD_API_KEY": "abc\ndef"},
    ),
    Case(
        "env-secure-code-spaces",
        ("lookup", "--urn", "1"),
        3,
        "secure_code cannot be sent in an HTTP header",
        env={"HARD_SECURE_CODE": " padded "},
    ),
    Case(
        "env-api-key-non-ascii",
        ("lookup", "--urn", "1"),
        3,
        "api_key cannot be sent in an HTTP header",
        env={"HARD_API_KEY": "clé-secrète"},
    ),
    Case(
        "profile-client-id-missing",
        ("lookup", "--urn", "1"),
        3,
        "client_id is not set",
        setup=profile_with(client_id=None),
    ),
    Case(
        "dotenv-binary",
        ("lookup", "--urn", "1"),
        3,
        "/.env: line 1 is not UTF-8 text",
        setup=file(".env", b"\x00\xff\xfe" + binary(200)),
        env={"HARD_API_KEY": None},
    ),
    Case(
        "dotenv-garbage",
        ("lookup", "--urn", "1"),
        3,
        ".env: line 1 is not NAME=value",
        setup=file(".env", "this is not an env file\n'quoted\n===\nexport\n"),
        env={"HARD_API_KEY": None},
    ),
    Case(
        "dotenv-missing-variable",
        ("lookup", "--urn", "1"),
        3,
        "needs environment variable ${HARD_API_KEY}, which is not set (nor in .env)",
        setup=file(".env", "OTHER=1\n"),
        env={"HARD_API_KEY": None},
    ),
    Case(
        "data-dir-is-a-file",
        ("-p", "demo", "lookup", "--urn", "389"),
        3,
        "the embedded sandbox cannot use",
        setup=file("not-a-dir", "x"),
        env={"WIBMO_DATA_DIR": "not-a-dir"},
    ),
    # -- lookup --file (batch) ---------------------------------------------------------------
    Case("file-missing", ("lookup", "--file", "in.csv"), 2, "--file in.csv: no such file"),
    Case(
        "file-directory",
        ("lookup", "--file", "adir"),
        2,
        "--file adir: is a directory",
        setup=directory("adir"),
    ),
    Case(
        "file-unreadable",
        ("lookup", "--file", "locked.csv"),
        2,
        "--file locked.csv: cannot read it",
        setup=unreadable("locked.csv", "mobile\n9897123456\n"),
        marks=(ALWAYS_SKIP_AS_ROOT,),
    ),
    Case(
        "file-tilde",
        ("lookup", "--file", "~nosuchuser/in.csv"),
        2,
        "cannot expand ~nosuchuser",
    ),
    Case(
        "file-binary",
        ("lookup", "--file", "bin.csv"),
        2,
        "no header naming an identifier column",
        setup=file("bin.csv", binary()),
    ),
    Case(
        "file-huge-line",
        ("lookup", "--file", "huge.csv"),
        2,
        "the line is longer than 64 KiB",
        setup=huge_file("huge.csv"),
        kind="stdout",
    ),
    Case(
        "file-bad-rows",
        ("lookup", "--file", "in.csv"),
        2,
        "mobile '12': must be a 10-digit",
        setup=file("in.csv", "mobile\n12\nabc\n\n+1 415 555 2671\n"),
        kind="stdout",
    ),
    Case(
        "file-bad-emails-and-urns",
        ("lookup", "--file", "in.csv"),
        2,
        "urn '38x'",
        setup=file("in.csv", "urn,email\n38x,a@\n,\n-1,x\n"),
        kind="stdout",
    ),
    Case(
        "file-broken-quote",
        ("lookup", "--file", "in.csv"),
        2,
        "is not closed on its line",
        setup=file("in.csv", 'mobile,urn\n"98971,23456\n'),
        kind="stdout",
    ),
    Case(
        "file-row-without-identifier",
        ("lookup", "--file", "in.csv"),
        2,
        "no identifier in this row",
        setup=file("in.csv", "name,mobile\nasha,\n"),
        kind="stdout",
    ),
    Case(
        "file-empty",
        ("lookup", "--file", "in.csv"),
        0,
        "0 rows",
        setup=file("in.csv", ""),
        kind="ok",
    ),
    Case(
        "file-header-only",
        ("lookup", "--file", "in.csv"),
        0,
        "0 rows",
        setup=file("in.csv", "mobile\n"),
        kind="ok",
    ),
    Case("file-stdin-empty", ("lookup", "--file", "-"), 0, "0 rows", stdin="", kind="ok"),
    Case(
        "file-stdin-binary",
        ("lookup", "--file", "-"),
        2,
        "no header naming an identifier column",
        stdin=binary(),
    ),
    Case(
        "file-column-unknown",
        ("lookup", "--file", "in.csv", "--column", "phone"),
        2,
        "--column phone: in.csv has no such column (mobile)",
        setup=file("in.csv", "mobile\n9897123456\n"),
    ),
    Case(
        "file-column-not-a-kind",
        ("lookup", "--file", "in.csv", "--column", "city"),
        2,
        "--column city: in.csv has no header row naming it",
        setup=file("in.csv", "9897123456\n"),
    ),
    Case(
        "file-concurrency-zero",
        ("lookup", "--file", "in.csv", "--concurrency", "0"),
        2,
        "--concurrency 0: must be 1-256",
    ),
    Case(
        "file-concurrency-huge",
        ("lookup", "--file", "in.csv", "--concurrency", "100000"),
        2,
        "--concurrency 100000",
    ),
    Case(
        "file-concurrency-text",
        ("lookup", "--file", "in.csv", "--concurrency", "lots"),
        2,
        "--concurrency",
        kind="usage",
    ),
    Case("file-rate-text", ("lookup", "--file", "in.csv", "--rate", "fast"), 2, "--rate fast"),
    Case("file-rate-zero", ("lookup", "--file", "in.csv", "--rate", "0"), 2, "more than 0"),
    Case("file-rate-negative", ("lookup", "--file", "in.csv", "--rate", "-5/s"), 2, "--rate -5"),
    Case(
        "file-resume-directory",
        ("lookup", "--file", "in.csv", "--resume", "adir"),
        2,
        "--resume adir: cannot open it",
        setup=lambda ctx: (directory("adir")(ctx), ctx.write("in.csv", "mobile\n12\n")),
    ),
    Case(
        "file-resume-binary",
        ("lookup", "--file", "in.csv", "--resume", "bin.jsonl"),
        2,
        "--resume bin.jsonl: not the output of a `wibmo lookup --file` run",
        setup=lambda ctx: (ctx.write("bin.jsonl", binary()), ctx.write("in.csv", "12\n")),
    ),
    Case(
        "file-resume-the-input",
        ("lookup", "--file", "in.csv", "--resume", "in.csv"),
        2,
        "--resume in.csv: not the output",
        setup=file("in.csv", "mobile\n9897123456"),
    ),
    Case(
        "file-resume-other-input",
        ("lookup", "--file", "in.csv", "--resume", "out.jsonl"),
        2,
        "--resume: row 2 was answered for another identifier",
        setup=lambda ctx: (
            ctx.write("in.csv", "mobile\n9897123456\n"),
            ctx.write("out.jsonl", '{"row": 2, "input": "9000000000", "ok": true}\n'),
        ),
    ),
    Case(
        "file-and-identifier",
        ("lookup", "--file", "in.csv", "--mobile", "9897123456"),
        2,
        "--file looks up each row of the file: leave out --mobile",
    ),
    Case(
        "file-options-without-file",
        ("lookup", "--urn", "389", "--concurrency", "4"),
        2,
        "--column, --concurrency, --rate and --resume go with --file",
    ),
    Case(
        "file-missing-secret",
        ("lookup", "--file", "in.csv"),
        3,
        "needs environment variable ${HARD_KEY}",
        setup=file("in.csv", "mobile\n9897123456\n"),
        env={"HARD_KEY": None},
    ),
    # -- update-profile --------------------------------------------------------------------
    Case("update-nobody", ("update-profile", "--email", "a@b.co"), 2, "say who"),
    Case(
        "update-two-customers",
        ("update-profile", "--urn", "1", "--mobile", "9897123456", "--email", "a@b.co"),
        2,
        "(got --urn and --mobile)",
    ),
    Case("update-nothing", UPD, 2, "nothing to change"),
    Case("update-email", (*UPD, "--email", "bad"), 2, "--email 'bad'"),
    Case("update-alt-email", (*UPD, "--alternate-email", "x@"), 2, "--alternate-email 'x@'"),
    Case("update-new-mobile", (*UPD, "--new-mobile", "123"), 2, "--new-mobile '123'"),
    Case("update-dob-not-a-date", (*UPD, "--dob", "20991301"), 2, "must be a real date"),
    Case("update-dob-future", (*UPD, "--dob", "2999-01-01"), 2, "must be a date before today"),
    Case("update-dob-text", (*UPD, "--dob", "yesterday"), 2, "--dob 'yesterday'"),
    Case("update-gender", (*UPD, "--gender", "X"), 2, "--gender 'X'"),
    Case("update-zip-leading-zero", (*UPD, "--zip-code", "012345"), 2, "PIN code"),
    Case("update-zip-short", (*UPD, "--zip-code", "4110"), 2, "--zip-code '4110'"),
    Case("update-kyc-profile", (*UPD, "--new-card-profile-id", "99"), 2, "30 (Simple CDD)"),
    Case(
        "update-card-profile-text",
        (*UPD, "--card-profile-id", "abc", "--email", "a@b.co"),
        2,
        "--card-profile-id 'abc'",
    ),
    Case("update-doc-type", (*UPD, "--doc", "FOO:123"), 2, "--doc type 'FOO'"),
    Case("update-doc-no-colon", (*UPD, "--doc", "PAN"), 2, "TYPE:NUMBER[:COUNTRY[:EXPIRY]]"),
    Case("update-doc-too-many-parts", (*UPD, "--doc", "a:b:c:d:e"), 2, "TYPE:NUMBER"),
    Case("update-pan", (*UPD, "--doc", "PAN:ABC1234"), 2, "must be a PAN"),
    Case("update-aadhaar-checksum", (*UPD, "--doc", "Aadhaar:234567890123"), 2, "(Verhoeff)"),
    Case("update-voter-id", (*UPD, "--doc", "VoterId:AB1"), 2, "EPIC number"),
    Case("update-passport", (*UPD, "--doc", "Passport:Q1234567"), 2, "passport"),
    Case("update-dl", (*UPD, "--doc", "DL:XX"), 2, "driving licence"),
    Case(
        "update-passport-expired",
        (*UPD, "--doc", "Passport:A1234567:India:20000101"),
        2,
        "--doc expiry '20000101': must be today or later",
    ),
    Case(
        "update-two-pans",
        (*UPD, "--doc", "PAN:ABCPE1234F", "--doc", "PAN:ABCPE1234F"),
        2,
        "two Pancard documents",
    ),
    Case("update-ckyc", (*UPD, "--ckyc-number", "123"), 2, "14-digit CKYC"),
    Case("update-first-name", (*UPD, "--first-name", "R2D2"), 2, "--first-name 'R2D2'"),
    Case("update-address-long", (*UPD, "--address", "x" * 300), 2, "at most 200 characters"),
    Case("update-city-control", (*UPD, "--city", "a\x01b"), 2, "without control characters"),
    Case(
        "update-kyc-stamp",
        (*UPD, "--kyc-date-stamp", "99999999999999"),
        2,
        "must be a real date-time",
    ),
    Case(
        "update-kyc-stamp-future",
        (*UPD, "--kyc-date-stamp", "29990101000000"),
        2,
        "must not be in the future",
    ),
    Case("update-sor-id", (*UPD, "--sor-customer-id", "a b"), 2, "--sor-customer-id 'a b'"),
    Case("update-urn-bad", ("update-profile", "--urn", "x", "--city", "Pune"), 2, "--urn 'x'"),
    Case(
        "update-no-terminal",
        (*UPD, "--email", "a@b.co"),
        2,
        "cannot ask for confirmation: stdin is not a terminal",
    ),
    Case(
        "update-production-needs-ok",
        (*UPD, "--email", "a@b.co", "--yes"),
        2,
        "--yes --production-ok",
        setup=profile_with(production=True),
    ),
    Case(
        "update-full-kyc-no-address",
        (*UPDY, "--new-card-profile-id", "150", "--doc", "PAN:ABCPE1234F"),
        2,
        "needs the address",
    ),
    Case(
        "update-same-kyc-profile",
        (*UPD, "--yes", "--card-profile-id", "150", "--new-card-profile-id", "150"),
        2,
        "nothing to change: the KYC profile is already 150",
    ),
    Case(
        "update-file-missing",
        (*UPD, "--from-file", "patch.json"),
        2,
        "--from-file patch.json: cannot read it",
    ),
    Case(
        "update-file-directory",
        (*UPD, "--from-file", "adir"),
        2,
        "--from-file adir: cannot read it",
        setup=directory("adir"),
    ),
    Case(
        "update-file-loop",
        (*UPD, "--from-file", "loop"),
        2,
        "--from-file loop: cannot read it",
        setup=symlink_loop("loop"),
    ),
    Case(
        "update-file-unreadable",
        (*UPD, "--from-file", "locked.json"),
        2,
        "--from-file locked.json: cannot read it",
        setup=unreadable("locked.json"),
        marks=(ALWAYS_SKIP_AS_ROOT,),
    ),
    Case(
        "update-file-binary",
        (*UPD, "--from-file", "bin.json"),
        2,
        "--from-file bin.json",
        setup=file("bin.json", binary()),
    ),
    Case(
        "update-file-not-json",
        (*UPD, "--from-file", "p.json"),
        2,
        "not valid JSON",
        setup=file("p.json", "emailId=a@b.co"),
    ),
    Case(
        "update-file-truncated",
        (*UPD, "--from-file", "p.json"),
        2,
        "not valid JSON",
        setup=file("p.json", '{"emailId": "a@b.co"'),
    ),
    Case(
        "update-file-list",
        (*UPD, "--from-file", "p.json"),
        2,
        "must be a JSON object of fields",
        setup=file("p.json", '["emailId"]'),
    ),
    Case(
        "update-file-string",
        (*UPD, "--from-file", "p.json"),
        2,
        "must be a JSON object of fields",
        setup=file("p.json", '"emailId"'),
    ),
    Case(
        "update-file-deep",
        (*UPD, "--from-file", "p.json"),
        2,
        "nested too deeply",
        setup=file("p.json", deep_json()),
    ),
    Case(
        "update-file-huge",
        (*UPD, "--from-file", "huge.json"),
        2,
        "larger than 1 MiB",
        setup=huge_file("huge.json"),
    ),
    Case(
        "update-file-unknown-field",
        (*UPD, "--from-file", "p.json"),
        2,
        "unknown field 'colour'",
        setup=file("p.json", '{"colour": "red"}'),
    ),
    Case(
        "update-file-tool-field",
        (*UPD, "--from-file", "p.json"),
        2,
        "clientTxnId is filled by wibmo",
        setup=file("p.json", '{"clientTxnId": "X"}'),
    ),
    Case(
        "update-file-identifier",
        (*UPD, "--from-file", "p.json"),
        2,
        "urn names the customer",
        setup=file("p.json", '{"urn": "389"}'),
    ),
    Case(
        "update-file-null",
        (*UPD, "--from-file", "p.json"),
        2,
        "emailId: must be a string or a number, not null",
        setup=file("p.json", '{"emailId": null}'),
    ),
    Case(
        "update-file-nan",
        (*UPD, "--from-file", "p.json"),
        2,
        "not a fraction",
        setup=file("p.json", '{"emailId": NaN}'),
    ),
    Case(
        "update-file-same-field-twice",
        (*UPD, "--from-file", "p.json"),
        2,
        'p.json: "emailId" and "EMAIL" are the same field; give it once',
        setup=file("p.json", '{"emailId": "a@b.co", "EMAIL": "c@d.co"}'),
    ),
    Case(
        "update-file-doclist-object",
        (*UPD, "--from-file", "p.json"),
        2,
        "docList: must be a non-empty list",
        setup=file("p.json", '{"docList": {"docType": "PAN"}}'),
    ),
    Case(
        "update-file-doclist-unknown-key",
        (*UPD, "--from-file", "p.json"),
        2,
        "unknown key 'docnum'",
        setup=file("p.json", '{"docList": [{"docType": "PAN", "docNum": "X"}]}'),
    ),
    Case(
        "update-file-doclist-number",
        (*UPD, "--from-file", "p.json"),
        2,
        "must be an object or TYPE:NUMBER text",
        setup=file("p.json", '{"docList": [5]}'),
    ),
    Case(
        "update-file-consent-number",
        (*UPD, "--from-file", "p.json"),
        2,
        "docConsent: must be true or false",
        setup=file("p.json", '{"docConsent": 5}'),
    ),
    Case("update-stdin-empty", (*UPD, "--from-file", "-"), 2, "is empty", stdin=""),
    Case("update-stdin-binary", (*UPD, "--from-file", "-"), 2, "--from-file -", stdin=binary()),
    Case(
        "update-missing-secret",
        (*UPD, "--email", "a@b.co", "--yes"),
        3,
        "needs environment variable ${HARD_SECURE_CODE}",
        env={"HARD_SECURE_CODE": None},
    ),
    Case(
        "update-audit-log-unwritable",
        (*UPDY, "--email", "a@b.co", "--audit-log", "adir"),
        3,
        "cannot write the audit log",
        setup=directory("adir"),
    ),
    Case("update-unknown-option", (*UPD, "--colour", "red"), 2, "No such option", kind="usage"),
    # -- encrypt ---------------------------------------------------------------------------
    Case("encrypt-empty-arg", ("encrypt", ""), 2, "the payload is empty"),
    Case("encrypt-not-json", ("encrypt", "nope"), 2, "the payload is not valid JSON"),
    Case("encrypt-truncated", ("encrypt", '{"a":'), 2, "the payload is not valid JSON"),
    Case("encrypt-list", ("encrypt", "[1, 2]"), 2, "JSON but not an object"),
    Case("encrypt-string", ("encrypt", '"text"'), 2, "JSON but not an object"),
    Case("encrypt-number", ("encrypt", "5"), 2, "JSON but not an object"),
    Case("encrypt-null", ("encrypt", "null"), 2, "JSON but not an object"),
    Case("encrypt-deep", ("encrypt", "-"), 2, "nested too deeply", stdin=deep_json()),
    Case("encrypt-stdin-empty", ("encrypt", "-"), 2, "stdin is empty", stdin=""),
    Case("encrypt-stdin-spaces", ("encrypt",), 2, "stdin is empty", stdin=" \n\t\n"),
    Case("encrypt-stdin-binary", ("encrypt", "-"), 2, "stdin is not", stdin=binary()),
    Case("encrypt-stdin-latin1", ("encrypt", "-"), 2, "stdin", stdin=b'{"a": "\xe9"}'),
    Case("encrypt-stdin-huge", ("encrypt", "-"), 2, "larger than 16 MiB", stdin=b"a" * HUGE),
    Case(
        "encrypt-file-binary",
        ("encrypt", "bin.dat"),
        2,
        "bin.dat is not UTF-8 text",
        setup=file("bin.dat", binary()),
    ),
    Case(
        "encrypt-file-directory",
        ("encrypt", "adir"),
        2,
        "adir is a directory",
        setup=directory("adir"),
    ),
    Case(
        "encrypt-file-huge",
        ("encrypt", "huge.json"),
        2,
        "huge.json is larger than 16 MiB",
        setup=huge_file("huge.json"),
    ),
    Case(
        "encrypt-file-unreadable",
        ("encrypt", "locked.json"),
        2,
        "cannot read locked.json",
        setup=unreadable("locked.json"),
        marks=(ALWAYS_SKIP_AS_ROOT,),
    ),
    Case(
        "encrypt-key-env-unset",
        ("encrypt", "{}", "--key-env", "NO_SUCH_VAR"),
        3,
        "--key-env NO_SUCH_VAR: the variable is not set",
    ),
    Case(
        "encrypt-key-env-and-file",
        ("encrypt", "{}", "--key-env", "HARD_KEY", "--key-file", "k"),
        2,
        "give --key-env or --key-file, not both",
    ),
    Case(
        "encrypt-key-file-missing",
        ("encrypt", "{}", "--key-file", "nokey"),
        3,
        "--key-file nokey: no such file",
    ),
    Case(
        "encrypt-key-file-directory",
        ("encrypt", "{}", "--key-file", "adir"),
        3,
        "--key-file adir: cannot read it",
        setup=directory("adir"),
    ),
    Case(
        "encrypt-key-file-binary",
        ("encrypt", "{}", "--key-file", "bin.key"),
        3,
        "--key-file bin.key: cannot read it",
        setup=file("bin.key", b"\xff\xfe" + binary(30)),
    ),
    Case(
        "encrypt-key-file-short",
        ("encrypt", "{}", "--key-file", "short.key"),
        3,
        "does not come to 24 bytes",
        setup=file("short.key", "0123456789\n"),
    ),
    Case(
        "encrypt-key-encoding-bogus",
        ("encrypt", "{}", "--key-encoding", "rot13"),
        2,
        "--key-encoding 'rot13'",
    ),
    Case(
        "encrypt-key-encoding-hex-text-key",
        ("encrypt", "{}", "--key-env", "HARD_KEY", "--key-encoding", "hex"),
        3,
        "the encryption key is not hex",
    ),
    Case("encrypt-iv-bogus", ("encrypt", "{}", "--iv", "cbc"), 2, "--iv: iv 'cbc'"),
    Case("encrypt-iv-31-hex", ("encrypt", "{}", "--iv", "0" * 31), 2, "--iv: iv"),
    Case(
        "encrypt-profile-key-missing",
        ("encrypt", "{}"),
        3,
        "encryption_key needs environment variable ${HARD_KEY}",
        env={"HARD_KEY": None},
    ),
    # -- decrypt ---------------------------------------------------------------------------
    Case("decrypt-short", ("decrypt", "abc"), 4, "not a whole number of 16-byte AES blocks"),
    Case("decrypt-symbols", ("decrypt", "!!!!"), 4, "the token is not base64: it contains '!'"),
    Case("decrypt-non-ascii", ("decrypt", "é" * 8), 4, "the token is not base64"),
    Case("decrypt-bad-length", ("decrypt", "abcde"), 4, "5 characters is not a valid length"),
    Case("decrypt-empty", ("decrypt", ""), 4, "the token is empty"),
    Case("decrypt-spaces", ("decrypt", "   "), 4, "the token is empty"),
    Case("decrypt-token-number", ("decrypt", '{"token": 5}'), 4, 'no "token" string field'),
    Case("decrypt-token-list", ("decrypt", TOKENS["list_body"]), 4, 'no "token" string field'),
    Case("decrypt-no-token", ("decrypt", '{"tokn": "x"}'), 4, 'no "token" string field'),
    Case("decrypt-broken-body", ("decrypt", "{bad"), 4, "starts with '{' but is not a JSON"),
    Case("decrypt-json-list", ("decrypt", "[1]"), 4, "the token is not base64"),
    Case("decrypt-truncated", ("decrypt", TOKENS["truncated"]), 4, "16-byte AES blocks"),
    Case("decrypt-not-json", ("decrypt", TOKENS["not_json"]), 4, "plaintext is not JSON"),
    Case("decrypt-not-utf8", ("decrypt", TOKENS["not_utf8"]), 4, "not UTF-8 text"),
    Case(
        "decrypt-wrong-key",
        ("decrypt", VALID_TOKEN, "--key-env", "WRONG_KEY"),
        4,
        "padding is invalid",
        env={"WRONG_KEY": "W" * 24},
    ),
    Case(
        "decrypt-wrong-iv",
        ("decrypt", codec("key").encrypt_json({"a": "b" * 40})),
        4,
        "wrong key or wrong iv scheme",
    ),
    Case(
        "decrypt-prepend-short",
        ("decrypt", VALID_TOKEN[:24], "--iv", "prepend"),
        4,
        'with iv = "prepend"',
    ),
    Case("decrypt-stdin-empty", ("decrypt", "-"), 2, "no input", stdin=""),
    Case(
        "decrypt-stdin-binary",
        ("decrypt", "-"),
        4,
        "lines could not be decrypted",
        stdin=binary(),
        kind="stdout",
    ),
    Case(
        "decrypt-file-binary",
        ("decrypt", "bin.dat"),
        4,
        "lines could not be decrypted",
        setup=file("bin.dat", binary()),
        kind="stdout",
    ),
    Case(
        "decrypt-file-huge-line",
        ("decrypt", "huge.txt"),
        4,
        "line is longer than 1 MiB",
        setup=huge_file("huge.txt", b"A"),
        kind="stdout",
    ),
    Case(
        "decrypt-file-directory",
        ("decrypt", "adir"),
        2,
        "adir is a directory",
        setup=directory("adir"),
    ),
    Case(
        "decrypt-file-unreadable",
        ("decrypt", "locked.txt"),
        2,
        "cannot read locked.txt",
        setup=unreadable("locked.txt", VALID_TOKEN),
        marks=(ALWAYS_SKIP_AS_ROOT,),
    ),
    Case(
        "decrypt-file-broken-body",
        ("decrypt", "body.json"),
        4,
        "starts with '{' but is not a JSON body",
        setup=file("body.json", '{\n  "token":\n'),
    ),
    Case(
        "decrypt-file-mixed-lines",
        ("decrypt", "tokens.txt"),
        4,
        "2 of 3 lines could not be decrypted",
        setup=file("tokens.txt", f"{VALID_TOKEN}\nnot a token\n{TOKENS['truncated']}\n"),
        kind="stdout",
    ),
    Case("decrypt-iv-bogus", ("decrypt", VALID_TOKEN, "--iv", "cbc"), 2, "--iv: iv 'cbc'"),
    Case(
        "decrypt-key-env-unset",
        ("decrypt", VALID_TOKEN, "--key-env", "NO_SUCH_VAR"),
        3,
        "--key-env NO_SUCH_VAR",
    ),
    Case(
        "decrypt-profile-key-short",
        ("decrypt", VALID_TOKEN),
        3,
        "does not come to 24 bytes",
        env={"HARD_KEY": "tooshort"},
    ),
    Case(
        "detect-short",
        ("decrypt", "--detect", "abc"),
        4,
        "No key reading and IV scheme gives valid padding",
        kind="stdout",
    ),
    Case("detect-symbols", ("decrypt", "--detect", "!!!!"), 4, "the token is not base64"),
    Case(
        "detect-stdin-binary",
        ("decrypt", "--detect", "-"),
        4,
        "the token is not base64",
        stdin=binary(),
    ),
    Case(
        "detect-wrong-key",
        ("decrypt", "--detect", VALID_TOKEN, "--key-env", "WRONG_KEY"),
        4,
        "No key reading and IV scheme gives valid padding",
        env={"WRONG_KEY": "W" * 24},
        kind="stdout",
    ),
    Case(
        "detect-key-fits-nothing",
        ("decrypt", "--detect", VALID_TOKEN, "--key-env", "SHORT_KEY"),
        3,
        "does not come to 24 bytes",
        env={"SHORT_KEY": "abc"},
    ),
    Case(
        "detect-key-missing",
        ("decrypt", "--detect", VALID_TOKEN),
        3,
        "needs environment variable ${HARD_KEY}",
        env={"HARD_KEY": None},
    ),
    # -- codes -----------------------------------------------------------------------------
    Case("codes-unknown", ("codes", "99999"), 2, "unknown code '99999'"),
    Case("codes-empty", ("codes", ""), 2, "unknown code ''"),
    Case("codes-letters", ("codes", "abc"), 2, "unknown code 'abc'"),
    Case("codes-arabic-digits", ("codes", "٥٠٣"), 2, "unknown code"),
    Case("codes-line-break", ("codes", "13\n03"), 2, "unknown code"),
    Case("codes-huge", ("codes", "7" * 100_000), 2, "unknown code"),
    Case("codes-api", ("codes", "--api", "billing"), 2, "--api 'billing'"),
    Case("codes-extra", ("codes", "1303", "1304"), 2, "extra argument", kind="usage"),
    # -- profiles --------------------------------------------------------------------------
    Case("profiles-show-unknown", ("profiles", "show", "nope"), 3, "unknown profile 'nope'"),
    Case("profiles-check-unknown", ("profiles", "check", "nope"), 3, "unknown profile 'nope'"),
    Case(
        "profiles-list-broken",
        ("profiles", "list"),
        3,
        "is not valid TOML",
        setup=profiles_text("[[["),
    ),
    Case(
        "profiles-show-unknown-key",
        ("profiles", "show"),
        3,
        "unknown key 'api_secret'",
        setup=profile_with(api_secret="x"),
    ),
    Case(
        "profiles-check-missing-var",
        ("profiles", "check", "-o", "json"),
        3,
        "needs environment variable ${HARD_API_KEY}",
        env={"HARD_API_KEY": None},
        kind="stdout",
    ),
    Case(
        "profiles-check-online-missing-var",
        ("profiles", "check", "--online", "-o", "json"),
        3,
        "needs environment variable ${HARD_KEY}",
        env={"HARD_KEY": None},
        kind="stdout",
    ),
    Case(
        "profiles-check-online-bad-key",
        ("profiles", "check", "--online", "-o", "json"),
        3,
        "does not come to 24 bytes",
        env={"HARD_KEY": "0123"},
        kind="stdout",
    ),
    Case(
        "profiles-check-online-plain-http",
        ("profiles", "check", "--online", "-o", "json"),
        3,
        "plain http:// to platform.example is refused",
        setup=lambda ctx: write_profiles("http://platform.example"),
        kind="stdout",
    ),
    Case("profiles-unknown-sub", ("profiles", "bogus"), 2, "No such command", kind="usage"),
    # -- audit -----------------------------------------------------------------------------
    Case("audit-limit-zero", ("audit", "-n", "0"), 2, "--limit 0: must be 1 or more"),
    Case("audit-limit-negative", ("audit", "-n", "-5"), 2, "--limit -5"),
    Case("audit-limit-text", ("audit", "-n", "all"), 2, "--limit", kind="usage"),
    Case(
        "audit-log-directory",
        ("audit", "--audit-log", "adir"),
        3,
        "cannot read the audit log adir",
        setup=directory("adir"),
    ),
    Case(
        "audit-log-env-directory",
        ("audit",),
        3,
        "cannot read the audit log",
        setup=directory("adir"),
        env={"WIBMO_AUDIT_LOG": "adir"},
    ),
    Case(
        "audit-log-binary",
        ("audit", "--audit-log", "bin.jsonl"),
        0,
        "no entries in bin.jsonl",
        setup=file("bin.jsonl", binary()),
        kind="ok",
    ),
    Case(
        "audit-log-garbage-lines",
        ("audit", "--audit-log", "a.jsonl", "-o", "json"),
        0,
        '"command":"lookup"',
        setup=file("a.jsonl", '[1]\nnot json\n{"command":"lookup"}\n"x"\n\n'),
        kind="ok",
    ),
    Case(
        "audit-limit-enormous",
        ("audit", "-n", "99999999999999999999"),
        0,
        "no entries",
        kind="ok",
    ),
    # -- sandbox ---------------------------------------------------------------------------
    Case("sandbox-port-high", ("sandbox", "--port", "70000"), 2, "--port 70000: must be 0-65535"),
    Case("sandbox-port-negative", ("sandbox", "--port", "-1"), 2, "--port -1"),
    Case("sandbox-port-text", ("sandbox", "--port", "http"), 2, "--port", kind="usage"),
    Case("sandbox-port-in-use", ("sandbox", "--port", "{port}"), 2, "cannot listen on"),
    Case("sandbox-fail-rate", ("sandbox", "--fail-rate", "2"), 2, "fail_rate must be between"),
    Case("sandbox-hang-rate", ("sandbox", "--hang-rate", "-0.5"), 2, "hang_rate must be"),
    Case("sandbox-fail-status", ("sandbox", "--fail-status", "200"), 2, "fail_status must be"),
    Case("sandbox-latency", ("sandbox", "--latency-ms", "-1"), 2, "latency_ms must be"),
    Case("sandbox-shape", ("sandbox", "--shape", "round"), 2, "shape 'round' is not one of"),
    Case("sandbox-seed", ("sandbox", "--seed", "x"), 2, "--seed", kind="usage"),
    Case(
        "sandbox-db-directory",
        ("sandbox", "--port", "0", "--db", "adir"),
        2,
        "--db adir: cannot use it as the sandbox database",
        setup=directory("adir"),
    ),
    Case(
        "sandbox-db-garbage",
        ("sandbox", "--port", "0", "--db", "bin.db"),
        2,
        "--db bin.db: cannot use it as the sandbox database",
        setup=file("bin.db", binary()),
    ),
    Case(
        "sandbox-db-under-a-file",
        ("sandbox", "--port", "0", "--db", "afile/sandbox.db"),
        2,
        "--db afile/sandbox.db: cannot use it",
        setup=file("afile", "x"),
    ),
    Case(
        "sandbox-missing-secret",
        ("sandbox", "--port", "0"),
        3,
        "needs environment variable ${HARD_API_KEY}",
        env={"HARD_API_KEY": None},
    ),
    # -- a path with a NUL character (only in-process: argv cannot carry one) -----------------
    # found by the fuzz campaign: ValueError "embedded null byte", exit 70
    Case(
        "nul-key-file",
        ("decrypt", VALID_TOKEN, "--key-file", "k\x00"),
        2,
        "a path cannot contain a NUL character",
    ),
    Case("nul-file", ("lookup", "--file", "in\x00.csv"), 2, "a path cannot contain a NUL"),
    Case(
        "nul-from-file",
        (*UPD, "--from-file", "p\x00.json"),
        2,
        "a path cannot contain a NUL character",
    ),
    # -- a path naming a user that does not exist (~nosuchuser/...) -------------------------
    Case("tilde-decrypt", ("decrypt", "~nosuchuser/t.txt"), 2, "cannot expand ~nosuchuser"),
    Case("tilde-encrypt", ("encrypt", "~nosuchuser/p.json"), 2, "cannot expand ~nosuchuser"),
    Case(
        "tilde-key-file",
        ("decrypt", VALID_TOKEN, "--key-file", "~nosuchuser/k"),
        2,
        "~nosuchuser/k: cannot expand ~nosuchuser: no such user",
    ),
    Case(
        "tilde-profiles-file",
        ("--profiles-file", "~nosuchuser/p.toml", "lookup", "--urn", "1"),
        2,
        "~nosuchuser/p.toml: cannot expand ~nosuchuser",
    ),
    Case(
        "tilde-profiles-env",
        ("lookup", "--urn", "1"),
        2,
        "~nosuchuser/p.toml: cannot expand ~nosuchuser",
        env={"WIBMO_PROFILES": "~nosuchuser/p.toml"},
    ),
    Case(
        "tilde-from-file",
        (*UPD, "--from-file", "~nosuchuser/p.json"),
        2,
        "~nosuchuser/p.json: cannot expand ~nosuchuser",
    ),
    Case(
        "tilde-audit-log",
        ("audit", "--audit-log", "~nosuchuser/a.jsonl"),
        2,
        "~nosuchuser/a.jsonl: cannot expand ~nosuchuser",
    ),
    Case(
        "tilde-sandbox-db",
        ("sandbox", "--port", "0", "--db", "~nosuchuser/s.db"),
        2,
        "~nosuchuser/s.db: cannot expand ~nosuchuser",
    ),
    # -- the root --------------------------------------------------------------------------
    Case("root-unknown-command", ("frobnicate",), 2, "No such command", kind="usage"),
    Case("root-unknown-option", ("--colour", "codes"), 2, "No such option", kind="usage"),
]


@pytest.fixture
def sandbox(start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A sandbox for this test alone, and the default profile pointing at it.

    `wibmo sandbox` fails the case if it gets as far as listening (instead of serving
    until interrupted): every battery case must be refused before that.
    """
    import wibmo_cli.sandbox

    serve = wibmo_cli.sandbox.serve

    def refuse_to_serve(*args: Any, **kwargs: Any) -> None:
        def ready(url: str) -> None:
            raise AssertionError(f"wibmo sandbox started serving on {url}")

        serve(*args, **{**kwargs, "on_ready": ready})

    monkeypatch.setattr(wibmo_cli.sandbox, "serve", refuse_to_serve)
    return start_sandbox(profile={})


COMMANDS = ("lookup", "update-profile", "encrypt", "decrypt", "codes", "profiles", "audit")
COMMANDS += ("sandbox",)


def test_the_battery_is_big_enough_and_covers_every_command() -> None:
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)
    named = {next((a for a in case.args if a in COMMANDS), None) for case in CASES}
    assert set(COMMANDS) <= named


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=case.id, marks=case.marks) for case in CASES]
)
def test_bad_input(
    case: Case,
    wibmo: Invoke,
    sandbox: Sandbox,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    ctx = Ctx(isolated, sandbox.url, port, monkeypatch)
    for name, value in case.env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    if case.setup is not None:
        case.setup(ctx)
    args = [arg.replace("{port}", str(port)) for arg in case.args]
    result = wibmo(*args, input=case.stdin)

    assert result.exit_code != INTERNAL_ERROR, result.stderr
    if case.kind == "error":
        assert_one_line_error(result, case.code, case.message)
        assert result.stderr.startswith("error: ")
    elif case.kind == "usage":
        assert_usage_error(result, case.message)
    else:
        assert result.exit_code == case.code, (result.exit_code, result.stderr)
        assert "Traceback" not in result.stdout + result.stderr
        assert len(result.stderr.splitlines()) <= 1, result.stderr
        assert case.message in result.stdout + result.stderr
    assert sandbox.requests == [], [(r.method, r.path) for r in sandbox.requests]


def test_a_path_no_one_can_open_is_refused_cleanly(
    wibmo: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads a mode-000 file, so the battery's unreadable cases skip under root; a
    path that no one can open (a symlink loop) stands in for them here."""
    symlink_loop("loop")(Ctx(isolated, "", 0, monkeypatch))
    result = wibmo("encrypt", "--key-file", "loop", "{}")
    assert_one_line_error(result, 3, "--key-file loop: cannot read it")


@pytest.mark.parametrize(
    "args",
    [("decrypt", "tokens.txt"), ("codes",), ("codes", "-o", "json"), ("lookup", "-f", "in.csv")],
    ids=["decrypt-stream", "codes-table", "codes-json", "lookup-file"],
)
def test_a_closed_stdout_ends_quietly_with_141(isolated: Path, args: tuple[str, ...]) -> None:
    """`wibmo ... | head`: when the reader goes away, stop without a word, exit 141 (as a
    shell reports a command ended by SIGPIPE), not an internal error or exit 1."""
    import subprocess
    import sys

    token = codec().encrypt_json({"pad": "x" * 200})
    (isolated / "tokens.txt").write_text(f"{token}\n" * 5000, encoding="utf-8")
    (isolated / "in.csv").write_text("urn\n" + "389\n" * 200, encoding="utf-8")  # demo
    process = subprocess.Popen(
        [sys.executable, "-m", "wibmo_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=isolated,
    )
    assert process.stdout is not None and process.stderr is not None
    with process.stderr:
        process.stdout.close()  # before it writes a byte
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, stderr
    assert [line for line in stderr.splitlines() if "embedded sandbox" not in line] == []


@pytest.mark.parametrize(
    "content",
    [b"mobile\n9897123456", binary(), b"not json\n{also not", b"name,city\nx,y\n"],
    ids=["csv-without-newline", "binary", "text", "csv"],
)
def test_resume_never_changes_a_file_that_is_not_its_output(
    wibmo: Invoke, sandbox: Sandbox, isolated: Path, content: bytes
) -> None:
    """--resume repairs a torn last line of its own output; given any other file (the
    input CSV by mistake) it refuses, and the file keeps every byte."""
    (isolated / "in.csv").write_text("mobile\n9897123456\n", encoding="utf-8")
    other = isolated / "other.txt"
    other.write_bytes(content)
    result = wibmo("lookup", "--file", "in.csv", "--resume", "other.txt")
    assert_one_line_error(result, 2, "--resume other.txt")
    assert other.read_bytes() == content
    assert sandbox.requests == []

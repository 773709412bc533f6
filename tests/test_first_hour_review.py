"""Issue 12, what its new-user review found after the fixes: starting from `wibmo profiles
example > profiles.toml` (default profile `local`: the sandbox at port 8765) must say how
to start that sandbox; `sandbox customers` must offer a re-KYC customer who can be
looked up."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from support import Invoke

from wibmo_cli.answer import refused
from wibmo_cli.sandbox_port import DEFAULT_PORT


def test_refused_at_the_sandbox_port_says_how_to_start_it() -> None:
    error = refused(f"http://127.0.0.1:{DEFAULT_PORT}/x", f"127.0.0.1:{DEFAULT_PORT}")
    assert "no sandbox is running there" in error.message
    assert "wibmo sandbox" in str(error.hint)
    other = refused("https://pp.example:8443/x", "pp.example:8443")
    assert other.message.endswith("is the service up?") and other.hint is None


@pytest.mark.e2e
def test_the_example_files_default_profile_says_to_start_the_sandbox(wibmo: Invoke) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", DEFAULT_PORT)) == 0:
            pytest.skip(f"something listens on {DEFAULT_PORT}")
    example = wibmo("profiles", "example")
    assert example.exit_code == 0
    Path("profiles.toml").write_text(example.stdout, encoding="utf-8")
    result = wibmo("lookup", "--mobile", "9897123456")
    assert result.exit_code == 5
    assert "start one with `wibmo sandbox`" in result.stderr


@pytest.mark.e2e
def test_every_default_example_of_sandbox_customers_can_be_looked_up(wibmo: Invoke) -> None:
    listed = json.loads(wibmo("sandbox", "customers", "-o", "json").stdout)
    for found in listed:
        if found["kind"] in ("no-card", "shared-mobile", "shared-email"):
            continue  # their lookups answer 1001 / 1237 / 1307 on purpose
        result = wibmo("lookup", "--customer-id", found["customerId"], "-o", "json")
        assert result.exit_code in (0, 1), result.stderr
        assert json.loads(result.stdout)["responseCode"] != "1001", found["kind"]


def test_short_tokens_of_another_iv_scheme_are_not_joined_quadratically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An attack review: 2000 one-line tokens of exactly 64 characters, made with
    iv = "key" and read with "zero", each decrypt with valid padding and end in "}" but
    are not JSON; every line was tried as the start of a wrapped token up to 1024 lines
    long (22 s). A line that is padded alone is a whole token: never joined on."""
    import io

    from support import KEY

    from wibmo_cli.crypto import IvScheme, TokenCodec
    from wibmo_cli.tokenstream import decrypt_stream

    made = TokenCodec(KEY, IvScheme.parse("key"))
    lines = [made.encrypt(b'{"responseCode":"00","n":%06d,"x":"ab"}' % i) for i in range(400)]
    assert {len(line) for line in lines} == {64}
    reader = TokenCodec(KEY, IvScheme.parse("zero"))
    calls = 0
    real = TokenCodec.decrypt_raw

    def counted(self: TokenCodec, raw: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(self, raw)

    monkeypatch.setattr(TokenCodec, "decrypt_raw", counted)
    out = io.BytesIO()
    summary = decrypt_stream(reader, io.BytesIO("\n".join(lines).encode()), out.write, reveal=False)
    assert summary.failed == 400 and len(out.getvalue().splitlines()) == 400
    assert calls < 10 * len(lines), calls  # linear: it was quadratic


@pytest.mark.parametrize("invisible", ["\u3164", "ABC\u034f", "A\ufe0fsha", "\u115f\u1160"])
def test_a_name_that_draws_nothing_is_refused(invisible: str) -> None:
    """An attack review: U+3164 (a "letter") stored a blank-looking first name, and a
    combining grapheme joiner changed a name invisibly."""
    from wibmo_cli.errors import InputError
    from wibmo_cli.validate import name

    with pytest.raises(InputError, match="invisible"):
        name(invisible)
    assert name("Ásha") == "Ásha"


@pytest.mark.parametrize(
    ("header", "kind"),
    [("Mobile_No.", "mobile"), ("Mobile No.", "mobile"), ("E-mail ID", "email")],
)
def test_a_heading_with_punctuation_is_still_a_heading(header: str, kind: str) -> None:
    from wibmo_cli.batchio import kind_of_name

    assert kind_of_name(header) == kind


@pytest.mark.e2e
def test_a_quoted_comma_in_a_semicolon_files_header_does_not_make_it_a_comma_file(
    wibmo: Invoke,
) -> None:
    Path("s1.csv").write_text('mobile;"Address, line 1"\n9897123456;"12, MG Road"\n')
    result = wibmo("lookup", "--file", "s1.csv")
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["input"], row["kind"], row["ok"]) == ("9897123456", "mobile", True)


def test_a_dotenv_that_is_not_utf8_names_the_line_not_the_byte(wibmo: Invoke) -> None:
    """An attack review: "codec can't decode byte 0xe9 in position 14" gave away a byte of
    the secret and where it sits."""
    Path(".env").write_bytes(b"A=1\nHARD_API_KEY=se\xe9cret\n")
    result = wibmo("lookup", "--urn", "389")
    assert result.exit_code == 3
    assert "line 2 is not UTF-8 text" in result.stderr
    assert "0xe9" not in result.stderr and "position" not in result.stderr


def test_profiles_where_says_an_unknown_profile_is_unknown(
    wibmo: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An attack review: `WIBMO_PROFILE=nosuch wibmo profiles where` showed "nosuch" as
    the profile in use (exit 0) while `lookup` refuses it (exit 3)."""
    monkeypatch.setenv("WIBMO_PROFILE", "nosuch")
    shown = json.loads(wibmo("profiles", "where", "-o", "json").stdout)
    assert "unknown profile 'nosuch'" in shown["problem"]
    assert "$WIBMO_PROFILE" in shown["problem"]

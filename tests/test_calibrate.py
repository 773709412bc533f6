"""`profiles check --online` / `--calibrate` with the platform's helper endpoints (issue 11,
item 7): the platform encrypts a known plaintext, detect names its IV scheme; the platform
decrypts one of our tokens, the plaintext must come back.

Until the sandbox grows its helper endpoints, `StandIn` plays the platform: a real HTTP
server on loopback (http.server, one thread a request) with the test credentials, speaking
the helpers' contract (spec/public-notes.md):

    POST /api/v2/encrypt   plaintext JSON + every credential header -> {"token": T}
    POST /api/v2/decrypt   {"token": T} + x-api-key                 -> the bare JSON
    POST lookup path       -> 1303 (nobody has the probe's number)
    PATCH update path      -> 1231, or 1262 when clientId is not a header (a v3 update)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from support import API_KEY, SECRET_FORMS, Invoke, codec, unit_profile, write_profiles

from wibmo_cli.calibrate import DECRYPT, ENCRYPT, read_decrypted, read_platform_token
from wibmo_cli.crypto import TokenCodec
from wibmo_cli.online_check import UPDATE

pytestmark = pytest.mark.e2e

ENCRYPT_PATH = "/api/v2/encrypt"
DECRYPT_PATH = "/api/v2/decrypt"
HELPERS = {"encrypt_path": ENCRYPT_PATH, "decrypt_path": DECRYPT_PATH}
LOOKUP_PATH = "/api/v2/customer/retrieveCustRecord"
UPDATE_PATH = "/mob1/api/onboarding/v1/updateProfile"
CREDENTIAL_HEADERS = ("x-api-key", "clientId", "bankId", "secureCode")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """The platform with helper endpoints, encrypting with `iv` (and the test key)."""

    iv: str = "prepend"
    helpers: bool = True
    encrypt_reply: tuple[int, bytes] | None = None  # answer the encrypt helper so instead
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.codec: TokenCodec = codec(self.iv)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._answer()

            def do_PATCH(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
                outer.seen.append(seen)
                status, body = outer.answer(seen)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, seen: Seen) -> tuple[int, bytes]:
        if seen.headers.get("x-api-key") != API_KEY:
            return 401, b'{"message":"No API key found in request"}'
        route = (seen.method, seen.path)
        if self.helpers and route == ("POST", ENCRYPT_PATH):
            if self.encrypt_reply:
                return self.encrypt_reply
            if not all(name in seen.headers for name in CREDENTIAL_HEADERS):
                return 200, b'{"responseCode":"1262","responseMessage":"CLIENT ID NOT PRESENT"}'
            return 200, json.dumps({"token": self.codec.encrypt(seen.body)}).encode()
        if self.helpers and route == ("POST", DECRYPT_PATH):
            try:
                return 200, self.codec.decrypt(json.loads(seen.body)["token"])
            except Exception:  # any token the platform cannot read
                return 200, b'{"responseCode":"1055","responseMessage":"MALFORMED_REQUEST"}'
        if route == ("POST", LOOKUP_PATH):
            return 200, self._token(seen, "1303")
        if route == ("PATCH", UPDATE_PATH):
            return 200, self._token(seen, "1231" if "clientId" in seen.headers else "1262")
        return 404, b'{"message":"no Route matched with those values"}'

    def _token(self, seen: Seen, code: str) -> bytes:
        payload = self.codec.decrypt_json(json.loads(seen.body)["token"])
        answer = {"responseCode": code, "clientTxnId": payload["clientTxnId"]}
        return json.dumps({"token": self.codec.encrypt_json(answer)}).encode()

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


@contextmanager
def stand_in(**options: Any) -> Iterator[StandIn]:
    server = StandIn(**options)
    thread = threading.Thread(target=server.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=5)


def _check(wibmo: Invoke, flag: str, code: int) -> dict[str, dict[str, Any]]:
    """`profiles check FLAG -o json`: its lines by name, after the exit code is checked."""
    result = wibmo("profiles", "check", flag, "-o", "json")
    assert result.exit_code == code, result.stdout + result.stderr
    for secret in SECRET_FORMS.values():
        assert secret not in result.stdout + result.stderr
    return {line["name"]: line for line in json.loads(result.stdout)["checks"]}


# -- the platform's own scheme, proved --------------------------------------------------------


@pytest.mark.parametrize("iv", ["zero", "key", "prepend", "ecb"])
def test_calibrate_proves_a_matching_profile(wibmo: Invoke, iv: str) -> None:
    with stand_in(iv=iv) as platform:
        write_profiles(platform.url, **HELPERS, iv=iv)
        lines = _check(wibmo, "--calibrate", 0)
    assert lines[ENCRYPT]["status"] == "ok"
    assert f'the platform encrypts with iv = "{iv}" (key read as text)' in lines[ENCRYPT]["detail"]
    assert "the profile matches" in lines[ENCRYPT]["detail"]
    assert lines[DECRYPT]["status"] == "ok"
    assert "our encryption is proved" in lines[DECRYPT]["detail"]
    assert platform.paths() == [ENCRYPT_PATH, DECRYPT_PATH]  # --calibrate: the helpers only


@pytest.mark.parametrize(("platform_iv", "profile_iv"), [("prepend", "zero"), ("key", "ecb")])
def test_calibrate_names_the_iv_line_to_write(
    wibmo: Invoke, platform_iv: str, profile_iv: str
) -> None:
    with stand_in(iv=platform_iv) as platform:
        write_profiles(platform.url, **HELPERS, iv=profile_iv)
        lines = _check(wibmo, "--calibrate", 3)
    encrypt = lines[ENCRYPT]
    assert encrypt["status"] == "fail"
    assert f"profile 'hard' has iv = \"{profile_iv}\"" in encrypt["detail"]
    assert f'write iv = "{platform_iv}" in it' in encrypt["detail"]
    decrypt = lines[DECRYPT]  # the platform cannot read what this profile encrypts
    assert decrypt["status"] == "fail"
    assert "did not give back the plaintext" in decrypt["detail"]


def test_an_explicit_key_encoding_is_part_of_the_lines_to_write(wibmo: Invoke) -> None:
    with stand_in(iv="prepend") as platform:
        write_profiles(platform.url, **HELPERS, iv="zero", key_encoding="text")
        lines = _check(wibmo, "--calibrate", 3)
    assert 'write iv = "prepend" and key_encoding = "text" in it' in lines[ENCRYPT]["detail"]


def test_the_helpers_get_the_credentials_public_notes_name(wibmo: Invoke) -> None:
    with stand_in() as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend")
        _check(wibmo, "--calibrate", 0)
    encrypt, decrypt = platform.seen
    assert json.loads(encrypt.body)["customerMobile"] == "916000000000"  # the lookup probe
    assert all(name in encrypt.headers for name in CREDENTIAL_HEADERS)
    assert decrypt.headers["x-api-key"] == API_KEY
    assert not {"clientId", "bankId", "secureCode"} & set(decrypt.headers)
    assert set(json.loads(decrypt.body)) == {"token"}


def test_online_calibrates_then_checks_the_lookup_and_the_update(wibmo: Invoke) -> None:
    with stand_in() as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend")
        lines = _check(wibmo, "--online", 0)
    assert [lines[n]["status"] for n in (ENCRYPT, DECRYPT, "online", UPDATE)] == ["ok"] * 4
    assert platform.paths() == [ENCRYPT_PATH, DECRYPT_PATH, LOOKUP_PATH, UPDATE_PATH]


def test_a_v3_update_wants_its_credentials_in_headers(wibmo: Invoke) -> None:
    with stand_in() as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend", update_credentials="body")
        lines = _check(wibmo, "--online", 3)
    assert lines["online"]["status"] == "ok"
    update = lines[UPDATE]
    assert update["status"] == "fail"
    assert "Update Profile refused the credentials: 1262" in update["detail"]
    assert 'try update_credentials = "headers"' in update["detail"]


# -- no helper: one line, and the lookup round trip ---------------------------------------------


def test_no_helper_is_one_line_and_the_lookup_round_trip(wibmo: Invoke) -> None:
    with stand_in(helpers=False) as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend")
        lines = _check(wibmo, "--calibrate", 0)
    assert lines[ENCRYPT]["status"] == "warn"
    assert "no encrypt helper at /api/v2/encrypt (HTTP 404)" in lines[ENCRYPT]["detail"]
    assert DECRYPT not in lines
    assert lines["online"]["status"] == "ok"
    assert platform.paths() == [ENCRYPT_PATH, LOOKUP_PATH]  # no update probe on --calibrate


@pytest.mark.parametrize(("flag", "status"), [("--calibrate", "warn"), ("--online", "ok")])
def test_a_profile_without_helpers_sends_nothing_to_them(
    wibmo: Invoke, flag: str, status: str
) -> None:
    with stand_in() as platform:
        write_profiles(platform.url, iv="prepend", encrypt_path="", decrypt_path="")
        lines = _check(wibmo, flag, 0)
    assert lines[ENCRYPT]["status"] == status
    assert lines[ENCRYPT]["detail"].startswith('encrypt_path = "": no helper')
    assert ENCRYPT_PATH not in platform.paths()
    assert DECRYPT_PATH not in platform.paths()


def test_a_helper_that_fails_falls_back_to_the_lookup(wibmo: Invoke) -> None:
    with stand_in(encrypt_reply=(503, b"<html><title>down</title></html>")) as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend")
        lines = _check(wibmo, "--calibrate", 0)
    assert lines[ENCRYPT]["status"] == "warn"
    assert "answered HTTP 503" in lines[ENCRYPT]["detail"]
    assert lines["online"]["status"] == "ok"
    assert platform.paths() == [ENCRYPT_PATH, LOOKUP_PATH]


def test_a_helper_answering_a_code_says_which(wibmo: Invoke) -> None:
    refused = b'{"responseCode":"1262","responseMessage":"CLIENT ID NOT PRESENT IN THE REQUEST"}'
    with stand_in(encrypt_reply=(200, refused)) as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend")
        lines = _check(wibmo, "--calibrate", 0)
    assert "responseCode 1262 CLIENT_ID_NOT_PRESENT_IN_THE_REQUEST" in lines[ENCRYPT]["detail"]
    assert lines["online"]["status"] == "ok"


def test_a_helper_answer_over_max_answer_bytes_is_refused(wibmo: Invoke) -> None:
    big = json.dumps({"token": "A" * 4096}).encode()
    with stand_in(encrypt_reply=(200, big)) as platform:
        write_profiles(platform.url, **HELPERS, iv="prepend", max_answer_bytes=1024)
        lines = _check(wibmo, "--calibrate", 0)
    assert "bigger than max_answer_bytes (1024 bytes)" in lines[ENCRYPT]["detail"]


# -- the reading, on its own ----------------------------------------------------------------------


def test_a_token_of_another_key_is_no_scheme() -> None:
    profile = unit_profile("https://pp.test")
    plaintext = {"messageCode": 1930, "clientTxnId": "WCALIBRATE0001", "customerMobile": "91"}
    other = TokenCodec(bytes(range(24)), codec("zero").scheme)
    check = read_platform_token(profile, other.encrypt_json(plaintext), plaintext)
    assert check.status == "fail"
    assert "decrypts with no iv scheme" in check.detail


def test_a_fixed_iv_profile_is_proved_too() -> None:
    fixed = "00112233445566778899aabbccddeeff"
    profile = unit_profile("https://pp.test", iv=fixed)
    plaintext = {"messageCode": 1930, "clientTxnId": "WCALIBRATE0001", "customerMobile": "91"}
    check = read_platform_token(profile, codec(fixed).encrypt_json(plaintext), plaintext)
    assert check.status == "ok", check
    assert f'iv = "{fixed}"' in check.detail


PROBE = {"messageCode": 1930, "clientTxnId": "WCALIBRATE0001", "customerMobile": "916000000000"}


@pytest.mark.parametrize(
    "given_back",
    [
        {**PROBE, "messageCode": "1930"},  # the platform flips numbers and strings
        {**PROBE, "entityId": None},  # and may add empty keys
        {**PROBE, "customerMobile": 916000000000},
    ],
)
def test_values_the_platform_retypes_still_prove_the_scheme(given_back: dict[str, Any]) -> None:
    """A string messageCode or an added null is not a wrong key (an attack review: both
    gave "this encryption_key is not this environment's")."""
    profile = unit_profile("https://pp.test", iv="zero")
    check = read_platform_token(profile, codec("zero").encrypt_json(given_back), PROBE)
    assert check.status == "ok", check
    content = json.dumps(given_back).encode()
    assert read_decrypted(profile, "/d", 200, content, PROBE).status == "ok"


def test_a_changed_value_still_fails() -> None:
    profile = unit_profile("https://pp.test", iv="zero")
    other = {**PROBE, "customerMobile": "916000000001"}
    check = read_platform_token(profile, codec("zero").encrypt_json(other), PROBE)
    assert check.status == "fail"
    assert read_decrypted(profile, "/d", 200, json.dumps(other).encode(), PROBE).status == "fail"


@pytest.mark.parametrize(("served", "written"), [("zero", "0" * 32), ("key", "key-bytes")])
def test_a_fixed_iv_equal_to_the_platforms_is_a_match(served: str, written: str) -> None:
    """iv = 32 zero digits is "zero"; iv = the key's first 16 bytes in hex is "key"."""
    profile = unit_profile("https://pp.test", iv="zero")
    fixed = profile.key_bytes()[:16].hex() if written == "key-bytes" else written
    profile = unit_profile("https://pp.test", iv=fixed)
    check = read_platform_token(profile, codec(served).encrypt_json(PROBE), PROBE)
    assert check.status == "ok", check

"""`decrypt --har CAPTURE --out CLEAN.har` under attack (issue 13's review): the file it
writes never lands on anything but a regular file, and no credential or secret survives
in it, however it was written (URL-encoded, JSON-escaped, in any URL, under any of a
browser session's credential names, inside a binary answer)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from har_gen import validate
from support import Invoke, assert_one_line_error, codec, write_profiles

from wibmo_cli import har_clean, outfile
from wibmo_cli.crypto import IvScheme, TokenCodec
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
    check = outfile.check_target

    def then_a_fifo(path: Path, *, source: Path, force: bool) -> None:
        check(path, source=source, force=force)
        os.mkfifo(path)

    monkeypatch.setattr(outfile, "check_target", then_a_fifo)
    with pytest.raises(InputError, match="named pipe"):
        outfile.write(Path("clean.har"), b"{}", source=Path("capture.har"), force=force)
    assert stat.S_ISFIFO(os.lstat("clean.har").st_mode) and leftovers() == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_directory_where_no_file_can_be_made_is_one_line(capture: Path, cli: Invoke) -> None:
    """/proc takes no new file, not even from root: exit 74, not a bug's 70."""
    result = out(cli, "/proc/wibmo-clean.har")
    assert_one_line_error(result, 74, "cannot write /proc/wibmo-clean.har")


# -- what --out leaves in the file ------------------------------------------------------------

# Secrets that URL-encoding and JSON escaping change: "/", "+", "!", "=".
ODD_API_KEY = "hk-ApiKey/9rT2+wQ7zLmX4"
ODD_SECURE_CODE = "HK/Secure+Code!4xV8pN="
OTHER_KEY = "other-env-ApiKey-ZZZZ9999"  # a credential by name, not one of the profile's


def spellings(secret: str) -> list[str]:
    """How a secret is written in URLs and JSON text: percent-encoded (upper and lower
    hex, "/" kept or not), JSON-escaped ("\\/", every character "\\u..")."""
    percent = [quote(secret, safe=""), quote(secret), quote_plus(secret)]
    lower = [lower_hex(p) for p in percent]
    escaped = [secret.replace("/", "\\/"), "".join(f"\\u{ord(c):04x}" for c in secret)]
    return [*percent, *lower, *escaped]


def lower_hex(encoded: str) -> str:
    return re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)


def entry(
    url: str = "https://ops.example/api",
    *,
    headers: dict[str, str] | None = None,
    post: dict[str, Any] | None = None,
    answer_headers: dict[str, str] | None = None,
    content: dict[str, Any] | None = None,
    redirect: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One HAR 1.2 entry as a browser writes it."""

    def rows(pairs: dict[str, str] | None) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in (pairs or {}).items()]

    request: dict[str, Any] = {
        "method": "POST" if post else "GET",
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": rows(headers),
        "queryString": [],
        "headersSize": -1,
        "bodySize": len(post["text"].encode()) if post else 0,
    }
    if post:
        request["postData"] = post
    body = content or {"size": 0, "mimeType": "text/html", "text": ""}
    return {
        "startedDateTime": "2026-11-30T09:15:02.125+05:30",
        "time": 12.5,
        "request": request,
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": rows(answer_headers),
            "content": body,
            "redirectURL": redirect,
            "headersSize": -1,
            "bodySize": body["size"],
        },
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 1},
        **extra,
    }


def har_of(*entries: dict[str, Any], title: str = "Ops console") -> dict[str, Any]:
    page = {"startedDateTime": "2026-11-30T09:15:02+05:30", "id": "p1", "title": title,
            "pageTimings": {}}  # fmt: skip
    return {"log": {**CAPTURE["log"], "pages": [page], "entries": list(entries)}}


def json_content(text: str) -> dict[str, Any]:
    return {"size": len(text.encode()), "mimeType": "application/json", "text": text}


def cleaned(capture: dict[str, Any], *secrets: str | bytes) -> str:
    """The cleaned capture as written (the pure core): a valid HAR, as text."""
    result = har_clean.clean(capture, codec, secrets).har
    assert validate(result) == []
    return json.dumps(result)


def test_secrets_url_encoded_or_json_escaped_are_redacted_everywhere(
    monkeypatch: pytest.MonkeyPatch, cli: Invoke
) -> None:
    """The profile's secrets percent-encoded in a Referer, a Location, a redirectURL,
    a comment, a page's title and a form's text, and JSON-escaped in a body."""
    monkeypatch.setenv("HARD_API_KEY", ODD_API_KEY)
    monkeypatch.setenv("HARD_SECURE_CODE", ODD_SECURE_CODE)
    write_profiles("http://127.0.0.1:1")
    key, code = quote(ODD_API_KEY, safe=""), quote(ODD_SECURE_CODE, safe="")
    escaped_key = "".join(f"\\u{ord(c):04x}" for c in ODD_API_KEY)
    escaped_code = ODD_SECURE_CODE.replace("/", "\\/")  # as Java's and PHP's writers do
    form = f"user=agent7&note={lower_hex(code)}&next=%2Fhome%3Fk%3D{quote_plus(ODD_API_KEY)}"
    capture = har_of(
        entry(
            headers={"Referer": f"https://ops.example/console?from={key}"},
            answer_headers={"Location": f"https://ops.example/cb#{quote(ODD_SECURE_CODE)}"},
            post={
                "mimeType": "application/x-www-form-urlencoded",
                "text": form,
                "params": [{"name": "user", "value": "agent7"}],
            },
            comment=f"captured with key {key}",
            redirect=f"https://ops.example/cb?k={lower_hex(key)}",
        ),
        entry(content=json_content(f'{{"note": "{escaped_code}", "k": "{escaped_key}"}}')),
        title=f"https://ops.example/?c={code}",
    )
    Path("capture.har").write_text(json.dumps(capture))
    assert any(s in Path("capture.har").read_text() for s in spellings(ODD_API_KEY))
    result = cli("decrypt", "--har", "capture.har", "--out", "clean.har")
    assert result.exit_code == 0, result.stderr
    text = Path("clean.har").read_text()
    written = json.loads(text)
    assert validate(written) == []
    for secret in (ODD_API_KEY, ODD_SECURE_CODE):
        assert [s for s in (secret, *spellings(secret)) if s in text] == []
        assert secret not in json.dumps(written, ensure_ascii=False)
    body = json.loads(written["log"]["entries"][1]["response"]["content"]["text"])
    assert body["note"].startswith("****") and body["k"].startswith("****")
    request = written["log"]["entries"][0]["request"]
    assert request["postData"]["text"].startswith("user=agent7&note=****")
    assert request["bodySize"] == len(request["postData"]["text"].encode())
    assert written["log"]["entries"][0]["request"]["headersSize"] == -1


@pytest.mark.parametrize(
    "name", ["x-api-key", "apiKey", "api_key", "secureCode", "password", "access_token", "token"]
)
def test_a_credential_in_any_urls_query_is_redacted_by_name(name: str) -> None:
    """Whatever its value (not the profile's: another environment's key): in the
    request's URL, a Referer, a Location, the redirectURL, a page's title, a comment."""
    query = f"a=1&{quote(name)}={OTHER_KEY}&b=%2F"
    capture = har_of(
        entry(
            f"https://ops.example/status?{query}",
            headers={"Referer": f"https://ops.example/console?{query}"},
            answer_headers={"Location": f"/cb?{name}={OTHER_KEY}"},
            redirect=f"https://ops.example/cb?{query}#top",
            comment=f"from https://ops.example/?{query}",
        ),
        title=f"https://ops.example/?{name}={OTHER_KEY}",
    )
    text = cleaned(capture)
    assert OTHER_KEY not in text
    assert "a=1&" in text and "&b=%2F" in text  # the other parameters as they were written


BROWSER_NAMES = (
    "password", "passwd", "pin", "otp", "cvv", "access_token", "refresh_token", "id_token",
    "client_secret", "api_key", "apikey", "X-Auth-Token", "X-CSRF-Token", "X-XSRF-Token",
    "X-API-KEY ",
)  # fmt: skip


@pytest.mark.parametrize("name", BROWSER_NAMES)
def test_a_browser_sessions_credentials_are_redacted_wherever_they_travel(name: str) -> None:
    """In a header, a query parameter, a form's params and its text, a JSON body at
    any depth, and the decrypted JSON of a token (at any depth)."""
    value = f"SEKRET-{name.strip()}-1234"
    token = codec().encrypt_json({"responseCode": "00", "echo": [{name: value}]})
    form = f"user=agent7&{quote_plus(name)}={quote_plus(value)}"
    capture = har_of(
        entry(
            f"https://ops.example/login?{quote(name)}={value}",
            headers={name: value},
            post={
                "mimeType": "application/x-www-form-urlencoded",
                "text": form,
                "params": [{"name": name, "value": value}],
            },
            content=json_content(json.dumps({"session": {"auth": {name: value}}})),
        ),
        entry(content=json_content(json.dumps({"token": token}))),
        entry(content=json_content(json.dumps([{"user": "agent7", name: [value]}]))),
    )
    text = cleaned(capture)
    assert "SEKRET" not in text
    assert "agent7" in text  # what is no credential stays


def test_the_platforms_token_is_still_opened_and_a_session_token_redacted() -> None:
    """ "token" is the platform's envelope key and a session's credential: the
    platform's token is replaced by its decrypted JSON, a token of another key is kept
    (ciphertext), a JWT under "token" or deeper is redacted."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudDcifQ.SEKRET-signature"
    other = TokenCodec(b"another-24-byte-key-here", IvScheme("zero"))
    foreign = other.encrypt_json({"responseCode": "00"})
    ours = codec().encrypt_json({"responseCode": "00", "clientTxnId": "T1"})
    bodies = (
        {"token": ours},
        {"token": foreign, "auth": {"secureCode": "SEKRET-1"}},
        {"token": jwt, "user": "agent7"},
        {"data": {"token": jwt}},
    )
    capture = har_of(*(entry(content=json_content(json.dumps(body))) for body in bodies))
    result = har_clean.clean(capture, codec, [])
    written = [json.loads(e["response"]["content"]["text"]) for e in result.har["log"]["entries"]]
    assert written[0]["token"] == {"responseCode": "00", "clientTxnId": "T1"}
    assert written[1]["token"] == foreign and written[1]["auth"]["secureCode"] == "****"
    assert written[2]["token"].startswith("****") and written[2]["user"] == "agent7"
    assert written[3]["data"]["token"].startswith("****")
    assert "SEKRET" not in json.dumps(result.har)
    assert (result.tokens, result.kept) == (1, 1)


@pytest.mark.parametrize("lead", [b"\xff", b"\xff\xfe", b"\xff\xfe\xfd"])
def test_a_binary_answer_is_redacted_in_its_bytes_and_stays_base64(lead: bytes) -> None:
    """Not UTF-8: the secret is found at any of base64's three alignments, and the
    base64 written back decodes, with its sizes."""
    data = lead + f'{{"apiKey":"{ODD_API_KEY}"}}'.encode() + bytes(range(256))
    content = {"size": len(data), "mimeType": "application/octet-stream",
               "encoding": "base64", "text": base64.b64encode(data).decode()}  # fmt: skip
    capture = har_of(entry(content=content, answer_headers={"Content-Length": str(len(data))}))
    result = har_clean.clean(capture, codec, [ODD_API_KEY])
    response = result.har["log"]["entries"][0]["response"]
    written = response["content"]
    assert written["encoding"] == "base64"
    raw = base64.b64decode(written["text"], validate=True)
    assert ODD_API_KEY.encode() not in raw
    assert raw.startswith(lead + b'{"apiKey":"****') and raw.endswith(b'"}' + bytes(range(256)))
    assert written["size"] == response["bodySize"] == len(raw)
    assert response["headers"] == [{"name": "Content-Length", "value": str(len(raw))}]
    assert validate(result.har) == []


def test_secret_forms_include_the_url_and_json_spellings() -> None:
    forms = har_clean.secret_forms([ODD_API_KEY])
    assert set(spellings(ODD_API_KEY)) - set(forms) == {
        "".join(f"\\u{ord(c):04x}" for c in ODD_API_KEY)  # found by decoding the JSON
    }
    assert har_clean.is_credential("X-API-KEY ") and har_clean.is_credential("access_token")
    assert not har_clean.is_credential("pinCode") and not har_clean.is_credential("tokenType")


@pytest.mark.parametrize("prefix", ["", "a", "ab", "agent7:", "u:"])
def test_a_secret_inside_a_longer_base64_text_is_redacted(prefix: str) -> None:
    """`Basic base64(user:secret)` in a header not named Authorization, a comment: the
    secret's base64 characters at any of the three alignments are found."""
    secret = "hk-ApiKey/9rT2+wQ7zLmX4"
    wrapped = base64.b64encode(f"{prefix}{secret}:tail".encode()).decode()
    headers = {"X-Upstream-Auth": f"Basic {wrapped}"}
    text = cleaned(har_of(entry("https://ops.example/x", headers=headers)), secret)
    assert wrapped not in text and "X-Upstream-Auth" in text


def test_a_urls_userinfo_password_is_redacted() -> None:
    capture = har_of(
        entry(
            "https://agent7:UserinfoPass-SEKRET-03@ops.example/x",
            headers={"Referer": "https://agent7:UserinfoPass-SEKRET-03@ops.example/console"},
        )
    )
    text = cleaned(capture)
    assert "UserinfoPass-SEKRET" not in text and "agent7" in text

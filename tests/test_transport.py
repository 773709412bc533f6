"""Transport safety: TLS verified, plain http:// only to loopback unless allowed,
proxies from the standard variables, files that hold secrets kept private.

A self-signed HTTPS server and a small recording proxy run on loopback in threads; the
CLI runs in-process against them.
"""

from __future__ import annotations

import asyncio
import datetime
import http.server
import ipaddress
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support import Invoke, assert_one_line_error, write_profiles

from wibmo_cli.profiles import resolve
from wibmo_cli.sandbox import Sandbox

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[1]
_PROFILE = {
    "client_id": "c",
    "bank_id": "1",
    "api_key": "k" * 16,
    "secure_code": "s" * 16,
    "encryption_key": "K" * 24,
}


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


# -- TLS ---------------------------------------------------------------------------------------


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A certificate for `host` signed by itself, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{host}.crt", directory / f"{host}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """Every request answered 503 with an HTML page: proof the TLS handshake worked."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><title>TLS OK</title></html>"
        self.send_response(503)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate: (url, cert file)."""
    cert, key = self_signed(tmp_path, "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_untrusted_certificate_fails_the_lookup_with_exit_5(
    wibmo: Invoke, https_server: tuple[str, Path]
) -> None:
    url, _ = https_server
    write_profiles(url, retries=2)
    result = wibmo("lookup", "--urn", "389")
    assert_one_line_error(result, 5, "TLS with 127.0.0.1")
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert "retrying" not in result.stderr  # a TLS failure is not retried


def test_the_same_server_trusted_through_ssl_cert_file_answers(
    wibmo: Invoke, https_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: trust the certificate and the handshake succeeds (the server then
    answers 503), so the failure above is certificate verification at work."""
    url, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    write_profiles(url, retries=0)
    result = wibmo("lookup", "--urn", "389")
    assert_one_line_error(result, 6, "HTTP 503")
    assert "TLS OK" in result.stderr


TRANSPORTS = {  # each way a request can leave, and what it ends with on that server
    "direct": (("lookup", "--urn", "389"), None),
    "direct-async": (("lookup", "--file", "urns.txt", "-o", "json"), None),
    "httpx": (("update-profile", "--urn", "389", "--email", "a@b.co", "--yes",
               "--card-profile-id", "30"), None),
}  # fmt: skip


@pytest.mark.parametrize("transport", list(TRANSPORTS))
@pytest.mark.parametrize("trusted", [False, True])
def test_every_transport_verifies_the_certificate(
    wibmo: Invoke,
    https_server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    trusted: bool,
) -> None:
    """One lookup (direct.py), a batch (direct.py, asyncio) and an update (httpx): an
    untrusted certificate fails the handshake; trusted through SSL_CERT_FILE, the same
    server is reached (it answers 503)."""
    url, cert = https_server
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    Path("urns.txt").write_text("urn\n389\n")
    write_profiles(url, retries=0)
    args, _ = TRANSPORTS[transport]
    result = wibmo(*args)
    said = result.stderr + result.stdout
    if trusted:
        assert "TLS OK" in said or "HTTP 50" in said, said  # 503; 501 for PATCH
        assert "CERTIFICATE_VERIFY_FAILED" not in said
    else:
        assert "CERTIFICATE_VERIFY_FAILED" in said, said
        assert result.exit_code == 5


def test_a_trusted_certificate_for_another_name_is_refused(
    wibmo: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path, "localhost")  # the server is reached as 127.0.0.1
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        write_profiles(f"https://127.0.0.1:{server.server_address[1]}", retries=0)
        result = wibmo("lookup", "--urn", "389")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert_one_line_error(result, 5, "TLS with 127.0.0.1")


# -- plain http:// -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://127.9.9.9", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("https://platform.example", True),
        ("http://platform.example", False),
        ("http://10.0.0.7:8080", False),
        ("http://localhost.platform.example", False),
        ("http://127.0.0.1.nip.io", False),
        ("http://[::ffff:10.0.0.1]", False),
    ],
)
def test_plain_http_only_to_loopback(url: str, allowed: bool) -> None:
    from wibmo_cli.errors import ConfigError

    profile = resolve("p", {"base_url": url, **_PROFILE}, {}, source="test")
    if allowed:
        profile.check_transport()
    else:
        with pytest.raises(ConfigError, match="allow_insecure_http = true"):
            profile.check_transport()
    insecure = resolve(
        "p", {"base_url": url, "allow_insecure_http": True, **_PROFILE}, {}, source="test"
    )
    insecure.check_transport()  # the profile said so


def test_plain_http_off_loopback_is_refused_before_anything_is_sent(
    wibmo: Invoke, sandbox: Sandbox
) -> None:
    write_profiles("http://platform.example")
    result = wibmo("lookup", "--urn", "389")
    assert_one_line_error(result, 3, "plain http:// to platform.example is refused")


def test_plain_http_to_localhost_works(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url.replace("127.0.0.1", "localhost"))
    result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr


# -- proxies ---------------------------------------------------------------------------------


class RecordingProxy:
    """An HTTP proxy on loopback that records each request line. Plain-HTTP requests
    are forwarded to `target` whatever host they name; CONNECT is refused (403)."""

    def __init__(self, target: tuple[str, int] | None = None) -> None:
        self.target = target
        self.lines: list[str] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.url = future.result(timeout=5)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *headers = head.decode("latin-1").split("\r\n")
            self.lines.append(line)
            method, url, version = line.split(" ")
            if method == "CONNECT" or self.target is None:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            length = 0
            kept = []
            for header in filter(None, headers):
                name, _, value = header.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                if name.lower() not in ("connection", "proxy-connection", "keep-alive"):
                    kept.append(header)
            body = await reader.readexactly(length)
            path = "/" + url.split("://", 1)[1].partition("/")[2]
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            request = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
            upstream_writer.write(request.encode("latin-1") + b"\r\n\r\n" + body)
            writer.write(await upstream_reader.read())
            upstream_writer.close()
            await writer.drain()
        finally:
            writer.close()


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_http_proxy_carries_plain_http_requests(
    wibmo: Invoke, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingProxy(_address(sandbox.url)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        write_profiles("http://platform.invalid", allow_insecure_http=True)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert proxy.lines == [
        "POST http://platform.invalid/api/v2/customer/retrieveCustRecord HTTP/1.1"
    ]
    assert [r.api for r in sandbox.requests] == ["lookup"]


def test_https_proxy_is_asked_to_connect(wibmo: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    with RecordingProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        write_profiles("https://platform.invalid", retries=0)
        result = wibmo("lookup", "--urn", "389")
    assert proxy.lines == ["CONNECT platform.invalid:443 HTTP/1.1"]
    assert_one_line_error(result, 5, "proxy")


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*"])
def test_no_proxy_exempts_a_host(
    wibmo: Invoke, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    with RecordingProxy() as proxy:  # forwards nothing: a request through it fails
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert proxy.lines == []
    assert [r.api for r in sandbox.requests] == ["lookup"]


def test_without_no_proxy_loopback_goes_through_the_proxy_too(
    wibmo: Invoke, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingProxy(_address(sandbox.url)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        write_profiles(sandbox.url)
        result = wibmo("lookup", "--urn", "389", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert len(proxy.lines) == 1


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("lookup", "--file", "urns.txt", "-o", "json"), id="batch"),
        pytest.param(("shell",), id="console"),
        pytest.param(("update-profile", "--file", "changes.csv", "--plan", "plan.jsonl"),
                     id="bulk-plan"),
        pytest.param(("update-profile", "--urn", "389", "--email", "p@x.co", "--yes",
                      "--card-profile-id", "150"), id="update"),
    ],
)  # fmt: skip
def test_every_command_goes_through_the_proxy(
    wibmo: Invoke, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """Batches, the console, a bulk plan and updates too, not only one lookup (httpx
    applies the proxy variables only to clients it builds its transport for)."""
    Path("urns.txt").write_text("urn\n389\n")
    Path("changes.csv").write_text("urn,city\n389,Proxyville\n")
    with RecordingProxy(_address(sandbox.url)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        write_profiles("http://platform.invalid", allow_insecure_http=True)
        result = wibmo(*command, input="389\n")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert proxy.lines, "nothing went through the proxy"
    assert all(" http://platform.invalid/" in line for line in proxy.lines), proxy.lines
    assert len(sandbox.requests) == len(proxy.lines)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
@pytest.mark.parametrize("command", [("lookup", "--urn", "389"), TRANSPORTS["httpx"][0],
                                     ("lookup", "--file", "urns.txt")])  # fmt: skip
def test_a_certificate_variable_naming_no_certificates_is_a_configuration_error(
    wibmo: Invoke,
    https_server: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    command: tuple[str, ...],
) -> None:
    url, _ = https_server
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificate here\n")
    monkeypatch.setenv(variable, str(empty if variable == "SSL_CERT_FILE" else tmp_path / "no"))
    Path("urns.txt").write_text("urn\n389\n")
    write_profiles(url, retries=0)
    result = wibmo(*command)
    if variable == "SSL_CERT_DIR":  # a directory is only read at the handshake: no CA
        assert result.exit_code == 5, result.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in result.stderr + result.stdout
        return
    assert_one_line_error(result, 3, f"{variable}=")


@pytest.mark.parametrize("command", [("lookup", "--urn", "389"), ("shell",)])
def test_an_unreachable_proxy_is_named_with_its_variable(
    wibmo: Invoke, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """Not "connection refused by <the endpoint>": the proxy is what did not answer,
    and where it came from (its password redacted)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pr0xypass@127.0.0.1:{port}")
    write_profiles(sandbox.url, retries=0)
    result = wibmo(*command, input="389\n")
    said = result.stdout + result.stderr
    assert f"cannot reach the proxy http://user:****@127.0.0.1:{port} (from HTTP_PROXY)" in said
    assert "connection refused" in said
    assert "pr0xypass" not in said
    if command[0] == "lookup":
        assert_one_line_error(result, 5, "cannot reach the proxy")


def test_the_proxy_variables_are_documented() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "Proxies are taken from the standard `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`" in (
        readme
    )
    security = (REPO / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"):
        assert name in security


# -- files that hold secrets -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["profiles.toml", ".env"])
@pytest.mark.parametrize(("mode", "warned"), [(0o640, True), (0o604, True), (0o600, False)])
def test_profiles_check_warns_about_a_file_others_can_read(
    wibmo: Invoke, sandbox: Sandbox, isolated: Path, name: str, mode: int, warned: bool
) -> None:
    write_profiles(sandbox.url)
    dotenv = isolated / ".env"
    dotenv.write_text("UNUSED=1\n", encoding="utf-8")
    dotenv.chmod(0o600)
    (isolated / name).chmod(mode)
    result = wibmo("profiles", "check", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert (f"chmod 600 {isolated / name}" in result.stdout) is warned
    assert "readable by group or others" not in result.stdout or warned


def test_the_audit_log_is_created_0600_whatever_the_umask(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url)
    old = os.umask(0)
    try:
        result = wibmo("lookup", "--urn", "389", "--reveal", "-o", "json")
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    log = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_an_existing_audit_log_keeps_its_mode(wibmo: Invoke, sandbox: Sandbox) -> None:
    write_profiles(sandbox.url)
    log = Path(os.environ["WIBMO_DATA_DIR"]) / "audit.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("", encoding="utf-8")
    log.chmod(0o400 | 0o200)
    result = wibmo("lookup", "--urn", "389", "--reveal", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_text(encoding="utf-8").count("\n") == 1
    log.chmod(0o620)  # group may write (a shared log): wibmo does not widen or narrow it
    wibmo("lookup", "--urn", "389", "--reveal", "-o", "json")
    assert stat.S_IMODE(log.stat().st_mode) == 0o620

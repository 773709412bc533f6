"""Issue 16: the CA bundle (about 40 ms to load) only for what can use TLS: an https://
endpoint, or an http:// one behind a proxy reached over https. A plain-HTTP sandbox on
loopback (the embedded one, `wibmo sandbox`) never checks a certificate."""

from __future__ import annotations

import ssl

import pytest

from wibmo_cli.client import Client, needs_tls
from wibmo_cli.profiles import DEMO_PROFILE, resolve


@pytest.mark.parametrize(
    ("url", "proxy", "wanted"),
    [
        ("http://127.0.0.1:8765", None, False),
        ("HTTP://127.0.0.1:8765", None, False),
        ("https://pp.example", None, True),
        ("http://127.0.0.1:8765", "https://proxy.example:3128", True),
        ("http://127.0.0.1:8765", "http://proxy.example:3128", False),
    ],
)
def test_tls_is_wanted_only_where_it_can_be_used(
    url: str, proxy: str | None, wanted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    assert needs_tls(url) is wanted


def test_a_client_of_an_https_endpoint_still_checks_certificates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[bool] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loaded.append(True)
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    profile = resolve("t", {**DEMO_PROFILE, "base_url": "https://pp.example"}, {}, source="t")
    Client(profile, "https://pp.example")
    assert loaded, "no CA bundle loaded for an https endpoint"
    loaded.clear()
    Client(profile, "http://127.0.0.1:8765")
    assert not loaded, "a CA bundle loaded for plain HTTP"

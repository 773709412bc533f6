"""The mitmproxy addon (wibmo_cli/mitm_addon.py), loaded as mitmproxy loads a script
(`-s PATH`: the file executed as a module of its own) under a stub of the few names of
mitmproxy's addon API it uses: `mitmproxy.contentviews.add`, `mitmproxy.ctx.options`, a
loader's `add_option`, flows with a request, a response and a comment."""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from support import (
    API_KEY,
    CLIENT_ID,
    SECURE_CODE,
    WIBMO,
    Invoke,
    child_env,
    codec,
    leaks,
    write_profiles,
)

from wibmo_cli.crypto import IvScheme, TokenCodec

STUB = {
    "mitmproxy/__init__.py": "",
    "mitmproxy/contentviews.py": "registered = []\n\ndef add(view):\n    registered.append(view)\n",
    "mitmproxy/ctx.py": "from types import SimpleNamespace\n\noptions = SimpleNamespace()\n",
}
REQUEST = {
    "messageCode": 1930,
    "clientTxnId": "T-mitm-1",
    "requestDateTime": "20261130091502",
    "customerMobile": "919897123456",
}
ANSWER = {
    "cardList": [{"urn": 389, "docList": [{"docNumber": "ABCDE1234A", "docType": "Pancard"}]}],
    "clientTxnId": "T-mitm-1",
    "messageCode": 1931,
    "responseCode": "00",
    "responseMessage": "SUCCESS",
}


class Loader:
    def __init__(self) -> None:
        self.options: dict[str, Any] = {}

    def add_option(self, name: str, typespec: type, default: Any, help: str) -> None:
        self.options[name] = (typespec, default, help)


class Message:
    def __init__(self, body: dict[str, Any] | bytes) -> None:
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode()


def flow(request: dict[str, Any] | bytes, response: dict[str, Any] | bytes) -> Any:
    return SimpleNamespace(request=Message(request), response=Message(response), comment="")


STUB_MODULES = ("mitmproxy", "mitmproxy.contentviews", "mitmproxy.ctx")


@pytest.fixture
def mitm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wibmo: Invoke
) -> Iterator[SimpleNamespace]:
    """The addon as mitmproxy would have it: the stub on sys.path, the file whose path
    `wibmo mitm-addon` prints executed as a script, loaded and configured."""
    for name, text in STUB.items():
        path = tmp_path / "stub" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path / "stub"))
    for name in STUB_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    printed = wibmo("mitm-addon")
    assert printed.exit_code == 0, printed.stderr
    path = Path(printed.stdout.strip())
    spec = importlib.util.spec_from_file_location("wibmo_addon_script", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    [addon] = script.addons
    loader = Loader()
    addon.load(loader)
    import mitmproxy.contentviews
    import mitmproxy.ctx

    ctx_options = mitmproxy.ctx.options
    for name, (_, default, _help) in loader.options.items():
        setattr(ctx_options, name, default)
    addon.configure(set(loader.options))
    yield SimpleNamespace(
        addon=addon,
        loader=loader,
        views=mitmproxy.contentviews.registered,
        options=ctx_options,
    )
    for name in STUB_MODULES:  # the stub imported here must not outlive the test
        sys.modules.pop(name, None)


def body(payload: dict[str, Any], tokens: TokenCodec | None = None, **beside: str) -> bytes:
    return json.dumps({"token": (tokens or codec()).encrypt_json(payload), **beside}).encode()


def test_wibmo_prints_the_addons_path_on_one_line(wibmo: Invoke) -> None:
    result = wibmo("mitm-addon")
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    assert Path(line).is_file() and Path(line).name == "mitm_addon.py"
    as_json = wibmo("mitm-addon", "-o", "json")
    assert json.loads(as_json.stdout) == {"path": line}


def test_load_registers_the_options_and_the_view(mitm: SimpleNamespace) -> None:
    assert set(mitm.loader.options) == {"wibmo_profile", "wibmo_profiles_file"}
    assert [view.name for view in mitm.views] == ["wibmo"]


def test_a_flow_is_commented_with_both_sides(mitm: SimpleNamespace) -> None:
    write_profiles("http://127.0.0.1:1")
    exchange = flow(body(REQUEST), body(ANSWER))
    mitm.addon.request(exchange)
    assert exchange.comment == "wibmo: messageCode 1930 · clientTxnId T-mitm-1"
    mitm.addon.response(exchange)
    assert exchange.comment.endswith(
        "⇒ messageCode 1931 · responseCode 00 SUCCESS · clientTxnId T-mitm-1"
    )


def test_the_view_shows_the_token_decrypted_and_masked(mitm: SimpleNamespace) -> None:
    write_profiles("http://127.0.0.1:1")
    [view] = mitm.views
    data = body(ANSWER)
    assert view.render_priority(data, None) > 1  # above mitmproxy's JSON view
    assert view.render_priority(b'{"plain": 1}', None) == 0
    assert view.render_priority(b"\x89PNG\x00", None) == 0
    shown = view.prettify(data, None)
    assert shown.startswith("wibmo: messageCode 1931 · responseCode 00 SUCCESS")
    assert '"docNumber": "******234A"' in shown and "ABCDE1234A" not in shown
    assert "profile hard, iv zero" in shown
    with pytest.raises(ValueError, match="no token"):
        view.prettify(b"<html></html>", None)


def test_credentials_beside_the_token_and_secrets_are_never_shown(
    mitm: SimpleNamespace,
) -> None:
    """A v3 body carries the credentials next to the token; a payload may quote a secret."""
    write_profiles("http://127.0.0.1:1")
    [view] = mitm.views
    quoting = {**REQUEST, "note": f"key {API_KEY} code {SECURE_CODE}"}
    data = body(quoting, clientId=CLIENT_ID, secureCode=SECURE_CODE, bankId="2010")
    shown = view.prettify(data, None)
    assert leaks(shown) == []
    assert '"bankId": "2010"' in shown and f'"clientId": "{CLIENT_ID}"' not in shown
    exchange = flow(data, b"")
    mitm.addon.request(exchange)
    assert leaks(exchange.comment) == []


def test_a_token_of_another_key_is_said_in_the_view(mitm: SimpleNamespace) -> None:
    write_profiles("http://127.0.0.1:1")
    [view] = mitm.views
    other = TokenCodec(b"another-24-byte-key-here", IvScheme("zero"))
    shown = view.prettify(body(REQUEST, other), None)
    assert shown.startswith("wibmo: the token does not decrypt (profile hard, iv zero)")


def test_the_profile_option_chooses_the_profile(mitm: SimpleNamespace) -> None:
    write_profiles(
        "http://127.0.0.1:1",
        extra_profiles={"other": {"base_url": "http://127.0.0.1:1", "iv": "key",
                                  "encryption_key": "${HARD_KEY}", "client_id": "X",
                                  "bank_id": "1", "api_key": "a", "secure_code": "b"}},
    )  # fmt: skip
    mitm.options.wibmo_profile = "other"
    mitm.addon.configure({"wibmo_profile"})
    [view] = mitm.views
    shown = view.prettify(body(ANSWER, codec("key")), None)
    assert "profile other, iv key" in shown and "responseCode 00" in shown


def test_no_profile_is_said_once_and_flows_pass(
    mitm: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    mitm.options.wibmo_profile = "nosuch"
    mitm.addon.configure({"wibmo_profile"})
    exchange = flow(body(REQUEST), body(ANSWER))
    mitm.addon.request(exchange)
    mitm.addon.response(exchange)
    assert exchange.comment.startswith("wibmo: cannot load the profile:")
    assert len([r for r in caplog.records if "cannot load the profile" in r.message]) == 1


def test_the_users_own_comment_is_kept(mitm: SimpleNamespace) -> None:
    write_profiles("http://127.0.0.1:1")
    exchange = flow(body(REQUEST), body(ANSWER))
    exchange.comment = "suspicious"
    mitm.addon.request(exchange)
    mitm.addon.response(exchange)
    assert exchange.comment == "suspicious"


def test_the_addon_finds_wibmo_when_mitmprox_python_lacks_it(tmp_path: Path) -> None:
    """mitmproxy's own Python without wibmo installed (here: no site-packages at all):
    the addon appends the directory it was shipped in, after mitmproxy's own paths."""
    import wibmo_cli.mitm_addon

    addon = str(wibmo_cli.mitm_addon.__file__)
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('a', {addon!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "import wibmo_cli\n"
        "print(type(module.addons[0]).__name__, sys.path[-1])\n"
    )
    script = tmp_path / "probe.py"
    script.write_text(code)
    done = subprocess.run(
        [WIBMO[0], "-S", "-I", str(script)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=tmp_path,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    name, appended = done.stdout.split()
    assert name == "WibmoAddon"
    assert Path(appended) == Path(wibmo_cli.mitm_addon.__file__).parent.parent


def test_loading_the_file_as_wibmo_does_needs_no_mitmproxy() -> None:
    spec = importlib.util.find_spec("mitmproxy")
    if spec is not None:  # pragma: no cover - a developer's venv with mitmproxy in it
        pytest.skip("mitmproxy is installed here")
    module = importlib.import_module("wibmo_cli.mitm_addon")
    assert isinstance(module, ModuleType) and module.addons


def test_the_view_speaks_mitmproxy_11s_api_too(mitm: SimpleNamespace) -> None:
    """mitmproxy 11 and before call a view with keyword metadata and want a description
    and lines of (style, text); mitmproxy 12 wraps only its own View class, so the one
    object serves both (checked by hand under mitmdump 11.0.2)."""
    write_profiles("http://127.0.0.1:1")
    [view] = mitm.views
    data = body(ANSWER)
    metadata = {"content_type": "application/json", "flow": None, "http_message": None}
    assert view.render_priority(data, **metadata) > 1
    description, lines = view(data, **metadata)
    assert description == "wibmo: decrypted"
    text = "\n".join("".join(chunk for _, chunk in line) for line in lines)
    assert text == view.prettify(data, None)
    with pytest.raises(ValueError, match="no token"):
        view(b"{}", **metadata)


def test_credentials_are_redacted_by_name_at_any_depth(mitm: SimpleNamespace) -> None:
    """Beside the token (`auth.secureCode`, `auth.Authorization`) and inside the
    decrypted JSON (a gateway echoing the request), whatever their values: not only
    the profile's own secrets, which the view already hides by value."""
    write_profiles("http://127.0.0.1:1")
    [view] = mitm.views
    echoed = {**ANSWER, "echo": {"request": [{"secureCode": "OTHER-SECURE-9999"}]}}
    data = body(
        echoed,
        auth={"secureCode": "OTHER-SECURE-8888", "Authorization": "Bearer OTHER-BEARER"},
    )
    shown = view.prettify(data, None)
    assert "OTHER-" not in shown, shown
    assert '"secureCode": "****' in shown and '"responseCode": "00"' in shown
    assert '"auth": {' in shown and '"Authorization": "****' in shown

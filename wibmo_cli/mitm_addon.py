"""A mitmproxy addon that shows the platform's tokens decrypted:
``mitmproxy -s "$(wibmo mitm-addon)" [--set wibmo_profile=NAME]``.

It needs no mitmproxy to be imported (wibmo ships it and prints its path); mitmproxy
loads it as a script and finds `addons`. On `load` the addon registers the option
`wibmo_profile` (else $WIBMO_PROFILE, else the profiles file's default, as wibmo
chooses; `wibmo_profiles_file` likewise) and a content view, "wibmo", in the form both of
mitmproxy's content view APIs take (12's Contentview protocol, 11's View):

- a body carrying a token in one of bodies.ENVELOPE_KEYS gets the view by default (it
  ranks above mitmproxy's JSON view): a line of what it is (messageCode, responseCode
  and its name, clientTxnId), the decrypted JSON indented, document numbers masked,
  and the body's other fields (v3 sends the credentials there);
- each flow whose request or answer holds a token gets a comment in the flow list (the
  same line), unless the user commented it already.

Never shown: the profile's secrets, in any form `har_clean.secret_forms` knows, nor the
value of any field named as a credential (`masking.is_credential_name`: secureCode,
Authorization, ...), at any depth, beside the token or inside its decrypted JSON. A
profile that cannot be loaded is said once in the event log and in the view; the flows
pass through untouched whatever happens (the addon only reads them).

mitmproxy's Python must import wibmo_cli: install wibmo there (`pipx inject mitmproxy
wibmo-cli`), or the addon appends the directory it was shipped in to sys.path, after
mitmproxy's own (its cryptography is used: mitmproxy depends on it too).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

VIEW_NAME: Final = "wibmo"
PRIORITY: Final = 2.0  # above mitmproxy's JSON view (1): a token's body opens decrypted
COMMENT_PREFIX: Final = "wibmo: "
MAX_BODY: Final = 1 << 20  # a body carrying a token is small; a bigger one is not read


def addon_path() -> Path:
    """This file, as `wibmo mitm-addon` prints it."""
    return Path(__file__).resolve()


def _import_wibmo() -> None:
    """Make wibmo_cli importable in mitmproxy's Python: the copy this file came in,
    appended after mitmproxy's own packages, when it is not installed there."""
    try:
        import wibmo_cli  # noqa: F401
    except ImportError:
        sys.path.append(str(addon_path().parent.parent))


class Decryptor:
    """The profile's codec and secrets, loaded once when first needed; bodies read."""

    def __init__(self) -> None:
        self.configure(None, None)

    def configure(self, profile: str | None, profiles_file: str | None) -> None:
        """Which profile (None: as wibmo chooses); loaded again when next needed."""
        self.profile_name = profile or None
        self.profiles_file = profiles_file or None
        self._loaded: tuple[Any, tuple[str, ...]] | None = None
        self.problem = ""
        self.label = ""

    def _load(self) -> tuple[Any, tuple[str, ...]] | None:
        if self._loaded is None and not self.problem:
            from wibmo_cli import profiles
            from wibmo_cli.errors import WibmoError
            from wibmo_cli.har_clean import secret_forms

            try:
                cwd = Path.cwd()
                env = profiles.environment_for(self.profiles_file, cwd)
                choice = profiles.choose(self.profile_name, self.profiles_file, env=env, cwd=cwd)
                chosen = profiles.load(choice)
                codec = chosen.codec()
            except WibmoError as exc:
                self.problem = f"{COMMENT_PREFIX}cannot load the profile: {exc.message}"
                logger.warning(self.problem)
                return None
            self._loaded = (codec, secret_forms([*chosen.secret_values(), codec.key]))
            self.label = f"profile {chosen.name}, iv {codec.scheme}"
        return self._loaded

    def has_token(self, data: bytes) -> bool:
        from wibmo_cli.har import read_body

        return read_body(_text(data)).token is not None

    def read(self, data: bytes) -> tuple[str, str] | None:
        """(one line saying what the body is, the view's whole text), or None when the
        body carries no token."""
        from wibmo_cli.har import Decrypted, decrypt_body, read_body
        from wibmo_cli.har_clean import redact_credentials
        from wibmo_cli.masking import mask

        body = read_body(_text(data))
        if body.token is None or body.envelope is None:
            return None
        loaded = self._load()
        if loaded is None:
            return self.problem, self.problem
        codec, forms = loaded
        opened = decrypt_body(body, lambda: codec) or Decrypted(error="no token")
        if opened.error:
            said = f"{COMMENT_PREFIX}the token does not decrypt ({self.label}): {opened.error}"
            return _scrub(said, forms), _scrub(said, forms)
        line = COMMENT_PREFIX + describe(opened.fields)
        shown = mask(opened.value)  # a copy: redacted in place below
        others = mask({key: value for key, value in body.envelope.items() if value != body.token})
        for value in (shown, others):
            redact_credentials(value)
        lines = [line, "", json.dumps(shown, indent=2, ensure_ascii=False)]
        if others:
            lines += ["", "beside the token:", json.dumps(others, indent=2, ensure_ascii=False)]
        lines += ["", f"({self.label}; document numbers masked)"]
        return _scrub(line, forms), _scrub("\n".join(lines), forms)


def describe(fields: dict[str, Any]) -> str:
    """messageCode, responseCode and its name, clientTxnId: what the flow list shows."""
    from wibmo_cli.codes import explain

    parts = []
    if "messageCode" in fields:
        parts.append(f"messageCode {fields['messageCode']}")
    if "responseCode" in fields:
        known = explain(str(fields["responseCode"]))
        name = f" {known.name}" if known else ""
        parts.append(f"responseCode {fields['responseCode']}{name}")
    if "clientTxnId" in fields:
        parts.append(f"clientTxnId {fields['clientTxnId']}")
    return " · ".join(parts) or "decrypted"


def _text(data: bytes) -> str | None:
    if len(data) > MAX_BODY:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _scrub(text: str, forms: tuple[str, ...]) -> str:
    from wibmo_cli.masking import redact
    from wibmo_cli.textsafe import visible

    for form in forms:
        text = text.replace(form, redact(form))
    return visible(text, lines=True)


class WibmoView:
    """A content view for both of mitmproxy's APIs, without importing mitmproxy: the
    Contentview protocol of mitmproxy 12 (name, syntax_highlight, prettify,
    render_priority(data, metadata)) and the View of mitmproxy 11 and before (called
    with the data and keyword metadata, answering a description and styled lines)."""

    name = VIEW_NAME
    syntax_highlight = "yaml"  # mitmproxy highlights JSON with its YAML highlighter

    def __init__(self, decryptor: Decryptor) -> None:
        self.decryptor = decryptor

    def prettify(self, data: bytes, metadata: Any) -> str:
        read = self.decryptor.read(data)
        if read is None:
            raise ValueError("no token in this body")  # mitmproxy shows it raw instead
        return read[1]

    def __call__(self, data: bytes, **metadata: Any) -> tuple[str, list[list[tuple[str, str]]]]:
        read = self.decryptor.read(data)
        if read is None:
            raise ValueError("no token in this body")  # mitmproxy shows it raw instead
        return "wibmo: decrypted", [[("text", line)] for line in read[1].splitlines()]

    def render_priority(self, data: bytes, metadata: Any = None, **unknown: Any) -> float:
        return PRIORITY if self.decryptor.has_token(data) else 0.0

    def __lt__(self, other: Any) -> bool:
        return str(self.name) < str(getattr(other, "name", ""))


class WibmoAddon:
    """The addon mitmproxy loads: the option, the view, a comment per flow."""

    def __init__(self) -> None:
        self.decryptor = Decryptor()
        self.view = WibmoView(self.decryptor)

    def load(self, loader: Any) -> None:
        from mitmproxy import contentviews  # type: ignore[import-not-found]

        loader.add_option(
            name="wibmo_profile",
            typespec=str,
            default="",
            help="wibmo profile whose key opens the tokens (default: $WIBMO_PROFILE, "
            "else the profiles file's default_profile)",
        )
        loader.add_option(
            name="wibmo_profiles_file",
            typespec=str,
            default="",
            help="wibmo profiles file (default: $WIBMO_PROFILES, else as wibmo finds it)",
        )
        contentviews.add(self.view)

    def configure(self, updates: Any) -> None:
        if {"wibmo_profile", "wibmo_profiles_file"} & set(updates):
            from mitmproxy import ctx

            options = ctx.options
            self.decryptor.configure(options.wibmo_profile, options.wibmo_profiles_file)

    def request(self, flow: Any) -> None:
        """The request's line as the flow's comment."""
        read = self._read(flow, flow.request)
        if read is not None:
            flow.comment = read

    def response(self, flow: Any) -> None:
        """The answer's line after the request's (`... ⇒ responseCode 00 SUCCESS ...`)."""
        read = self._read(flow, flow.response)
        if read is None:
            return
        said = getattr(flow, "comment", "")
        flow.comment = f"{said} ⇒ {read.removeprefix(COMMENT_PREFIX)}" if said else read

    def _read(self, flow: Any, message: Any) -> str | None:
        said = getattr(flow, "comment", "")
        if message is None or (said and not said.startswith(COMMENT_PREFIX)):
            return None  # the user's own comment is kept
        try:
            data = message.content
        except ValueError:  # a content-encoding mitmproxy cannot undo
            return None
        read = self.decryptor.read(data or b"")
        return None if read is None else read[0]


_import_wibmo()
addons = [WibmoAddon()]

"""A request as it goes on the wire, built from a profile and a payload. Pure: no network.

    credentials   x-api-key always in a header; clientId, bankId, entityId, secureCode (and
                  X-Consumer-Custom-ID when set) in headers or in the JSON body, per API:
                  the profile's `lookup_credentials` / `update_credentials` (a v3
                  environment wants the body for Retrieve Cust Record and headers for
                  Update Profile); a value HTTP cannot carry in a header is refused
    body          {"token": the payload encrypted (crypto.TokenCodec), ...body credentials}
    url           the endpoint's base URL + the API's path from the profile
    method        POST for Retrieve Cust Record; the profile's `update_method` for Update
                  Profile (PATCH in the documents' headers, POST on some pages)
    route         the method, path and placement as one value (`Route`): each API's from
                  the profile (`Wire.route`), or any path's (`wibmo call`, callapi.py),
                  with headers of the user's own

The client sends what this builds; a dry run shows it without sending it, so
`update-profile --dry-run --card-profile-id N` never imports the network code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from wibmo_cli.crypto import TokenCodec
from wibmo_cli.errors import ConfigError
from wibmo_cli.profiles import Profile

LOOKUP_METHOD: Final = "POST"
_PROFILE_KEYS: Final = {  # header or body field -> the profile key it comes from, for messages
    "x-api-key": "api_key",
    "clientId": "client_id",
    "bankId": "bank_id",
    "entityId": "entity_id",
    "secureCode": "secure_code",
    "X-Consumer-Custom-ID": "consumer_custom_id",
}


class Request(NamedTuple):
    """One request, ready to send or to show: `payload` is what `body["token"]` encrypts."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    payload: Mapping[str, Any]

    @property
    def content(self) -> bytes:
        return json.dumps(dict(self.body)).encode()


class Route(NamedTuple):
    """Where a request goes and how: its method, its path (after the base URL), where the
    credentials go ("headers" | "body"), and `extra_headers` of the user's own (`wibmo
    call -H`; each replaces a header of the same name, whatever its case)."""

    method: str
    path: str
    credentials: str
    extra_headers: Mapping[str, str] = MappingProxyType({})


class Wire:
    """One profile's requests: its credentials checked and placed once per placement,
    its token codec."""

    def __init__(self, profile: Profile) -> None:
        profile.require("api_key", "secure_code", "client_id", "bank_id")
        self.profile = profile
        self.codec: TokenCodec = profile.codec()
        self.update_method = str(profile.get("update_method"))
        self._placed: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        for api in ("lookup", "update"):  # checked now: a bad value stops any command
            self._placement(self.route(api).credentials)

    def route(self, api: str) -> Route:
        """The profile's route for one of its two APIs ("lookup" | "update")."""
        method = LOOKUP_METHOD if api == "lookup" else self.update_method
        path = str(self.profile.get(f"{api}_path"))
        return Route(method, path, str(self.profile.get(f"{api}_credentials")))

    def lookup_request(self, payload: Mapping[str, Any], base_url: str) -> Request:
        return self.request(self.route("lookup"), payload, base_url)

    def update_request(self, payload: Mapping[str, Any], base_url: str) -> Request:
        return self.request(self.route("update"), payload, base_url)

    def request(self, route: Route, payload: Mapping[str, Any], base_url: str) -> Request:
        url = self.profile.url(route.path, base_url)
        headers, body_fields = self._placement(route.credentials)
        if route.extra_headers:
            replaced = {name.lower() for name in route.extra_headers}
            headers = {k: v for k, v in headers.items() if k.lower() not in replaced}
            headers.update(route.extra_headers)
        body = {"token": self.codec.encrypt_json(payload), **body_fields}
        return Request(route.method, url, dict(headers), body, dict(payload))

    def _placement(self, where: str) -> tuple[dict[str, str], dict[str, str]]:
        if where not in self._placed:
            self._placed[where] = credentials(self.profile, where)
        return self._placed[where]


def credentials(profile: Profile, placement: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, body fields): headers always carry x-api-key; the other credentials go
    in headers or in the body, as `placement` ("headers" | "body") says."""
    creds = {
        "clientId": str(profile.get("client_id")),
        "bankId": str(profile.get("bank_id")),
        "entityId": str(profile.get("entity_id")),
        "secureCode": str(profile.get("secure_code")),
    }
    custom = str(profile.get("consumer_custom_id"))
    if custom:
        creds["X-Consumer-Custom-ID"] = custom
    headers = {
        "x-api-key": str(profile.get("api_key")),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    if placement == "body":
        _check_header_values(profile, headers)
        return headers, creds
    headers = {**headers, **creds}
    _check_header_values(profile, headers)
    return headers, {}


def _check_header_values(profile: Profile, headers: Mapping[str, str]) -> None:
    """Refuse a value HTTP cannot carry in a header, naming its key, never the value.

    Left to httpx, such a value fails mid-request with an error that quotes it whole:
    an api_key or secureCode with a line break or a space at either end would be printed.
    """
    for name, value in headers.items():
        if value.isascii() and value.isprintable() and value == value.strip():
            continue
        key = _PROFILE_KEYS.get(name, name)
        raise ConfigError(
            f"profile {profile.name!r}: {key} cannot be sent in an HTTP header: it has "
            "a space at either end, a line break, or a control or non-ASCII character",
        )

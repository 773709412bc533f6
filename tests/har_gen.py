"""A HAR capture of a browser-like session against the sandbox, as a browser exports it.

`record_session` drives real sandboxes on loopback with httpx (the seed variant:
credentials in headers; the v3 variant: the lookup's credentials in the body) the way an
operations console in a browser would, and writes each exchange down as Chrome's "Save
all as HAR" does (HAR 1.2): a page, the console's HTML, a login redirect, a script, a
logo (binary, base64), cookies both ways, an Authorization header, an API key in a
status call's query string, lookups answered gzip (the text decoded, bodySize
compressed), one base64-encoded answer, an unknown customer, an update, the gateway
refusing a wrong key (plain JSON), and a v3 lookup with its credentials in the body.

`validate` checks a HAR against the fields HAR 1.2 requires (the spec at
http://www.softwareishard.com/blog/har-12-spec/): what a viewer needs to open it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from support import API_KEY, BANK_ID, CLIENT_ID, SECURE_CODE, codec, txn_id

SESSION_COOKIE = "JSESSIONID=7f3a9c1e55b04d2a"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudDcifQ.c2lnbmF0dXJl"
CONSUMER = "consumer-7"
PAGE = "page_1"
START = datetime(2026, 11, 30, 9, 15, 2, 125000, tzinfo=timezone(timedelta(hours=5, minutes=30)))
LOGO = bytes(range(256)) * 4  # not UTF-8: a browser writes it base64
HTML = (
    "<!doctype html><html><head><title>Ops console</title></head>"
    "<body><div id=app></div><script src=/static/app.js></script></body></html>"
)
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Accept-Language": "en-IN,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br",
    "Origin": "https://ops.example",
    "Referer": "https://ops.example/console",
}


def _pairs(items: Any) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in items]


def _cookies(header: str) -> list[dict[str, Any]]:
    found = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found.append({"name": name, "value": value})
    return found


@dataclass
class Recorder:
    """Exchanges written down as HAR entries, the clock moving on as a session's would."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    clock: datetime = START

    def _entry(
        self,
        method: str,
        url: str,
        request_headers: list[dict[str, str]],
        body: str | None,
        status: int,
        response_headers: list[dict[str, str]],
        content: bytes,
        mime: str,
        elapsed_ms: float,
        *,
        base64_text: bool = False,
        gzip: bool = False,
        redirect: str = "",
        kind: str = "xhr",
    ) -> None:
        request_cookie = next((h["value"] for h in request_headers if h["name"] == "Cookie"), "")
        set_cookie = [h["value"] for h in response_headers if h["name"].lower() == "set-cookie"]
        text = base64.b64encode(content).decode() if base64_text else content.decode()
        size = len(content)
        body_size = size // 3 if gzip else size  # what a compressed answer took on the wire
        wait = max(elapsed_ms - 3.0, 0.5)
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": _cookies(request_cookie),
            "headers": request_headers,
            "queryString": _pairs(parse_qsl(urlsplit(url).query, keep_blank_values=True)),
            "headersSize": sum(len(h["name"]) + len(h["value"]) + 4 for h in request_headers),
            "bodySize": len(body.encode()) if body is not None else 0,
        }
        if body is not None:
            request["postData"] = {"mimeType": "application/json", "text": body}
        content_part: dict[str, Any] = {"size": size, "mimeType": mime, "text": text}
        if base64_text:
            content_part["encoding"] = "base64"
        if gzip:
            content_part["compression"] = size - body_size
        self.entries.append(
            {
                "pageref": PAGE,
                "startedDateTime": self.clock.isoformat(timespec="milliseconds"),
                "time": round(elapsed_ms + 1.5, 3),
                "request": request,
                "response": {
                    "status": status,
                    "statusText": httpx.codes.get_reason_phrase(status),
                    "httpVersion": "HTTP/1.1",
                    "cookies": [_cookies(value)[0] for value in set_cookie],
                    "headers": response_headers,
                    "content": content_part,
                    "redirectURL": redirect,
                    "headersSize": -1,
                    "bodySize": body_size,
                },
                "cache": {},
                "timings": {
                    "blocked": 0.5,
                    "dns": -1,
                    "connect": -1,
                    "ssl": -1,
                    "send": 1.0,
                    "wait": round(wait, 3),
                    "receive": round(elapsed_ms + 1.5 - 1.5 - wait, 3),
                },
                "serverIPAddress": "127.0.0.1",
                "connection": str(1000 + len(self.entries)),
                "_resourceType": kind,
            }
        )
        self.clock += timedelta(milliseconds=elapsed_ms + 180)

    def page(self, url: str, status: int, content: bytes, mime: str, **extra: Any) -> None:
        """An exchange the console's browser made with the web server (no sandbox)."""
        headers = _pairs({**BROWSER_HEADERS, "Cookie": SESSION_COOKIE}.items())
        answer = [
            {"name": "Content-Type", "value": mime},
            {"name": "Set-Cookie", "value": f"{SESSION_COOKIE}; Path=/; HttpOnly; Secure"},
        ]
        self._entry("GET", url, headers, None, status, answer, content, mime, 12.0, **extra)

    def call(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        headers: dict[str, str],
        **extra: Any,
    ) -> httpx.Response:
        """A real request to a sandbox, written down with what came back."""
        sent = {**BROWSER_HEADERS, **headers, "Cookie": SESSION_COOKIE, "Authorization": BEARER}
        started = time.perf_counter()
        response = client.request(method, url, json=body, headers=sent)
        sent_body = response.request.content.decode() if body is not None else None
        elapsed = (time.perf_counter() - started) * 1000
        request_headers = _pairs(response.request.headers.multi_items())
        answer_headers = _pairs(response.headers.multi_items())
        if extra.get("gzip"):
            answer_headers.append({"name": "Content-Encoding", "value": "gzip"})
        self._entry(
            method,
            str(response.request.url),
            request_headers,
            sent_body,
            response.status_code,
            answer_headers,
            response.content,
            response.headers.get("content-type", "application/json"),
            elapsed,
            **extra,
        )
        return response

    def har(self) -> dict[str, Any]:
        return {
            "log": {
                "version": "1.2",
                "creator": {"name": "WebInspector", "version": "537.36"},
                "browser": {"name": "Chrome", "version": "131.0.6778.85"},
                "pages": [
                    {
                        "startedDateTime": START.isoformat(timespec="milliseconds"),
                        "id": PAGE,
                        "title": "https://ops.example/console",
                        "pageTimings": {"onContentLoad": 412.3, "onLoad": 655.0},
                    }
                ],
                "entries": self.entries,
            }
        }


def headers(**override: str) -> dict[str, str]:
    return {
        "x-api-key": API_KEY,
        "clientId": CLIENT_ID,
        "bankId": BANK_ID,
        "entityId": "100",
        "secureCode": SECURE_CODE,
        **override,
    }


def lookup_payload(**fields: Any) -> dict[str, Any]:
    return {
        "messageCode": 1930,
        "clientTxnId": txn_id(),
        "requestDateTime": "20261130091502",
        **fields,
    }


@dataclass
class Session:
    """What `record_session` sent, to check the timeline against."""

    har: dict[str, Any]
    sent: list[dict[str, Any]] = field(default_factory=list)  # the payloads, in order


def record_session(seed_url: str, v3_url: str | None = None) -> Session:
    """A console's session: pages, then lookups and an update against the seed sandbox,
    the gateway refusing a wrong key, and (given `v3_url`) a v3 lookup."""
    recorder = Recorder()
    session = Session({})
    tokens = codec()

    def body(payload: dict[str, Any], **beside: str) -> dict[str, Any]:
        session.sent.append(payload)
        return {"token": tokens.encrypt_json(payload), **beside}

    recorder.page(
        "https://ops.example/login?next=/console",
        302,
        b"",
        "text/html",
        redirect="https://ops.example/console",
        kind="document",
    )
    recorder.page("https://ops.example/console", 200, HTML.encode(), "text/html", kind="document")
    recorder.page(
        "https://ops.example/static/app.js", 200, b"console.log('ops');", "text/javascript"
    )
    recorder.page("https://ops.example/static/logo.png", 200, LOGO, "image/png", base64_text=True)
    with httpx.Client(base_url=seed_url, timeout=10.0) as client:
        recorder.call(client, "GET", f"/__sandbox/status?apiKey={API_KEY}&view=short", None, {})
        lookup = "/api/v2/customer/retrieveCustRecord"
        recorder.call(
            client, "POST", lookup, body(lookup_payload(customerMobile="919897123456")), headers(),
            gzip=True,
        )  # fmt: skip
        recorder.call(
            client, "POST", lookup, body(lookup_payload(urn="389")), headers(), base64_text=True
        )
        recorder.call(
            client, "POST", lookup, body(lookup_payload(customerMobile="919000000001")), headers()
        )
        update = {
            "messageCode": "1280",
            "clientTxnId": txn_id(),
            "requestDateTime": "20261130091510",
            "urn": "389",
            "cardProfileId": "150",
            "cardholderCity": "Pune",
        }
        recorder.call(
            client, "PATCH", "/mob1/api/onboarding/v1/updateProfile", body(update), headers()
        )
        refused = body(lookup_payload(customerMobile="919897123456"))
        recorder.call(client, "POST", lookup, refused, headers(**{"x-api-key": "wrong-key-123"}))
    if v3_url is not None:
        with httpx.Client(base_url=v3_url, timeout=10.0) as client:
            beside = {
                "clientId": CLIENT_ID,
                "bankId": BANK_ID,
                "entityId": "100",
                "secureCode": SECURE_CODE,
                "X-Consumer-Custom-ID": CONSUMER,
            }
            recorder.call(
                client,
                "POST",
                "/uat/sbx/api/onboarding/v3/retrieveCustRecord",
                body(lookup_payload(customerMobile="919897123456"), **beside),
                {"x-api-key": API_KEY},
            )
    session.har = recorder.har()
    return session


# -- HAR 1.2, as a viewer needs it -----------------------------------------------------------

REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "log": {"version": str, "creator": dict, "entries": list},
    "creator": {"name": str, "version": str},
    "page": {"startedDateTime": str, "id": str, "title": str, "pageTimings": dict},
    "entry": {
        "startedDateTime": str,
        "time": (int, float),
        "request": dict,
        "response": dict,
        "cache": dict,
        "timings": dict,
    },
    "request": {
        "method": str,
        "url": str,
        "httpVersion": str,
        "cookies": list,
        "headers": list,
        "queryString": list,
        "headersSize": int,
        "bodySize": int,
    },
    "response": {
        "status": int,
        "statusText": str,
        "httpVersion": str,
        "cookies": list,
        "headers": list,
        "content": dict,
        "redirectURL": str,
        "headersSize": int,
        "bodySize": int,
    },
    "content": {"size": int, "mimeType": str},
    "postData": {"mimeType": str},
    "timings": {"send": (int, float), "wait": (int, float), "receive": (int, float)},
    "pair": {"name": str, "value": str},
}


def _has(where: str, value: Any, kind: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{where}: not an object"
        return
    for name, typ in REQUIRED[kind].items():
        if name not in value:
            yield f"{where}: no {name}"
        elif not isinstance(value[name], typ) or isinstance(value[name], bool):
            yield f"{where}.{name}: {type(value[name]).__name__}"


def validate(har: Any) -> list[str]:
    """What keeps `har` from being a HAR 1.2 (empty: nothing)."""
    problems = list(_has("har", har, "log")) if not isinstance(har, dict) else []
    if problems or "log" not in har:
        return problems or ["no log"]
    log = har["log"]
    problems += _has("log", log, "log")
    problems += _has("log.creator", log.get("creator"), "creator")
    for index, page in enumerate(log.get("pages", [])):
        problems += _has(f"pages[{index}]", page, "page")
    for index, entry in enumerate(log.get("entries", [])):
        where = f"entries[{index}]"
        problems += _has(where, entry, "entry")
        request, response = entry.get("request", {}), entry.get("response", {})
        problems += _has(f"{where}.request", request, "request")
        problems += _has(f"{where}.response", response, "response")
        problems += _has(f"{where}.response.content", response.get("content"), "content")
        problems += _has(f"{where}.timings", entry.get("timings"), "timings")
        if "postData" in request:
            post = request["postData"]
            problems += _has(f"{where}.request.postData", post, "postData")
            size = request["bodySize"]
            if "text" in post and size >= 0 and size != len(post["text"].encode()):
                problems.append(f"{where}.request.bodySize != len(postData.text)")
        for part, rows in (
            ("request.headers", request.get("headers", [])),
            ("request.cookies", request.get("cookies", [])),
            ("request.queryString", request.get("queryString", [])),
            ("response.headers", response.get("headers", [])),
            ("response.cookies", response.get("cookies", [])),
        ):
            for row in rows:
                problems += _has(f"{where}.{part}[]", row, "pair")
        content = response.get("content", {})
        text = content.get("text")
        if isinstance(text, str):
            data = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()
            if content.get("size", -1) >= 0 and content["size"] != len(data):
                problems.append(f"{where}.response.content.size != len(text)")
        if "encoding" in content and content["encoding"] != "base64":
            problems.append(f"{where}.response.content.encoding: {content['encoding']!r}")
    try:
        json.dumps(har)
    except (TypeError, ValueError) as exc:
        problems.append(f"not JSON: {exc}")
    return problems

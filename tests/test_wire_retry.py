"""Lookup retries, their waits recorded by an injected sleep (no real backoff slept).

test_client.py pins which failures are retried and how often; these pin how long each
wait is (exponential with jitter, Retry-After honoured, every wait within
MAX_RETRY_WAIT), what `-v` says about it, and that inside an update only the lookup is
retried. Each runs in milliseconds where the end-to-end tests slept seconds.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from support import unit_profile

from wibmo_cli.changes import UpdateRequest
from wibmo_cli.client import BACKOFF_BASE, Client
from wibmo_cli.errors import HTTPStatusError
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.profiles import MAX_RETRY_WAIT
from wibmo_cli.send import Result, send_update

BASE_URL = "https://pp.test"


class Scripted:
    """Replies in order (the last one repeated); the waits asked of `sleep`, recorded."""

    def __init__(self, *replies: httpx.Response | Exception, retries: int = 2) -> None:
        self.profile = unit_profile(BASE_URL, retries=retries)
        self.replies = list(replies)
        self.methods: list[str] = []
        self.waits: list[float] = []
        self.trace: list[str] = []

    def ok(self, **answer: Any) -> httpx.Response:
        token = self.profile.codec().encrypt_json({"responseCode": "00", **answer})
        return httpx.Response(200, json={"token": token})

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def sleep(self, delay: float) -> None:
        self.waits.append(delay)

    def client(self) -> Client:
        transport = httpx.MockTransport(self.handler)
        return Client(
            self.profile, BASE_URL, transport=transport, sleep=self.sleep, trace=self.trace.append
        )

    def lookup(self) -> Any:
        async def run() -> Any:
            async with self.client() as client:
                return await client.lookup(lookup_payload(Identifiers(urn="389")))

        return asyncio.run(run())


def test_the_client_sleeps_with_asyncio_unless_given_another_sleep() -> None:
    assert inspect.signature(Client).parameters["sleep"].default is asyncio.sleep


def test_waits_grow_exponentially_with_jitter_and_never_pass_the_cap() -> None:
    server = Scripted(httpx.Response(503), retries=10)
    with pytest.raises(HTTPStatusError):
        server.lookup()
    assert len(server.methods) == 11 and len(server.waits) == 10
    for attempt, wait in enumerate(server.waits, start=1):
        step = min(BACKOFF_BASE * 2 ** (attempt - 1), 8.0)
        assert 0.75 * step <= wait <= min(1.25 * step, MAX_RETRY_WAIT), (attempt, wait)
    assert max(server.waits) <= MAX_RETRY_WAIT


def test_retry_after_as_an_http_date_is_honoured_and_junk_falls_back_to_backoff() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    late = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    server = Scripted(retries=3)
    server.replies = [
        httpx.Response(429, headers={"Retry-After": soon}),
        httpx.Response(503, headers={"Retry-After": late}),
        httpx.Response(503, headers={"Retry-After": "²".encode()}),  # not ASCII digits
        server.ok(),
    ]
    server.lookup()
    first, second, third = server.waits
    assert 3.0 < first <= 5.0
    assert second == MAX_RETRY_WAIT
    assert 0.75 * 2.0 <= third <= 1.25 * 2.0  # the third backoff step


def test_each_retry_is_said_in_the_trace_with_its_wait_and_cause() -> None:
    server = Scripted(retries=2)
    server.replies = [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.Response(503, headers={"Retry-After": "2"}),
        server.ok(),
    ]
    exchange = server.lookup()
    assert exchange.attempts == 3
    retrying = [line for line in server.trace if line.startswith("* retrying in")]
    assert retrying[0].startswith(f"* retrying in {server.waits[0]:.1f}s after: connection refused")
    assert retrying[1] == "* retrying in 2.0s after HTTP 503"


def test_inside_an_update_the_lookup_is_retried_and_the_update_is_not() -> None:
    server = Scripted(retries=2)
    record = {"cardList": [{"urn": 389, "profileId": 150}]}
    server.replies = [httpx.Response(503), server.ok(**record), httpx.Response(503)]
    request = UpdateRequest(Identifiers(urn="389"), {"emailId": "a@example.com"})

    class Audit:
        def record(self, **fields: Any) -> None:
            pass

    async def run() -> Result:
        async with server.client() as client:
            outcome = await send_update(
                client, request, decide=lambda p, r: True, audit=Audit(), warn=print
            )
            return outcome.result

    assert asyncio.run(run()) is Result.UNKNOWN
    assert server.methods == ["POST", "POST", "PATCH"]
    assert len(server.waits) == 1  # before the second lookup only

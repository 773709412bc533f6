"""`send.send_update` and `send.build_dry_run`: the write path's rules, against
`httpx.MockTransport` (no server, no terminal, milliseconds each).

Sent once and never retried; a 4xx is refused; a connection that never opened is not
sent; anything after sending is outcome unknown with the clientTxnId; audited before and
after; a "no" from `decide`, a failed lookup or an unwritable log send nothing; a dry
run builds the request and sends nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support import CLIENT_ID, unit_profile

from wibmo_cli.changes import Plan, UpdateRequest
from wibmo_cli.client import Client
from wibmo_cli.errors import (
    ApiError,
    ConfigError,
    ExitStatus,
    InputError,
    NetworkError,
    NothingSentError,
    OutcomeUnknownError,
)
from wibmo_cli.messages import Identifiers
from wibmo_cli.profiles import Profile
from wibmo_cli.send import (
    SANDBOX_URL,
    Outcome,
    Progress,
    Result,
    build_dry_run,
    send_update,
)

BASE_URL = "https://pp.test"
UPDATE_URL = BASE_URL + "/mob1/api/onboarding/v1/updateProfile"
RECORD = {
    "responseCode": "00",
    "cardList": [{"urn": 389, "profileId": 150, "firstName": "ABC", "email": "old@x.com"}],
}
Reply = httpx.Response | Exception | Callable[[httpx.Request], Any]


def make_profile(**override: Any) -> Profile:
    return unit_profile(BASE_URL, **{"retries": 5, **override})  # an update is never retried


@dataclass
class Audit:
    entries: list[dict[str, Any]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)  # results whose entry cannot be written

    def record(self, **fields: Any) -> None:
        if fields["result"] in self.fail:
            raise ConfigError("cannot write the audit log /x/audit.jsonl: No space left")
        self.entries.append(fields)

    @property
    def results(self) -> list[str]:
        return [e["result"] for e in self.entries]


@dataclass
class Platform:
    """Scripted answers: each request to an API takes the next of its replies."""

    profile: Profile = field(default_factory=make_profile)
    lookups: list[Reply] = field(default_factory=list)
    updates: list[Reply] = field(default_factory=list)
    seen: list[httpx.Request] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        replies = self.updates if request.method == "PATCH" else self.lookups
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            reply = reply(request)
            if asyncio.iscoroutine(reply):
                reply = await reply
        assert isinstance(reply, httpx.Response)
        return reply

    async def sleep(self, delay: float) -> None:
        self.waits.append(delay)

    def answer(self, value: dict[str, Any], status: int = 200) -> httpx.Response:
        return httpx.Response(status, json={"token": self.profile.codec().encrypt_json(value)})

    def echo(self, code: str = "00") -> Callable[[httpx.Request], httpx.Response]:
        """An answer for the clientTxnId the request carries."""

        def reply(request: httpx.Request) -> httpx.Response:
            sent = self.profile.codec().decrypt_json(json.loads(request.content)["token"])
            assert isinstance(sent, dict)
            answer = {"responseCode": code, "clientTxnId": sent["clientTxnId"]}
            return self.answer({**answer, "accosaTransactionId": 7})

        return reply

    def api(self, method: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.method == method]


@dataclass
class Run:
    """One `send_update`: what `decide` was shown, what was warned."""

    platform: Platform
    audit: Audit = field(default_factory=Audit)
    go: bool = True
    shown: list[tuple[Plan, dict[str, Any] | None]] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)

    def decide(self, plan: Plan, record: dict[str, Any] | None) -> bool:
        self.shown.append((plan, record))
        return self.go

    async def _send(self, request: UpdateRequest, **kw: Any) -> Outcome:
        transport = httpx.MockTransport(self.platform.handler)
        profile = self.platform.profile
        async with Client(profile, BASE_URL, transport=transport, sleep=self.platform.sleep) as c:
            return await send_update(
                c,
                request,
                decide=self.decide,
                audit=self.audit,
                warn=self.warned.append,
                progress=self.progress,
                **kw,
            )

    def __call__(self, request: UpdateRequest | None = None, **kw: Any) -> Outcome:
        return asyncio.run(self._send(request or known(), **kw))


def known(**changes: Any) -> UpdateRequest:
    """An update whose current KYC profile is given: no lookup needed."""
    return UpdateRequest(
        Identifiers(urn="389"), changes or {"emailId": "new@example.com"}, card_profile_id=150
    )


def unknown_profile() -> UpdateRequest:
    return UpdateRequest(Identifiers(urn="389"), {"emailId": "new@example.com"})


# -- sent once ---------------------------------------------------------------------------


def test_an_answered_update_is_sent_once_and_audited_before_and_after() -> None:
    platform = Platform()
    platform.updates = [platform.echo()]
    run = Run(platform)
    outcome = run()
    assert outcome.result is Result.ANSWERED and outcome.sent
    assert outcome.exchange is not None and outcome.exchange.answer["responseCode"] == "00"
    assert len(platform.seen) == 1 and str(platform.seen[0].url) == UPDATE_URL
    assert run.audit.results == ["sending", "answered"]
    entry = run.audit.entries[1]
    assert outcome.plan is not None
    assert entry["clientTxnId"] == outcome.plan.client_txn_id
    assert (entry["responseCode"], entry["accosaTransactionId"]) == ("00", 7)
    assert entry["fields"] == ["emailId"] and entry["identifiers"] == "urn ***"
    assert run.progress.exchange is outcome.exchange


def test_another_response_code_is_still_answered() -> None:
    platform = Platform()
    platform.updates = [platform.echo("1309")]
    outcome = Run(platform)()
    assert outcome.result is Result.ANSWERED
    assert outcome.exchange is not None and outcome.exchange.answer["responseCode"] == "1309"


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(503, text="<html><title>busy</title></html>"),
        httpx.Response(502),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected"),
        httpx.Response(200, content=b"not json"),
    ],
    ids=["503", "502", "timeout", "dropped", "unreadable"],
)
def test_anything_after_sending_is_outcome_unknown_never_retried(reply: Reply) -> None:
    platform = Platform(updates=[reply])
    run = Run(platform)
    outcome = run()
    assert outcome.result is Result.UNKNOWN and outcome.sent
    assert isinstance(outcome.error, OutcomeUnknownError)
    assert outcome.plan is not None
    assert outcome.error.client_txn_id == outcome.plan.client_txn_id
    assert len(platform.seen) == 1 and platform.waits == []  # never resent
    assert run.audit.results == ["sending", "outcome unknown"]
    assert run.audit.entries[1]["error"] == outcome.error.cause
    assert "may or may not" not in outcome.error.cause  # the cause alone, as a field


def test_an_answer_for_another_client_txn_id_is_outcome_unknown() -> None:
    platform = Platform()
    platform.updates = [platform.answer({"responseCode": "00", "clientTxnId": "WOTHER"})]
    outcome = Run(platform)()
    assert outcome.result is Result.UNKNOWN
    assert isinstance(outcome.error, OutcomeUnknownError)
    assert "'WOTHER', not the one sent" in outcome.error.cause


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_4xx_is_refused_not_applied(status: int) -> None:
    platform = Platform(updates=[httpx.Response(status, json={"message": "no"})])
    run = Run(platform)
    outcome = run()
    assert outcome.result is Result.REFUSED
    assert outcome.error is not None and outcome.error.exit_status == ExitStatus.HTTP
    assert run.audit.results == ["sending", f"HTTP {status}"]
    assert len(platform.seen) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("[Errno 111] Connection refused"), httpx.ConnectTimeout("slow")],
    ids=["refused", "connect-timeout"],
)
def test_a_connection_that_never_opened_is_not_sent(error: Exception) -> None:
    platform = Platform(updates=[error])
    run = Run(platform)
    outcome = run()
    assert outcome.result is Result.NOT_SENT and not outcome.sent
    assert isinstance(outcome.error, NetworkError) and outcome.error.sent is False
    assert outcome.error.message == f"{outcome.error.cause}; nothing was sent"
    assert run.audit.results == ["sending", "not sent"]
    assert not run.progress.sent
    assert platform.waits == []  # not retried either


# -- nothing sent ---------------------------------------------------------------------------


def test_decide_saying_no_sends_nothing_and_audits_nothing() -> None:
    platform = Platform()
    run = Run(platform, go=False)
    outcome = run()
    assert outcome.result is Result.DECLINED and not outcome.sent
    assert platform.seen == [] and run.audit.entries == []
    assert len(run.shown) == 1


def test_decide_sees_the_plan_and_the_looked_up_record_when_previewing() -> None:
    platform = Platform()
    platform.lookups = [platform.answer(RECORD)]
    platform.updates = [platform.echo()]
    run = Run(platform)
    outcome = run(preview=True)
    assert [r.method for r in platform.seen] == ["POST", "PATCH"]
    plan, record = run.shown[0]
    assert record == RECORD and plan is outcome.plan
    assert plan.payload["emailId"] == "new@example.com"


def test_an_unknown_kyc_profile_is_looked_up_first() -> None:
    platform = Platform()
    platform.lookups = [platform.answer(RECORD)]
    platform.updates = [platform.echo()]
    outcome = Run(platform)(unknown_profile())
    assert outcome.plan is not None and outcome.plan.payload["cardProfileId"] == "150"


def test_no_lookup_when_the_kyc_profile_is_given_and_nothing_is_previewed() -> None:
    platform = Platform()
    platform.updates = [platform.echo()]
    run = Run(platform)
    run()
    assert [r.method for r in platform.seen] == ["PATCH"]
    assert run.shown[0][1] is None


def test_a_failed_lookup_sends_nothing_and_keeps_its_exit_code() -> None:
    platform = Platform(profile=make_profile(retries=0))
    platform.lookups = [httpx.ConnectError("[Errno 111] Connection refused")]
    run = Run(platform)
    with pytest.raises(NothingSentError) as caught:
        run(unknown_profile())
    error = caught.value
    assert isinstance(error.error, NetworkError)  # what failed, as a field
    assert error.step == "the lookup before the update"
    assert error.exit_status == ExitStatus.NETWORK
    assert error.message == (
        f"the lookup before the update failed: {error.error.message}; nothing was sent"
    )
    assert platform.api("PATCH") == [] and run.audit.entries == [] and run.shown == []


def test_a_lookup_that_finds_nobody_sends_nothing() -> None:
    platform = Platform()
    platform.lookups = [platform.answer({"responseCode": "1303"})]
    run = Run(platform)
    with pytest.raises(ApiError, match=r"answered 1303 .*; nothing was sent"):
        run(unknown_profile())
    assert platform.api("PATCH") == []


def test_a_full_kyc_rule_found_after_the_lookup_sends_nothing() -> None:
    platform = Platform()
    platform.lookups = [platform.answer({**RECORD, "cardList": [{"urn": 389, "profileId": 30}]})]
    run = Run(platform)
    request = UpdateRequest(Identifiers(urn="389"), {"newcardProfileId": 150})
    with pytest.raises(InputError, match="needs the address"):
        run(request)
    assert platform.api("PATCH") == [] and run.audit.entries == []


def test_an_audit_log_that_cannot_take_the_sending_entry_sends_nothing() -> None:
    platform = Platform()
    run = Run(platform, audit=Audit(fail={"sending"}))
    with pytest.raises(NothingSentError, match="No space left; nothing was sent") as caught:
        run()
    assert caught.value.exit_status == ExitStatus.CONFIG
    assert platform.seen == []


def test_an_audit_log_that_fails_after_sending_is_warned_about_not_fatal() -> None:
    platform = Platform()
    platform.updates = [platform.echo()]
    run = Run(platform, audit=Audit(fail={"answered"}))
    outcome = run()
    assert outcome.result is Result.ANSWERED
    assert run.warned == ["cannot write the audit log /x/audit.jsonl: No space left"]


# -- interrupted, and bugs ----------------------------------------------------------------


def test_cancelled_while_sending_is_audited_and_raised_with_progress_said() -> None:
    platform = Platform()
    started = asyncio.Event()

    async def never(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    platform.updates = [never]
    run = Run(platform)

    async def main() -> None:
        task = asyncio.ensure_future(run._send(known()))
        await started.wait()
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())
    assert run.audit.results == ["sending", "interrupted: outcome unknown"]
    said = run.progress.interrupted()
    assert said.result is Result.INTERRUPTED and said.sent and said.exchange is None


def test_a_bug_while_sending_still_completes_the_audit_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: Client, payload: dict[str, Any]) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(Client, "update", broken)
    run = Run(Platform())
    with pytest.raises(ValueError, match="a bug"):
        run()
    assert run.audit.results == ["sending", "outcome unknown"]
    assert run.audit.entries[1]["error"] == "internal error (ValueError)"


# -- dry runs ---------------------------------------------------------------------------------


def test_a_dry_run_builds_the_request_and_sends_nothing() -> None:
    profile = make_profile(credentials="body")
    audit = Audit()
    outcome = build_dry_run(profile, known(), decide=lambda plan, record: True, audit=audit)
    assert outcome.result is Result.DRY_RUN and not outcome.sent
    request = outcome.request
    assert request is not None and outcome.plan is not None
    assert (request.method, request.url) == ("PATCH", UPDATE_URL)
    assert profile.codec().decrypt_json(str(request.body["token"])) == outcome.plan.payload
    assert request.body["clientId"] == CLIENT_ID  # body placement, as the profile says
    assert audit.results == ["not sent (dry run)"]
    assert audit.entries[0]["action"] == "dry-run"


def test_an_embedded_dry_run_targets_wibmo_sandbox() -> None:
    outcome = build_dry_run(
        make_profile(base_url="embedded"), known(), decide=lambda p, r: True, audit=Audit()
    )
    assert outcome.request is not None
    assert outcome.request.url.startswith(SANDBOX_URL + "/")


def test_a_dry_run_that_needs_the_kyc_profile_looks_it_up_and_sends_nothing() -> None:
    platform = Platform()
    platform.lookups = [platform.answer(RECORD)]
    run = Run(platform)
    outcome = run(unknown_profile(), dry_run=True)
    assert outcome.result is Result.DRY_RUN
    assert [r.method for r in platform.seen] == ["POST"]
    assert run.audit.results == ["not sent (dry run)"]
    assert run.shown[0][1] == RECORD  # decide is shown what the lookup found


def test_a_dry_run_whose_audit_entry_cannot_be_written_shows_nothing() -> None:
    with pytest.raises(NothingSentError, match="nothing was sent"):
        build_dry_run(
            make_profile(),
            known(),
            decide=lambda p, r: True,
            audit=Audit(fail={"not sent (dry run)"}),
        )

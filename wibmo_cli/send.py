"""One Update Profile, sent at most once: the write path's rules, with no terminal in them.
(`send_once`, `AuditEntry` and `dry_run_base_url` serve `wibmo call`'s writes too.)

    lookup    when a preview wants the record, or the card's KYC profile is not given;
              a failure or an answer that is not a success (the profile's
              success_codes) stops it: nothing sent
    plan      changes.plan: fields the lookup shows as asked already left out, nothing
              left to change, the full-KYC rules (InputError: nothing sent)
    decide    the caller's preview and confirmation: no -> DECLINED, nothing sent
    audit     "sending" (a log that cannot be written: nothing sent)
    send      client.update, once: never retried once it may have left
    audit     the result, then the outcome:
              ANSWERED   an answer came (whatever its responseCode)
              REFUSED    a 4xx: refused, not applied
              NOT_SENT   it never left (refused connection, DNS, a connect timeout)
              UNKNOWN    it may have been applied: the caller says how to check

A dry run stops after `decide`: the request is built (wire.py) and audited, not sent;
`dry_run` builds it with no client at all when the KYC profile is given.

Audited: every request handed to the network (an entry before sending and one with the
result, so even a crash leaves a trace) and every dry run (it prints a replayable token).
Not audited: input errors, refusals and declined confirmations (nothing was built to be
sent, or nothing left the machine). Ctrl-C or SIGTERM while sending is audited
"interrupted: outcome unknown" and raised on; `Progress` says how far the update got.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from wibmo_cli.errors import (
    ApiError,
    ConfigError,
    HTTPStatusError,
    NetworkError,
    NothingSentError,
    OutcomeUnknownError,
    WibmoError,
)
from wibmo_cli.sandbox_port import SANDBOX_URL

if TYPE_CHECKING:
    from wibmo_cli.changes import Plan, UpdateRequest
    from wibmo_cli.client import Client, Exchange
    from wibmo_cli.profiles import Profile
    from wibmo_cli.wire import Request


# decide(plan, record): True to go on. `record` is the lookup's answer, when there was one.
Decide = Callable[["Plan", "dict[str, Any] | None"], bool]
Warn = Callable[[str], None]


class JournalRecorder(Protocol):
    """Where an update's intent and outcome go with their values (journal.Events)."""

    def sending(self, row: int | None, txn: str, **details: Any) -> None: ...
    def outcome(self, row: int | None, txn: str, result: str, **details: Any) -> None: ...


class AuditRecorder(Protocol):
    """Where entries go (audit.AuditLog); `record` raises ConfigError when it cannot."""

    def record(self, **fields: Any) -> Any: ...


class Result(StrEnum):
    ANSWERED = "answered"
    REFUSED = "refused"
    NOT_SENT = "not sent"
    UNKNOWN = "outcome unknown"
    DECLINED = "declined"
    DRY_RUN = "dry run"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """What became of one update. `exchange` for ANSWERED (and INTERRUPTED after the
    answer came); `error` for REFUSED, NOT_SENT and UNKNOWN; `request` for DRY_RUN."""

    result: Result
    plan: Plan | None
    sent: bool
    exchange: Exchange | None = None
    error: WibmoError | None = None
    request: Request | None = None


@dataclass
class Progress:
    """How far one update got, kept as it goes: what to say when it is interrupted."""

    plan: Plan | None = None
    sent: bool = False
    exchange: Exchange | None = None

    def interrupted(self) -> Outcome:
        return Outcome(Result.INTERRUPTED, self.plan, self.sent, exchange=self.exchange)


async def send_update(
    client: Client,
    request: UpdateRequest,
    *,
    decide: Decide,
    audit: AuditRecorder,
    warn: Warn,
    preview: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    journal: JournalRecorder | None = None,
) -> Outcome:
    """Look up (if `preview` or the KYC profile is not given), plan, decide, then send
    once and audit, or (`dry_run`) build and audit only. Errors before sending are
    raised (nothing was sent); what happens once it is handed over is the outcome.
    `journal` keeps the fields now and as sent, for `reconcile` (journal.py)."""
    progress = progress if progress is not None else Progress()
    record = None
    if preview or request.card_profile_id is None:
        record = await _look_up(client, request)
    if dry_run:
        return build_dry_run(client.profile, request, decide=decide, audit=audit, record=record)
    plan = plan_update(client.profile, request, record)
    progress.plan = plan
    if not decide(plan, record):
        return Outcome(Result.DECLINED, plan, sent=False)
    entry = AuditEntry(audit, warn, update_audit(request, plan))
    if journal is None:
        return await send_once(lambda: client.update(plan.payload), entry, progress, plan)
    txn = plan.client_txn_id
    try:  # on disk before it is sent, or it is not sent
        journal.sending(None, txn, **intent(client.profile.name, request.identifiers, plan, record))
    except WibmoError as exc:
        raise NothingSentError(exc) from None
    try:
        outcome = await send_once(lambda: client.update(plan.payload), entry, progress, plan)
    except BaseException:
        _journal_after(journal, warn, txn, str(Result.INTERRUPTED), {})
        raise
    _journal_after(journal, warn, txn, *outcome_details(outcome))
    return outcome


def _journal_after(
    journal: JournalRecorder, warn: Warn, txn: str, result: str, details: dict[str, Any]
) -> None:
    """The outcome, journaled; a journal that cannot take it is warned about (the
    outcome is said anyway, and the audit log has it)."""
    try:
        journal.outcome(None, txn, result, **details)
    except WibmoError as exc:
        warn(str(exc))


def intent(
    profile: str, identifiers: Any, plan: Plan, record: dict[str, Any] | None
) -> dict[str, Any]:
    """What the journal keeps before an update is sent: who, and each field now and as
    it will be (`customer_now.before_after`; the record is the lookup's, when one ran)."""
    from wibmo_cli.customer_now import before_after, customer_record

    shown = None if record is None else customer_record(record, identifiers.urn)
    return {
        "profile": profile,
        "identifiers": identifiers.given(),
        "cardProfileId": plan.current_profile,
        "fields": before_after(plan.changes, shown, plan.current_profile),
    }


def outcome_details(outcome: Outcome) -> tuple[str, dict[str, Any]]:
    """(the journal's result, its details) for an update's outcome."""
    details: dict[str, Any] = {}
    if outcome.exchange is not None:
        details["responseCode"] = outcome.exchange.answer.get("responseCode")
    if outcome.error is not None:
        details["error"] = outcome.error.message
    return str(outcome.result), details


async def send_once(
    send: Callable[[], Awaitable[Exchange]],
    entry: AuditEntry,
    progress: Progress,
    plan: Plan | None = None,
) -> Outcome:
    """One write handed to the network once (`send`: the client's `update`, which never
    resends), audited before ("sending") and after (the result): the outcome. Shared by
    update-profile and `wibmo call`'s writes."""
    import asyncio

    entry.record(result="sending")
    progress.sent = True
    try:
        exchange = await send()
    except OutcomeUnknownError as exc:  # it may have been applied
        entry.record(result="outcome unknown", error=exc.cause)
        return Outcome(Result.UNKNOWN, plan, sent=True, error=exc)
    except (NetworkError, ConfigError) as exc:  # could not connect: it never left
        progress.sent = False
        entry.record(result="not sent", error=exc.message)
        return Outcome(Result.NOT_SENT, plan, sent=False, error=exc)
    except HTTPStatusError as exc:  # a 4xx: refused, not applied
        entry.record(result=f"HTTP {exc.status}", error=exc.message)
        return Outcome(Result.REFUSED, plan, sent=True, error=exc)
    except (asyncio.CancelledError, KeyboardInterrupt):  # Ctrl-C or SIGTERM
        entry.record(result="interrupted: outcome unknown")
        raise
    except Exception as exc:  # a bug in wibmo: still no entry left at "sending"
        entry.record(result="outcome unknown", error=f"internal error ({type(exc).__name__})")
        raise
    progress.exchange = exchange  # from here on the outcome is known, whatever interrupts
    answer = exchange.answer
    entry.record(
        result="answered",
        responseCode=answer.get("responseCode"),
        accosaTransactionId=answer.get("accosaTransactionId"),
        **({"encrypted": False} if exchange.plain else {}),
    )
    return Outcome(Result.ANSWERED, plan, sent=True, exchange=exchange)


def build_dry_run(
    profile: Profile,
    request: UpdateRequest,
    *,
    decide: Decide,
    audit: AuditRecorder,
    record: dict[str, Any] | None = None,
) -> Outcome:
    """The request an update would send, built and audited, not sent: no network code.
    Its URL is `dry_run_base_url`'s."""
    from wibmo_cli.wire import Wire

    base_url = dry_run_base_url(profile)
    wire = Wire(profile)
    plan = plan_update(profile, request, record)
    if not decide(plan, record):
        return Outcome(Result.DECLINED, plan, sent=False)
    built = wire.update_request(plan.payload, base_url)
    fields = update_audit(request, plan, action="dry-run")
    AuditEntry(audit, None, fields).record(result="not sent (dry run)")
    return Outcome(Result.DRY_RUN, plan, sent=False, request=built)


def dry_run_base_url(profile: Profile) -> str:
    """The base URL a dry run shows: the profile's, checked as a real send would check
    it, or for an embedded profile `wibmo sandbox`'s default (the one a pasted curl can
    reach)."""
    if profile.embedded:
        return SANDBOX_URL
    profile.check_transport()
    return str(profile.get("base_url"))


def plan_update(profile: Profile, request: UpdateRequest, record: dict[str, Any] | None) -> Plan:
    """The payload, for the KYC profile the lookup shows (checked against one given),
    leaving out what the lookup shows is so already, in the profile's spelling
    (`fields.Dialect`)."""
    from wibmo_cli.changes import plan
    from wibmo_cli.customer_now import current_profile, customer_record
    from wibmo_cli.fields import Dialect

    current = request.card_profile_id
    customer = None
    if record is not None:
        current = current_profile(record, request.identifiers.urn, current)
        customer = customer_record(record, request.identifiers.urn)
    assert current is not None  # looked up when not given
    code = int(profile.get("update_message_code"))
    return plan(request, current, record=customer, message_code=code, dialect=Dialect.of(profile))


async def _look_up(client: Client, request: UpdateRequest) -> dict[str, Any]:
    """The customer as the platform has them now; the whole answer, checked."""
    from wibmo_cli.codes import explain, is_success, normalise_code
    from wibmo_cli.messages import lookup_payload

    code = int(client.profile.get("lookup_message_code"))
    try:
        exchange = await client.lookup(lookup_payload(request.identifiers, message_code=code))
    except WibmoError as exc:
        raise NothingSentError(exc, step="the lookup before the update") from exc
    answer = exchange.answer
    if not is_success(answer.get("responseCode"), client.profile.get("success_codes")):
        found = normalise_code(str(answer.get("responseCode", "?")))
        known = explain(found)
        what = f"{found} {known.name}: {known.meaning.rstrip('.')}" if known else found
        raise ApiError(
            f"the lookup before the update answered {what}; nothing was sent",
            response=answer,
        )
    return answer


class AuditEntry:
    """One write's audit entries: its `fields` (who, what; never a value, never a
    secret), then a result each time.

    An entry that cannot be written before sending (or for a dry run, before it is
    shown) stops it: nothing sent. After sending, it is only warned about."""

    def __init__(self, audit: AuditRecorder, warn: Warn | None, fields: dict[str, Any]) -> None:
        self.audit = audit
        self.warn = warn
        self.fields = fields

    def record(self, *, result: str, **extra: Any) -> None:
        try:
            self.audit.record(**self.fields, result=result, **extra)
        except ConfigError as exc:
            if self.warn is None or result == "sending":  # before anything is sent or shown
                raise NothingSentError(exc) from None
            self.warn(str(exc))


def update_audit(request: UpdateRequest, plan: Plan, *, action: str = "update") -> dict[str, Any]:
    """An update's audit fields: who, which fields (never a value), the clientTxnId."""
    fields: dict[str, Any] = {
        "command": "update-profile",
        "action": action,
        "identifiers": request.identifiers.describe(),
        "clientTxnId": plan.client_txn_id,
        "fields": plan.changed(),
    }
    if plan.new_profile is not None:
        fields["kycProfile"] = f"{plan.current_profile}->{plan.new_profile}"
    return fields

"""Bulk profile updates, step two: a reviewed plan's rows sent, each at most once, with a
journal that survives Ctrl-C, kill -9 and crashes.

For each "change" row of the plan, in file order, one in flight per client:

    rebuilt       the row checked again as update-profile checks a request (a plan edited
                  by hand is no shortcut past validation) -> "invalid", nothing sent
    --if-unchanged  the customer looked up: a field or the KYC profile no longer as the
                  plan saw it -> "stale", never sent from this plan; a failed lookup ->
                  "not sent" (resent on --resume)
    journal       "sending", on disk (fsync) BEFORE the request is handed to the network
    send          `send.send_once`: audited, never retried once it may have left
    journal       the outcome: answered (with its responseCode), refused (4xx), not sent
                  (it never left), outcome unknown

On `--resume` the journal decides (journal.py): a row journaled "sending" is sent again
only when its outcome was "not sent"; answered, refused, stale and reconciled rows are
done; every other row is unknown, listed, and left for `wibmo reconcile JOURNAL`.
A journal that cannot be written stops the run: nothing more is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.bulkplan import VERSION as PLAN_VERSION
from wibmo_cli.bulkplan import for_each
from wibmo_cli.changes import UpdateRequest, parse_request
from wibmo_cli.codes import is_success
from wibmo_cli.errors import ExitStatus, InputError, OutputError, WibmoError
from wibmo_cli.journal import Journal, JournalState
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.paths import read_capped

if TYPE_CHECKING:
    from wibmo_cli.batch import Pace
    from wibmo_cli.changes import Plan
    from wibmo_cli.claims import Claims
    from wibmo_cli.client import Client
    from wibmo_cli.profiles import Profile
    from wibmo_cli.send import AuditRecorder, Outcome

MAX_PLAN: Final = 256 << 20

# A row's result -> the exit status it stands for (the run exits with the worst).
STATUS: Final = {
    "applied": ExitStatus.OK,
    "answered": ExitStatus.API_ERROR,  # another responseCode: not applied
    "stale": ExitStatus.API_ERROR,  # the customer changed since the plan: not sent
    "elsewhere": ExitStatus.API_ERROR,  # sent by another apply of this plan: not sent
    "invalid": ExitStatus.USAGE,
    "refused": ExitStatus.HTTP,
    "not sent": ExitStatus.NETWORK,
    "outcome unknown": ExitStatus.NETWORK,
    "interrupted": ExitStatus.NETWORK,
}


@dataclass(frozen=True)
class PlanFile:
    path: Path
    sha256: str
    header: dict[str, Any]
    rows: list[dict[str, Any]]

    def changes(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row.get("status") == "change"]


def read_plan(path: Path) -> PlanFile:
    """The plan at `path` (InputError: not a plan, or not all of one)."""
    data = read_capped(path, "--apply", MAX_PLAN, "not a plan")
    lines = data.split(b"\n")
    try:
        parsed = [json.loads(line) for line in lines if line.strip()]
    except ValueError:
        raise InputError(f"--apply {path}: not a plan (a line is not JSON)") from None
    header = parsed[0] if parsed and isinstance(parsed[0], dict) else {}
    rows = parsed[1:]
    if header.get("plan") != PLAN_VERSION or not all(isinstance(r, dict) for r in rows):
        raise InputError(f"--apply {path}: not a plan written by update-profile --plan")
    if header.get("rows") != len(rows):
        raise InputError(
            f"--apply {path}: the header says {header.get('rows')} rows and the file has "
            f"{len(rows)}: a plan cut short or edited; plan again"
        )
    _check_rows(rows, path)
    return PlanFile(path, hashlib.sha256(data).hexdigest(), header, rows)


def _canonical(who: Any) -> str:
    """A plan row's identifiers as one text, written any way (leading zeros of a URN,
    a mobile's country prefix): the same customer compares equal."""
    if not isinstance(who, dict):
        return json.dumps(who)
    parts = []
    for kind, value in sorted(who.items()):
        text = str(value).strip()
        if kind == "urn":
            text = text.lstrip("0")
        elif kind == "mobile":
            text = "".join(ch for ch in text if ch.isdigit())[-10:]
        parts.append(f"{kind}={text}")
    return ";".join(parts)


def _check_rows(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Refuse a plan whose rows could not each be kept apart in the journal: a row number
    that is not a whole number, or a row number, clientTxnId or customer given twice
    (a plan edited by hand; update-profile --plan writes none of these)."""
    seen: dict[str, set[Any]] = {
        "row number": set(), "clientTxnId": set(), "customer": set(), "found customer": set()
    }  # fmt: skip
    for row in rows:
        number = row.get("row")
        if not isinstance(number, int) or isinstance(number, bool):
            raise InputError(f"--apply {path}: a row number {number!r} is not a whole number")
        keys: dict[str, Any] = {"row number": number}
        if row.get("status") == "change":
            keys["clientTxnId"] = row.get("clientTxnId")
            keys["customer"] = _canonical(row.get("identifiers"))
            if row.get("customer") is not None:  # who the plan's lookup found
                keys["found customer"] = row.get("customer")
        for what, key in keys.items():
            if key in seen[what]:
                raise InputError(
                    f"--apply {path}: {what} {key!r} is on two rows: an edited plan; plan again"
                )
            seen[what].add(key)


@dataclass
class RowResult:
    row: int
    client_txn_id: str
    identifiers: dict[str, str]
    result: str
    response_code: str | None = None
    message: str | None = None

    @property
    def status(self) -> int:
        return int(STATUS.get(self.result, ExitStatus.NETWORK))


@dataclass
class ApplySummary:
    results: list[RowResult] = field(default_factory=list)
    done_before: int = 0  # rows the journal shows done by an earlier run
    unknown_before: list[dict[str, Any]] = field(default_factory=list)  # their "sending"
    interrupted: bool = False
    stopped: str | None = None  # why the run stopped sending (a journal that failed)

    def count(self, result: str) -> int:
        return sum(1 for r in self.results if r.result == result)

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return int(ExitStatus.INTERRUPTED)
        worst = max((r.status for r in self.results), default=0)
        if self.unknown_before or self.stopped:
            worst = max(worst, int(ExitStatus.NETWORK))
        return worst


@dataclass(frozen=True)
class ApplySettings:
    if_unchanged: bool = False


class JournalFailed(Exception):
    """The journal could not be written: no more rows may be sent."""


Rows = list[dict[str, Any]]


def to_send(plan: PlanFile, state: JournalState | None) -> tuple[Rows, int, Rows]:
    """(the rows to send now, how many are done, the "sending" of each unknown row)."""
    if state is None:
        return plan.changes(), 0, []
    rows: Rows = []
    unknown: Rows = []
    done = 0
    for row in plan.changes():
        known = state.rows.get(row["row"])
        if row["row"] in state.stale:
            done += 1
        elif known is None or known.may_send:
            rows.append(row)
        elif known.unknown:
            unknown.append(known.sending)
        else:
            done += 1
    return rows, done, unknown


class Applier:
    """Sends a plan's rows through `clients`, journaled and audited."""

    def __init__(
        self,
        profile: Profile,
        journal: Journal,
        audit: AuditRecorder,
        settings: ApplySettings,
        pace: Pace,
        *,
        warn: Callable[[str], None],
        on_row: Callable[[RowResult], object] | None = None,
        claims: Claims | None = None,
    ) -> None:
        self.claims = claims
        self.profile = profile
        self.journal = journal
        self.audit = audit
        self.settings = settings
        self.pace = pace
        self.warn = warn
        self.on_row = on_row
        self.summary = ApplySummary()

    async def run(self, rows: Sequence[dict[str, Any]], clients: Sequence[Client]) -> ApplySummary:
        try:
            await for_each(rows, clients, self._one)
        except asyncio.CancelledError:
            self.summary.interrupted = True
        except JournalFailed as exc:
            self.summary.stopped = str(exc)
        return self.summary

    def _done(self, result: RowResult) -> None:
        self.summary.results.append(result)
        if self.on_row is not None:
            self.on_row(result)

    async def _one(self, row: dict[str, Any], client: Client) -> None:
        if self.summary.stopped:
            return
        number, txn = int(row["row"]), str(row.get("clientTxnId", ""))
        who = dict(row.get("identifiers") or {})
        try:
            request, plan = rebuilt(row, self.profile)
        except InputError as exc:
            self._done(RowResult(number, txn, who, "invalid", message=exc.message))
            return
        await self.pace.wait()
        if self.settings.if_unchanged:
            why = await self._changed_since(client, request, row)
            if why is not None:
                result, message = why
                if result == "stale":
                    await self._journal(lambda: self.journal.skipped(number, txn, message))
                self._done(RowResult(number, txn, who, result, message=message))
                return
        await self._send(client, row, request, plan)

    async def _changed_since(
        self, client: Client, request: UpdateRequest, row: dict[str, Any]
    ) -> tuple[str, str] | None:
        """("stale", what changed) or ("not sent", why the lookup failed); None: as planned."""
        from wibmo_cli.customer_now import changed_since

        code = int(self.profile.get("lookup_message_code"))
        try:
            exchange = await client.lookup(lookup_payload(request.identifiers, message_code=code))
        except WibmoError as exc:
            return "not sent", f"the lookup for --if-unchanged failed: {exc.message}"
        answer = exchange.answer
        if not is_success(answer.get("responseCode"), self.profile.get("success_codes")):
            return (
                "not sent",
                f"the lookup for --if-unchanged answered {answer.get('responseCode')}",
            )
        changed = changed_since(row.get("fields") or {}, answer, request.identifiers.urn,
                                int(row["cardProfileId"]))  # fmt: skip
        if changed:
            return "stale", "changed since the plan: " + ", ".join(changed)
        return None

    async def _send(
        self, client: Client, row: dict[str, Any], request: UpdateRequest, plan: Plan
    ) -> None:
        from wibmo_cli.send import AuditEntry, Progress, outcome_details, send_once, update_audit

        number, txn = int(row["row"]), plan.client_txn_id
        who = dict(row.get("identifiers") or {})
        if await self._claimed_elsewhere(number, txn, who):
            return
        details = {
            "profile": self.profile.name,
            "identifiers": who,
            "cardProfileId": plan.current_profile,
            "fields": row.get("fields") or {},
        }
        await self._journal(lambda: self.journal.sending(number, txn, **details))
        fields = update_audit(request, plan, action="bulk update")
        entry = AuditEntry(self.audit, self.warn, {**fields, "row": number})
        try:
            outcome = await send_once(lambda: client.update(plan.payload), entry, Progress(), plan)
        except WibmoError as exc:  # the audit log failed before sending: nothing sent
            said = exc.message
            await self._journal(lambda: self.journal.outcome(number, txn, "not sent", error=said))
            raise JournalFailed(said) from None
        except BaseException:  # Ctrl-C or SIGTERM: written, and on disk when the run ends
            self._journal_now(lambda: self.journal.outcome(number, txn, "interrupted"))
            self._done(RowResult(number, txn, who, "interrupted"))
            raise
        result, extra = outcome_details(outcome)
        await self._journal(lambda: self.journal.outcome(number, txn, result, **extra))
        self._done(self._result(number, txn, who, outcome, result))

    async def _claimed_elsewhere(self, number: int, txn: str, who: dict[str, str]) -> bool:
        """Whether another apply (a copy of this plan, another --journal) sent this row:
        then it is journaled as never to be sent from here, and not sent."""
        if self.claims is None:
            return False
        try:
            other = self.claims.claim(txn, self.journal.ident, self.journal.path)
        except WibmoError as exc:
            self.summary.stopped = exc.message
            raise JournalFailed(exc.message) from None
        if other is None:
            return False
        why = (
            f"sent by another apply of this plan (journal {other}): reconcile there; "
            "if that journal is gone, look the customer up and plan again"
        )
        await self._journal(lambda: self.journal.skipped(number, txn, why))
        self._done(RowResult(number, txn, who, "elsewhere", message=why))
        return True

    def _result(
        self, number: int, txn: str, who: dict[str, str], outcome: Outcome, result: str
    ) -> RowResult:
        if outcome.exchange is not None:
            code = outcome.exchange.answer.get("responseCode")
            ok = is_success(code, self.profile.get("success_codes"))
            shown = None if code is None else str(code)
            return RowResult(number, txn, who, "applied" if ok else "answered", shown)
        message = outcome.error.message if outcome.error is not None else None
        return RowResult(number, txn, who, result, message=message)

    async def _journal(self, write: Callable[[], None]) -> None:
        """`write` an event and wait until it is on disk; a journal that cannot take it
        stops the run (JournalFailed): nothing more is sent."""
        try:
            write()
            await self.journal.durable()
        except OutputError as exc:
            self.summary.stopped = str(exc)
            raise JournalFailed(str(exc)) from None

    def _journal_now(self, write: Callable[[], None]) -> None:
        """An event written while the run is being cancelled (no await possible): the
        journal's close makes it durable."""
        try:
            write()
        except OutputError as exc:
            self.summary.stopped = str(exc)


def rebuilt(row: dict[str, Any], profile: Profile) -> tuple[UpdateRequest, Plan]:
    """A plan row as update-profile would build it: checked again, its clientTxnId kept,
    every planned field sent (the plan already left out what was so)."""
    from wibmo_cli.changes import plan
    from wibmo_cli.fields import Dialect

    label = f"plan row {row.get('row')}"
    fields, who = row.get("fields"), row.get("identifiers")
    txn, current = row.get("clientTxnId"), row.get("cardProfileId")
    if not isinstance(fields, dict) or not fields or not isinstance(who, dict):
        raise InputError(f"{label}: no fields or no customer: plan again")
    if not isinstance(txn, str) or not txn or not isinstance(current, int):
        raise InputError(f"{label}: no clientTxnId or cardProfileId: plan again")
    prefix = str(profile.get("mobile_prefix"))
    identifiers = Identifiers.parse(
        **{k: str(v) for k, v in who.items() if k in ("urn", "mobile", "customer_id")},
        mobile_prefix=prefix,
        as_options=False,
    )
    new = {name: value.get("new") for name, value in fields.items() if isinstance(value, dict)}
    request = parse_request(
        identifiers,
        {},
        patch=new,
        patch_label=label,
        mobile_prefix=prefix,
        card_profile_id=str(current),
    )
    code = int(profile.get("update_message_code"))
    built = plan(
        request, current, message_code=code, client_txn_id=txn, dialect=Dialect.of(profile)
    )
    return request, built

"""`wibmo reconcile`: for each update whose outcome is unknown, what the platform shows now.

    journal (a bulk apply's, or single updates')  --pending_in_journal-->  Pending
    audit log's update-profile entries            --audit_unknowns-->      their clientTxnIds
    Pending + the customer's lookup answer        --classify-->            Verdict

An update's outcome is unknown when it may have reached the platform and no answer said
what became of it (journal.RowState.unknown; in the audit log a last result of
"sending", "outcome unknown" or "interrupted: outcome unknown"). The journal kept each
field as it was and as planned; the lookup shows it now. Per field:

    as planned      the lookup shows the planned value
    as it was       it shows the value before the update
    not as planned  it shows another value, and the value before is not known
    neither         it shows a value that is neither
    not compared    the lookup does not show it (documents, flags it has no key for)

Values are compared as the platform holds them (`customer_now.as_held`: a mobile with or
without 91, a date of birth as 16-Nov-1993 or 19931116), newcardProfileId against the
card's KYC profile (profileId). The update's verdict:

    applied              every compared field as planned
    not applied          every compared field as it was (or not as planned)
    changed differently  anything else: a field neither, or some as planned and some not
    cannot tell          no field to compare, the customer not found, the lookup failed

Pure but for `reconcile_all`, which runs the lookups (a few at once) and hands each
verdict to a callback as soon as it is known: what Ctrl-C leaves is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.codes import explain, is_success, normalise_code
from wibmo_cli.customer_now import as_held, customer_record, shown_now
from wibmo_cli.errors import InputError, WibmoError
from wibmo_cli.fields import BY_NAME
from wibmo_cli.masking import mask
from wibmo_cli.messages import Identifiers, lookup_payload

if TYPE_CHECKING:
    from wibmo_cli.client import Exchange
    from wibmo_cli.journal import JournalState, RowState

APPLIED: Final = "applied"
NOT_APPLIED: Final = "not applied"
CHANGED: Final = "changed differently"
CANNOT_TELL: Final = "cannot tell"
VERDICTS: Final = (APPLIED, NOT_APPLIED, CHANGED, CANNOT_TELL)

AS_PLANNED: Final = "as planned"
AS_IT_WAS: Final = "as it was"
NOT_AS_PLANNED: Final = "not as planned"
NEITHER: Final = "neither"
NOT_COMPARED: Final = "not compared"

# An update-profile's last audited result that leaves its outcome unknown (send.py).
AUDIT_UNKNOWN: Final = frozenset({"sending", "outcome unknown", "interrupted: outcome unknown"})
NO_JOURNAL_ENTRY: Final = "no journal entry"
_IDENTIFIER_KINDS: Final = Identifiers._fields

Lookup = Callable[[dict[str, Any]], Awaitable["Exchange"]]


@dataclass(frozen=True)
class Pending:
    """One update whose outcome is unknown, as the journal kept it."""

    txn: str
    row: int | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)  # Identifiers' fields
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # {now, new}
    profile: str | None = None
    who: str = ""  # masked; from the audit log when the journal has no entry
    missing: str | None = None  # why it cannot be looked up

    def described(self) -> str:
        """Who, masked as the audit log has it (`Identifiers.describe`)."""
        known = Identifiers.of_given(self.identifiers)
        return known.describe() if known is not None else self.who


@dataclass(frozen=True)
class FieldCheck:
    """One journaled field: as planned, as it was, as the lookup shows it now."""

    planned: Any
    was: Any
    now: Any
    state: str


@dataclass(frozen=True)
class Verdict:
    update: Pending
    verdict: str
    why: str
    fields: Mapping[str, FieldCheck] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The JSON line: who masked as in the audit log, values as a lookup shows them."""
        return {
            "row": self.update.row,
            "clientTxnId": self.update.txn,
            "identifiers": self.update.described(),
            "verdict": self.verdict,
            "fields": {
                name: {
                    "planned": shown(name, check.planned),
                    "was": shown(name, check.was),
                    "now": shown(name, check.now),
                }
                for name, check in self.fields.items()
            },
            "why": self.why,
        }


def shown(name: str, value: Any) -> Any:
    """A journaled or looked-up value as a lookup shows it: document numbers masked."""
    return mask({name: value})[name]


# -- where the unknowns are ------------------------------------------------------------------


def pending_in_journal(state: JournalState) -> list[Pending]:
    """Every update of the journal whose outcome is unknown, in the journal's order."""
    return [pending_of(row) for row in state.unknown()]


def pending_of(row: RowState) -> Pending:
    sending = row.sending
    ids = sending.get("identifiers")
    fields = sending.get("fields")
    number = sending.get("row")
    return Pending(
        txn=str(sending.get("clientTxnId")),
        row=number if isinstance(number, int) and not isinstance(number, bool) else None,
        identifiers={
            k: str(v)
            for k, v in (ids.items() if isinstance(ids, dict) else ())
            if k in _IDENTIFIER_KINDS and isinstance(v, str | int) and not isinstance(v, bool)
        },
        fields={k: v for k, v in fields.items() if isinstance(v, dict)}
        if isinstance(fields, dict)
        else {},
        profile=sending.get("profile") if isinstance(sending.get("profile"), str) else None,
    )


def journal_profile(state: JournalState) -> str | None:
    """The profile a journal's updates went to: its header's, else its rows' (one)."""
    header = state.header.get("profile")
    if isinstance(header, str) and header:
        return header
    names = {r.sending.get("profile") for r in state.rows.values()}
    names.discard(None)
    return str(names.pop()) if len(names) == 1 else None


def audit_unknowns(entries: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """update-profile's updates whose last audited result leaves the outcome unknown and
    that no reconcile has given a verdict since: clientTxnId -> its first entry (who,
    which profile), in the log's order."""
    first: dict[str, Mapping[str, Any]] = {}
    last: dict[str, str] = {}
    for entry in entries:
        txn = entry.get("clientTxnId")
        if not isinstance(txn, str):
            continue
        command = entry.get("command")
        if command == "update-profile" and entry.get("action") == "update":
            first.setdefault(txn, entry)
            last[txn] = str(entry.get("result"))
        elif command == "reconcile" and txn in last and entry.get("result") != CANNOT_TELL:
            last[txn] = "reconciled"
    return {txn: first[txn] for txn, result in last.items() if result in AUDIT_UNKNOWN}


def of_profile(
    unknown: Mapping[str, Mapping[str, Any]], profile: str
) -> tuple[dict[str, Mapping[str, Any]], dict[str, int]]:
    """The unknowns audited under `profile` (the audit log's name for it), and how many
    each other profile has: those are looked up with their own profile, not this one."""
    mine: dict[str, Mapping[str, Any]] = {}
    others: dict[str, int] = {}
    for txn, entry in unknown.items():
        name = str(entry.get("profile") or "")
        if name == profile:
            mine[txn] = entry
        else:
            others[name or "?"] = others.get(name or "?", 0) + 1
    return mine, others


def pending_from_audit(txn: str, entry: Mapping[str, Any], journaled: RowState | None) -> Pending:
    """The audit log's unknown update, with what the single-updates journal kept of it."""
    profile = entry.get("profile")
    if journaled is None:
        who = entry.get("identifiers")
        return Pending(
            txn,
            who=who if isinstance(who, str) else "",
            profile=profile if isinstance(profile, str) else None,
            missing=NO_JOURNAL_ENTRY,
        )
    found = pending_of(journaled)
    if found.profile or not isinstance(profile, str):
        return found
    return replace(found, profile=profile)


# -- one update, compared --------------------------------------------------------------------


def classify(update: Pending, record: Mapping[str, Any]) -> Verdict:
    """The verdict on `update` from `record`, the customer as the lookup shows them now
    (`customer_now.customer_record`)."""
    checks = {name: compare(name, values, record) for name, values in update.fields.items()}
    states = {name: check.state for name, check in checks.items()}
    compared = {name: state for name, state in states.items() if state != NOT_COMPARED}
    left = [name for name, state in states.items() if state == NOT_COMPARED]
    aside = f" ({', '.join(left)}: not shown by the lookup)" if left else ""
    if not compared:
        return Verdict(update, CANNOT_TELL, f"nothing the lookup shows to compare{aside}", checks)
    said = set(compared.values())
    if said == {AS_PLANNED}:
        verdict, why = APPLIED, "every field compared is as planned"
    elif said <= {AS_IT_WAS, NOT_AS_PLANNED}:
        verdict = NOT_APPLIED
        why = "every field compared is as it was" if said == {AS_IT_WAS} else "none as planned"
    else:
        verdict = CHANGED
        odd = [name for name, state in compared.items() if state == NEITHER]
        why = (
            f"{', '.join(odd)}: neither as it was nor as planned"
            if odd
            else "some fields as planned, others not"
        )
    return Verdict(update, verdict, why + aside, checks)


def compare(name: str, values: Mapping[str, Any], record: Mapping[str, Any]) -> FieldCheck:
    """One field: the planned value, the one before, the one the lookup shows; its state."""
    planned, was = values.get("new"), values.get("now")
    f = BY_NAME.get(name)
    if name == "newcardProfileId":
        now = record.get("profileId")
        held: Callable[[Any], Any] = _profile_id
    elif f is not None and f.shown_as:
        now = shown_now(f, record)
        held = lambda value: as_held(f, value)  # noqa: E731
    else:  # documents, or a name wibmo does not know
        return FieldCheck(planned, was, None, NOT_COMPARED)
    now_held = None if now is None else held(now)
    if now_held is None:
        return FieldCheck(planned, was, now, NOT_COMPARED)
    if now_held == held(planned):
        state = AS_PLANNED
    elif was is None:
        state = NOT_AS_PLANNED
    else:
        state = AS_IT_WAS if now_held == held(was) else NEITHER
    return FieldCheck(planned, was, now, state)


def _profile_id(value: Any) -> str | None:
    text = str(value).strip() if isinstance(value, str | int) else ""
    return text.lstrip("0") or None if text.isdigit() else None


def cannot_tell(update: Pending, why: str) -> Verdict:
    """No lookup to compare with: the journaled fields, nothing shown now."""
    checks = {
        name: FieldCheck(values.get("new"), values.get("now"), None, NOT_COMPARED)
        for name, values in update.fields.items()
    }
    return Verdict(update, CANNOT_TELL, why, checks)


# -- the lookups -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupSettings:
    """The profile's settings a lookup needs."""

    message_code: int = 1930
    success_codes: Sequence[str] = ("00",)
    mobile_prefix: str = "91"


async def check(update: Pending, lookup: Lookup, settings: LookupSettings) -> Verdict:
    """Look the customer up, and compare."""
    try:
        identifiers = Identifiers.parse(
            **dict(update.identifiers), mobile_prefix=settings.mobile_prefix, as_options=False
        )
    except InputError as exc:
        return cannot_tell(update, f"the journaled identifiers: {exc.message}")
    payload = lookup_payload(identifiers, message_code=settings.message_code)
    try:
        exchange = await lookup(payload)
    except WibmoError as exc:
        return cannot_tell(update, f"the lookup failed: {exc.message}")
    answer = exchange.answer
    code = answer.get("responseCode")
    if not is_success(code, settings.success_codes):
        found = normalise_code(str(code if code is not None else "?"))
        known = explain(found)
        return cannot_tell(
            update, f"the lookup answered {found}" + (f" {known.name}" if known else "")
        )
    return classify(update, customer_record(answer, identifiers.urn))


async def reconcile_all(
    updates: Sequence[Pending],
    lookups: Sequence[Lookup],
    settings: LookupSettings,
    done: Callable[[Verdict], object],
) -> None:
    """Each update checked, `len(lookups)` at once (one per client), each verdict handed to
    `done` as soon as it is known. Cancelled (Ctrl-C): the lookups in flight are
    cancelled, and the verdicts handed over so far are all there is."""
    free: asyncio.Queue[Lookup] = asyncio.Queue()
    for lookup in lookups:
        free.put_nowait(lookup)

    async def one(update: Pending) -> None:
        if update.missing:  # nothing to look up
            done(cannot_tell(update, update.missing))
            return
        lookup = await free.get()
        try:
            verdict = await check(update, lookup, settings)
        finally:
            free.put_nowait(lookup)
        done(verdict)

    tasks = [asyncio.ensure_future(one(update)) for update in updates]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """How many of each verdict, in `VERDICTS` order."""
    found = {name: 0 for name in VERDICTS}
    for verdict in verdicts:
        found[verdict.verdict] += 1
    return found

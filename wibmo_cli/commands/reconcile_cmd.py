"""`wibmo reconcile`: each update whose outcome is unknown, looked up and given a verdict.

JOURNAL (a bulk apply's) or --audit (single update-profile runs: the audit log says
which, the single-updates journal what each meant to change). The core is
wibmo_cli/reconcile.py; each verdict is written as soon as it is known (a "reconciled"
event in the journal, but for `cannot tell`; an audit entry, never a value), so Ctrl-C
keeps what is done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wibmo_cli.commands.options import AuditLogPath, command_options
from wibmo_cli.errors import ExitStatus, InputError
from wibmo_cli.runtime import Runtime

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.journal import Events
    from wibmo_cli.profiles import Profile
    from wibmo_cli.reconcile import Pending, Verdict

JournalPath = Annotated[
    str | None,
    typer.Argument(
        metavar="[JOURNAL]",
        help="The journal of an `update-profile --apply` run.",
        show_default=False,
    ),
]
FromAudit = Annotated[
    bool,
    typer.Option(
        "--audit",
        help="Reconcile single update-profile runs whose outcome the audit log leaves unknown.",
    ),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", metavar="N", help="Lookups in flight at once.")
]


@command_options
def reconcile(
    rt: Runtime,
    journal: JournalPath = None,
    audit: FromAudit = False,
    concurrency: Concurrency = 8,
    audit_log: AuditLogPath = None,
) -> int | None:
    """Say what became of each update whose outcome is unknown: look the customer up
    and compare the fields it was to change with what the platform shows now.

    Verdicts: applied (every field compared as planned), not applied (every field as
    it was), changed differently (anything else), cannot tell (no field the lookup
    shows, the customer not found, the lookup failed: the why says which). Each
    verdict but cannot tell is written to the journal, and every one to the audit log
    (which fields, never a value). The table, or with -o json one JSON line per update
    (values masked as a lookup shows them); a summary on stderr.

    With JOURNAL, the profile is the journal's (-p, if given, must name it; a running
    apply of the journal is refused, exit 3). With --audit, the chosen profile's
    single updates (update-profile for one customer).

    Exit codes: 0 every unknown update has a verdict (or none was unknown), 2 bad
    usage, 3 configuration, 5 some still cannot tell, 130 interrupted (the verdicts
    so far are kept: run it again).

    \b
    Examples:
      wibmo -p uat reconcile plan.jsonl.journal
      wibmo -p uat reconcile plan.jsonl.journal --jq 'select(.verdict != "applied")'
      wibmo reconcile --audit
    """
    from wibmo_cli.batch import MAX_CONCURRENCY

    if journal is not None and audit:
        raise InputError("give JOURNAL or --audit, not both")
    if journal is None and not audit:
        raise InputError(
            "say what to reconcile: give JOURNAL (an update-profile --apply run's) or "
            "--audit (single update-profile runs)"
        )
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"--concurrency {concurrency}: must be 1-{MAX_CONCURRENCY}")
    if journal is not None:
        return _from_journal(rt, journal, concurrency, audit_log)
    return _from_audit(rt, concurrency, audit_log)


def _from_journal(rt: Runtime, given: str, concurrency: int, audit_log: str | None) -> int | None:
    from wibmo_cli.journal import Journal, read_journal
    from wibmo_cli.paths import user_path
    from wibmo_cli.reconcile import journal_profile, pending_in_journal

    path = user_path(given)
    named = journal_profile(read_journal(path))
    chosen = rt.options.profile
    if chosen and named and chosen != named:
        raise InputError(
            f"-p {chosen}: {given} journals updates to profile {named}; leave out -p, "
            f"or give -p {named}"
        )
    profile = rt.profile() if chosen or not named else rt.profile(named)
    audit = _audit_log(rt, audit_log, profile.name)
    with Journal.opened(path, {}) as events:  # a running apply holds it: refused, exit 3
        pending = pending_in_journal(events.state())
        if not pending:
            rt.render.info(f"nothing to reconcile: no update in {given} has an unknown outcome")
            return None
        return _run(rt, profile, pending, concurrency, events, audit, str(path), "")


def _from_audit(rt: Runtime, concurrency: int, audit_log: str | None) -> int | None:
    from wibmo_cli.journal import SINGLE_UPDATES, SingleUpdates, read_journal
    from wibmo_cli.reconcile import audit_unknowns, of_profile, pending_from_audit

    profile = rt.profile()
    audit = _audit_log(rt, audit_log, None)
    unknown = audit_unknowns(audit.tail(sys.maxsize))
    mine, others = of_profile(unknown, audit.profile)
    elsewhere = ""
    if others:
        elsewhere = (
            f"{sum(others.values())} more of profile {', '.join(sorted(others))}: run "
            "`wibmo -p NAME reconcile --audit`"
        )
    path = rt.data_dir() / SINGLE_UPDATES
    journaled = read_journal(path).by_txn() if path.exists() and mine else {}
    pending = [pending_from_audit(t, e, journaled.get(t)) for t, e in mine.items()]
    if not pending:
        rt.render.info(
            "nothing to reconcile: no single update has an unknown outcome"
            + (f"; {elsewhere}" if elsewhere else "")
        )
        return ExitStatus.NETWORK if elsewhere else None
    status = _run(rt, profile, pending, concurrency, SingleUpdates(path), audit, None, elsewhere)
    return status or (ExitStatus.NETWORK if elsewhere else None)


def _audit_log(rt: Runtime, override: str | None, profile: str | None) -> AuditLog:
    """The audit log, checked before anything is looked up (exit 3)."""
    audit = rt.audit_log(override)
    if profile is not None:
        audit.profile = profile
    audit.check()
    return audit


def _run(
    rt: Runtime,
    profile: Profile,
    pending: Sequence[Pending],
    concurrency: int,
    events: Events,
    audit: AuditLog,
    file: str | None,
    elsewhere: str,
) -> int | None:
    """Look each one up and compare; write, show and sum up the verdicts."""
    from wibmo_cli.batch import run_interruptible
    from wibmo_cli.reconcile import CANNOT_TELL, LookupSettings, counts, reconcile_all
    from wibmo_cli.views.reconcile import summary_line

    settings = LookupSettings(
        message_code=int(profile.get("lookup_message_code")),
        success_codes=tuple(profile.get("success_codes")),
        mobile_prefix=str(profile.get("mobile_prefix")),
    )
    done: dict[str, Verdict] = {}
    keep = _keeper(events, audit, file, done)
    count = min(concurrency, sum(1 for p in pending if not p.missing))

    async def main() -> None:
        if not count:
            await reconcile_all(pending, [], settings, keep)
            return
        from wibmo_cli.endpoint import open_lookup_clients

        trace = rt.render.trace if rt.options.verbose else None
        async with open_lookup_clients(
            profile, rt.data_dir(), count, trace=trace, notice=rt.render.info
        ) as clients:
            await reconcile_all(pending, [c.lookup for c in clients], settings, keep)

    interrupted = False
    try:
        run_interruptible(main())
    except KeyboardInterrupt:
        interrupted = True
    verdicts = [done[p.txn] for p in pending if p.txn in done]
    _show(rt, verdicts, file)
    found = counts(verdicts)
    left = len(pending) - len(verdicts)
    rt.render.info(summary_line(found, left=left, elsewhere=elsewhere))
    if interrupted:
        return ExitStatus.INTERRUPTED
    return ExitStatus.NETWORK if found[CANNOT_TELL] else None


def _keeper(
    events: Events, audit: AuditLog, file: str | None, done: dict[str, Verdict]
) -> Callable[[Verdict], None]:
    """What each verdict becomes as soon as it is known: a "reconciled" event in the
    journal (but for cannot tell: it is still unknown), an audit entry (who masked,
    which fields; never a value)."""
    from wibmo_cli.reconcile import CANNOT_TELL

    def keep(verdict: Verdict) -> None:
        update = verdict.update
        if verdict.verdict != CANNOT_TELL:
            events.reconciled(update.row, update.txn, verdict.verdict)
        entry: dict[str, Any] = {"file": file, "row": update.row} if file else {}
        audit.record(
            command="reconcile",
            identifiers=update.described(),
            clientTxnId=update.txn,
            fields=list(update.fields),
            result=verdict.verdict,
            **entry,
        )
        done[update.txn] = verdict

    return keep


def _show(rt: Runtime, verdicts: Sequence[Verdict], file: str | None) -> None:
    if not verdicts:
        return
    if rt.json:
        from wibmo_cli.textsafe import json_text

        out = rt.render.stdout
        for verdict in verdicts:
            out.write(json_text(verdict.document()) + "\n")
        out.flush()
        return
    from wibmo_cli.views.reconcile import reconcile_table

    where = file or "single updates, from the audit log"
    rt.render.print(reconcile_table(verdicts, f"Reconciled ({where})"))

"""`wibmo update-profile --file changes.csv --plan plan.jsonl` and `--apply plan.jsonl`:
the bulk update's two steps wired to this profile's clients, the terminal and the files
(bulkplan.py and bulkapply.py hold the rules)."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wibmo_cli.errors import ExitStatus, InputError, NothingSentError, WibmoError
from wibmo_cli.paths import user_path

if TYPE_CHECKING:
    from wibmo_cli.profiles import Profile
    from wibmo_cli.runtime import Runtime

DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class BulkRun:
    """update-profile's options for many customers, as given."""

    file: str | None
    plan: str | None
    apply: str | None
    journal: str | None = None
    resume: bool = False
    if_unchanged: bool = False
    concurrency: int | None = None
    rate: str | None = None
    yes: bool = False
    production_ok: bool = False
    audit_log: str | None = None


def journal_of(plan: Path, journal: str | None) -> Path:
    """The journal of a plan: `--journal`, else beside the plan (`plan.jsonl.journal`)."""
    return user_path(journal) if journal else plan.with_name(plan.name + ".journal")


def make_plan(
    rt: Runtime, file: str, target: str, concurrency: int | None, rate: str | None
) -> int | None:
    """Read and check `file`, look each customer up, write the plan to `target`."""
    from wibmo_cli import outfile
    from wibmo_cli.batch import Pace, run_interruptible
    from wibmo_cli.bulkplan import counts_of, plan_text, planned, read_changes
    from wibmo_cli.endpoint import open_lookup_clients
    from wibmo_cli.views.bulk import plan_changes, plan_problems, plan_summary

    profile = rt.profile()
    settings = _settings(concurrency, rate)
    path, out = user_path(file), user_path(target)
    if _applied(journal_of(out, None)):
        raise InputError(
            f"--plan {target}: this plan has a journal ({journal_of(out, None)}): it was "
            "applied; write the new plan to another file"
        )
    outfile.check_target(out, source=path, force=True)
    changes = read_changes(path, mobile_prefix=str(profile.get("mobile_prefix")))
    progress = _progress(len(changes.rows), "plan")

    async def main() -> list[dict[str, Any]]:
        trace = rt.render.trace if rt.options.verbose else None
        async with open_lookup_clients(
            profile, rt.data_dir(), settings.concurrency, trace=trace, notice=rt.render.info
        ) as clients:
            on_row = progress.advance if progress is not None else None
            return await planned(changes, profile, clients, Pace(settings.rate), on_row)

    with progress if progress is not None else contextlib.nullcontext():
        try:
            lines = run_interruptible(main())
        except KeyboardInterrupt:
            rt.render.info("plan: interrupted; nothing written, nothing sent")
            return ExitStatus.INTERRUPTED
    outfile.write(out, plan_text(changes, profile, lines).encode(), source=path, force=True)
    if rt.json:
        for line in lines:
            rt.render.json(line)
    else:
        for table in (plan_changes(lines), plan_problems(lines)):
            if table is not None:
                rt.render.print(table)
    counts = counts_of(lines)
    rt.render.info(plan_summary(counts, target, profile.name))
    if counts["invalid"]:  # the file needs fixing: a script must not apply it unread
        return ExitStatus.USAGE
    if counts["not found"] or counts["failed"]:
        return ExitStatus.API_ERROR
    return None


def _applied(journal: Path) -> bool:
    """Whether the journal shows any row sent or skipped (a declined question leaves a
    journal of its header only: nothing was applied)."""
    from wibmo_cli.journal import read_journal

    if not journal.exists():
        return False
    try:
        state = read_journal(journal)
    except WibmoError:
        return True  # not readable as a journal: keep it, and the plan it belongs to
    return bool(state.rows or state.stale)


def apply_plan(rt: Runtime, run: BulkRun) -> int | None:
    """Send a plan's rows, each at most once, journaled; the worst row's exit status."""
    from wibmo_cli.batch import Pace, run_interruptible
    from wibmo_cli.bulkapply import Applier, ApplySettings, read_plan, to_send
    from wibmo_cli.claims import Claims
    from wibmo_cli.commands.update_dialog import WriteGuard
    from wibmo_cli.endpoint import open_clients
    from wibmo_cli.errors import ConfigError
    from wibmo_cli.journal import Journal
    from wibmo_cli.views.bulk import apply_problems, apply_question, apply_summary, result_line

    assert run.apply is not None
    target = run.apply
    settings = _settings(run.concurrency, run.rate)
    plan = read_plan(user_path(target))
    planned_for = str(plan.header.get("profile"))
    chosen = rt.options.profile  # -p given: it must be the plan's; else the plan's is used
    if chosen and chosen != planned_for:
        raise InputError(
            f"--apply {target}: planned for profile {planned_for!r}, not {chosen!r}: leave "
            f"out -p, or give -p {planned_for}"
        )
    profile = rt.profile(planned_for)
    path = journal_of(plan.path, run.journal)
    guard = WriteGuard.of(
        profile, yes=run.yes, production_ok=run.production_ok, dry_run=False,
        review="review the plan",
    )  # fmt: skip
    from wibmo_cli.audit import AuditLog

    audit = AuditLog(rt.audit_log(run.audit_log).path, profile.name)  # the plan's profile
    try:
        audit.check()
    except ConfigError as exc:
        raise NothingSentError(exc) from None
    header = {"profile": profile.name, "plan": str(plan.path.resolve()), "planSha256": plan.sha256}
    with contextlib.ExitStack() as held, Journal.opened(path, header) as opened:
        state = opened.state()
        if (state.rows or state.stale) and not run.resume:
            raise InputError(
                f"journal {path} shows this plan applied before: go on with --resume "
                "(a row sent is never sent again)"
            )
        if state.header.get("planSha256") != plan.sha256 and not (state.rows or state.stale):
            opened.restart(header)  # nothing was applied from it (a declined question)
            state = opened.state()
        if state.header.get("planSha256") != plan.sha256:
            raise InputError(
                f"journal {path} is another plan's (or the plan changed since): plan again, "
                "or give the plan it was written for"
            )
        rows, done, unknown = to_send(plan, state)
        if opened.repaired:
            rt.render.info(f"journal {path}: its last line was cut short (a crash); cut off")
        if rows and not _confirmed(
            rt, profile, guard, apply_question(plan.header, rows), len(rows)
        ):
            return ExitStatus.USAGE
        progress = _progress(len(rows), "apply")

        def on_row(result: Any) -> None:
            if rt.json:
                if progress is not None:
                    with progress.aside():
                        rt.render.json(result_line(result))
                else:
                    rt.render.json(result_line(result))
            if progress is not None:
                progress.advance(result.result)

        claims = Claims.open(rt.data_dir())
        held.callback(claims.close)
        applier = Applier(
            profile,
            opened,
            audit,
            ApplySettings(if_unchanged=run.if_unchanged),
            Pace(settings.rate),
            warn=rt.render.warn,
            on_row=on_row,
            claims=claims,
        )
        applier.summary.done_before, applier.summary.unknown_before = done, unknown

        async def main() -> Any:
            trace = rt.render.trace if rt.options.verbose else None
            async with open_clients(
                profile, rt.data_dir(), settings.concurrency, trace=trace, notice=rt.render.info
            ) as clients:
                return await applier.run(rows, clients)

        started = time.perf_counter()
        with progress if progress is not None else contextlib.nullcontext():
            try:
                summary = run_interruptible(main())
            except KeyboardInterrupt:
                summary = applier.summary
                summary.interrupted = True
        elapsed = time.perf_counter() - started
    if not rt.json:
        table = apply_problems(summary.results)
        if table is not None:
            rt.render.print(table)
    _say_unknown(rt, profile, summary, path)
    rt.render.info(apply_summary(summary, elapsed, str(path)))
    return summary.exit_status or None


def _say_unknown(rt: Runtime, profile: Profile, summary: Any, journal: Path) -> None:
    """Each update whose outcome is unknown (this run's and earlier ones'), with the lookup
    that checks it; many: the first ten, and reconcile for all."""
    from wibmo_cli.messages import Identifiers
    from wibmo_cli.views.preview import lookup_command

    unknown = [
        (r.row, r.client_txn_id, r.identifiers)
        for r in summary.results
        if r.result in ("outcome unknown", "interrupted")
    ]
    unknown += [(s.get("row"), s.get("clientTxnId"), s.get("identifiers") or {})
                for s in summary.unknown_before]  # fmt: skip
    if not unknown:
        return
    for row, txn, who in sorted(unknown, key=lambda u: int(u[0] or 0))[:10]:
        known = Identifiers.of_given(who)
        check = lookup_command(profile.name, known) if known is not None else "?"
        rt.render.info(
            f"row {row}: outcome unknown (clientTxnId {txn}), not resent; check: {check}"
        )
    listed = " (the first 10 listed above)" if len(unknown) > 10 else ""
    noun = "update" if len(unknown) == 1 else "updates"
    rt.render.info(
        f"{len(unknown)} {noun} with outcome unknown{listed}: "
        f"wibmo -p {profile.name} reconcile {journal} tells which applied"
    )


def _confirmed(rt: Runtime, profile: Profile, guard: Any, what: str, count: int) -> bool:
    """Asked once for the whole file, with its row count (typed on production)."""
    if not guard.ask:
        return True
    rt.render.info(f"profile {profile.name!r}: {what}")
    confirmed, why = guard.question(
        profile, "plan's update" if count == 1 else f"plan's {count} updates"
    )
    if not confirmed:
        rt.render.info(why)
    return bool(confirmed)


def _settings(concurrency: int | None, rate: str | None) -> Any:
    from wibmo_cli.batch import BatchSettings, parse_rate

    return BatchSettings(
        concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
        rate=None if rate is None else parse_rate(rate),
    )


def _progress(total: int, label: str) -> Any:
    from wibmo_cli.views.batch import ProgressBar

    return ProgressBar(total, label) if ProgressBar.wanted() and total else None

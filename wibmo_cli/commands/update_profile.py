"""`wibmo update-profile`: Update Profile (1280 -> 1281), previewed, confirmed, sent once.

The command parses and validates (`changes.parse_request`: exit 2 on any bad field,
nothing sent), decides whether it may ask (never when stdin is not a terminal), runs
`send.send_update` with the preview and question as its `decide` (update_dialog), and
says the outcome. The field options (--first-name ... --sor-disable) are made from
`fields.FIELDS` by `field_options`: a new row is a new option.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wibmo_cli import kyc
from wibmo_cli.commands.options import AuditLogPath, DryRun, ProductionOk, Yes, command_options
from wibmo_cli.errors import ConfigError, ExitStatus, InputError, NothingSentError
from wibmo_cli.fields import FIELDS, Field
from wibmo_cli.runtime import Runtime
from wibmo_cli.send import Decide, Outcome, Progress, build_dry_run, send_update

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.changes import UpdateRequest
    from wibmo_cli.commands.bulk_cmd import BulkRun
    from wibmo_cli.profiles import Profile


def field_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give `func` one option per row of `fields.FIELDS`, in the table's order, in place
    of its `changes` parameter; it is called with ``changes`` = {platform name: value
    given or None}. A true/false field is a ``--x/--no-x`` flag; the rest take text."""
    signature = inspect.signature(func, eval_str=True)
    own = list(signature.parameters.values())
    at = next(i for i, p in enumerate(own) if p.name == "changes")
    generated = [
        inspect.Parameter(
            f.parameter,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=None,
            annotation=_field_annotation(f),
        )
        for f in FIELDS
    ]
    parameters = [*own[:at], *generated, *own[at + 1 :]]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        changes = {f.name: kwargs.pop(f.parameter, None) for f in FIELDS}
        return func(*args, changes=changes, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
    return wrapper


def _field_annotation(f: Field) -> Any:
    if f.flag:
        flag = f"{f.option}/--no-{f.option.removeprefix('--')}"
        return Annotated[bool | None, typer.Option(flag, help=f.help)]
    return Annotated[str | None, typer.Option(f.option, help=f.help, show_default=False)]


@command_options(writes=True)  # --jq never hides an update's outcome (exit status)
@field_options
def update_profile(
    rt: Runtime,
    urn: Annotated[str | None, typer.Option("--urn", help="Card/wallet URN.")] = None,
    mobile: Annotated[
        str | None,
        typer.Option("--mobile", "-m", help="The customer's current mobile number."),
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="The client's customer id.")
    ] = None,
    changes: dict[str, Any] | None = None,  # the field options (`field_options`)
    card_profile_id: Annotated[
        str | None,
        typer.Option(
            "--card-profile-id",
            help=f"The card's current KYC profile ({kyc.ids(kyc.CARD_PROFILES)}); looked up "
            "when not given.",
            show_default=False,
        ),
    ] = None,
    doc: Annotated[
        list[str] | None,
        typer.Option(
            "--doc",
            metavar="TYPE:NUMBER[:COUNTRY[:EXPIRY]]",
            help="An identity document, repeatable. TYPE: PAN, Aadhaar, VoterId, DL, "
            "Passport, jobcard; EXPIRY YYYYMMDD.",
            show_default=False,
        ),
    ] = None,
    from_file: Annotated[
        str | None,
        typer.Option(
            "--from-file",
            metavar="FILE",
            help="JSON object of fields under the platform's names, in either spelling "
            "(table or sample; sent in the profile's) ('-' reads stdin); options override it.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            metavar="CHANGES.CSV",
            help="Many customers: a CSV with one identifier column (urn, customerMobile or "
            "customerId) and one column per field (the --from-file names); with --plan.",
            show_default=False,
        ),
    ] = None,
    plan: Annotated[
        str | None,
        typer.Option(
            "--plan",
            metavar="PLAN.JSONL",
            help="With --file: check every row, look each customer up, write the plan to "
            "review. Nothing is sent.",
            show_default=False,
        ),
    ] = None,
    apply: Annotated[
        str | None,
        typer.Option(
            "--apply",
            metavar="PLAN.JSONL",
            help="Send a reviewed plan's rows, each at most once, journaled.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="With --apply: go on after an interruption; rows sent are never resent.",
        ),
    ] = False,
    journal: Annotated[
        str | None,
        typer.Option(
            "--journal",
            metavar="PATH",
            help="With --apply: the journal (default: beside the plan, PLAN.jsonl.journal).",
            show_default=False,
        ),
    ] = None,
    if_unchanged: Annotated[
        bool,
        typer.Option(
            "--if-unchanged",
            help="With --apply: send a row only if the customer is still as the plan saw them.",
        ),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            help="With --plan/--apply: requests in flight at once (default 8).",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate",
            metavar="N[/s|/m|/h]",
            help="With --plan/--apply: at most N requests a second (or /m, /h).",
            show_default=False,
        ),
    ] = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    production_ok: ProductionOk = False,
    audit_log: AuditLogPath = None,
) -> int | None:
    """Change a customer's profile: validated, previewed, confirmed, sent at most once.

    The customer is named by exactly one of --urn, --mobile, --customer-id. Every field
    is checked before anything is sent. A preview shows each field now (from a lookup)
    and as it will be, then asks; --yes skips that (production profiles also need
    --production-ok). A field the lookup already shows as asked is left out, with a
    note; when nothing is left, nothing is sent (exit 2). Once sent it is never resent:
    no answer within the timeout, a dropped connection, a 5xx or an answer that cannot
    be read is reported as outcome unknown with the clientTxnId and the lookup that
    tells (exit 5).

    Exit codes: 0 applied (00), 1 the platform answered another code, 2 bad input or
    not confirmed, 3 configuration, 5 not sent (network) or outcome unknown, 6 refused
    by the gateway (4xx, not applied), 74 output not written, 130 interrupted.

    \b
    Examples:
      wibmo update-profile --urn 1000104854 --email aarav.d@example.com   # asks, then sends
      wibmo update-profile --mobile 7341174797 --city Pune --zip-code 411001 --yes
      wibmo update-profile --customer-id IN0000000021 --new-card-profile-id 150 \\
          --address "12, MG Road, Pune" --doc PAN:ABCPE1234F:India \\
          --kyc-date-stamp 20240501103000 --dry-run
      wibmo -p production update-profile --urn 1000165273 --from-file patch.json --yes \\
          --production-ok                          # production: a profile of yours
    """
    if file is not None or plan is not None or apply is not None:
        from wibmo_cli.commands.bulk_cmd import BulkRun

        one: dict[str, Any] = {"--urn": urn, "--mobile": mobile, "--customer-id": customer_id,
               "--card-profile-id": card_profile_id, "--doc": doc, "--from-file": from_file,
               "--dry-run": dry_run}  # fmt: skip
        run = BulkRun(file, plan, apply, journal=journal, resume=resume,
                      if_unchanged=if_unchanged, concurrency=concurrency, rate=rate, yes=yes,
                      production_ok=production_ok, audit_log=audit_log)  # fmt: skip
        single = [option for option, value in one.items() if value not in (None, False)]
        single += [f.option for f in FIELDS if (changes or {}).get(f.name) is not None]
        return _bulk(rt, run, single)
    _refuse_bulk_only(resume=resume, journal=journal, if_unchanged=if_unchanged,
                      concurrency=concurrency, rate=rate)  # fmt: skip
    from wibmo_cli.changes import parse_request, read_patch
    from wibmo_cli.commands.update_dialog import read_file
    from wibmo_cli.messages import Identifiers

    profile = rt.profile()
    prefix = str(profile.get("mobile_prefix"))
    given = {"--urn": urn, "--mobile": mobile, "--customer-id": customer_id}
    named = [option for option, value in given.items() if value is not None]
    if len(named) != 1:
        got = f" (got {' and '.join(named)})" if named else ""
        raise InputError(f"say who: give exactly one of --urn, --mobile, --customer-id{got}")
    identifiers = Identifiers.parse(
        mobile=mobile, urn=urn, customer_id=customer_id, mobile_prefix=prefix
    )
    options = changes or {}
    patch = read_patch(read_file(from_file), from_file) if from_file else None
    request = parse_request(
        identifiers,
        options,
        docs=doc or (),
        card_profile_id=card_profile_id,
        patch=patch,
        patch_label=from_file or "",
        mobile_prefix=prefix,
    )
    from wibmo_cli.commands import update_dialog

    guard = update_dialog.WriteGuard.of(
        profile, yes=yes, production_ok=production_ok, dry_run=dry_run
    )
    ask, typed = guard.ask, guard.typed

    audit = rt.audit_log(audit_log)
    try:
        audit.check()  # every update and dry run is audited: no log, nothing sent or shown
    except ConfigError as exc:
        raise NothingSentError(exc) from None
    decide = update_dialog.Confirmation(
        rt, profile, identifiers, ask=ask, typed=typed, dry_run=dry_run
    )
    progress = Progress()
    try:
        outcome = _run(rt, profile, request, decide, audit, progress, dry_run=dry_run, ask=ask)
        status = update_dialog.show_outcome(rt, profile, identifiers, outcome)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: say what became of the update
        from wibmo_cli import interrupts

        interrupts.ignore()  # a second signal must not cut this message short
        interrupted = progress.interrupted()
        message = update_dialog.interrupted_message(profile, identifiers, interrupted)
        (rt.render.error if interrupted.sent else rt.render.info)(message)
        status = ExitStatus.INTERRUPTED
    return status


def _refuse_bulk_only(**given: Any) -> None:
    """The options of --apply (and --plan) mean nothing for one customer: refused, not
    ignored."""
    named = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if named:
        raise InputError(f"{', '.join(named)}: only with --file --plan or --apply")


def _bulk(rt: Runtime, run: BulkRun, single: list[str]) -> int | None:
    """`--file F --plan P` or `--apply P`: many customers (commands/bulk_cmd.py). What
    names one customer, or a field (`single`: the options given), is refused: the rows
    say who and what."""
    from wibmo_cli.commands import bulk_cmd

    if single:
        raise InputError(
            f"{', '.join(single)}: not with --file/--apply (the file's rows say who and what)"
        )
    if run.apply is not None:
        if run.file is not None or run.plan is not None:
            raise InputError(
                "--file and --apply are two steps: --file F --plan P writes the plan, "
                "then --apply P alone sends it"
            )
        return bulk_cmd.apply_plan(rt, run)
    if run.file is None or run.plan is None:
        raise InputError(
            "--file needs --plan PLAN.jsonl: the plan is reviewed, then sent with --apply"
            if run.plan is None
            else "--plan needs --file CHANGES.csv"
        )
    _refuse_bulk_only(resume=run.resume, journal=run.journal, if_unchanged=run.if_unchanged)
    return bulk_cmd.make_plan(rt, run.file, run.plan, run.concurrency, run.rate)


def _run(
    rt: Runtime,
    profile: Profile,
    request: UpdateRequest,
    decide: Decide,
    audit: AuditLog,
    progress: Progress,
    *,
    dry_run: bool,
    ask: bool,
) -> Outcome:
    """The update's outcome: a dry run that needs no lookup is built with no network
    code at all; anything else runs `send_update` over a client to the endpoint."""
    if dry_run and request.card_profile_id is not None:
        return build_dry_run(profile, request, decide=decide, audit=audit)

    from wibmo_cli.journal import SINGLE_UPDATES, SingleUpdates

    journal = None if dry_run else SingleUpdates(rt.data_dir() / SINGLE_UPDATES)

    async def run() -> Outcome:
        from wibmo_cli.endpoint import open_client

        trace = rt.render.trace if rt.options.verbose else None
        async with open_client(
            profile, rt.data_dir(), trace=trace, notice=rt.render.info
        ) as client:
            return await send_update(
                client,
                request,
                decide=decide,
                audit=audit,
                warn=rt.render.warn,
                preview=ask,  # the preview shows each field now: look it up
                dry_run=dry_run,
                progress=progress,
                journal=journal,
            )

    from wibmo_cli import eventloop

    return eventloop.run(run())

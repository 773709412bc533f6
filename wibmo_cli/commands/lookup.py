"""`wibmo lookup`: Retrieve Cust Record (1930 -> 1931)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Annotated, Any, cast

import typer

from wibmo_cli.commands.options import AuditLogPath, command_options, completing
from wibmo_cli.errors import ConfigError, ExitStatus, InputError, OutputError
from wibmo_cli.runtime import OutputFormat, Runtime

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.client import Exchange

Mobile = Annotated[
    str | None,
    typer.Option(
        "--mobile",
        "-m",
        help="Mobile: 10 digits, 91…, +91 …; spaces and dashes are fine.",
        show_default=False,
    ),
]
Urn = Annotated[str | None, typer.Option("--urn", help="Card/wallet URN.", show_default=False)]
CustomerId = Annotated[
    str | None,
    typer.Option("--customer-id", help="The client's customer id.", show_default=False),
]
Email = Annotated[str | None, typer.Option("--email", help="Email address.", show_default=False)]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Show identity document numbers whole (audited).")
]
File = Annotated[
    str | None,
    typer.Option(
        "--file",
        "-f",
        metavar="PATH",
        help="Look up every row of a CSV (comma, semicolon or tab; with a header row) or "
        "a plain list (one identifier per line, maybe under a heading such as phone); - "
        "for stdin. One JSON line per row on stdout.",
        show_default=False,
    ),
]
Column = Annotated[
    str | None,
    typer.Option(
        "--column",
        metavar="NAME",
        help="--file: the CSV column to use (default: the first named mobile, phone, urn, "
        "customerId, email, ...); without a header, what the identifiers are.",
        show_default=False,
        autocompletion=completing("complete_column"),
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency", metavar="N", help="--file: requests in flight at once [default: 8]."
    ),
]
Rate = Annotated[
    str | None,
    typer.Option(
        "--rate",
        metavar="R[/s|/m|/h]",
        help="--file: at most R requests a second (50 or 50/s), a minute (50/m) or an "
        "hour (3000/h).",
        show_default=False,
    ),
]
Resume = Annotated[
    str | None,
    typer.Option(
        "--resume",
        metavar="OUT.jsonl",
        help="--file: skip the rows OUT.jsonl already answers (an earlier, interrupted "
        "run's output); append to it with >>.",
        show_default=False,
    ),
]


@command_options(formats=tuple(OutputFormat))  # csv/tsv: --file; md: one customer
def lookup(
    rt: Runtime,
    mobile: Mobile = None,
    urn: Urn = None,
    customer_id: CustomerId = None,
    email: Email = None,
    reveal: Reveal = False,
    file: File = None,
    column: Column = None,
    concurrency: Concurrency = None,
    rate: Rate = None,
    resume: Resume = None,
    audit_log: AuditLogPath = None,
) -> int | None:
    """Look a customer up: who, which cards, KYC, balance, status, documents.

    Exit code 0 when found (responseCode 00, or another of the profile's
    success_codes), 1 when the platform answers another
    code (explained), 2 for bad input, 3 configuration, 4 undecryptable answer,
    5 network, 6 HTTP error.

    With --file, every row is looked up (--concurrency at once, at most --rate a
    second) and answered with one JSON line on stdout, in input order, carrying the
    row number and the identifier, and the masked answer or the error (code, message,
    exit_code). A progress bar and a summary go to stderr. The exit code is the worst
    row's (the highest; with --resume, the earlier rows' count too); Ctrl-C writes
    every finished row and exits 130. To finish an interrupted (or killed) run, run
    the same command again with --resume on its output, appending (>>): every row
    ends up in the file exactly once (not all in row order: sort on "row" if needed).

    \b
    Examples:
      wibmo lookup --mobile 9897123456
      wibmo lookup --urn 389 -o json
      wibmo lookup --email abc@xyz.com -v
      wibmo lookup --customer-id custid_V3_juyWqcUUxz --reveal
      wibmo lookup --file customers.csv --column mobile > answers.jsonl
      wibmo lookup --file customers.csv --resume answers.jsonl >> answers.jsonl
      cut -d, -f3 export.csv | wibmo -p uat lookup -f - --concurrency 16 --rate 50/s  # uat: yours
      wibmo lookup --file customers.csv -o csv > answers.csv
      wibmo lookup --mobile 9897123456 -o md
      wibmo lookup --urn 389 --jq '.cardList[].availableBalance'
    """
    batch_options = (column, concurrency, rate, resume)
    if file is not None:
        if any(v is not None for v in (mobile, urn, customer_id, email)):
            raise InputError(
                "--file looks up each row of the file: leave out --mobile, --urn, "
                "--customer-id and --email"
            )
        if rt.options.output_given and not (rt.json or rt.tabular):
            why = (
                "a table cannot be streamed"
                if rt.output is OutputFormat.table
                else "md: one lookup"
            )
            raise InputError(
                f"-o {rt.output}: lookup --file writes one JSON line per row ({why}); leave "
                "out -o, or give -o json, csv or tsv"
            )
        if resume is not None and (rt.tabular or rt.options.jq or rt.options.fields):
            raise InputError(
                "--resume reads the earlier run's JSON lines: it goes with neither --jq, "
                "--fields nor -o csv/tsv",
                hint="write the JSON lines with --resume, then filter or convert that file",
            )
        audit = _reveal_audit(rt, audit_log) if reveal else None
        return _lookup_file(rt, file, column, concurrency, rate, resume, audit=audit)
    if any(v is not None for v in batch_options):
        raise InputError("--column, --concurrency, --rate and --resume go with --file")
    if rt.tabular:
        raise InputError(
            f"-o {rt.output}: rows are for lookup --file; one lookup prints table, json or md"
        )
    if reveal and rt.output is OutputFormat.md:
        raise InputError("-o md is redacted for a ticket: it cannot be used with --reveal")
    from wibmo_cli.endpoint import look_up_once
    from wibmo_cli.messages import Identifiers, lookup_payload

    profile = rt.profile()
    identifiers = Identifiers.parse(
        mobile=mobile,
        urn=urn,
        customer_id=customer_id,
        email=email,
        mobile_prefix=str(profile.get("mobile_prefix")),
    )
    payload = lookup_payload(identifiers, message_code=int(profile.get("lookup_message_code")))
    audit = _reveal_audit(rt, audit_log) if reveal else None

    exchange = look_up_once(
        profile,
        rt.data_dir(),
        payload,
        trace=rt.render.trace if rt.options.verbose else None,
        notice=rt.render.info,
    )
    if audit is not None:
        audit.record(
            command="lookup",
            action="reveal",
            identifiers=identifiers.describe(),
            clientTxnId=exchange.client_txn_id,
            accosaTransactionId=exchange.answer.get("accosaTransactionId"),
            responseCode=exchange.answer.get("responseCode"),
        )
    searched = {
        kind: typed
        for kind, typed in (
            ("mobile", mobile),
            ("urn", urn),
            ("customer_id", customer_id),
            ("email", email),
        )
        if typed is not None
    }
    if rt.output is OutputFormat.md:
        return _markdown(rt, exchange, searched, profile.name, profile.get("success_codes"))
    from wibmo_cli.views.answer import show_lookup

    ok = show_lookup(
        rt.render, exchange, identifiers, searched, profile.get("success_codes"), reveal=reveal
    )
    return None if ok else ExitStatus.API_ERROR


def _markdown(
    rt: Runtime, exchange: Exchange, searched: dict[str, str], profile: str, success: Any
) -> int | None:
    """-o md: the redacted snippet (views/markdown.py); exit status as for the table."""
    from wibmo_cli.codes import is_success
    from wibmo_cli.views.answer import PLAIN_ANSWER
    from wibmo_cli.views.markdown import lookup_snippet

    if exchange.plain:
        rt.render.warn(PLAIN_ANSWER)
    answer = exchange.answer
    snippet = lookup_snippet(
        answer,
        searched=searched,
        profile=profile,
        success_codes=success,
        client_txn_id=exchange.client_txn_id,
    )
    rt.render.line(snippet)
    return None if is_success(answer.get("responseCode"), success) else ExitStatus.API_ERROR


def _lookup_file(
    rt: Runtime,
    path: str,
    column: str | None,
    concurrency: int | None,
    rate: str | None,
    resume: str | None,
    *,
    audit: AuditLog | None,
) -> int | None:
    """`--file`: the batch engine (wibmo_cli.batch) wired to this profile's client."""
    from wibmo_cli.batch import BatchSettings, FileJob, lookup_file, parse_rate
    from wibmo_cli.endpoint import open_lookup_clients
    from wibmo_cli.paths import user_path
    from wibmo_cli.views.batch import ProgressBar, summary_line

    per_second = None if rate is None else parse_rate(rate)
    profile = rt.profile()
    settings = BatchSettings(
        concurrency=8 if concurrency is None else concurrency,
        rate=per_second,
        reveal=audit is not None,
        mobile_prefix=str(profile.get("mobile_prefix")),
        message_code=int(profile.get("lookup_message_code")),
        success_codes=tuple(profile.get("success_codes")),
    )
    job = FileJob(path, column, user_path(resume) if resume else None)
    if audit is not None:  # before anything is sent; the rows revealed when the run ends
        audit.record(command="lookup", action="reveal", file=path, result="started")

    def connect(count: int) -> Any:
        trace = rt.render.trace if rt.options.verbose else None
        return open_lookup_clients(
            profile, rt.data_dir(), count, trace=trace, notice=rt.render.info
        )

    from wibmo_cli.views.batch import CSV_COLUMNS

    # finds sys.stdout at each write: the progress bar may wrap it
    table = rt.rows(CSV_COLUMNS) if rt.tabular else None
    out = table if table is not None else rt.render.stdout
    failed: list[OutputError] = []
    written = 0

    def write(line: str) -> None:
        nonlocal written
        if failed:  # stdout cannot be written: the run is stopping; --resume finishes it
            return
        try:
            out.write(line)
            out.flush()
        except OutputError as exc:
            failed.append(exc)
            raise
        written += 1

    summary = lookup_file(
        job,
        settings,
        connect,
        write=write,
        notice=rt.render.info,
        warn=rt.render.warn,
        progress=ProgressBar if ProgressBar.wanted() else None,
        stdout=cast("IO[str]", out),  # is it the --resume file? (not written through)
    )  # a BrokenPipeError (`| head`) ends the run quietly at the edge (app.py), exit 141
    if audit is not None:
        audit.record(
            command="lookup",
            action="reveal",
            file=path,
            result="interrupted" if summary.interrupted or failed else "done",
            rows=len(summary.revealed),
            identifiers=summary.revealed,
        )
    if table is not None and not failed:
        table.finish()  # the header, when no row was written
    hint = f"rerun with --resume {resume or 'OUT.jsonl'} and >> to finish"
    if rt.tabular or rt.options.jq or rt.options.fields:  # not the lines --resume reads
        hint = "rerun it (--resume needs the JSON lines: -o json, no --jq or --fields)"
    if failed:  # the counts would include rows answered but never written: say what was
        from wibmo_cli.render import drop_stdout

        drop_stdout()
        rows = "row" if written == 1 else "rows"
        rt.render.error(f"{failed[0]} (after {written} {rows}: the run stopped)")
        rt.render.info(f"lookup: {written} {rows} written before the output failed; {hint}")
        return failed[0].exit_status
    rt.render.info(summary_line(summary, resume_hint=hint if summary.interrupted else None))
    return summary.exit_status or None


def _reveal_audit(rt: Runtime, override: str | None) -> AuditLog:
    """--reveal is audited: a log that cannot be written stops it before anything is sent."""
    audit = rt.audit_log(override)
    try:
        audit.check()
    except ConfigError as exc:
        raise ConfigError(f"{exc.message}; --reveal is audited: nothing was sent") from None
    return audit

"""`wibmo sandbox`: the local stand-in for the platform, in the foreground; `wibmo sandbox
reset` (the seed again) and `wibmo sandbox customers` (the demo customers worth trying).

A group whose callback serves: `wibmo sandbox [--port ...]` runs the sandbox as it always
did (`invoke_without_command`), and `reset` and `customers` are its commands. The
serving options belong to serving: given before `reset` or `customers`, they are refused
rather than ignored.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wibmo_cli.commands.options import GLOBAL_OPTIONS, command_options
from wibmo_cli.errors import ConfigError, InputError
from wibmo_cli.paths import blocked_by, user_path
from wibmo_cli.runtime import Runtime
from wibmo_cli.sandbox_port import DEFAULT_PORT

if TYPE_CHECKING:
    from wibmo_cli.sandbox.store import Store
    from wibmo_cli.sandbox.variants import Variant

DatabasePath = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH",
        help="SQLite database (created and seeded when missing; default: user data dir, "
        "the one the embedded profiles use).",
        show_default=False,
    ),
]

Customers = Annotated[
    int | None,
    typer.Option(
        "--customers",
        metavar="N",
        help="Generated customers (default 240; 10-100,000) besides the fixed ones, for "
        "load and scale runs; a database seeded with another count is refused.",
        show_default=False,
    ),
]


sandbox_app = typer.Typer(rich_markup_mode=None)


@sandbox_app.callback(invoke_without_command=True)
@command_options
def sandbox(
    rt: Runtime,
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 picks a free one).")
    ] = DEFAULT_PORT,
    db: DatabasePath = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Added to every API answer.")
    ] = 0.0,
    fail_rate: Annotated[
        float, typer.Option("--fail-rate", help="Share of API requests answered --fail-status.")
    ] = 0.0,
    fail_status: Annotated[
        int, typer.Option("--fail-status", help="5xx: an HTML page; 4xx: small JSON.")
    ] = 503,
    hang_rate: Annotated[
        float, typer.Option("--hang-rate", help="Share of API requests never answered.")
    ] = 0.0,
    hang_seconds: Annotated[
        float, typer.Option("--hang-seconds", help="How long a hung request hangs.")
    ] = 60.0,
    garbage_rate: Annotated[
        float, typer.Option("--garbage-rate", help="Share answered with an undecryptable token.")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option("--drop-rate", help="Share whose connection is dropped unanswered.")
    ] = 0.0,
    drop_after_rate: Annotated[
        float,
        typer.Option(
            "--drop-after-rate",
            help="Share applied, then dropped unanswered (the client cannot tell it was).",
        ),
    ] = 0.0,
    hang_after_rate: Annotated[
        float,
        typer.Option(
            "--hang-after-rate", help="Share applied, then never answered (--hang-seconds)."
        ),
    ] = 0.0,
    shape: Annotated[
        str, typer.Option("--shape", metavar="cardList|flat|mixed", help="Lookup answer shape.")
    ] = "cardList",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for reproducible fault draws.")
    ] = None,
    variant: Annotated[
        str,
        typer.Option(
            "--variant",
            metavar="NAME|list",
            help="The environment to rehearse: seed (lenient: every path, either credential "
            "placement), mob1, v3, gitbook or wallet; 'list' describes each.",
        ),
    ] = "seed",
    customers: Customers = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            metavar="N",
            help="Processes serving the port (Linux; 1-64): a load test's sandbox on more "
            "than one core. Each keeps its own request records and fault draws, so "
            "/__sandbox/requests, /reset and POST /faults answer 409 with more than one.",
        ),
    ] = 1,
) -> None:
    """Run the local sandbox: both APIs over real HTTP on 127.0.0.1, real encryption,
    demo customers in SQLite, the documents' error codes, and fault knobs.

    It accepts the chosen profile's credentials, key and IV scheme (the built-in demo
    profile's unless -p says otherwise). --variant serves one environment of the
    platform's public material strictly (its paths, methods, credential placement,
    message codes, answer envelope and helper endpoints), to rehearse a profile before
    it meets the real one. The URL is printed on stdout when it listens; faults can also
    be changed while it runs (POST /__sandbox/faults; with --workers 1), GET
    /__sandbox/status shows what is served.

    \b
    Examples:
      wibmo sandbox
      wibmo sandbox --port 0 --db scratch.db
      wibmo sandbox --latency-ms 50 --fail-rate 0.2 --fail-status 503
      wibmo sandbox --drop-after-rate 0.1 --seed 7
      wibmo sandbox --customers 10000 --db big.db
      wibmo sandbox --port 0 --workers 2        # a load test's: two processes, one port
      wibmo sandbox --variant v3
      wibmo -p uat-v3 sandbox --variant v3      # uat-v3: a profile of yours
      wibmo sandbox --variant list
      wibmo sandbox customers --kind blocked
      wibmo sandbox reset
    """
    if ctx.invoked_subcommand is not None:
        _serving_only(ctx, ctx.invoked_subcommand)
        return
    from wibmo_cli.endpoint import sandbox_settings
    from wibmo_cli.sandbox import Faults, serve
    from wibmo_cli.sandbox.server import NotServing
    from wibmo_cli.sandbox.variants import VARIANTS, by_name

    if variant == "list":
        if rt.json:
            rt.render.json([v.to_json() for v in VARIANTS.values()])
        else:
            for each in VARIANTS.values():
                for line in _described(each):
                    rt.render.line(line)
        return
    try:
        served = by_name(variant)
    except ValueError as exc:
        raise InputError(f"--variant: {exc}") from None
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: must be 0-65535")
    _check_workers(workers)
    try:
        faults = Faults()
        faults.set_from_json(
            {
                "latency_ms": latency_ms,
                "fail_rate": fail_rate,
                "fail_status": fail_status,
                "hang_rate": hang_rate,
                "hang_seconds": hang_seconds,
                "garbage_rate": garbage_rate,
                "drop_rate": drop_rate,
                "drop_after_rate": drop_after_rate,
                "hang_after_rate": hang_after_rate,
                "seed": seed,
            }
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    _check_customers(customers)
    profile = rt.profile()
    db_path = _database_path(rt, db)
    try:
        settings = sandbox_settings(
            profile,
            db_path,
            faults=faults,
            shape=shape,
            variant=served,
            customers=customers,
            workers=workers,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with _database(db_path, given=db is not None, customers=customers):
        pass  # created and seeded now: a path it cannot use is one line, not a crash

    def ready(url: str) -> None:
        rt.render.line(url)
        processes = f", {workers} worker processes" if workers > 1 else ""
        rt.render.info(
            f"sandbox ({served.name} variant) for profile {profile.name} listening on {url} "
            f"(db {db_path}{processes}); Ctrl-C stops it"
        )

    try:
        serve(settings, "127.0.0.1", port, on_ready=ready, on_notice=rt.render.info)
    except NotServing as exc:  # a worker, the database gone bad since it was checked
        raise _cannot_use(db_path, given=db is not None, reason=str(exc)) from None
    except OSError as exc:
        raise InputError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    rt.render.info("sandbox stopped")


MAX_WORKERS = 64


def _check_workers(workers: int) -> None:
    if not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers {workers}: must be 1-{MAX_WORKERS}")
    if workers > 1 and not sys.platform.startswith("linux"):
        raise InputError(
            f"--workers {workers}: needs Linux, whose SO_REUSEPORT shares one port among "
            "the worker processes; use --workers 1 here"
        )


def _described(variant: Variant) -> list[str]:
    """`--variant list`'s lines for one variant: what a client must do to be answered."""
    lines = [f"{variant.name}: {variant.about}"]
    for name, api in (("lookup", variant.lookup), ("update", variant.update)):
        where = api.credentials or "headers or body"
        lines.append(
            f"  {name}: {api.method} {', '.join(api.paths)}"
            f" (messageCode {' or '.join(api.message_codes)}; credentials in {where})"
        )
    consumer = "required" if variant.consumer_id else "checked when the profile sets one"
    lines.append(
        f'  X-Consumer-Custom-ID {consumer}; answers {{"{variant.envelope}": ...}},'
        f" success {variant.success_code}"
    )
    lines.append(
        f"  helpers (POST): encrypt at {', '.join(variant.encrypt_paths)},"
        f" decrypt at {', '.join(variant.decrypt_paths)}"
    )
    if variant.update_fields:
        lines.append(
            f"  Update Profile: {variant.update_fields} spelling, dateOfBirth"
            f" {variant.date_format}, documents {variant.documents}"
        )
    return lines


_SHARED = frozenset(["help", *(option.name for option in GLOBAL_OPTIONS)])


def _serving_only(ctx: typer.Context, command: str) -> None:
    """Refuse the serving options given before `command` (they would be ignored)."""
    given = []
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name or "")
        if param.name in _SHARED or source is None or source.name == "DEFAULT":
            continue  # a global option (it goes on), or not given
        given.append(param.opts[0])
    if given:
        raise InputError(
            f"{', '.join(given)}: for serving the sandbox, not for `wibmo sandbox {command}`; "
            f"its own options go after its name (see 'wibmo sandbox {command} --help')"
        )


def _database_path(rt: Runtime, db: str | None) -> Path:
    """--db, else the database `wibmo sandbox` and the embedded profiles use."""
    from wibmo_cli.endpoint import SANDBOX_DB

    return user_path(db) if db else rt.data_dir() / SANDBOX_DB


def _check_customers(customers: int | None) -> None:
    from wibmo_cli.sandbox.seed import checked_count

    if customers is not None:
        try:
            checked_count(customers)
        except ValueError as exc:
            raise InputError(f"--customers {customers}: {exc}") from None


@contextmanager
def _database(path: Path, *, given: bool, customers: int | None = None) -> Iterator[Store]:
    """The sandbox database at `path` (created and seeded when missing, with
    `customers`), open for the block: a path it cannot use, a database it cannot read,
    or one seeded with another count of customers, is one line."""
    import sqlite3

    from wibmo_cli.sandbox.store import SeededOtherwise, Store

    try:
        store = Store.open(path, customers)
        try:
            yield store
        finally:
            store.close()
    except SeededOtherwise as exc:
        db = f" --db {path}" if given else ""
        raise InputError(
            f"--customers {exc.wanted}: the database {path} holds {exc.held:,} generated "
            f"customers; `wibmo sandbox reset --customers {exc.wanted}{db}` seeds it again "
            "(its changes are lost), or give another --db"
        ) from None
    except (OSError, sqlite3.Error) as exc:
        reason = blocked_by(path) or (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        )
        raise _cannot_use(path, given=given, reason=reason) from None


def _cannot_use(path: Path, *, given: bool, reason: str) -> InputError | ConfigError:
    """The database at `path` is unusable: `--db`'s (exit 2) or the data dir's (3)."""
    if given:
        return InputError(f"--db {path}: cannot use it as the sandbox database: {reason}")
    return ConfigError(
        f"cannot use {path} as the sandbox database: {reason}", hint="check $WIBMO_DATA_DIR"
    )


@sandbox_app.command("reset")
@command_options
def reset(rt: Runtime, db: DatabasePath = None, customers: Customers = None) -> None:
    """Put the demo data back as a new database has it: every customer, card and
    document, and no clientTxnId remembered; as many generated customers as before,
    or --customers N.

    The database is the one `wibmo sandbox` and the embedded profiles (the built-in
    demo) use, or --db's. A sandbox running on it, with any number of workers, needs no
    restart: every request checks the database's change stamp, and sees the seed from
    its next one.

    \b
    Examples:
      wibmo sandbox reset
      wibmo sandbox reset --db /tmp/sandbox.db
      wibmo sandbox reset --customers 10000
    """
    from wibmo_cli.sandbox.store import foreign

    _check_customers(customers)
    path = _database_path(rt, db)
    try:
        why = foreign(path)
    except OSError:
        why = None  # said by opening it, below
    if why is not None:
        raise InputError(f"{path}: {why}; not reset")
    with _database(path, given=db is not None) as store:
        store.reseed(customers)
        everyone, cards = len(store.every_customer()), len(store.every_card())
    if rt.json:
        rt.render.json({"db": str(path), "customers": everyone, "cards": cards})
    else:
        rt.render.info(
            f"sandbox database {path}: the seed again ({everyone} customers, {cards} cards)"
        )


@sandbox_app.command("customers")
@command_options
def customers(
    rt: Runtime,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="Every customer of one kind (without it: the first of each kind, which "
            "names them all).",
            show_default=False,
        ),
    ] = None,
    db: DatabasePath = None,
) -> None:
    """The demo customers worth trying, with identifiers to paste: each KYC level, blocked
    and lost cards, several cards, a mobile or an email on two customers, no card,
    sub-wallets.

    Read from the database as it is now (after your updates too): `wibmo sandbox
    reset` brings back the seed.

    \b
    Examples:
      wibmo sandbox customers
      wibmo sandbox customers --kind blocked
      wibmo sandbox customers --kind no-card -o json
    """
    from wibmo_cli.sandbox import demo

    with _database(_database_path(rt, db), given=db is not None) as store:
        everyone = demo.records(store.every_customer(), store.every_card())
    try:
        found = demo.worth_trying(everyone, kind)
    except ValueError as exc:
        raise InputError(f"--kind {exc}") from None
    if rt.json:
        rt.render.json([each.to_json() for each in found])
        return
    if not found:
        rt.render.info(
            f"no customer of kind {kind} now; `wibmo sandbox reset` brings back the seed"
        )
        return
    from wibmo_cli.views.demo import customers_table

    rt.render.print(customers_table(found))

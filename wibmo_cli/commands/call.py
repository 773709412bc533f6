"""`wibmo call`: any API of the platform, like `gh api`: encrypt, send, decrypt, explain.

The request is built by callapi.py (pure); a read goes through the client's retried
lookup path, a write through send.send_once (at most once, audited) after the same guard
as update-profile's (update_dialog.WriteGuard); the answer is shown by the generic answer
view, a dry run by update-profile's dry-run view.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Annotated

import typer

from wibmo_cli.commands.options import AuditLogPath, DryRun, ProductionOk, Yes, command_options
from wibmo_cli.errors import (
    ConfigError,
    ExitStatus,
    HTTPStatusError,
    InputError,
    NothingSentError,
    OutcomeUnknownError,
    WibmoError,
)
from wibmo_cli.runtime import Runtime

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from wibmo_cli.audit import AuditLog
    from wibmo_cli.callapi import Call
    from wibmo_cli.client import Client, Exchange
    from wibmo_cli.commands.update_dialog import WriteGuard
    from wibmo_cli.profiles import Profile
    from wibmo_cli.send import Outcome, Progress

MAX_FIELD_FILE = 1 << 20  # -F key=@FILE: one value, not a document


@command_options(writes=True)
def call(
    rt: Runtime,
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="The API's path, after the profile's base_url "
            "(e.g. /api/v2/customer/retrieveCustRecord).",
            show_default=False,
        ),
    ],
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="[JSON|FILE|-]",
            help="The plaintext payload: JSON text, a file holding it, or - for stdin (at "
            "a terminal: paste it, then Enter and Ctrl-D).",
            show_default=False,
        ),
    ] = None,
    message_code: Annotated[
        int | None,
        typer.Option(
            "--message-code",
            metavar="N",
            help="The API's messageCode (1930, 1280, ...); else the payload's.",
            show_default=False,
        ),
    ] = None,
    raw_field: Annotated[
        list[str] | None,
        typer.Option(
            "--raw-field",
            "-f",
            metavar="KEY=VALUE",
            help="A string field, repeatable; nested a[b]=v, lists a[]=v.",
            show_default=False,
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            "-F",
            metavar="KEY=VALUE",
            help="A typed field, repeatable: true, false, null and integers as JSON; "
            "@FILE (or @-) the file's text; else a string.",
            show_default=False,
        ),
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            "-X",
            metavar="POST|PATCH",
            help="HTTP method [default: the profile's for its lookup_path / update_path, "
            "else POST].",
            show_default=False,
        ),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "--header",
            "-H",
            metavar="NAME:VALUE",
            help="An extra HTTP header, repeatable (never a secret: those come from the profile).",
            show_default=False,
        ),
    ] = None,
    credentials: Annotated[
        str | None,
        typer.Option(
            "--credentials",
            metavar="headers|body",
            help="Where clientId, bankId, entityId, secureCode go [default: the profile's "
            "for that API's path, else its credentials].",
            show_default=False,
        ),
    ] = None,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only",
            help="The API only reads: retry it like a lookup; no question, no audit.",
        ),
    ] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    production_ok: ProductionOk = False,
    audit_log: AuditLogPath = None,
) -> int | None:
    """Call any API of the platform: the payload encrypted with the profile's scheme,
    sent with its credentials, the answer decrypted and explained.

    The payload is the JSON given (argument, file or -), then each -f (string) and -F
    (typed: true, false, null, integers, @FILE) field set in it, gh's way: a[b]=1 nests,
    a[]=1 makes a list. messageCode (--message-code), clientTxnId and requestDateTime
    are filled unless given. The path's API in the profile (lookup_path, update_path)
    gives the method and where the credentials go; any other path is POSTed with the
    profile's credentials setting.

    A call is a write unless --read-only or its message code is a known read (1930,
    3422, or the profile's lookup_message_code): a write is previewed and confirmed
    (--yes; production profiles also --production-ok), audited, and sent at most once;
    when its outcome is unknown, exit 5 with the clientTxnId. A read is retried like a
    lookup. -o json prints the decrypted answer (masked), so --jq and --fields work.

    Exit codes as for lookup: 0 success, 1 the platform answered another code, 2 bad
    input or not confirmed, 3 configuration, 4 undecryptable answer, 5 network or
    outcome unknown, 6 HTTP error (an unknown path: 404).

    \b
    Examples:
      wibmo call /api/v2/customer/retrieveCustRecord --message-code 1930 -f urn=389
      wibmo call /api/v2/customer/retrieveCustRecord --message-code 1930 \\
          -f customerMobile=9897123456 --jq '.cardList[].urn'
      wibmo call /mob1/api/onboarding/v1/updateProfile --message-code 1280 -f urn=389 \\
          -F cardProfileId=150 -f cardholderCity=Pune --dry-run
      wibmo call /mob1/api/onboarding/v1/updateProfile --message-code 1280 \\
          -f urn=1000179203 -F cardProfileId=150 -f cardholderCity=Pune --yes
      wibmo call /api/v2/customer/retrieveCustRecord --message-code 1111 -f urn=389 \\
          --read-only   # exits 1: the platform answers 1055 to a code it does not know
    """
    from wibmo_cli import callapi
    from wibmo_cli.messages import new_client_txn_id
    from wibmo_cli.tokenio import read_json_argument

    stdin = _Stdin(rt.render.info)
    base = None
    if source is not None:
        if source != "-" and _names_stdin(source):  # /dev/stdin: stdin, read once
            source = "-"
        base, _ = read_json_argument(source, lambda: stdin.read("the payload", "the JSON payload"))
    payload, code = callapi.build_payload(
        base,
        raw_fields=raw_field or (),
        typed_fields=field or (),
        message_code=message_code,
        read_file=stdin.field_file,
        client_txn_id=(filled_txn_id := new_client_txn_id()),
    )
    profile = rt.profile()
    route = callapi.route_for(
        path, profile.values, method=method, credentials=credentials, headers=header or ()
    )
    read = callapi.is_read(
        code,
        lookup_message_code=int(profile.get("lookup_message_code")),
        read_only=read_only,
        to_update=callapi.api_at(path, profile.values) == "update",
    )
    own_txn_id = payload["clientTxnId"] != filled_txn_id
    the_call = callapi.Call(route, payload, code, read, own_txn_id=own_txn_id)
    guard = None
    if not read:
        from wibmo_cli.commands.update_dialog import WriteGuard

        guard = WriteGuard.of(profile, yes=yes, production_ok=production_ok, dry_run=dry_run)
    audit = _checked_audit(rt, audit_log) if dry_run or not read else None
    if dry_run:
        assert audit is not None
        _dry_run(rt, profile, the_call, audit)
        return None
    if read:
        return _show(rt, profile, the_call, _send_read(rt, profile, the_call))
    assert guard is not None and audit is not None
    return _write(rt, profile, the_call, guard, audit)


def _checked_audit(rt: Runtime, override: str | None) -> AuditLog:
    """Writes and dry runs are audited: a log that cannot be written stops them first."""
    audit = rt.audit_log(override)
    try:
        audit.check()
    except ConfigError as exc:
        raise NothingSentError(exc) from None
    return audit


def _dry_run(rt: Runtime, profile: Profile, the_call: Call, audit: AuditLog) -> None:
    """Built and audited, not sent: no network code (a dry run's token can be replayed)."""
    from wibmo_cli.commands.update_dialog import show_dry_run
    from wibmo_cli.send import AuditEntry, dry_run_base_url
    from wibmo_cli.wire import Wire

    request = Wire(profile).request(the_call.route, the_call.payload, dry_run_base_url(profile))
    AuditEntry(audit, None, the_call.audit_fields("dry-run")).record(result="not sent (dry run)")
    show_dry_run(rt, profile, request)


def _send_read(rt: Runtime, profile: Profile, the_call: Call) -> Exchange:

    async def run() -> Exchange:
        async with _client(rt, profile) as client:
            return await client.lookup(
                the_call.payload, route=the_call.route, keep_txn_id=the_call.own_txn_id
            )

    try:
        from wibmo_cli import eventloop

        return eventloop.run(run())
    except HTTPStatusError as exc:
        raise _said(exc, the_call) from None


def _write(
    rt: Runtime, profile: Profile, the_call: Call, guard: WriteGuard, audit: AuditLog
) -> int | None:
    """Confirmed (when the guard asks), then sent once and audited; its outcome said."""

    from wibmo_cli.send import AuditEntry, Progress, Result, send_once

    progress = Progress()

    async def run() -> Outcome | None:
        async with _client(rt, profile) as client:
            if guard.ask and not _confirmed(rt, profile, the_call, guard, client):
                return None
            entry = AuditEntry(audit, rt.render.warn, the_call.audit_fields("call"))

            def send() -> Awaitable[Exchange]:
                return client.update(the_call.payload, route=the_call.route)

            return await send_once(send, entry, progress)

    try:
        from wibmo_cli import eventloop

        outcome = eventloop.run(run())
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: say what became of the write
        return _interrupted(rt, the_call, progress)
    if outcome is None:
        return ExitStatus.USAGE
    if outcome.result is Result.UNKNOWN:
        from wibmo_cli.views.call import how_to_check

        assert isinstance(outcome.error, OutcomeUnknownError)
        raise OutcomeUnknownError(
            outcome.error.cause,
            client_txn_id=the_call.client_txn_id,
            hint=how_to_check(the_call),
            what="request",
        )
    if outcome.error is not None:  # refused (a 4xx), or not sent: said as they came
        raise _said(outcome.error, the_call)
    assert outcome.exchange is not None
    return _show(rt, profile, the_call, outcome.exchange)


def _said(error: WibmoError, the_call: Call) -> WibmoError:
    """The error to say: a 404 is about PATH, not the profile's paths."""
    if isinstance(error, HTTPStatusError) and error.status == 404:
        return HTTPStatusError(
            error.message,
            status=404,
            hint=f"the platform has no API at {the_call.route.path}: check PATH (the profile's "
            "lookup_path and update_path are the two it knows)",
        )
    return error


def _confirmed(
    rt: Runtime, profile: Profile, the_call: Call, guard: WriteGuard, client: Client
) -> bool:
    """The request on stderr, then update-profile's question. Declined: said, False."""
    from wibmo_cli.views.call import request_preview

    url = profile.url(the_call.route.path, client.base_url)
    rt.render.info(request_preview(the_call, url, profile.name, profile.secret_values()))
    try:
        confirmed, refusal = guard.question(profile, "request")
    except EOFError:  # end of input: nothing was sent
        rt.render.info("")
        raise KeyboardInterrupt from None
    if not confirmed:
        rt.render.info(refusal)
    return confirmed


def _interrupted(rt: Runtime, the_call: Call, progress: Progress) -> int:
    from wibmo_cli import interrupts
    from wibmo_cli.views.call import interrupted_message

    interrupts.ignore()  # a second signal must not cut this message short
    outcome = progress.interrupted()
    (rt.render.error if outcome.sent else rt.render.info)(interrupted_message(the_call, outcome))
    return ExitStatus.INTERRUPTED


def _show(rt: Runtime, profile: Profile, the_call: Call, exchange: Exchange) -> int | None:
    from wibmo_cli.views.answer import show_answer

    ok = show_answer(
        rt.render,
        exchange.answer,
        elapsed=exchange.elapsed,
        reveal=False,
        title=the_call.describe(),
        success_codes=profile.get("success_codes"),
        plain=exchange.plain,
        client_txn_id=exchange.client_txn_id,
        called=the_call.called(),
    )
    return None if ok else ExitStatus.API_ERROR


def _client(rt: Runtime, profile: Profile) -> AbstractAsyncContextManager[Client]:
    from wibmo_cli.endpoint import open_client

    trace = rt.render.trace if rt.options.verbose else None
    return open_client(profile, rt.data_dir(), trace=trace, notice=rt.render.info)


class _Stdin:
    """stdin, read at most once: by the payload (-) or by one -F key=@- field; at a
    terminal, a paste read to Ctrl-D after a hint on stderr (`say`), as `decrypt -` reads
    one."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.taken_by: str | None = None

    def read(self, by: str, pasted: str) -> bytes:
        """stdin's bytes, for `by` (named in messages); `pasted`: what the hint asks for."""
        from wibmo_cli import tokenio
        from wibmo_cli.streams import is_terminal

        if self.taken_by is not None:
            raise InputError(f"{by}: stdin is already read for {self.taken_by}")
        if sys.stdin is None:  # closed (`<&-`)
            raise InputError(f"{by}: nothing on stdin (pipe it in, or give a file)")
        self.taken_by = by
        if is_terminal(sys.stdin):
            return tokenio.read_paste(self.say, pasted)
        return tokenio.read_limited(sys.stdin.buffer, "stdin")

    def field_file(self, name: str) -> str:
        """-F key=@FILE's text (@- stdin), at most MAX_FIELD_FILE bytes of UTF-8."""
        from wibmo_cli.paths import user_path

        what = f"-F @{name}"
        try:
            if name == "-":
                data = self.read(what, "the text of -F KEY=@-")
            else:
                with user_path(name).open("rb") as handle:
                    if _is_stdin(handle):  # @/dev/stdin, @/proc/self/fd/0: stdin, read once
                        handle.close()
                        return self.field_file("-")
                    data = handle.read(MAX_FIELD_FILE + 1)
            if len(data) > MAX_FIELD_FILE:
                raise InputError(f"{what}: larger than {MAX_FIELD_FILE >> 20} MiB")
            return data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InputError(f"{what}: cannot read it ({reason})") from None


def _is_stdin(handle: IO[bytes]) -> bool:
    """Whether `handle` is open on the file stdin is (a path to it: /dev/stdin)."""
    if sys.stdin is None:
        return False
    try:
        mine, theirs = os.fstat(handle.fileno()), os.fstat(sys.stdin.fileno())
    except (OSError, ValueError):
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


def _names_stdin(name: str) -> bool:
    """Whether the file `name` is stdin under another name (/dev/stdin, /proc/self/fd/0)."""
    from wibmo_cli.paths import user_path

    try:
        with user_path(name).open("rb") as handle:
            return _is_stdin(handle)
    except OSError:  # no such file: read_json_argument says what it is
        return False

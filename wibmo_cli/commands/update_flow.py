"""The steps of one `wibmo update-profile` run, after its options are parsed and valid.

    lookup, when previewing or cardProfileId is unknown
    plan (update.plan): full-KYC rules, payload   exit 2, nothing sent
    --dry-run: payload, token, curl               nothing sent
    preview + confirmation (typed name on production profiles)
    audit "sending", then send once (client.update), then audit the result

Audited: every request handed to the network (an entry before sending and one with
the result, so even a crash leaves a trace) and every dry run (it prints a replayable
token). Not audited: input errors, refusals and declined confirmations (nothing was
built to be sent, or nothing left the machine).
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import typer

from wibmo_cli.errors import (
    ApiError,
    ConfigError,
    ExitStatus,
    HTTPStatusError,
    InputError,
    NetworkError,
    OutcomeUnknownError,
    WibmoError,
)
from wibmo_cli.paths import user_path

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.client import Client, Exchange
    from wibmo_cli.messages import Identifiers
    from wibmo_cli.profiles import Profile
    from wibmo_cli.runtime import Runtime
    from wibmo_cli.update import Plan, UpdateRequest

from wibmo_cli.sandbox_port import SANDBOX_URL  # `wibmo sandbox`'s default

MAX_PATCH_BYTES = 1 << 20  # a --from-file patch is a few fields: 1 MiB is ample


def read_file(name: str) -> str:
    """The text of `--from-file` (a path, or - for stdin): at most `MAX_PATCH_BYTES`."""
    try:
        if name == "-":
            if sys.stdin is None:  # closed (`<&-`)
                raise InputError("--from-file -: there is no stdin to read")
            data = sys.stdin.buffer.read(MAX_PATCH_BYTES + 1)
        else:
            with user_path(name).open("rb") as handle:
                data = handle.read(MAX_PATCH_BYTES + 1)
        if len(data) > MAX_PATCH_BYTES:
            raise InputError(
                f"--from-file {name}: larger than {MAX_PATCH_BYTES >> 20} MiB: not a patch "
                "of profile fields"
            )
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"--from-file {name}: cannot read it ({reason})") from None


class UpdateSession:
    """One update: lookup, plan, preview/confirm or dry run, send once, audit."""

    def __init__(
        self,
        rt: Runtime,
        profile: Profile,
        request: UpdateRequest,
        audit: AuditLog,
        *,
        ask: bool,
        typed: bool,
    ) -> None:
        self.rt = rt
        self.profile = profile
        self.request = request
        self.audit = audit
        self.ask = ask
        self.typed = typed
        self.plan: Plan | None = None
        self.sent = False
        self.answer: dict[str, Any] | None = None  # the update's answer, once it came

    @property
    def identifiers(self) -> Identifiers:
        return self.request.identifiers

    async def main(self, *, dry_run: bool) -> Exchange | None:
        from wibmo_cli.client import Client
        from wibmo_cli.session import open_client

        trace = self.rt.render.trace if self.rt.options.verbose else None
        if dry_run and self.request.card_profile_id is not None:
            base = SANDBOX_URL if self.profile.embedded else str(self.profile.get("base_url"))
            if not self.profile.embedded:
                self.profile.check_transport()
            async with Client(self.profile, base) as client:
                self._notes(self._plan(None))
                self._dry_run(client)
                return None
        async with open_client(
            self.profile, self.rt.data_dir(), trace=trace, notice=self.rt.render.info
        ) as client:
            record = None
            if self.ask or self.request.card_profile_id is None:
                record = await self._lookup(client)
            plan = self._plan(record)
            if dry_run:
                if record is not None:
                    self._preview(plan, record)
                else:
                    self._notes(plan)
                self._dry_run(client)
                return None
            if self.ask:
                self._preview(plan, record)
                self._confirm()
            else:
                self._notes(plan)
            return await self._send(client, plan)

    async def _lookup(self, client: Client) -> dict[str, Any]:
        """The customer as the platform has them now; the whole answer, checked."""
        from wibmo_cli.codes import explain, is_success, normalise_code
        from wibmo_cli.messages import lookup_payload

        code = int(self.profile.get("lookup_message_code"))
        try:
            exchange = await client.lookup(lookup_payload(self.identifiers, message_code=code))
        except WibmoError as exc:
            exc.message = f"the lookup before the update failed: {exc.message}; nothing was sent"
            raise
        answer = exchange.answer
        if not is_success(answer.get("responseCode")):
            found = normalise_code(str(answer.get("responseCode", "?")))
            known = explain(found)
            what = f"{found} {known.name}: {known.meaning.rstrip('.')}" if known else found
            raise ApiError(
                f"the lookup before the update answered {what}; nothing was sent",
                response=answer,
            )
        return answer

    def _plan(self, answer: dict[str, Any] | None) -> Plan:
        from wibmo_cli.update import current_profile, plan

        request = self.request
        current = request.card_profile_id
        if answer is not None:
            current = current_profile(answer, self.identifiers.urn, current)
        assert current is not None
        self.plan = plan(
            request, current, message_code=int(self.profile.get("update_message_code"))
        )
        return self.plan

    def _dry_run(self, client: Client) -> None:
        from wibmo_cli.masking import mask, redact_url
        from wibmo_cli.profiles import SECRET_KEYS
        from wibmo_cli.views.update import curl_command, dry_run_text

        assert self.plan is not None
        payload = self.plan.payload
        base = SANDBOX_URL if self.profile.embedded else client.base_url
        url = self.profile.url(str(self.profile.get("update_path")), base)
        body = client.request_body(payload)
        secrets = [str(self.profile.values.get(key, "")) for key in SECRET_KEYS]
        curl = curl_command("PATCH", url, client.headers, body, secrets)
        self._audit(action="dry-run", result="not sent (dry run)")
        if self.rt.json:
            self.rt.render.json(
                {
                    "dryRun": True,
                    "method": "PATCH",
                    "url": redact_url(url),
                    "payload": mask(payload),
                    "token": body["token"],
                    "curl": curl,
                }
            )
        else:
            self.rt.render.line(dry_run_text(payload, body["token"], curl))
        if self.profile.embedded:
            self.rt.render.info("embedded profile: the curl targets `wibmo sandbox` on port 8765")
        self.rt.render.info(f"dry run: nothing was sent (clientTxnId {self.plan.client_txn_id})")

    def _preview(self, plan: Plan, answer: dict[str, Any] | None) -> None:
        """Each field now and as it will be, on stderr (stdout is for the answer)."""
        from wibmo_cli.update import customer_record
        from wibmo_cli.views.update import preview, preview_renderables

        record = customer_record(answer, self.identifiers.urn) if answer else None
        who = self.identifiers.describe(masked=False)
        name = " ".join(
            str(record[k]) for k in ("firstName", "lastName") if record and record.get(k)
        )
        title = f"Update for {who}" + (f" ({name})" if name else "") + f" on {self.profile.name}"
        rows = preview(plan, record)
        self.rt.render.err_console.print(*preview_renderables(rows, title=title, notes=plan.notes))

    def _confirm(self) -> None:
        try:
            confirmed, refusal = self._ask()  # Ctrl-C and SIGTERM end it at once
        except (EOFError, KeyboardInterrupt):  # end of input, Ctrl-C or SIGTERM
            self.rt.render.info("")
            raise KeyboardInterrupt from None
        if not confirmed:
            self.rt.render.info(refusal)
            raise typer.Exit(ExitStatus.USAGE)

    def _ask(self) -> tuple[bool, str]:
        """(confirmed, what to say if not): the profile's name typed, or yes/no."""
        from wibmo_cli import prompt

        if self.typed:
            typed = prompt.ask(
                f"Profile {self.profile.name!r} is production. Type its name to send: "
            ).strip()
            return typed == self.profile.name, f"not sent: {typed!r} is not {self.profile.name!r}"
        return prompt.confirm("Send this update?"), "not sent: not confirmed"

    async def _send(self, client: Client, plan: Plan) -> Exchange:
        self._audit(action="update", result="sending")
        self.sent = True
        try:
            exchange = await client.update(plan.payload)
        except OutcomeUnknownError as exc:  # it may have been applied: exit 5, say how to check
            self._audit(action="update", result="outcome unknown", error=exc.cause)
            raise OutcomeUnknownError(
                exc.message,
                client_txn_id=exc.client_txn_id,
                cause=exc.cause,
                hint=f"check with: {self.check_command()} before sending it again",
            ) from None
        except (NetworkError, ConfigError) as exc:  # could not connect: it never left
            self.sent = False
            self._audit(action="update", result="not sent", error=exc.message)
            raise
        except HTTPStatusError as exc:  # a 4xx: refused, not applied
            self._audit(action="update", result=f"HTTP {exc.status}", error=exc.message)
            raise
        except (asyncio.CancelledError, KeyboardInterrupt):  # Ctrl-C or SIGTERM
            self._audit(action="update", result="interrupted: outcome unknown")
            raise
        except Exception as exc:  # a bug in wibmo: still no entry left at "sending"
            self._audit(
                action="update",
                result="outcome unknown",
                error=f"internal error ({type(exc).__name__})",
            )
            raise
        answer = exchange.answer
        self.answer = answer  # from here on the outcome is known, whatever interrupts
        self._audit(
            action="update",
            result="answered",
            responseCode=answer.get("responseCode"),
            accosaTransactionId=answer.get("accosaTransactionId"),
        )
        return exchange

    # -- helpers -----------------------------------------------------------------------

    def _notes(self, plan: Plan) -> None:
        for note in plan.notes:
            self.rt.render.warn(note)

    def check_command(self) -> str:
        from wibmo_cli.views.update import lookup_command

        new_mobile = self.plan.payload.get("mobile") if self.plan else None
        return lookup_command(self.profile.name, self.identifiers, new_mobile)

    def unknown_message(self, cause: str) -> str:
        txn = self.plan.client_txn_id if self.plan else "?"
        return (
            f"{cause}: the update may or may not have been applied (clientTxnId {txn}); "
            f"check with: {self.check_command()}"
        )

    def answered_message(self) -> str:
        """The update's answer in one line: `the update was answered 00 SUCCESS (...)`."""
        from wibmo_cli.codes import explain, normalise_code

        assert self.answer is not None
        code = normalise_code(str(self.answer.get("responseCode", "?")))
        known = explain(code)
        txn = self.plan.client_txn_id if self.plan else "?"
        return (
            f"the update was answered: responseCode {code}"
            f"{f' {known.name}' if known else ''} (clientTxnId {txn}, "
            f"accosaTransactionId {self.answer.get('accosaTransactionId')}); "
            f"see it with: {self.check_command()}"
        )

    def interrupted_message(self) -> str:
        """What to say when Ctrl-C or SIGTERM ends the run: what became of the update."""
        if self.answer is not None:
            return f"interrupted after the answer came: {self.answered_message()}"
        if self.sent:
            return self.unknown_message("interrupted after sending")
        return "interrupted: nothing was sent"

    def _audit(self, *, action: str, result: str, **fields: Any) -> None:

        assert self.plan is not None
        entry: dict[str, Any] = {
            "command": "update-profile",
            "action": action,
            "identifiers": self.identifiers.describe(),
            "clientTxnId": self.plan.client_txn_id,
            "fields": self.plan.changed(),
        }
        if self.plan.new_profile is not None:
            entry["kycProfile"] = f"{self.plan.current_profile}->{self.plan.new_profile}"
        entry.update(result=result, **fields)
        try:
            self.audit.record(**entry)
        except ConfigError as exc:
            if result == "sending" or action == "dry-run":  # before anything is sent or shown
                raise ConfigError(f"{exc.message}; nothing was sent") from None
            self.rt.render.warn(str(exc))

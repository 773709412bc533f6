"""The command's side of `wibmo update-profile`: the terminal around `send.send_update`.

read_file        --from-file's text (a path, or - for stdin), bounded
WriteGuard       whether a write asks before it is sent, and the question (the profile's
                 name typed on production profiles): update-profile's and `wibmo call`'s
Confirmation     `decide`: the preview (or the plan's notes) on stderr, then the
                 question (the profile's name typed on production profiles)
show_outcome     each outcome said: the answer, the dry run, or the error to raise
show_dry_run     a dry run's payload, token and redacted curl (update-profile, call)
interrupted_message   what became of an update Ctrl-C or SIGTERM ended
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import ExitStatus, InputError, OutcomeUnknownError
from wibmo_cli.paths import user_path
from wibmo_cli.sandbox_port import DEFAULT_PORT
from wibmo_cli.send import Outcome, Result

if TYPE_CHECKING:
    from wibmo_cli.changes import Plan
    from wibmo_cli.messages import Identifiers
    from wibmo_cli.profiles import Profile
    from wibmo_cli.runtime import Runtime
    from wibmo_cli.wire import Request


MAX_PATCH_BYTES: Final = 1 << 20  # a --from-file patch is a few fields: 1 MiB is ample


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


@dataclass(frozen=True)
class WriteGuard:
    """Whether a write asks before it is sent (`ask`), and whether the answer is the
    profile's name typed (`typed`: a production profile, unless --yes --production-ok).
    A dry run never asks; --yes skips the question except on production."""

    ask: bool
    typed: bool

    @classmethod
    def of(
        cls,
        profile: Profile,
        *,
        yes: bool,
        production_ok: bool,
        dry_run: bool,
        review: str = "check with --dry-run",
    ) -> WriteGuard:
        """The guard for this profile and these flags; InputError (nothing sent) when it
        must ask and no one can be asked here (`review`: how to look before sending)."""
        typed = bool(profile.get("production")) and not (yes and production_ok)
        ask = not dry_run and (not yes or typed)
        unable = why_no_prompt() if ask else None
        if unable:
            how = "--yes"
            if typed:
                how = f"--yes --production-ok (profile {profile.name!r} is production)"
            raise InputError(f"cannot ask for confirmation: {unable}; {review}, then pass {how}")
        return cls(ask, typed)

    def question(self, profile: Profile, what: str) -> tuple[bool, str]:
        """(confirmed, what to say if not): the profile's name typed, or yes/no to
        "Send this `what`?"."""
        from wibmo_cli import prompt

        name = profile.name
        if self.typed:
            typed = prompt.ask(f"Profile {name!r} is production. Type its name to send: ").strip()
            return typed == name, f"not sent: {typed!r} is not {name!r}"
        return prompt.confirm(f"Send this {what}?"), "not sent: not confirmed"


def why_no_prompt() -> str | None:
    """Why no one can be asked here (None: they can): the question goes to stderr, the
    answer comes from a terminal on stdin."""
    from wibmo_cli.streams import is_terminal

    if not is_terminal(sys.stdin):  # None (`<&-`) and closed are not terminals
        return "stdin is not a terminal"
    if sys.stderr is None:
        return "stderr is closed"
    return None


class Confirmation:
    """The `decide` callback: show what will change (the preview when asking or for a
    dry run that looked the customer up, else the plan's notes), then ask when `ask`
    (typed when `typed`). Declined: says so and returns False. End of input, Ctrl-C or
    SIGTERM at the question: KeyboardInterrupt (nothing was sent)."""

    def __init__(
        self,
        rt: Runtime,
        profile: Profile,
        identifiers: Identifiers,
        *,
        ask: bool,
        typed: bool,
        dry_run: bool,
    ) -> None:
        self.rt = rt
        self.profile = profile
        self.identifiers = identifiers
        self.ask = ask
        self.typed = typed
        self.dry_run = dry_run

    def __call__(self, plan: Plan, record: dict[str, Any] | None) -> bool:
        if record is not None and (self.ask or self.dry_run):
            self._preview(plan, record)
        else:
            for note in plan.notes:
                self.rt.render.warn(note)
        if not self.ask:
            return True
        try:
            guard = WriteGuard(self.ask, self.typed)
            confirmed, refusal = guard.question(self.profile, "update")  # Ctrl-C ends it
        except (EOFError, KeyboardInterrupt):  # end of input, Ctrl-C or SIGTERM
            self.rt.render.info("")
            raise KeyboardInterrupt from None
        if not confirmed:
            self.rt.render.info(refusal)
        return confirmed

    def _preview(self, plan: Plan, answer: dict[str, Any]) -> None:
        """Each field now and as it will be, on stderr (stdout is for the answer)."""
        from wibmo_cli.customer_now import customer_record
        from wibmo_cli.views.preview import preview, preview_renderables

        record = customer_record(answer, self.identifiers.urn)
        who = self.identifiers.describe(masked=False)
        name = " ".join(str(record[k]) for k in ("firstName", "lastName") if record.get(k))
        title = f"Update for {who}" + (f" ({name})" if name else "") + f" on {self.profile.name}"
        rows = preview(plan, record)
        shown = preview_renderables(
            rows, title=title, notes=plan.notes, sent_as=plan.dialect.describe()
        )
        self.rt.render.print_err(*shown)


def show_outcome(rt: Runtime, profile: Profile, identifiers: Identifiers, outcome: Outcome) -> int:
    """Say what became of the update; its exit status. An error outcome is raised, for
    the edge to say in one line (with its exit code)."""
    result = outcome.result
    if result is Result.DECLINED:
        return ExitStatus.USAGE
    if result is Result.DRY_RUN:
        assert outcome.request is not None
        show_dry_run(rt, profile, outcome.request)
        return ExitStatus.OK
    if result is Result.UNKNOWN:
        assert isinstance(outcome.error, OutcomeUnknownError)
        raise OutcomeUnknownError(
            outcome.error.cause,
            client_txn_id=outcome.error.client_txn_id,
            hint=f"check with: {check_command(profile, identifiers, outcome.plan)} "
            f"(or wibmo -p {profile.name} reconcile --audit) before sending it again",
        )
    if outcome.error is not None:  # REFUSED (a 4xx), NOT_SENT: said as they came
        raise outcome.error
    assert outcome.exchange is not None
    from wibmo_cli.errors import OutputError
    from wibmo_cli.views.answer import show_answer

    exchange = outcome.exchange
    title = f"Update Profile ({identifiers.describe(masked=False)})"
    try:
        ok = show_answer(
            rt.render,
            exchange.answer,
            elapsed=exchange.elapsed,
            reveal=False,
            title=title,
            success_codes=profile.get("success_codes"),
            plain=exchange.plain,
            client_txn_id=exchange.client_txn_id,
        )
        rt.render.stdout.flush()  # a failure to show it surfaces here, not at exit
    except OutputError as exc:  # the answer cannot be shown: still say it was answered
        said = answered_message(profile, identifiers, outcome)
        raise OutputError(f"{exc.message}; {said}") from None
    except BrokenPipeError:  # its reader went away (exit 141): still say it was answered
        rt.render.info(answered_message(profile, identifiers, outcome))
        raise
    if not ok:
        return ExitStatus.API_ERROR
    rt.render.info(f"see the change: {check_command(profile, identifiers, outcome.plan)}")
    return ExitStatus.OK


def show_dry_run(rt: Runtime, profile: Profile, request: Request) -> None:
    """The request a write would send, not sent: its payload (masked), token and a curl
    command with every secret redacted; JSON with -o json."""
    from wibmo_cli.masking import mask, redact_url, secrets_hidden
    from wibmo_cli.profiles import SECRET_KEYS
    from wibmo_cli.views.preview import curl_command, dry_run_text

    token = str(request.body["token"])
    secrets = [str(profile.values.get(key, "")) for key in SECRET_KEYS]
    payload = secrets_hidden(dict(request.payload), secrets)  # -f secureCode=... shown redacted
    curl = curl_command(request.method, request.url, request.headers, request.body, secrets)
    if rt.json:
        rt.render.json(
            {
                "dryRun": True,
                "method": request.method,
                "url": redact_url(request.url),
                "payload": mask(dict(payload)),
                "token": token,
                "curl": curl,
            }
        )
    else:
        rt.render.line(dry_run_text(payload, token, curl))
    if profile.embedded:
        rt.render.info(f"embedded profile: the curl targets `wibmo sandbox` on port {DEFAULT_PORT}")
    rt.render.info(f"dry run: nothing was sent (clientTxnId {payload.get('clientTxnId')})")


def check_command(profile: Profile, identifiers: Identifiers, plan: Plan | None) -> str:
    """The lookup that shows whether the update applied."""
    from wibmo_cli.views.preview import lookup_command

    new_mobile = plan.payload.get("mobile") if plan else None
    return lookup_command(profile.name, identifiers, new_mobile)


def answered_message(profile: Profile, identifiers: Identifiers, outcome: Outcome) -> str:
    """The update's answer in one line: `the update was answered 00 SUCCESS (...)`."""
    from wibmo_cli.codes import explain, normalise_code

    assert outcome.exchange is not None
    answer = outcome.exchange.answer
    code = normalise_code(str(answer.get("responseCode", "?")))
    known = explain(code)
    txn = outcome.plan.client_txn_id if outcome.plan else "?"
    return (
        f"the update was answered: responseCode {code}"
        f"{f' {known.name}' if known else ''} (clientTxnId {txn}, "
        f"accosaTransactionId {answer.get('accosaTransactionId')}); "
        f"see it with: {check_command(profile, identifiers, outcome.plan)}"
    )


def interrupted_message(profile: Profile, identifiers: Identifiers, outcome: Outcome) -> str:
    """What to say when Ctrl-C or SIGTERM ends the run: what became of the update."""
    if outcome.exchange is not None:
        said = answered_message(profile, identifiers, outcome)
        return f"interrupted after the answer came: {said}"
    if outcome.sent:
        txn = outcome.plan.client_txn_id if outcome.plan else "?"
        check = check_command(profile, identifiers, outcome.plan)
        return (
            "interrupted after sending: the update may or may not have been applied "
            f"(clientTxnId {txn}); check with: {check}"
        )
    return "interrupted: nothing was sent"

"""`wibmo shell`: the agent console. One profile, one event loop and one client (its
connection kept open) for the whole session; each line is handled on that loop.

What a line is, the commands, the masked history: wibmo_cli/console.py (pure). Answers
are shown by the functions `wibmo lookup`, `wibmo decrypt` and `wibmo codes` use.
"""

from __future__ import annotations

import signal
import sys
from contextlib import AsyncExitStack
from types import FrameType
from typing import TYPE_CHECKING, Any

from wibmo_cli.commands.options import command_options
from wibmo_cli.errors import ExitStatus, InputError, OutputError, WibmoError
from wibmo_cli.runtime import Runtime
from wibmo_cli.streams import is_terminal

if TYPE_CHECKING:
    import asyncio

    from wibmo_cli.console import Command, Lookup
    from wibmo_cli.exchange import Exchange, LookupClient
    from wibmo_cli.messages import Identifiers
    from wibmo_cli.profiles import Profile


@command_options
def shell(rt: Runtime) -> int | None:
    """The agent console: paste a mobile, URN, email, customer id or token; one
    profile and one open connection for the whole session.

    Each answer is shown as `wibmo lookup` shows it (a token as `wibmo decrypt`
    does), masked. Commands: explain CODE, again, json, history, copy, help, quit.
    Up-arrow recalls this session's lines (kept in memory only, never in a file) and
    Tab completes the commands. Ctrl-C cancels a lookup (or clears the line), Ctrl-D
    leaves (exit 0). Lines may be piped in: one answer each.

    \b
    Examples:
      wibmo shell
      wibmo -p uat shell   # uat: a profile of yours
      printf '9897123456\\nexplain 1303\\n' | wibmo shell
    """
    session = Session(rt, rt.profile())
    return session.run()


class Session:
    """One console: the loop, the client, the last answer and the history."""

    def __init__(self, rt: Runtime, profile: Profile) -> None:
        from wibmo_cli.console import History

        self.rt = rt
        self.profile = profile
        self.history = History()
        self.searched: Lookup | None = None  # the last lookup sent, answered or not: `again`
        self.answered: tuple[Lookup, Identifiers, Exchange] | None = None  # `json`, `copy`
        self.terminated = False
        self.interactive = is_terminal(sys.stdin)
        self.client: LookupClient | None = None

    def run(self) -> int | None:
        import asyncio

        from wibmo_cli import eventloop

        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            """SIGTERM ends the console (130); Ctrl-C only what it interrupts."""
            self.terminated = True
            if callable(previous):
                previous(signum, frame)  # interrupts.running: as Ctrl-C
            else:
                raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_sigterm)
        stack = AsyncExitStack()
        try:
            with asyncio.Runner(loop_factory=eventloop.new_loop) as runner:
                try:
                    clients = runner.run(stack.enter_async_context(self._open()))
                    self.client = clients[0]
                    return self._loop(runner)
                finally:
                    runner.run(stack.aclose())
        finally:
            signal.signal(signal.SIGTERM, previous)

    def _open(self) -> Any:
        from wibmo_cli.endpoint import open_lookup_clients

        rt = self.rt
        trace = rt.render.trace if rt.options.verbose else None
        return open_lookup_clients(  # one line at a time: one connection, kept open
            self.profile, rt.data_dir(), 1, trace=trace, notice=rt.render.info
        )

    def _loop(self, runner: asyncio.Runner) -> int | None:
        read = self._reader()
        while True:
            try:
                line = read()
            except KeyboardInterrupt:
                if self.terminated:
                    if self.interactive:
                        self.rt.render.info("")  # the prompt's line ended
                    return ExitStatus.INTERRUPTED
                self.rt.render.info("")  # Ctrl-C at the prompt: a fresh prompt
                continue
            except EOFError:
                if self.interactive:
                    self.rt.render.info("")
                return None
            try:
                if not self.handle(line, runner):
                    return None
                self.rt.render.stdout.flush()  # a write that failed is found here
            except KeyboardInterrupt:
                if self.terminated:
                    return ExitStatus.INTERRUPTED
                self.rt.render.info("interrupted: that lookup was cancelled")
            except OutputError:  # stdout is gone or full: nothing more can be shown
                raise
            except WibmoError as exc:  # as the edge says it, and the console goes on
                self.rt.render.error(str(exc))

    def _reader(self) -> Any:
        """A line at a time: with readline's editing, history and Tab on a terminal,
        the prompt on stderr when stdout is not the terminal; from a pipe, no prompt."""
        if not self.interactive:

            def from_pipe() -> str:
                line = sys.stdin.readline()
                if not line:
                    raise EOFError
                return line

            return from_pipe
        from wibmo_cli.views.console import show_prompt

        prompt = f"wibmo:{self.profile.name}> "
        if is_terminal(sys.stdout):
            _readline_set_up()
            return lambda: input(prompt)

        def prompted() -> str:
            show_prompt(prompt)
            return input()

        return prompted

    def handle(self, line: str, runner: asyncio.Runner) -> bool:
        """One line handled; False when it asks to leave."""
        from wibmo_cli import console

        found = console.recognise(line)
        if found is None:
            return True
        if isinstance(found, console.Command):
            return self.command(found, runner)
        if isinstance(found, console.Lookup):
            self.lookup(found, runner)
        elif isinstance(found, console.Token):
            self.decrypt(found.text)
        else:
            self.rt.render.error(
                f"{found.text!r} is not something the console reads: {console.ACCEPTS}"
            )
        return True

    def decrypt(self, text: str) -> None:
        """As `wibmo decrypt TOKEN`: the profile's key, masked, its secrets redacted
        (a captured request may carry them)."""
        from wibmo_cli import tokenio
        from wibmo_cli.views.tokens import show_decoded

        rt = self.rt
        rt.hide_profile_secrets()
        keys = tokenio.KeyOptions()
        decoded = tokenio.decrypt_text(
            lambda: tokenio.build_codec(keys, rt.env, rt.profile), text, reveal=False
        )
        show_decoded(rt.render, decoded)

    def lookup(self, typed: Lookup, runner: asyncio.Runner) -> None:
        from wibmo_cli.messages import Identifiers, lookup_payload
        from wibmo_cli.views.answer import show_lookup

        profile = self.profile
        typed_as: dict[str, Any] = {typed.keyword: typed.value}  # mobile="98971 23456"
        identifiers = Identifiers.parse(  # messages name what was pasted, not an option
            **typed_as, mobile_prefix=str(profile.get("mobile_prefix")), as_options=False
        )
        payload = lookup_payload(identifiers, message_code=int(profile.get("lookup_message_code")))
        assert self.client is not None
        self.searched = typed
        try:
            exchange = runner.run(self.client.lookup(payload))
        except (WibmoError, KeyboardInterrupt):
            self.history.add(identifiers, None)
            raise
        self.answered = (typed, identifiers, exchange)
        self.history.add(identifiers, exchange.answer.get("responseCode"))
        show_lookup(
            self.rt.render, exchange, identifiers, typed.searched, profile.get("success_codes")
        )

    def command(self, command: Command, runner: asyncio.Runner) -> bool:
        from wibmo_cli import console

        render = self.rt.render
        word = command.word
        if word in ("quit", "exit"):
            return False
        if word == "help":  # guidance, not data: stderr (stdout stays answers, -o json too)
            for text in console.help_lines():
                render.info(text)
        elif word == "explain":
            if not command.argument:
                render.error("explain what? give a code: explain 1303")
            else:
                self.explain(command.argument)
        elif word == "history":
            if self.rt.json:  # one JSON document per line, as every answer is
                render.json({"history": self.history.lines()})
            else:
                for text in self.history.lines() or ["(no lookups yet)"]:
                    render.line(text)
        elif word == "again":
            if self.searched is None:
                render.error("again: no lookup yet: paste a mobile, URN, email or customer id")
            else:
                self.lookup(self.searched, runner)
        elif self.answered is None:
            render.error(f"{word}: no answer yet: paste a mobile, URN, email or customer id")
        elif word == "json":
            self._json(*self.answered)
        else:
            self._copy(self.answered[2])
        return True

    def _json(self, typed: Lookup, identifiers: Identifiers, exchange: Exchange) -> None:
        from wibmo_cli.render import Renderer
        from wibmo_cli.views.answer import show_lookup

        as_json = Renderer(json_output=True)
        show_lookup(
            as_json, exchange, identifiers, typed.searched, self.profile.get("success_codes")
        )

    def explain(self, code: str) -> None:
        """As `wibmo codes CODE` (table, or JSON with -o json)."""
        from wibmo_cli import codes
        from wibmo_cli.views import codes as views

        found = codes.find(code)
        if found is None:
            raise InputError(codes.unknown_code(code))
        if self.rt.json:
            self.rt.render.json(views.record(found))
        else:
            self.rt.render.print(views.explained(found))

    def _copy(self, exchange: Exchange) -> None:
        from wibmo_cli import console
        from wibmo_cli.views.console import show_copied

        target = console.copy_target(exchange.answer)
        if target is None:
            self.rt.render.error(
                "copy: the last answer has no URN or customer id that is safe to copy "
                "(none, or each holds control characters or is over 64 characters)"
            )
            return
        what, value = target
        clipboard = console.osc52(value) if is_terminal(sys.stdout) else None
        show_copied(self.rt.render, what, value, clipboard=clipboard, json=self.rt.json)


def _readline_set_up() -> None:
    """Line editing, up-arrow recall of this session's lines (in memory: nothing is
    read from or written to a history file, pasted identifiers are personal data) and
    Tab completing the command words."""
    import readline

    from wibmo_cli.console import completions

    def complete(text: str, state: int) -> str | None:
        found = completions(text)
        return found[state] + " " if state < len(found) else None

    readline.clear_history()
    readline.set_completer(complete)
    readline.set_completer_delims(" ")
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")

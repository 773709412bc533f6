"""What every command is handed: the global options, the chosen profile, the renderer.

The options are declared (for typer) in commands/options.py; this module knows nothing
of typer: a command's `Runtime` is plain values, built once per invocation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from wibmo_cli.errors import ConfigError, InputError

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.environment import Environment
    from wibmo_cli.jsonfilter import JsonFilter
    from wibmo_cli.profiles import Profile, ProfileChoice
    from wibmo_cli.render import Renderer
    from wibmo_cli.tabular import Column, Rows


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"  # lookup --file, audit, codes
    tsv = "tsv"
    md = "md"  # one lookup, as a redacted snippet for a ticket


DEFAULT_FORMATS: Final = frozenset({OutputFormat.table, OutputFormat.json})
TABULAR: Final = frozenset({OutputFormat.csv, OutputFormat.tsv})
# Where the formats beyond the default are, for the message of a command that has none
# (each command declares its own with `command_options(formats=...)`; a test keeps the
# two agreeing).
FORMATS_OFFERED_BY: Final = {
    OutputFormat.csv: "lookup --file, audit and codes",
    OutputFormat.tsv: "lookup --file, audit and codes",
    OutputFormat.md: "lookup of one customer",
}


@dataclass
class GlobalOptions:
    profile: str | None = None
    profiles_file: str | None = None
    output: OutputFormat = OutputFormat.table
    verbose: bool = False
    debug: bool = False
    output_given: bool = False  # -o was typed (lookup --file refuses `-o table`)
    jq: str | None = None  # --jq EXPR: implies -o json
    fields: str | None = None  # --fields a,b: implies -o json (or picks csv/tsv columns)

    def merge(self, values: Mapping[str, Any]) -> None:
        self.output_given = self.output_given or values.get("output") is not None
        for key, value in values.items():
            if value is not None and value is not False:
                setattr(self, key, value)


@dataclass
class Runtime:
    """Built once per invocation; commands ask it for what they need, when they need it."""

    options: GlobalOptions
    cwd: Path = field(default_factory=Path.cwd)
    command: str = "wibmo"  # as typed: `wibmo profiles list`, for messages
    formats: frozenset[OutputFormat] = DEFAULT_FORMATS  # the -o values it has
    _environment: Environment | None = None
    _choice: ProfileChoice | None = None
    _renderer: Renderer | None = None

    @property
    def environment(self) -> Environment:
        """The variables and the .env files read: the working directory's, and the one
        beside the profiles file this command uses."""
        if self._environment is None:
            from wibmo_cli import profiles  # not at start-up: --help and codes need none

            self._environment = profiles.environment_for(self.options.profiles_file, self.cwd)
        return self._environment

    @property
    def env(self) -> dict[str, str]:
        return self.environment.values

    def choice(self) -> ProfileChoice:
        if self._choice is None:
            from wibmo_cli import profiles

            self._choice = profiles.choose(
                self.options.profile, self.options.profiles_file, env=self.environment, cwd=self.cwd
            )
        return self._choice

    def profile(self, name: str | None = None) -> Profile:
        """The chosen profile (or `name`), loaded once per invocation."""
        from wibmo_cli import profiles

        if name is not None:
            return profiles.load(self.choice(), name)
        if self._profile is None:
            self._profile = profiles.load(self.choice(), None)
        return self._profile

    def profile_secrets(self) -> tuple[str, ...]:
        """The profile's secrets' values, if it loads (keys from --key-env: none)."""
        from wibmo_cli.errors import WibmoError

        try:
            return self.profile().secret_values()
        except WibmoError:
            return ()

    def hide_profile_secrets(self) -> None:
        """The profile's secrets redacted in all stdout gets from now on
        (`Renderer.hide`): for what decrypts captured requests, which may carry them."""
        self.render.hide(self.profile_secrets())

    _filter: JsonFilter | None = None
    _profile: Profile | None = None
    columns: tuple[str, ...] = ()  # -o csv/tsv: the columns --fields asks for (else the
    # command's own)

    def __post_init__(self) -> None:
        """-o, --jq and --fields checked before the command does anything: a format the
        command does not have, or a bad expression, is bad usage (exit 2), never found
        after a request was sent. --jq and --fields imply -o json (--fields also picks
        the columns of -o csv/tsv)."""
        opts = self.options
        filtering = opts.jq is not None or opts.fields is not None
        if filtering and not opts.output_given:
            opts.output = OutputFormat.json
        if opts.output not in self.formats:
            raise InputError(self._unoffered(opts.output))
        if not filtering:
            return
        flag = "--jq" if opts.jq is not None else "--fields"
        takes = {OutputFormat.json} | (TABULAR if opts.jq is None else set())
        if opts.output not in takes:
            raise InputError(f"{flag} filters JSON: it cannot be used with -o {opts.output}")
        from wibmo_cli.jsonfilter import JsonFilter

        parsed = JsonFilter.parse(opts.jq, opts.fields)
        assert parsed is not None  # one of them was given
        if opts.output is OutputFormat.json:
            self._filter = parsed
        else:
            self.columns = parsed.fields  # csv/tsv: --fields names their columns

    def _unoffered(self, asked: OutputFormat) -> str:
        """`-o csv: wibmo profiles list prints table or json (csv: lookup --file, ...)`;
        --jq and --fields on a command that prints no JSON."""
        names = [str(f) for f in OutputFormat if f in self.formats]
        offered = (
            " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"
        )
        if asked is OutputFormat.json and (self.options.jq or self.options.fields):
            flag = "--jq" if self.options.jq is not None else "--fields"
            return f"{flag}: {self.command} prints no JSON (it prints {offered})"
        where = FORMATS_OFFERED_BY.get(asked)
        elsewhere = f" ({asked}: {where})" if where else ""
        return f"-o {asked}: {self.command} prints {offered}{elsewhere}"

    @property
    def filter_failed(self) -> bool:
        """A `--jq` program failed on some value (said on stderr as it happened)."""
        return self._renderer is not None and self._renderer.filter_failures > 0

    @property
    def json(self) -> bool:
        return self.options.output is OutputFormat.json

    @property
    def output(self) -> OutputFormat:
        return self.options.output

    @property
    def tabular(self) -> bool:
        """-o csv or -o tsv."""
        return self.options.output in TABULAR

    def rows(self, columns: Sequence[Column]) -> Rows:
        """-o csv/tsv: where a command writes its rows (--fields chooses the columns)."""
        from wibmo_cli.tabular import Rows, chosen

        tsv = self.options.output is OutputFormat.tsv
        return Rows(self.render.stdout, chosen(columns, self.columns), tsv=tsv)

    @property
    def render(self) -> Renderer:
        if self._renderer is None:
            from wibmo_cli.render import Renderer

            self._renderer = Renderer(
                json_output=self.json, verbose=self.options.verbose, json_filter=self._filter
            )
        return self._renderer

    def data_dir(self) -> Path:
        from wibmo_cli import profiles

        return profiles.data_dir(self.env)

    def audit_log(self, override: str | None = None) -> AuditLog:
        """The audit log (`--audit-log`, else $WIBMO_AUDIT_LOG, else the data dir), its
        entries naming the chosen profile (or the one asked for, when it cannot be had)."""
        from wibmo_cli.audit import AuditLog, log_path

        try:
            profile = self.choice().name or ""
        except ConfigError:
            profile = self.options.profile or ""
        return AuditLog(log_path(override, self.env, self.data_dir()), profile)

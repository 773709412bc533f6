"""What every command is handed: the global options, the chosen profile, the renderer.

The options are declared (for typer) in commands/options.py; this module knows nothing
of typer: a command's `Runtime` is plain values, built once per invocation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wibmo_cli.errors import ConfigError, InputError

if TYPE_CHECKING:
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.environment import Environment
    from wibmo_cli.jsonfilter import JsonFilter
    from wibmo_cli.profiles import Profile, ProfileChoice
    from wibmo_cli.render import Renderer


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"  # lookup --file, audit, codes
    tsv = "tsv"
    md = "md"  # one lookup, as a redacted snippet for a ticket


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
        from wibmo_cli import profiles

        return profiles.load(self.choice(), name)

    _filter: JsonFilter | None = None

    def __post_init__(self) -> None:
        """--jq / --fields checked before the command does anything: a bad expression is
        bad usage (exit 2), never found after a request was sent. They imply -o json."""
        opts = self.options
        if opts.jq is None and opts.fields is None:
            return
        if opts.output_given and opts.output is OutputFormat.table:
            flag = "--jq" if opts.jq is not None else "--fields"
            raise InputError(f"{flag} prints JSON: it cannot be used with -o table")
        if not opts.output_given:
            opts.output = OutputFormat.json
        from wibmo_cli.jsonfilter import JsonFilter

        parsed = JsonFilter.parse(opts.jq, opts.fields)
        if opts.output is OutputFormat.json:
            self._filter = parsed  # csv/tsv read --fields as their columns

    @property
    def json(self) -> bool:
        return self.options.output is OutputFormat.json

    @property
    def output(self) -> OutputFormat:
        return self.options.output

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

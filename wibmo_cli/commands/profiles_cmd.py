"""`wibmo profiles list | show | check`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wibmo_cli.commands.options import command_options
from wibmo_cli.errors import ExitStatus
from wibmo_cli.masking import redact, redact_url
from wibmo_cli.runtime import Runtime

profiles_app = typer.Typer(
    help="List, show and check environment profiles.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Name = Annotated[
    str | None,
    typer.Argument(help="Profile name (default: the chosen profile).", show_default=False),
]


@profiles_app.command("list")
@command_options
def list_profiles(rt: Runtime) -> None:
    """The profiles in the profiles file, and the built-in demo.

    \b
    Examples:
      wibmo profiles list
      wibmo profiles list --profiles-file ops/profiles.toml -o json
    """
    choice = rt.choice()
    rows: list[dict[str, Any]] = []
    for name in choice.file.names():
        raw, builtin = choice.file.raw(name)
        rows.append(
            {
                "name": name,
                "default": name == choice.name,
                "base_url": redact_url(str(raw.get("base_url", ""))),
                "production": bool(raw.get("production", False)),
                "source": "built-in" if builtin else str(choice.file.path),
            }
        )
    if rt.json:
        rt.render.json(rows)
        return
    from wibmo_cli.views.profiles import list_table

    where = str(choice.file.path) if choice.file.path else "no profiles file: built-in demo only"
    rt.render.print(list_table(rows, where))


@profiles_app.command("show")
@command_options
def show(rt: Runtime, name: Name = None) -> None:
    """One profile resolved, secrets redacted (never more than the last 4 characters).

    \b
    Examples:
      wibmo profiles show uat             # uat: a profile of yours
      wibmo profiles show -o json
    """
    from wibmo_cli.profiles import SECRET_KEYS

    profile = rt.profile(name)
    values: dict[str, Any] = {}
    for key, value in profile.values.items():
        if key in profile.missing:
            values[key] = None
        elif key in SECRET_KEYS:
            values[key] = redact(str(value))
        elif key == "base_url":  # a password in its userinfo
            values[key] = redact_url(str(value))
        else:
            values[key] = value
    record = {
        "name": profile.name,
        "source": profile.source,
        "values": values,
        "missing": dict(profile.missing),
    }
    if rt.json:
        rt.render.json(record)
        return
    from wibmo_cli.views.profiles import show_table

    rt.render.print(show_table(record))


@profiles_app.command("check")
@command_options
def check(
    rt: Runtime,
    name: Name = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also send real requests: the platform's helpers when present, a lookup "
            "round trip and an Update Profile probe that changes no one.",
        ),
    ] = False,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Ask the platform's encrypt/decrypt helpers which iv scheme and key "
            "encoding it uses (a lookup round trip where it has none).",
        ),
    ] = False,
) -> int | None:
    """Check a profile: keys present, key decodes to 24 bytes, iv valid, file safety.

    With --online, also asks the platform's encrypt helper (when it has one) to encrypt a
    known plaintext and detects its iv scheme from the token, sends one lookup (of a
    number that should not exist), and one Update Profile probe naming URN 0 with nothing
    to change (sent once; it cannot change anyone, production included), and says what
    each answer proves: credentials, key, iv, paths, update method and message code.
    With --calibrate, only the helpers (or the lookup where there are none).

    \b
    Examples:
      wibmo profiles check uat            # uat: a profile of yours
      wibmo profiles check uat --online
      wibmo profiles check uat --calibrate
    """
    from wibmo_cli.profile_check import offline_checks

    profile = rt.profile(name)
    checks = offline_checks(profile, rt.cwd / ".env")
    if (online or calibrate) and not any(c.status == "fail" for c in checks):
        from wibmo_cli.audit import AuditLog
        from wibmo_cli.online_check import online_checks

        checks += online_checks(
            profile,
            rt.data_dir(),
            rt.render.info,
            calibrate_only=calibrate and not online,
            trace=rt.render.trace if rt.options.verbose else None,
            audit=AuditLog(rt.audit_log().path, profile.name),
        )
    if rt.json:
        rt.render.json(
            {
                "profile": profile.name,
                "ok": not any(c.status == "fail" for c in checks),
                "checks": [c.__dict__ for c in checks],
            }
        )
    else:
        from wibmo_cli.views.profiles import check_table

        rt.render.print(check_table(profile.name, checks))
    return ExitStatus.CONFIG if any(c.status == "fail" for c in checks) else None

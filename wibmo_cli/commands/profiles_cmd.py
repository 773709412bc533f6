"""`wibmo profiles list | show | check | where | example | add | edit | remove |
set-default` (add's dialog: profiles_add.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wibmo_cli.commands.options import command_options, completing
from wibmo_cli.commands.profiles_add import add
from wibmo_cli.errors import ExitStatus
from wibmo_cli.masking import redact, redact_url
from wibmo_cli.runtime import OutputFormat, Runtime

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

profiles_app = typer.Typer(
    help="List, show, check, add and change environment profiles; where wibmo's files are.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Name = Annotated[
    str | None,
    typer.Argument(
        help="Profile name (default: --profile, else $WIBMO_PROFILE, else default_profile).",
        show_default=False,
        autocompletion=completing("complete_profile"),
    ),
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
    if choice.file.path is None:
        places = " and ".join(str(p) for p in looked_for(rt))
        rt.render.info(f"no profiles file: looked for {places}")
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
    dotenv = [d.path for d in rt.environment.dotenv if d.found]
    checks = offline_checks(profile, dotenv)
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


@profiles_app.command("where")
@command_options
def where(rt: Runtime) -> None:
    """Where wibmo looks: the profiles file, the .env files, the audit log, the sandbox
    database (and the profile chosen, and by what).

    \b
    Examples:
      wibmo profiles where
      wibmo profiles where -o json
    """
    from wibmo_cli.endpoint import SANDBOX_DB
    from wibmo_cli.errors import ConfigError

    record: dict[str, Any] = {
        "profiles_file": None,
        "looked_for": [str(p) for p in looked_for(rt)],
        "profile": None,
        "chosen_by": None,
        "problem": None,
    }
    try:
        choice = rt.choice()
    except ConfigError as exc:  # where the files are is worth knowing all the more
        record["problem"] = exc.message
    else:
        record["profiles_file"] = str(choice.file.path) if choice.file.path else None
        record["profile"] = choice.name
        record["chosen_by"] = choice.chosen_by or ("--profile" if rt.options.profile else None)
        if choice.name:
            try:  # a name no profile has is not "in use": commands refuse it (exit 3)
                choice.file.raw(choice.name, choice.chosen_by)
            except ConfigError as exc:
                record["problem"] = exc.message
    record["dotenv"] = [{"path": str(d.path), "found": d.found} for d in rt.environment.dotenv]
    record["audit_log"] = str(rt.audit_log().path)
    record["sandbox_database"] = str(rt.data_dir() / SANDBOX_DB)
    if rt.json:
        rt.render.json(record)
        return
    from wibmo_cli.views.profiles import where_table

    rt.render.print(where_table(record))


@profiles_app.command("example")
@command_options(formats=(OutputFormat.table,))  # TOML text: no JSON to filter
def example(rt: Runtime) -> None:
    """Print profiles.example.toml: a profile for every environment variant, every key
    with its default. Save it as your profiles file and edit it.

    \b
    Examples:
      wibmo profiles example
      wibmo profiles example > profiles.toml && chmod 600 profiles.toml
    """
    from wibmo_cli.profiles import example_text

    rt.render.stdout.write(example_text())
    rt.render.stdout.flush()


profiles_app.command("add")(add)


@profiles_app.command("edit")
@command_options(names_profile=True)
def edit(
    rt: Runtime,
    name: Annotated[
        str,
        typer.Argument(
            help="The profile to change.", autocompletion=completing("complete_written_profile")
        ),
    ],
    key: Annotated[str, typer.Argument(help="The setting, e.g. iv, timeout, lookup_path.")],
    value: Annotated[
        str, typer.Argument(help='Its new value (a secret: only a "${VAR}" reference).')
    ],
) -> None:
    """Change one setting of a profile, checked as loading it checks it; the file's
    comments and order stay.

    \b
    Examples:
      wibmo profiles edit uat iv key
      wibmo profiles edit uat api_key '${WIBMO_UAT_API_KEY}'
    """
    from wibmo_cli.commands.profiles_add import existing_file
    from wibmo_cli.profile_edit import change_file, edit_profile

    path = existing_file(rt)
    change_file(path, lambda doc: edit_profile(doc, name, key, value))
    rt.render.info(f"profile {name!r}: {key} set in {path}")


@profiles_app.command("remove")
@command_options(names_profile=True)
def remove(
    rt: Runtime,
    name: Annotated[
        str,
        typer.Argument(
            help="The profile to remove.", autocompletion=completing("complete_written_profile")
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> int | None:
    """Remove a profile from the profiles file (asks first unless --yes). Its secrets
    stay where they are kept.

    \b
    Examples:
      wibmo profiles remove uat-v3
      wibmo profiles remove uat-v3 --yes
    """
    from wibmo_cli import prompt
    from wibmo_cli.commands.profiles_add import SECRETS_FILE, existing_file
    from wibmo_cli.commands.update_dialog import why_no_prompt
    from wibmo_cli.environment import read_capped
    from wibmo_cli.errors import InputError
    from wibmo_cli.profile_edit import change_file, kept_secrets, parse, read_text, remove_profile

    path = existing_file(rt)
    parse(read_text(path), path)  # a file that cannot be changed: said before asking
    if not yes:
        if why := why_no_prompt():
            raise InputError(f"cannot ask for confirmation: {why}; pass --yes")
        if not prompt.confirm(f"Remove profile {name!r} from {path}?"):
            rt.render.info("nothing removed")
            return ExitStatus.USAGE
    secrets_path = path.parent / SECRETS_FILE
    secrets_text = (
        read_capped(secrets_path).decode("utf-8", "replace") if secrets_path.is_file() else ""
    )

    def remove_it(doc: TOMLDocument) -> tuple[list[str], bool]:
        return kept_secrets(doc, name, secrets_text), remove_profile(doc, name)

    kept, was_default = change_file(path, remove_it)
    rt.render.info(
        f"profile {name!r} removed from {path}"
        + ("; it was the default: set another with profiles set-default" if was_default else "")
    )
    in_file = [k for k in kept if not k.startswith("keyring entry")]
    in_keyring = [k for k in kept if k.startswith("keyring entry")]
    if in_keyring or in_file:
        where = in_keyring + ([f"{', '.join(in_file)} in {secrets_path}"] if in_file else [])
        rt.render.info(f"its secrets stay where they are kept: {'; '.join(where)}")
    return None


@profiles_app.command("set-default")
@command_options(names_profile=True)
def set_default(
    rt: Runtime,
    name: Annotated[
        str,
        typer.Argument(
            help="The profile to use by default.", autocompletion=completing("complete_profile")
        ),
    ],
) -> None:
    """Make NAME the profile used when no -p or $WIBMO_PROFILE names one.

    \b
    Examples:
      wibmo profiles set-default uat
    """
    from wibmo_cli.commands.profiles_add import existing_file
    from wibmo_cli.profile_edit import change_file
    from wibmo_cli.profile_edit import set_default as set_default_in

    path = existing_file(rt)
    change_file(path, lambda doc: set_default_in(doc, name))
    rt.render.info(f"default profile: {name!r} ({path})")


def looked_for(rt: Runtime) -> list[Path]:
    """The profiles files this command looks for, in order."""
    from wibmo_cli.profiles import profiles_file_places

    return profiles_file_places(rt.options.profiles_file, rt.env, rt.cwd)

"""`wibmo profiles add NAME`: an environment set up in one guided command (issue 14).

Every answer comes from an option, else (on a terminal, without --yes) a question: the
base URL, the variant (its paths and credential placement), client, bank and entity id,
the three secrets (asked with the echo off; never taken on argv: `--api-key-env VAR`
names the variable holding one), the mobile prefix and production or not. The iv scheme
and key encoding: `--iv`/`--key-encoding`, or a captured token (`--detect`), else the
platform's encrypt helper proves them (calibrate.py), else the online check's lookup
round trip says whether the default is right. The profile is written with tomlkit
(profile_edit.py), the secrets are kept where the user said (below), and `profiles
check NAME --online` runs with it.

Where the secrets go: a variable named (`--api-key-env VAR`) is referenced as it is
(`${VAR}`), unless --secrets-file asks for its value to be kept; a secret typed (or so
kept) goes to the OS keyring where `secret_sources.store_in_keyring` exists and a keyring
answers, else to `secrets.env` beside the profiles file (0600) only with --secrets-file,
else nowhere, and one line says which variables to set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer

from wibmo_cli.commands.options import command_options
from wibmo_cli.errors import ConfigError, ExitStatus, InputError, OutputError
from wibmo_cli.runtime import Runtime

if TYPE_CHECKING:
    from wibmo_cli.crypto import Detection
    from wibmo_cli.profiles import Profile

SECRETS_FILE: Final = "secrets.env"
KEYRING_SERVICE: Final = "wibmo"
# The questions, in the order asked: key, question, hidden.
QUESTIONS: Final = (
    ("base_url", "Base URL (https://...)", False),
    ("client_id", "Client id", False),
    ("bank_id", "Bank id", False),
    ("entity_id", "Entity id", False),
    ("api_key", "API key (not echoed)", True),
    ("secure_code", "Secure code (not echoed)", True),
    ("encryption_key", "Encryption key (not echoed)", True),
    ("mobile_prefix", "Mobile prefix", False),
)


def secret_variable(name: str, key: str) -> str:
    """The variable a secret of profile `name` is referenced by: WIBMO_UAT_API_KEY."""
    return f"WIBMO_{name.upper().replace('-', '_')}_{key.upper()}"


def check_variables_free(name: str, others: Iterable[str]) -> None:
    """Refuse a name whose secrets' variables another profile's would be (uat-1 and
    UAT_1 both read WIBMO_UAT_1_API_KEY): one would be sent the other's secrets."""
    mine = secret_variable(name, "api_key")
    alike = [
        other for other in others if other != name and secret_variable(other, "api_key") == mine
    ]
    if alike:
        raise InputError(
            f"profile {name!r}: its secrets' variables ({mine}, ...) are profile "
            f"{alike[0]!r}'s; choose another name"
        )


def gather(
    given: dict[str, Any],
    secret_env: dict[str, str | None],
    env: dict[str, str],
    *,
    interactive: bool,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(the answers, the secrets' values): each from its option, else its question, else
    the default where one exists; a required answer missing without a terminal is
    refused, naming the option."""
    from wibmo_cli import prompt
    from wibmo_cli.profile_edit import OFFERED_VARIANTS, describe_variant
    from wibmo_cli.profiles import DEFAULTS, SECRET_KEYS
    from wibmo_cli.render import MessageStream

    answers = dict(given)
    secrets: dict[str, str] = {}

    def need(key: str, question: str, hidden: bool, default: str = "") -> str:
        option = "--" + key.replace("_", "-") + ("-env" if key in SECRET_KEYS else "")
        if not interactive:
            if default:
                return default
            raise InputError(f"{key} not given: pass {option} (or run on a terminal)")
        shown = f" [{default}]" if default else ""
        while True:
            read = prompt.ask_hidden if hidden else prompt.ask
            answer = read(f"{question}{shown}: ").strip() or default
            if answer:
                return answer

    if answers.get("variant") is None:
        if interactive:
            for variant in OFFERED_VARIANTS:
                MessageStream().write(f"  {describe_variant(variant)}\n")
        answers["variant"] = need(
            "variant", f"Variant ({', '.join(OFFERED_VARIANTS)})", False, "seed"
        )
    for key, question, hidden in QUESTIONS:
        if key in SECRET_KEYS:
            var = secret_env.get(key)
            if var is not None:
                if var not in env:
                    raise InputError(f"--{key.replace('_', '-')}-env: ${var} is not set")
                secrets[key] = env[var]
            else:
                secrets[key] = need(key, question, hidden)
            continue
        if answers.get(key) is None:
            default = str(DEFAULTS.get(key, ""))
            answers[key] = need(key, question, hidden, default)
    return answers, secrets


def store_secrets(
    rt: Runtime,
    name: str,
    secrets: dict[str, str],
    secret_env: dict[str, str | None],
    profiles_file: Path,
    *,
    secrets_file: bool,
    interactive: bool = False,
) -> tuple[dict[str, str], str]:
    """(the reference written for each secret, one line saying where they are). A secret
    read from a variable named by an option stays there (`${VAR}`) unless --secrets-file
    asks for it to be kept; the others go to the keyring, else to secrets.env when asked,
    else nowhere, and the line says which variables to set."""
    references = {
        key: f"${{{var}}}"
        for key in secrets
        if (var := secret_env.get(key)) is not None and not secrets_file
    }
    unplaced = {key: value for key, value in secrets.items() if key not in references}
    if not unplaced:
        return references, "secrets: referenced from the variables named"
    keyring = keyring_store()
    if keyring is None:
        rt.render.info("no OS keyring: this wibmo cannot store secrets in one")
    else:
        try:
            for key, value in unplaced.items():
                references[key] = keyring(f"{KEYRING_SERVICE}-{name}", key, value)
            return references, f"secrets: in the OS keyring (service {KEYRING_SERVICE}-{name})"
        except ConfigError as exc:  # no keyring library or no backend: said, no fallback
            reason = getattr(exc, "reason", exc.message)
            rt.render.info(f"no OS keyring to keep the secrets in: {reason}")
    variables = {key: secret_variable(name, key) for key in unplaced}
    references.update({key: f"${{{var}}}" for key, var in variables.items()})
    path = profiles_file.parent / SECRETS_FILE
    if (
        not secrets_file
        and interactive
        and any(k not in secret_env or not secret_env[k] for k in unplaced)
    ):
        from wibmo_cli import prompt

        # typed here and nowhere else: asked, never kept in plaintext unasked
        secrets_file = prompt.confirm(f"Keep the secrets in {path} (mode 0600)?")
    if secrets_file:
        append_secrets(path, {variables[k]: v for k, v in unplaced.items()})
        return references, f"secrets: in {path} (mode 0600)"
    names = ", ".join(variables.values())
    return references, (
        f"secrets: NOT stored; set {names} in the environment or a .env beside {profiles_file} "
        "(or run again with --secrets-file)"
    )


def keyring_store() -> Callable[[str, str, str], str] | None:
    """The seam to the keyring: `secret_sources.store_in_keyring(service, name, value)`
    returning a `${keyring:SERVICE/NAME}` reference, where that module exists (imported
    by name: this module is typed with it and without it)."""
    from importlib import import_module

    try:
        sources = import_module("wibmo_cli.secret_sources")
    except ImportError:
        return None
    store: Callable[[str, str, str], str] = sources.store_in_keyring
    return store


def append_secrets(path: Path, values: dict[str, str]) -> None:
    """Add `VAR='value'` lines to a private secrets file (created 0600, never wider), the
    value quoted as python-dotenv reads it back (a backslash and a quote escaped), so any
    secret on one line comes back as it was. A symbolic link, a FIFO or any file that is
    not a regular one is refused, not followed, waited on or chmod'ed."""
    from wibmo_cli.paths import NotPrivate, open_private

    for var, value in values.items():
        if "\n" in value or "\r" in value:
            raise InputError(f"{var}: a secret with a line break cannot go in {path}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes from the environment that are no text
            raise InputError(f"{var}: the secret is not UTF-8 text; not written") from None
    lines = [f"{var}='{dotenv_quoted(value)}'\n" for var, value in values.items()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a fresh machine
        fd = open_private(path, os.O_RDWR)
    except NotPrivate as exc:
        raise OutputError(f"cannot write {path}: it is {exc.strerror}: refused") from None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        text = "".join(lines)
        if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":
            text = "\n" + text  # its last line had no line end: keep it whole
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def dotenv_quoted(value: str) -> str:
    """`value` for inside '...' in a .env file: python-dotenv turns \\\\ and \\' there
    back into \\ and '."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def target_file(rt: Runtime) -> Path:
    """The profiles file `add` writes: the one named, else the one found, else a new one
    in the user config dir (not the working directory: a profile outlives a checkout)."""
    from wibmo_cli.profiles import profiles_file_places

    places = profiles_file_places(rt.options.profiles_file, rt.env, rt.cwd)
    if rt.options.profiles_file or rt.env.get("WIBMO_PROFILES"):
        return places[0]
    return next((p for p in places if p.is_file()), places[-1])


def existing_file(rt: Runtime) -> Path:
    """The profiles file edit, remove and set-default change: it must exist."""
    from wibmo_cli.profiles import find_profiles_file, profiles_file_places

    path = find_profiles_file(rt.options.profiles_file, rt.env, rt.cwd)
    if path is None:
        places = " and ".join(str(p) for p in profiles_file_places(None, rt.env, rt.cwd))
        raise ConfigError(f"no profiles file: looked for {places}; create one with profiles add")
    return path


def detected_iv(table: dict[str, Any], secrets: dict[str, str], token: str) -> dict[str, str]:
    """iv and key_encoding from a captured token of this environment (`--detect`)."""
    from wibmo_cli.calibrate import detect_for
    from wibmo_cli.errors import CryptoError
    from wibmo_cli.profiles import resolve

    profile = resolve("new", {**table, **secrets}, {}, source="the answers")
    try:
        found = detect_for(profile, token.strip())
    except CryptoError as exc:
        raise InputError(f"--detect: {exc.message}") from None
    if not found:
        raise InputError("--detect: the token does not decrypt with this encryption key")
    return {"iv": str(found[0].scheme), "key_encoding": found[0].key_encoding}


def in_memory_profile(
    rt: Runtime, name: str, path: Path, table: dict[str, Any], secrets: dict[str, str]
) -> Profile:
    """The profile as written, its secrets given in memory (wherever they are kept: a
    keyring, or variables not set yet)."""
    from wibmo_cli.profiles import resolve

    held = {f"WIBMO_ADD_{key.upper()}": value for key, value in secrets.items()}
    in_memory = {key: f"${{WIBMO_ADD_{key.upper()}}}" for key in secrets}
    return resolve(name, {**table, **in_memory}, {**rt.env, **held}, source=str(path))


def helper_iv(rt: Runtime, profile: Profile) -> dict[str, str]:
    """iv and key_encoding as the platform's encrypt helper proves them: it encrypts a
    known plaintext (calibrate.py); {} where it has none or its token proves nothing
    (the online check then says why)."""

    from wibmo_cli.calibrate import calibrate
    from wibmo_cli.endpoint import open_client
    from wibmo_cli.errors import WibmoError
    from wibmo_cli.online_check import lookup_probe

    async def ask() -> Detection | None:
        # quiet: the check that follows opens the environment again and says what it is
        async with open_client(profile, rt.data_dir(), notice=None) as client:
            return (await calibrate(client, profile, lookup_probe(profile), asked=False)).proved

    try:
        from wibmo_cli import eventloop

        found = eventloop.run(ask())
    except WibmoError:
        return {}
    if found is None:
        return {}
    return {"iv": str(found.scheme), "key_encoding": found.key_encoding}


def run_check(rt: Runtime, profile: Profile) -> int | None:
    """`profiles check NAME --online` with the profile just written, printed as that
    command prints it."""
    from wibmo_cli.audit import AuditLog
    from wibmo_cli.online_check import online_checks
    from wibmo_cli.profile_check import offline_checks

    checks = offline_checks(profile)
    if not any(c.status == "fail" for c in checks):
        checks += online_checks(
            profile,
            rt.data_dir(),
            rt.render.info,
            audit=AuditLog(rt.audit_log().path, profile.name),
        )
    failed = any(c.status == "fail" for c in checks)
    if rt.json:
        rt.render.json(
            {
                "profile": profile.name,
                "file": profile.source,
                "ok": not failed,
                "checks": [c.__dict__ for c in checks],
            }
        )
    else:
        from wibmo_cli.views.profiles import check_table

        rt.render.print(check_table(profile.name, checks))
    return ExitStatus.CONFIG if failed else None


def _secret_option(key: str) -> Any:
    return typer.Option(
        f"--{key.replace('_', '-')}-env",
        metavar="VAR",
        help=f"The variable holding the {key.replace('_', ' ')} (never the value itself on "
        "the command line); the profile references it.",
        show_default=False,
    )


def _text_option(flag: str, text: str) -> Any:
    return typer.Option(flag, help=text, show_default=False)


@command_options(names_profile=True)
def add(
    rt: Runtime,
    name: Annotated[str, typer.Argument(help="The new profile's name, e.g. uat.")],
    base_url: Annotated[
        str | None, _text_option("--base-url", "https://... of the environment.")
    ] = None,
    variant: Annotated[
        str | None,
        _text_option("--variant", "seed, mob1 or v3: the paths and credential placement."),
    ] = None,
    client_id: Annotated[str | None, _text_option("--client-id", "Client id.")] = None,
    bank_id: Annotated[str | None, _text_option("--bank-id", "Bank id.")] = None,
    entity_id: Annotated[
        str | None, _text_option("--entity-id", "Entity id (default 100).")
    ] = None,
    consumer_custom_id: Annotated[
        str | None,
        _text_option("--consumer-custom-id", "X-Consumer-Custom-ID (mob1 and v3 want one)."),
    ] = None,
    api_key_env: Annotated[str | None, _secret_option("api_key")] = None,
    secure_code_env: Annotated[str | None, _secret_option("secure_code")] = None,
    encryption_key_env: Annotated[str | None, _secret_option("encryption_key")] = None,
    mobile_prefix: Annotated[str | None, _text_option("--mobile-prefix", "Default 91.")] = None,
    production: Annotated[
        bool | None,
        typer.Option("--production/--not-production", help="Whether writes need typed consent."),
    ] = None,
    iv: Annotated[
        str | None, _text_option("--iv", "zero, key, prepend, ecb or 32 hex digits.")
    ] = None,
    key_encoding: Annotated[
        str | None, _text_option("--key-encoding", "auto, text, hex or base64.")
    ] = None,
    detect: Annotated[
        str | None,
        _text_option(
            "--detect",
            "A token captured from this environment: its iv and key encoding are detected from it.",
        ),
    ] = None,
    secrets_file: Annotated[
        bool,
        typer.Option(
            "--secrets-file",
            help=f"Keep the secrets (the named variables' values too): in the keyring, else "
            f"in {SECRETS_FILE} beside the profiles file (0600).",
        ),
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", help="Make it the default profile.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Run profiles check NAME --online after."),
    ] = True,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Ask nothing: every answer from an option.")
    ] = False,
) -> int | None:
    """Add a profile: asks for each setting (secrets with the echo off), writes it
    keeping the file's comments, keeps the secrets in the keyring (or where told), then
    checks it online.

    \b
    Examples:
      wibmo profiles add uat
      wibmo profiles add ci --yes --base-url https://pp-sandbox.example --variant v3 \\
        --client-id FintechA --bank-id 1234 --consumer-custom-id C1 --api-key-env UAT_KEY \\
        --secure-code-env UAT_CODE --encryption-key-env UAT_ENC --no-check
    """
    from wibmo_cli import prompt
    from wibmo_cli.commands.update_dialog import why_no_prompt
    from wibmo_cli.profile_edit import (
        add_profile,
        change_file,
        check_name,
        check_new,
        check_table,
        needs_consumer_id,
        parse,
        read_text,
        variant_settings,
    )

    check_name(name)
    interactive = not yes
    if interactive and (why := why_no_prompt()):
        raise InputError(f"cannot ask: {why}; pass every answer as an option and --yes")
    path = target_file(rt)
    doc = parse(read_text(path), path)
    check_new(doc, name)  # before any question
    existing = doc.get("profiles")
    check_variables_free(name, list(existing) if isinstance(existing, dict) else [])
    given: dict[str, Any] = {
        "base_url": base_url,
        "variant": variant,
        "client_id": client_id,
        "bank_id": bank_id,
        "entity_id": entity_id,
        "mobile_prefix": mobile_prefix,
    }
    secret_env = {
        "api_key": api_key_env,
        "secure_code": secure_code_env,
        "encryption_key": encryption_key_env,
    }
    answers, secrets = gather(given, secret_env, rt.env, interactive=interactive)
    table: dict[str, Any] = {
        k: answers[k] for k in ("base_url", "client_id", "bank_id", "entity_id")
    }
    table.update(variant_settings(str(answers["variant"])))
    if needs_consumer_id(str(answers["variant"])):
        if consumer_custom_id is None and interactive:
            consumer_custom_id = prompt.ask("X-Consumer-Custom-ID: ").strip()
        if not consumer_custom_id:
            raise InputError(f"variant {answers['variant']} wants --consumer-custom-id")
    if consumer_custom_id:
        table["consumer_custom_id"] = consumer_custom_id
    table["mobile_prefix"] = answers["mobile_prefix"]
    if production is None:
        production = interactive and prompt.confirm("Is this a production environment?")
    table["production"] = production
    if iv:
        table["iv"] = iv
    if key_encoding:
        table["key_encoding"] = key_encoding
    if detect:
        table.update(detected_iv(table, secrets, detect))
    check_table(name, {**table, **secrets})  # refused here, before anything is written
    if check and not (iv or key_encoding or detect) and table.get("encrypt_path"):
        proved = helper_iv(rt, in_memory_profile(rt, name, path, table, secrets))
        if proved:
            rt.render.info(
                f'the platform\'s encrypt helper proves iv = "{proved["iv"]}", '
                f'key_encoding = "{proved["key_encoding"]}": written'
            )
            table.update(proved)
    references, where = store_secrets(
        rt, name, secrets, secret_env, path, secrets_file=secrets_file, interactive=interactive
    )
    table.update(references)
    # the file read again (under its lock): another add may have written it meanwhile
    change_file(path, lambda doc: add_profile(doc, name, table, default=default))
    rt.render.info(f"profile {name!r} written to {path}; {where}")
    if not check:
        return None
    return run_check(rt, in_memory_profile(rt, name, path, table, secrets))

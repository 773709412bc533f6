"""The endpoint a command talks to, and the clients opened to it: a profile's base_url,
or for `base_url = "embedded"` the sandbox run in-process.

`base_url = "embedded"` runs the sandbox inside the command on a free loopback port,
with the profile's own credentials, key and IV scheme, over the SQLite database in the
user data dir (so updates persist between commands), and stops it afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from wibmo_cli.errors import ConfigError
from wibmo_cli.profiles import Profile

if TYPE_CHECKING:
    from wibmo_cli.client import Client
    from wibmo_cli.exchange import Exchange, LookupClient, Trace
    from wibmo_cli.sandbox import SandboxSettings

SANDBOX_DB = "sandbox.db"


def sandbox_settings(profile: Profile, db_path: Path, **extra: Any) -> SandboxSettings:
    """The sandbox that accepts exactly this profile's credentials, key and IV scheme.
    Serving the seed variant (the default), it follows the profile's other settings too
    (`variants.following`); a strict variant (`extra["variant"]`) is served as it is."""
    from wibmo_cli.sandbox import SandboxSettings
    from wibmo_cli.sandbox.settings import LOOKUP_PATHS, UPDATE_PATHS
    from wibmo_cli.sandbox.variants import SEED, following

    profile.require("api_key", "secure_code", "client_id", "bank_id", "encryption_key")
    variant = following(extra.pop("variant", SEED), profile.values)
    lookup_path = str(profile.get("lookup_path"))
    update_path = str(profile.get("update_path"))
    return SandboxSettings(
        key=profile.key_bytes(),
        iv=profile.iv_scheme,
        api_key=str(profile.get("api_key")),
        client_id=str(profile.get("client_id")),
        bank_id=str(profile.get("bank_id")),
        secure_code=str(profile.get("secure_code")),
        entity_id=str(profile.get("entity_id")),
        consumer_custom_id=str(profile.get("consumer_custom_id")),
        lookup_paths=tuple(dict.fromkeys(("/" + lookup_path.lstrip("/"), *LOOKUP_PATHS))),
        update_paths=tuple(dict.fromkeys(("/" + update_path.lstrip("/"), *UPDATE_PATHS))),
        db_path=db_path,
        variant=variant,
        **extra,
    )


@contextmanager
def endpoint(
    profile: Profile, data_dir: Path, notice: Callable[[str], None] | None = None
) -> Iterator[str]:
    """The base URL to talk to: the profile's, or a sandbox started for this command."""
    if not profile.embedded:
        profile.check_transport()
        yield str(profile.get("base_url"))
        return
    import sqlite3

    from wibmo_cli.sandbox import Sandbox

    settings = sandbox_settings(profile, data_dir / SANDBOX_DB)
    sandbox = Sandbox(settings)
    try:
        sandbox.start()  # creates the data dir (0700) and the database (0600) when missing
    except (OSError, sqlite3.Error) as exc:
        from wibmo_cli.paths import blocked_by

        reason = blocked_by(settings.db_path) or (
            exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        )
        raise ConfigError(
            f"profile {profile.name!r}: the embedded sandbox cannot use {settings.db_path}: "
            f"{reason}",
            hint="check $WIBMO_DATA_DIR",
        ) from None
    if notice:
        what = "demo data" if profile.builtin else "sandbox data"
        notice(f"{profile.name}: embedded sandbox ({what}, nothing real)")
    try:
        yield sandbox.url
    finally:
        sandbox.stop()


def look_up_once(
    profile: Profile,
    data_dir: Path,
    payload: Mapping[str, Any],
    *,
    trace: Trace | None = None,
    notice: Callable[[str], None] | None = None,
) -> Exchange:
    """One lookup, as cheaply as it can be made: straight over a socket (direct.py)
    when no proxy is configured, else through httpx (client.py), which knows proxies.
    The rules of the exchange are the same either way (exchange.py)."""
    from wibmo_cli.exchange import proxy_configured

    with endpoint(profile, data_dir, notice) as base_url:
        if not proxy_configured():
            from wibmo_cli.direct import DirectClient

            return DirectClient(profile, base_url, trace=trace).lookup(payload)

        from wibmo_cli.client import Client

        async def run() -> Exchange:
            async with Client(profile, base_url, trace=trace) as client:
                return await client.lookup(payload)

        from wibmo_cli import eventloop

        return eventloop.run(run())


@asynccontextmanager
async def open_client(
    profile: Profile,
    data_dir: Path,
    *,
    trace: Trace | None = None,
    notice: Callable[[str], None] | None = None,
) -> AsyncIterator[Client]:
    from wibmo_cli.client import Client

    with endpoint(profile, data_dir, notice) as base_url:
        async with Client(profile, base_url, trace=trace) as client:
            yield client


@asynccontextmanager
async def open_clients(
    profile: Profile,
    data_dir: Path,
    count: int,
    *,
    trace: Trace | None = None,
    notice: Callable[[str], None] | None = None,
) -> AsyncIterator[list[Client]]:
    """`count` httpx clients of one connection each to one endpoint (bulk apply: its
    updates go through client.py's at-most-once path, proxies or not)."""
    from wibmo_cli.client import one_connection_each

    with endpoint(profile, data_dir, notice) as base_url:
        async with _all_closed(one_connection_each(profile, base_url, count, trace=trace)) as c:
            yield c


@asynccontextmanager
async def open_lookup_clients(
    profile: Profile,
    data_dir: Path,
    count: int,
    *,
    trace: Trace | None = None,
    notice: Callable[[str], None] | None = None,
) -> AsyncIterator[list[LookupClient]]:
    """`count` clients of one kept-alive connection each, for reads (batch lookups, a
    bulk plan, reconcile, the console): straight over sockets (direct.py) unless a proxy
    is configured, else through httpx (client.py). The rules are exchange.py's either way."""
    from wibmo_cli.exchange import proxy_configured

    with endpoint(profile, data_dir, notice) as base_url:
        clients: list[LookupClient]
        if proxy_configured():
            from wibmo_cli.client import one_connection_each

            clients = [*one_connection_each(profile, base_url, count, trace=trace)]
        else:
            from wibmo_cli.direct import open_direct_clients

            clients = [*open_direct_clients(profile, base_url, count, trace=trace)]
        async with _all_closed(clients) as opened:
            yield opened


Closable = TypeVar("Closable", bound="LookupClient")


@asynccontextmanager
async def _all_closed(clients: list[Closable]) -> AsyncIterator[list[Closable]]:
    """`clients`, each closed when the block ends."""
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose()

"""`profiles check --online`: one real lookup round trip, read for what it proves.

Any answer that decrypts proves the key and IV scheme; the response code then says
whether the platform accepted the credentials. The number looked up is one that should
not exist, so a healthy setup answers 1303 (not found), which counts as a pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Final

from wibmo_cli.codes import explain
from wibmo_cli.errors import CryptoError, HTTPStatusError, NetworkError, WibmoError
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.profile_check import Check
from wibmo_cli.profiles import Profile

PROBE_MOBILE: Final = "6000000000"
CREDENTIAL_CODES: Final = frozenset({"1262", "1264", "1031", "1310", "1311"})


def online_check(profile: Profile, data_dir: Path, notice: Callable[[str], None]) -> Check:
    """One lookup sent with `profile` (`data_dir`: where an embedded sandbox keeps its
    database; `notice`: what to tell the user meanwhile), read for what it proves."""
    from wibmo_cli.endpoint import open_client

    prefix = str(profile.get("mobile_prefix"))
    payload = lookup_payload(
        Identifiers(mobile=prefix + PROBE_MOBILE),
        message_code=int(profile.get("lookup_message_code")),
    )

    async def run() -> dict[str, object]:
        async with open_client(profile, data_dir, notice=notice) as client:
            return (await client.lookup(payload)).answer

    try:
        answer = asyncio.run(run())
    except HTTPStatusError as exc:
        if exc.status in (401, 403):
            return Check("online", "fail", f"the gateway rejected the api_key: {exc.message}")
        return Check("online", "fail", exc.message)
    except CryptoError as exc:
        return Check(
            "online",
            "fail",
            f"the endpoint answered but the answer does not decrypt ({exc.message}): wrong "
            "encryption_key or iv scheme; capture a token and run `wibmo decrypt --detect`",
        )
    except (NetworkError, WibmoError) as exc:
        return Check("online", "fail", str(exc))
    code = str(answer.get("responseCode", "?"))
    known = explain(code)
    name = known.name if known else str(answer.get("responseMessage", ""))
    if code in CREDENTIAL_CODES:
        return Check("online", "fail", f"credentials rejected: {code} {name}")
    if code == "1055":
        return Check(
            "online",
            "fail",
            "the platform could not read our request (1055 MALFORMED_REQUEST): the "
            "encryption_key or iv scheme differs from the platform's",
        )
    return Check(
        "online",
        "ok",
        f"round trip OK: answer decrypted, responseCode {code} {name}; credentials, key "
        f'and iv = "{profile.iv_scheme}" are right',
    )

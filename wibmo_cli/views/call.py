"""How `wibmo call` speaks before and after a write: the request it is about to send, and
what became of one that was interrupted or whose outcome is unknown. Plain text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from wibmo_cli.masking import mask, redact_url, secrets_hidden, shown_value

if TYPE_CHECKING:
    from collections.abc import Collection

    from wibmo_cli.callapi import Call
    from wibmo_cli.send import Outcome


def request_preview(call: Call, url: str, profile: str, secrets: Collection[str] = ()) -> str:
    """What a write will send, shown before the question: where, how, its headers (a
    secret redacted, by name or as one of the profile's `secrets`) and the payload
    (document numbers masked, secrets redacted), as a user checks it before saying yes."""
    kind = "read" if call.read else "write"
    route = call.route
    lines = [
        f"# {kind} {call.describe()} on profile {profile!r}",
        f"{route.method} {redact_url(url)} (credentials in {route.credentials})",
    ]
    lines += [
        f"{name}: {shown_value(name, value, secrets)}"
        for name, value in route.extra_headers.items()
    ]
    shown = secrets_hidden(mask(call.payload), secrets)
    lines.append(json.dumps(shown, indent=2, ensure_ascii=False))
    return "\n".join(lines)


def how_to_check(call: Call) -> str:
    """What to do when a write may or may not have been applied."""
    return (
        f"ask the platform about clientTxnId {call.client_txn_id} (or look the customer "
        "up) before sending it again"
    )


def interrupted_message(call: Call, outcome: Outcome) -> str:
    """What to say when Ctrl-C or SIGTERM ends a write: what became of it."""
    if outcome.exchange is not None:
        code = outcome.exchange.answer.get("responseCode")
        return (
            f"interrupted after the answer came: responseCode {code} "
            f"(clientTxnId {call.client_txn_id})"
        )
    if outcome.sent:
        return (
            "interrupted after sending: the request may or may not have been applied "
            f"(clientTxnId {call.client_txn_id}); {how_to_check(call)}"
        )
    return "interrupted: nothing was sent"

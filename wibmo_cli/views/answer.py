"""A decrypted answer of the platform shown: masked JSON, or the customer's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

PLAIN_ANSWER = (
    "the answer came as plain JSON, not encrypted: it proves nothing about the key, and "
    "may come from a proxy or helper in front of the platform"
)

# The key an `-o json` error answer gains: the clientTxnId wibmo sent, which the
# platform's support asks for and error answers often lack. A name no platform answer
# uses, so the platform's own keys stay as it sent them (`del(.clientTxnIdSent)`).
SENT_TXN_KEY = "clientTxnIdSent"

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from wibmo_cli.client import Exchange
    from wibmo_cli.codes import Called
    from wibmo_cli.messages import Identifiers
    from wibmo_cli.render import Renderer


def show_answer(
    render: Renderer,
    answer: dict[str, object],
    *,
    elapsed: float | None,
    reveal: bool,
    title: str,
    success_codes: Iterable[str],
    plain: bool = False,
    client_txn_id: str = "",
    searched: Mapping[str, str] | None = None,
    called: Called | None = None,
) -> bool:
    """Render `answer` (masked unless `reveal`) as JSON or as tables, as `render` is set;
    True when its responseCode is one of `success_codes` (the profile's). `plain`: it
    came unencrypted, which is said on stderr (whatever the format): a proxy or helper
    answered, or the platform did not encrypt.

    `client_txn_id` (the one sent) is shown with an error answer: in the footer when the
    answer lacks it, as `SENT_TXN_KEY` in JSON. `searched` (`{"urn": "123"}`, as typed)
    is echoed in the error block, whose advice fits it; so does the advice fit `called`,
    the request `wibmo call` built (its message code, path and fields)."""
    from wibmo_cli.codes import is_success
    from wibmo_cli.masking import mask

    if plain:
        render.warn(PLAIN_ANSWER)

    shown = answer if reveal else mask(answer)
    ok = is_success(answer.get("responseCode"), success_codes)
    if render.json_output:
        render.json(shown if ok or not client_txn_id else {**shown, SENT_TXN_KEY: client_txn_id})
    else:
        from wibmo_cli.views.customer import answer_renderables, answer_view

        view = answer_view(
            shown, success_codes, client_txn_id=client_txn_id, searched=searched, called=called
        )
        width = render.console.width
        render.print(*answer_renderables(view, elapsed=elapsed, title=title, width=width))
    return ok


def show_lookup(
    render: Renderer,
    exchange: Exchange,
    identifiers: Identifiers,
    searched: Mapping[str, str],
    success_codes: Iterable[str],
    *,
    reveal: bool = False,
) -> bool:
    """One lookup's answer as `wibmo lookup` shows it (`show_answer`, titled with who
    was searched): also what `wibmo shell` shows. True when it is a success answer."""
    return show_answer(
        render,
        exchange.answer,
        elapsed=exchange.elapsed,
        reveal=reveal,
        title=f"Customer ({identifiers.describe(masked=False)})",
        success_codes=success_codes,
        plain=exchange.plain,
        client_txn_id=exchange.client_txn_id,
        searched=searched,
    )

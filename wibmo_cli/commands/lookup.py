"""`wibmo lookup`: Retrieve Cust Record (1930 -> 1931)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from wibmo_cli.errors import ExitStatus
from wibmo_cli.runtime import Runtime, command_options

Mobile = Annotated[
    str | None,
    typer.Option(
        "--mobile",
        "-m",
        help="Mobile: 10 digits, 91…, +91 …; spaces and dashes are fine.",
        show_default=False,
    ),
]
Urn = Annotated[str | None, typer.Option("--urn", help="Card/wallet URN.", show_default=False)]
CustomerId = Annotated[
    str | None,
    typer.Option("--customer-id", help="The client's customer id.", show_default=False),
]
Email = Annotated[str | None, typer.Option("--email", help="Email address.", show_default=False)]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Show identity document numbers whole (audited).")
]


@command_options
def lookup(
    rt: Runtime,
    mobile: Mobile = None,
    urn: Urn = None,
    customer_id: CustomerId = None,
    email: Email = None,
    reveal: Reveal = False,
) -> None:
    """Look a customer up: who, which cards, KYC, balance, status, documents.

    Exit code 0 when found (responseCode 00), 1 when the platform answers another
    code (explained), 2 for bad input, 3 configuration, 4 undecryptable answer,
    5 network, 6 HTTP error.

    \b
    Examples:
      wibmo lookup --mobile 9897123456
      wibmo lookup --urn 389 -o json
      wibmo -p uat lookup --email abc@xyz.com -v
      wibmo lookup --customer-id custid_V3_juyWqcUUxz --reveal
    """
    from wibmo_cli.messages import Identifiers, lookup_payload
    from wibmo_cli.session import open_client

    profile = rt.profile()
    identifiers = Identifiers.parse(
        mobile=mobile,
        urn=urn,
        customer_id=customer_id,
        email=email,
        mobile_prefix=str(profile.get("mobile_prefix")),
    )
    payload = lookup_payload(identifiers, message_code=int(profile.get("lookup_message_code")))

    async def run() -> object:
        async with open_client(
            profile,
            rt.data_dir(),
            trace=rt.render.trace if rt.options.verbose else None,
            notice=rt.render.info,
        ) as client:
            return await client.lookup(payload)

    from wibmo_cli.client import Exchange

    exchange = asyncio.run(run())
    assert isinstance(exchange, Exchange)
    if reveal:
        from wibmo_cli.audit import AuditLog

        AuditLog.for_runtime(rt).record(
            command="lookup",
            action="reveal",
            identifiers=identifiers.describe(),
            clientTxnId=exchange.client_txn_id,
            accosaTransactionId=exchange.answer.get("accosaTransactionId"),
            responseCode=exchange.answer.get("responseCode"),
        )
    title = f"Customer ({identifiers.describe(masked=False)})"
    ok = show_answer(rt, exchange.answer, elapsed=exchange.elapsed, reveal=reveal, title=title)
    if not ok:
        raise typer.Exit(ExitStatus.API_ERROR)


def show_answer(
    rt: Runtime, answer: dict[str, object], *, elapsed: float | None, reveal: bool, title: str
) -> bool:
    """Render a decrypted answer (masked unless `reveal`); True when responseCode is 00."""
    from wibmo_cli.codes import is_success
    from wibmo_cli.masking import mask

    shown = answer if reveal else mask(answer)
    if rt.json:
        rt.render.json(shown)
    else:
        from wibmo_cli.views.customer import answer_renderables, answer_view

        view = answer_view(shown)
        width = rt.render.console.width
        rt.render.print(*answer_renderables(view, elapsed=elapsed, title=title, width=width))
    return is_success(answer.get("responseCode"))  # type: ignore[arg-type]

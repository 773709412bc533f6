"""The event loop every asynchronous command runs on: asyncio's, with name lookups in
daemon threads.

asyncio resolves host names in its default executor, whose threads are joined when the
loop closes: a DNS server that never answers held the process for the resolver's own
timeout (10 s and more) after the command had ended at its `timeout` with its message.
Here each lookup runs in a daemon thread of its own, awaited like any future and left
behind when it hangs; the process ends on time (`app.leave`).

    run(main)     asyncio.run(main) on such a loop
    new_loop()    such a loop, for an asyncio.Runner (the console)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Loop(asyncio.SelectorEventLoop):
    async def getaddrinfo(  # the same call as asyncio's, not in its executor
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        future: asyncio.Future[list[tuple[Any, ...]]] = self.create_future()

        def settle(result: list[tuple[Any, ...]] | None, error: OSError | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result or [])

        def resolve() -> None:
            result, error = None, None
            try:
                result = socket.getaddrinfo(host, port, family, type, proto, flags)
            except OSError as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=resolve, name="wibmo-resolve", daemon=True).start()
        return await future


def new_loop() -> asyncio.AbstractEventLoop:
    return _Loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on a loop whose name lookups end with the command."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(main)

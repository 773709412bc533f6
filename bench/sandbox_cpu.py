"""The sandbox's CPU per request, in one process and without sockets.

Whole HTTP/1.1 lookup requests (bench.py's, encrypted beforehand) are fed to one of the
sandbox's connections (`HttpConnection`, with a transport that only counts the bytes
written), so the figure is the sandbox's own work: h11, the gateway, SQLite, AES, JSON,
and none of the kernel's or the load generator's. Steadier than requests a second on a
busy machine, for comparing two versions of the sandbox.

    python bench/sandbox_cpu.py [REQUESTS]        # default 20,000; prints us per request
    python bench/sandbox_cpu.py 20000 --profile   # and the top of a cProfile of it
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import identifiers, sandbox_requests
from wibmo_cli.endpoint import sandbox_settings
from wibmo_cli.profiles import DEMO_PROFILE, resolve
from wibmo_cli.sandbox.server import HttpServer
from wibmo_cli.sandbox.settings import RequestLog

WARM_UP = 2_000


class Counting(asyncio.Transport):
    """A transport that keeps nothing: it counts what the sandbox writes."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += len(data)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass


async def measure(db: Path, count: int, profile: bool) -> None:
    demo = resolve("demo", dict(DEMO_PROFILE), {}, source="bench")
    server = HttpServer(sandbox_settings(demo, db), RequestLog())
    await server.start("127.0.0.1", 0)
    try:
        requests = sandbox_requests(server.url, identifiers(db, count + WARM_UP))
        connection = server._connection()
        transport = Counting()
        connection.connection_made(transport)
        for request in requests[:WARM_UP]:
            connection.data_received(request)
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        for request in requests[WARM_UP:]:
            connection.data_received(request)
        if profiler is not None:
            profiler.disable()
        seconds = time.process_time() - started
        print(
            f"{seconds / count * 1e6:.1f} us of CPU a request ({count:,} lookups, "
            f"{transport.written / (count + WARM_UP):,.0f} bytes an answer)"
        )
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    finally:
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wibmo-sandbox-cpu-") as work:
        asyncio.run(measure(Path(work) / "sandbox.db", args.count, args.profile))


if __name__ == "__main__":
    main()

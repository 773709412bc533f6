#!/usr/bin/env python3
"""How wibmo's figures grow (issue 16, item 6): each measured at two sizes in one run, the
growth printed next to the growth of the input. Flat is the aim: a lookup does not slow
down with 100x the customers, memory does not grow with the rows or the log.

    python bench/scale.py            # 240 / 24,000 customers, 10k / 100k rows, 256 MiB / 1 GiB log
    python bench/scale.py --quick    # 240 / 2,400 customers, 2k / 20k rows, 64 / 256 MiB log

Uses bench.py's machinery (the sandbox in a process of its own, peak RSS by a wrapper
process, the synthetic log); results go to stdout only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import Bench, write_log
from wibmo_cli.profiles import DEMO_PROFILE


def profiles_for(bench: Bench, url: str, name: str) -> Path:
    path = bench.work / f"{name}.toml"
    values = {**DEMO_PROFILE, "base_url": url}
    body = "".join(f'{key} = "{value}"\n' for key, value in values.items())
    path.write_text(f'default_profile = "bench"\n[profiles.bench]\n{body}')
    return path


def lookup_ms(bench: Bench, customers: int, repeats: int) -> float:
    """Median wall time of one cold `wibmo lookup --urn` against a sandbox seeded with
    `customers` generated customers (the last one looked up: no early hit)."""
    db = bench.work / f"c{customers}.db"
    bench.run([*bench.wibmo, "sandbox", "reset", "--customers", str(customers), "--db", str(db)])
    with bench.sandbox(db) as (url, _):
        from urllib.request import urlopen

        with urlopen(f"{url}/__sandbox/urns") as answer:  # noqa: S310 (loopback, ours)
            last = str(json.load(answer)[-1]["urn"])
        argv = [*bench.wibmo, "--profiles-file", str(profiles_for(bench, url, f"c{customers}"))]
        argv += ["lookup", "--urn", last, "-o", "json"]
        bench.run(argv)  # warm
        return statistics.median(bench.wall(argv) for _ in range(repeats)) * 1000


def batch_rss(bench: Bench, rows: int) -> tuple[float, float]:
    """(peak RSS in MiB, rows/s) of `wibmo lookup --file` over `rows` rows."""
    with bench.sandbox(bench.work / "batch.db") as (url, _):
        path = bench.work / f"rows{rows}.txt"
        with sqlite3.connect(bench.work / "batch.db") as conn:  # every row a customer's URN
            urns = [str(urn) for (urn,) in conn.execute("SELECT urn FROM cards")]
        path.write_text("".join(f"{urns[n % len(urns)]}\n" for n in range(rows)))
        argv = [*bench.wibmo, "--profiles-file", str(profiles_for(bench, url, "batch"))]
        argv += ["lookup", "--file", str(path), "--concurrency", "16"]
        started = time.perf_counter()
        rss = bench.peak_rss(argv)
        return rss / 1024, rows / (time.perf_counter() - started)


def scan(bench: Bench, size: int) -> tuple[float, float]:
    """(peak RSS in MiB, MiB/s) of `wibmo decrypt --scan` over a log of `size` bytes."""
    path = bench.work / f"log{size}.log"
    part = bench.work / "part.log"
    if not part.exists():
        write_log(part, 64 << 20)
    with path.open("wb") as out:
        while out.tell() < size:
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, out)
    megabytes = path.stat().st_size / (1 << 20)
    started = time.perf_counter()
    rss = bench.peak_rss([*bench.wibmo, "decrypt", "--scan", str(path)])
    rate = megabytes / (time.perf_counter() - started)
    path.unlink()
    return rss / 1024, rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    quick = parser.parse_args().quick
    bench = Bench(quick)
    print(f"wibmo scale on {bench.work}", flush=True)
    lines = []
    small, large = (240, 2_400) if quick else (240, 24_000)
    a, b = lookup_ms(bench, small, 5), lookup_ms(bench, large, 5)
    lines.append(
        f"| one lookup, cold | {small:,} customers: {a:.1f} ms | {large:,}: {b:.1f} ms | "
        f"{large / small:.0f}x input, {b / a:.2f}x time |"
    )
    print(lines[-1], flush=True)
    small_rows, large_rows = (2_000, 20_000) if quick else (10_000, 100_000)
    (rss_a, rate_a), (rss_b, rate_b) = batch_rss(bench, small_rows), batch_rss(bench, large_rows)
    lines.append(
        f"| lookup --file, peak RSS | {small_rows:,} rows: {rss_a:.1f} MiB ({rate_a:,.0f}/s) | "
        f"{large_rows:,}: {rss_b:.1f} MiB ({rate_b:,.0f}/s) | "
        f"{large_rows / small_rows:.0f}x input, {rss_b / rss_a:.2f}x memory |"
    )
    print(lines[-1], flush=True)
    small_log, large_log = (64 << 20, 256 << 20) if quick else (256 << 20, 1 << 30)
    (scan_a, speed_a), (scan_b, speed_b) = scan(bench, small_log), scan(bench, large_log)
    lines.append(
        f"| decrypt --scan, peak RSS | {small_log >> 20} MiB log: {scan_a:.1f} MiB "
        f"({speed_a:.1f} MiB/s) | {large_log >> 20} MiB: {scan_b:.1f} MiB ({speed_b:.1f} MiB/s) | "
        f"{large_log / small_log:.0f}x input, {scan_b / scan_a:.2f}x memory |"
    )
    print(lines[-1], flush=True)
    print("\n| figure | small | large | growth |\n|---|---|---|---|")
    print("\n".join(lines))
    shutil.rmtree(bench.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

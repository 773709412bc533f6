#!/usr/bin/env python3
"""The long fuzz campaign: the fuzz tests with many times more examples per test.

    python bench/fuzz_campaign.py                        # the fuzz profile
    python bench/fuzz_campaign.py --profile ci --seed 7  # a shorter run, another seed

Two sides: tests/test_fuzz.py feeds random input (arguments, stdin, files, tokens, keys)
into the codec, the parsers and the CLI; tests/test_fuzz_answers.py feeds random and
adversarial answers (statuses, lengths, encodings, nesting, bytes) from a hostile server
on loopback into lookup, update and batch. The suite runs each fuzz test with a modest
number of examples; this runs the same tests under the hypothesis profile `fuzz`
(tests/conftest.py: thirty times CI's examples), pytest's per-test timeout off and a fixed
seed (printed: `WIBMO_HYPOTHESIS=fuzz pytest tests/test_fuzz*.py --hypothesis-seed=SEED`
replays a failure). It sums the passing
examples hypothesis reports per test, prints the total and writes it to
bench/out/fuzz_campaign.json. Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_TEST = re.compile(r"^(tests/test_fuzz\w*\.py::\S+):\s*$")
FILES = ("tests/test_fuzz.py", "tests/test_fuzz_answers.py")
_COUNTS = re.compile(r"-\s+(\d+) passing, (\d+) failing")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", choices=("dev", "ci", "fuzz"), default="fuzz", help="hypothesis profile"
    )
    parser.add_argument("--seed", type=int, default=20250101, help="hypothesis seed")
    args = parser.parse_args()

    command = [
        sys.executable,
        "-m",
        "pytest",
        *FILES,
        "-n",
        "0",  # one process: hypothesis prints its statistics only there
        "-m",
        "",  # every fuzz test, slow ones too
        "-p",
        "no:cacheprovider",
        "-q",
        "-o",
        "timeout=0",
        f"--hypothesis-seed={args.seed}",
        "--hypothesis-show-statistics",
    ]
    env = {**os.environ, "WIBMO_HYPOTHESIS": args.profile}
    print(f"$ WIBMO_HYPOTHESIS={args.profile} {' '.join(command[2:])}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started

    per_test: dict[str, dict[str, int]] = {}
    current = None
    for line in done.stdout.splitlines():
        if match := _TEST.match(line.strip()):
            current = match.group(1)
        elif current and (match := _COUNTS.search(line)):
            passing, failing = map(int, match.groups())
            entry = per_test.setdefault(current, {"passing": 0, "failing": 0})
            entry["passing"] += passing
            entry["failing"] += failing
    total = sum(entry["passing"] for entry in per_test.values())
    failing = sum(entry["failing"] for entry in per_test.values())
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    for name, entry in sorted(per_test.items()):
        print(f"{entry['passing']:>8} passing {entry['failing']:>3} failing  {name}")
    print(
        f"total: {total} cases passing, {failing} failing, in {elapsed:.0f} s "
        f"(profile {args.profile}, seed {args.seed}); pytest: {summary}"
    )
    if done.returncode:
        print(done.stdout[-20000:])
        print(done.stderr[-5000:], file=sys.stderr)
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "profile": args.profile,
        "seed": args.seed,
        "seconds": round(elapsed),
        "cases": total,
        "failing": failing,
        "pytest": summary,
        "returncode": done.returncode,
        "tests": per_test,
    }
    (out / "fuzz_campaign.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

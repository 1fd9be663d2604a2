"""Backtest throughput on a synthetic 100,000-event history (issue: foundation).

Prints numbers; asserts nothing. Run: `.venv/bin/python benchmarks/backtest_throughput.py`.
Measures the in-process replay (parse + validate + rules + JSON output) on one core, and the
whole `afterglow backtest` command including interpreter start-up.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from afterglow.cli.backtest_cmd import run_backtest
from afterglow.synthetic.cohort import CohortShape, generate_history

# About 47 events per synthetic patient; this many patients gives a little over 100,000.
PATIENTS_PER_100K = 2150


def build_history(target_events: int, seed: int) -> list[str]:
    patients = max(1, round(PATIENTS_PER_100K * target_events / 100_000))
    events = generate_history(CohortShape(patients=patients), seed=seed)
    return [json.dumps(event) + "\n" for event in events[:target_events]]


def in_process(lines: list[str], repeats: int) -> list[float]:
    rates = []
    for _ in range(repeats):
        out = io.StringIO()
        started = time.perf_counter()
        code = run_backtest(io.StringIO("".join(lines)), out, sys.stderr, True, False)
        elapsed = time.perf_counter() - started
        if code != 0:
            raise SystemExit(f"backtest failed with exit {code}")
        rates.append(len(lines) / elapsed)
    return rates


def whole_command(path: Path) -> float:
    afterglow = Path(sys.executable).parent / "afterglow"
    started = time.perf_counter()
    subprocess.run(
        [str(afterglow), "backtest", "--summary-only", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    # One core, as the target says: pin this process (and the child command) to CPU 0.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    lines = build_history(args.events, args.seed)
    rates = in_process(lines, args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        path.write_text("".join(lines))
        command_seconds = whole_command(path)

    rates.sort()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, {platform.python_implementation()} "
        f"{platform.python_version()}, pinned to 1 core"
    )
    print(f"history: {len(lines):,} events")
    print(
        f"in-process replay: median {rates[len(rates) // 2]:,.0f} events/s "
        f"(min {rates[0]:,.0f}, max {rates[-1]:,.0f}) over {args.repeats} runs"
    )
    print(
        f"`afterglow backtest --summary-only`: {command_seconds:.2f} s wall, "
        f"{len(lines) / command_seconds:,.0f} events/s including start-up"
    )


if __name__ == "__main__":
    main()

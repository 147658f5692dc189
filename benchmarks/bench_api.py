"""Benchmarks of the client against the emulator over loopback; prints figures, asserts nothing.

    .venv/bin/python benchmarks/bench_api.py [--loads 300] [--rounds 3]

Measures: create latency, listing every load across pages (page size 100 and 10),
get latency, and a run's wall time with the rows it wrote (full history of the
daily table into SQLite).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from improvado_loads import ImprovadoClient
from improvado_loads.emulator import EmulatorServer, EmulatorSettings


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    """Wall times of ``rounds`` calls, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float], unit: int = 1) -> None:
    """One line: median and spread, per ``unit`` operations."""
    med = statistics.median(times) / unit * 1000
    low, high = min(times) / unit * 1000, max(times) / unit * 1000
    print(f"{name:<44} median {med:8.2f} ms   min {low:8.2f}   max {high:8.2f}   (n={len(times)})")


def main() -> None:
    """Run every benchmark once against a fresh emulator."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(
        EmulatorSettings(data_dir=Path(tmp), port=0, token="bench", run_seconds=0.0)
    ) as server, ImprovadoClient(base_url=server.url, token="bench") as client:
        creates = []
        for i in range(args.loads):
            start = time.perf_counter()
            client.loads.create(data_table_id=1, destination_connection_id=1, destination_table=f"t{i}")
            creates.append(time.perf_counter() - start)
        report(f"create a load ({args.loads} loads)", creates)
        for size in (100, 10):
            times = timed(lambda size=size: client.loads.list(page_size=size).to_list(), args.rounds)  # type: ignore[misc]
            report(f"list {args.loads} loads, page_size={size}", times)
        report("get a load", timed(lambda: client.loads.get(1), 50))

        load = client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="bench_full",
                                   load_historical_data=True)
        start = time.perf_counter()
        client.loads.run(load.id)
        done = client.loads.wait(load.id, timeout=120, poll_interval=0.02)
        elapsed = time.perf_counter() - start
        rows = done.uploaded_rows_count or 0
        print(f"{'run + wait, full history into SQLite':<44} {elapsed * 1000:8.1f} ms for {rows} rows "
              f"({rows / elapsed:,.0f} rows/s, status {done.status})")


if __name__ == "__main__":
    main()

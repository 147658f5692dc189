"""Benchmark of the real Pulumi engine driving N loads against the emulator; prints figures.

    .venv/bin/python benchmarks/bench_engine.py [--loads 30]

Needs `pulumi` on PATH (scripts/ensure-pulumi). Measures `up` (create N), a no-op
`preview`, an `up` that updates every run policy, `refresh`, and `destroy`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pulumi import automation as auto

from improvado_loads.deploy import stack_for
from improvado_loads.emulator import EmulatorServer, EmulatorSettings

PROGRAM = '''
import json
import pulumi
from improvado_loads import Load, LoadArgs
for name, spec in json.loads(pulumi.Config("bench").require("loads")).items():
    Load(name, LoadArgs(**spec))
'''


def main() -> None:
    """Run each engine operation once and print its wall time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loads", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(
        EmulatorSettings(data_dir=Path(tmp) / "emulator", port=0, token="bench", run_seconds=0.0)
    ) as server:
        work = Path(tmp) / "program"
        work.mkdir()
        (work / "Pulumi.yaml").write_text("name: bench\nruntime: python\n")
        (work / "__main__.py").write_text(PROGRAM)
        (Path(tmp) / "state").mkdir()
        env = {"PULUMI_BACKEND_URL": (Path(tmp) / "state").as_uri(), "PULUMI_CONFIG_PASSPHRASE": "bench",
               "IMPROVADO_API_URL": server.url, "IMPROVADO_API_TOKEN": "bench"}
        stack = stack_for(work, "bench", env=env)

        def up_with(policy: str) -> auto.UpResult:
            specs = {f"load-{i}": {"data_table_id": 1 + i % 3, "destination_connection_id": 1,
                                   "destination_table": f"t{i}", "run_policy": policy} for i in range(args.loads)}
            stack.set_config("bench:loads", auto.ConfigValue(json.dumps(specs)))
            return stack.up()

        steps: list[tuple[str, Callable[[], object]]] = [
            (f"up: create {args.loads} loads", lambda: up_with("daily")),
            ("preview: no change", lambda: stack.preview()),
            (f"up: update {args.loads} run policies", lambda: up_with("hourly")),
            ("refresh", lambda: stack.refresh()),
            (f"destroy: delete {args.loads} loads", lambda: stack.destroy()),
        ]
        for name, step in steps:
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            print(f"{name:<36} {elapsed:7.2f} s   ({elapsed / args.loads * 1000:6.1f} ms per load)")


if __name__ == "__main__":
    main()

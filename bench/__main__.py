"""``hatch run bench``: every scenario, raw and chanx side by side, several runs.

    python -m bench [--scenarios inproc,...] [--frameworks asgi,...] [--runs 3] [--quick]

Each measurement runs in a fresh process. In-process, end-to-end, fan-out and slow-member
measurements run both variants in that process (servers side by side), taking turns in
short slices; the memory measurement runs one process per variant. From run to run, the
two variants (raw and chanx; for ``slow_member``, none and slow) alternate which goes
first. Results print as JSON lines as they come, then a summary of
medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import markdown, summarize

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ["asgi", "fastapi", "litestar", "channels"]
SCENARIOS = ["inproc", "e2e", "fanout", "memory", "slow_member"]
SERVERS: dict[str, list[str]] = {"channels": ["uvicorn", "daphne"]}
"""Servers per framework for the end-to-end scenario (uvicorn when not listed)."""
REDIS_FRAMEWORKS = {"asgi", "fastapi", "litestar", "channels"}
VARIANTS = {"slow_member": ("none", "slow")}
"""The two variants a scenario compares, baseline first (raw and chanx when not listed)."""
"""Frameworks whose apps have a Redis layer (fan-out across two processes)."""


def plan(scenario: str, framework: str, quick: bool) -> list[list[str]]:
    """The argument lists of one scenario's measurements for one framework. ``{variants}``
    becomes both variants, in this run's order (they take turns inside the measurement);
    ``{variant}`` one of them (a process per variant: the memory scenario)."""
    if scenario == "inproc":
        seconds = "0.3" if quick else "1.5"
        return [
            ["bench.inproc", framework, kind, "--variants", "{variants}", "--seconds", seconds]
            for kind in ("ping", "chat")
        ]
    if scenario == "e2e":
        seconds = "1" if quick else "3"
        return [
            [
                "bench.e2e",
                framework,
                "--variants",
                "{variants}",
                "--clients",
                str(clients),
                "--server",
                server,
                "--seconds",
                seconds,
            ]
            for server in SERVERS.get(framework, ["uvicorn"])
            for clients in (1, 50)
        ]
    if scenario == "fanout":
        broadcasts = "5" if quick else "20"
        layers = ["memory", "redis"] if framework in REDIS_FRAMEWORKS else ["memory"]
        return [
            [
                "bench.fanout",
                framework,
                "--variants",
                "{variants}",
                "--clients",
                str(clients),
                "--layer",
                layer,
                "--broadcasts",
                broadcasts,
            ]
            for layer in layers
            for clients in (100, 1000)
        ]
    if scenario == "memory":
        connections = "200" if quick else "1000"
        return [["bench.memory", framework, "{variant}", "--connections", connections]]
    if scenario == "slow_member":
        broadcasts = "10" if quick else "100"
        options = ["--clients", "100", "--broadcasts", broadcasts]
        return [["bench.slow_member", framework, "--variants", "{variants}", *options]]
    raise ValueError(f"unknown scenario {scenario!r}")


def measure(args: list[str]) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    for record in records:
        print(json.dumps(record), flush=True)
    return records


def commands(measurement: list[str], order: tuple[str, str]) -> list[list[str]]:
    """The processes one measurement takes in this run (``order``: the variants, in the
    order they go)."""
    if "{variants}" in measurement:
        return [[a.replace("{variants}", ",".join(order)) for a in measurement]]
    return [[a.replace("{variant}", variant) for a in measurement] for variant in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    parser.add_argument("--save", type=Path, help="also write the records and summary here")
    args = parser.parse_args()
    records: list[dict[str, Any]] = []
    started = time.time()
    for run in range(args.runs):
        for scenario in args.scenarios.split(","):
            pair = VARIANTS.get(scenario, ("raw", "chanx"))
            order = pair if run % 2 == 0 else pair[::-1]
            for framework in args.frameworks.split(","):
                for measurement in plan(scenario, framework, args.quick):
                    for command in commands(measurement, order):
                        for record in measure(command):
                            records.append({**record, "run": run})
    table = markdown(summarize(records))
    print(f"\n# {args.runs} runs in {time.time() - started:.0f}s\n\n{table}")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps({"records": records, "table": table}, indent=1))


if __name__ == "__main__":
    main()

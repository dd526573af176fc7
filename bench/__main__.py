"""``hatch run bench``: every scenario, raw and chanx side by side, several runs.

    python -m bench [--scenarios inproc,...] [--frameworks asgi,...] [--runs 3] [--quick]
        [--variants raw,chanx]

Each measurement runs in a fresh process. Every scenario but ``memory`` runs all its
variants in that process (servers side by side), taking turns in short slices; the
memory measurement runs one process per variant. The variants: ``raw`` (the strict
hand-written app), ``idiomatic`` (the framework as its users write it, where the
framework has one) and ``chanx``; for ``slow_member``, none and slow; for ``settings``,
the ``CHANX`` variants. From run to run, which variant goes first rotates. Results print
as JSON lines as they come, then a summary of medians and ratios.
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
APPS = ROOT / "bench" / "apps"
FRAMEWORKS = ["asgi", "fastapi", "litestar", "channels"]
SCENARIOS = ["inproc", "e2e", "fanout", "memory", "slow_member", "settings", "idle", "fanout4"]
SERVERS: dict[str, list[str]] = {"channels": ["uvicorn", "daphne"]}
"""Servers per framework for the end-to-end scenario (uvicorn when not listed)."""
LAYERS: dict[str, list[tuple[str, int]]] = {
    "channels": [
        ("memory", 100),
        ("memory", 1000),
        ("redis", 100),
        ("redis", 1000),
        # 1000 members on RedisChannelLayer, three variants of two processes each on one
        # core: channels_redis' reads time out (every variant's), so 100 only.
        ("redis-channel", 100),
    ]
}
"""Layers and group sizes per framework for the fan-out scenario (memory and redis, 100
and 1000 members, when not listed)."""
FIXED_VARIANTS = {
    "slow_member": ("none", "slow"),
    "settings": ("chanx_empty", "chanx_none", "chanx_docs"),
}
"""The variants of scenarios that do not compare chanx with hand-written apps."""
ONLY = {"settings": {"channels"}, "fanout4": {"asgi", "fastapi", "litestar"}}
"""Scenarios that concern some frameworks only (``fanout4``: the raw baseline is the
framework with redis-py, which the Channels apps are not)."""


def variants_of(scenario: str, framework: str, chosen: list[str] | None) -> tuple[str, ...]:
    """The variants one measurement compares: raw, the idiomatic app where the framework
    has one, chanx (or those of ``chosen`` that exist)."""
    if scenario in FIXED_VARIANTS:
        return FIXED_VARIANTS[scenario]
    found = tuple(
        v for v in ("raw", "idiomatic", "chanx") if (APPS / f"{framework}_{v}.py").exists()
    )
    return tuple(v for v in found if chosen is None or v in chosen)


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
        default = [(layer, size) for layer in ("memory", "redis") for size in (100, 1000)]
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
            for layer, clients in LAYERS.get(framework, default)
        ]
    if scenario == "memory":
        connections = "200" if quick else "1000"
        return [["bench.memory", framework, "{variant}", "--connections", connections]]
    if scenario == "slow_member":
        broadcasts = "10" if quick else "100"
        options = ["--clients", "100", "--broadcasts", broadcasts]
        return [["bench.slow_member", framework, "--variants", "{variants}", *options]]
    if scenario == "settings":
        rounds = ["--rounds", "1", "--seconds", "0.3"] if quick else ["--rounds", "3"]
        return [["bench.channels_settings", "--variants", "{variants}", *rounds]]
    if scenario == "idle":
        connections = "1000" if quick else "10000"
        return [["bench.scale", "idle", framework, "--variants", "{variants}",
                 "--connections", connections]]  # fmt: skip
    if scenario == "fanout4":
        members, broadcasts = ("250", "3") if quick else ("2500", "10")
        return [["bench.scale", "fanout4", framework, "--variants", "{variants}",
                 "--members", members, "--broadcasts", broadcasts]]  # fmt: skip
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


def commands(measurement: list[str], order: tuple[str, ...]) -> list[list[str]]:
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
    parser.add_argument("--variants", help="only these of raw,idiomatic,chanx")
    args = parser.parse_args()
    chosen = args.variants.split(",") if args.variants else None
    records: list[dict[str, Any]] = []
    failures: list[str] = []
    started = time.time()
    for run in range(args.runs):
        for scenario in args.scenarios.split(","):
            for framework in args.frameworks.split(","):
                if framework not in ONLY.get(scenario, {framework}):
                    continue
                variants = variants_of(scenario, framework, chosen)
                shift = run % len(variants)
                order = variants[shift:] + variants[:shift]
                for measurement in plan(scenario, framework, args.quick):
                    for command in commands(measurement, order):
                        try:
                            measured = measure(command)
                        except RuntimeError as exc:  # one failure does not end the run
                            print(exc, file=sys.stderr, flush=True)
                            failures.append(" ".join(command))
                            continue
                        for record in measured:
                            records.append({**record, "run": run})
    table = markdown(summarize(records))
    print(f"\n# {args.runs} runs in {time.time() - started:.0f}s\n\n{table}")
    for failure in failures:
        print(f"failed: {failure}")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        saved = {"records": records, "table": table, "failures": failures}
        args.save.write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()

"""Two checkouts of chanx, one in-process scenario: the CPU time per message of each.

    hatch run python -m bench.compare /path/to/other/checkout fastapi ping [--rounds 7]
        [--after /path/to/a/third/checkout]

For a change to the engine or an adapter: each round runs the chanx app of the bench in
two fresh processes, one with the other checkout's package sources first on
``PYTHONPATH`` (``before``), one with this checkout's (``after``), taking turns (which goes
first alternates), so a slow spell of the machine falls on both. The bench code is this
checkout's for both. A process drives one in-process connection (as ``bench.inproc``) and
measures the CPU time of its thread per round trip, which does not count other
programs' turns on a shared machine. Prints each side's median, the per-round range and
after/before. ``--after`` compares the other checkout with a third one instead of this
one (a chain of commits, one step at a time).

Make the other checkout with ``git worktree add /tmp/before <commit>`` (or ``git
archive <commit> | tar -x -C /tmp/before``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.report import emit

ROOT = Path(__file__).resolve().parents[1]


def sources(checkout: Path) -> list[str]:
    """The ``src`` folders of every package of ``checkout``."""
    found = sorted(str(p) for p in (checkout / "packages").glob("*/src"))
    if not found:
        raise SystemExit(f"{checkout} has no packages/*/src")
    return found


async def cpu_per_message(framework: str, message: str, seconds: float) -> float:
    from bench.inproc import FRAMES, Connection, lifespan
    from bench.report import load_app

    app = load_app(framework, "chanx")
    async with lifespan(app) as state:
        connection = Connection(app, state)
        await connection.open()
        run = connection.round_trips(FRAMES[message])
        await run(3000)  # warm-up
        gc.collect()
        done, used = 0, 0.0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.thread_time()
            await run(500)
            used += time.thread_time() - started
            done += 500
        await connection.close()
    return used / done


def child(framework: str, message: str, seconds: float) -> None:
    result = asyncio.run(cpu_per_message(framework, message, seconds))
    print(json.dumps({"us": result * 1e6}))


def run_side(checkout: Path | None, framework: str, message: str, seconds: float) -> float:
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join([*sources(checkout), str(ROOT)])
    command = [sys.executable, "-m", "bench.compare", "--child", framework, message]
    out = subprocess.run(
        [*command, "--seconds", str(seconds)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.splitlines()[-1])["us"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", nargs="?", type=Path, help="the other checkout (before)")
    parser.add_argument("framework")
    parser.add_argument("message", choices=["ping", "chat"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--after", type=Path, help="the checkout after (default: this one)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.framework, args.message, args.seconds)
        return
    if args.other is None:
        parser.error("the other checkout is required")
    after = args.after.resolve() if args.after else None
    sides: dict[str, Path | None] = {"before": args.other.resolve(), "after": after}
    results: dict[str, list[float]] = {side: [] for side in sides}
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for side in order:
            results[side].append(run_side(sides[side], args.framework, args.message, args.seconds))
    before, after = (statistics.median(results[s]) for s in sides)
    per_round = [a / b for a, b in zip(results["after"], results["before"], strict=True)]
    for side, values in results.items():
        emit(
            "compare",
            args.framework,
            side,
            f"{args.message}_cpu",
            statistics.median(values),
            "us/msg",
        )
    print(
        f"{args.framework} {args.message}: before {before:.2f} us, after {after:.2f} us per "
        f"message (CPU, median of {args.rounds}); after/before {after / before:.3f} "
        f"(per round {min(per_round):.3f}-{max(per_round):.3f})"
    )


if __name__ == "__main__":
    main()

"""Scenario 2: end to end over a real server and the ``websockets`` client.

K clients on loopback each send validated chat frames one after another for a fixed time.
Prints messages per second, round-trip p50/p99, and the server's CPU time per message.

    python -m bench.e2e <framework> <variant> --clients K [--server uvicorn|daphne] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import websockets

from bench.inproc import FRAMES
from bench.report import emit
from bench.servers import cpu_seconds, pin_client, serving


async def client(url: str, frame: str, until: float, rtts: list[float]) -> int:
    sent = 0
    async with websockets.connect(url, max_queue=None) as ws:
        while time.perf_counter() < until:
            start = time.perf_counter()
            await ws.send(frame)
            await ws.recv()
            rtts.append(time.perf_counter() - start)
            sent += 1
    return sent


async def run(port: int, pid: int, clients: int, seconds: float) -> dict[str, float]:
    url = f"ws://127.0.0.1:{port}/ws"
    frame = FRAMES["chat"]
    warm_until = time.perf_counter() + 0.3
    await asyncio.gather(*(client(url, frame, warm_until, []) for _ in range(clients)))
    rtts: list[float] = []
    cpu_before, start = cpu_seconds(pid), time.perf_counter()
    counts = await asyncio.gather(
        *(client(url, frame, start + seconds, rtts) for _ in range(clients))
    )
    elapsed, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu_before
    total = sum(counts)
    quantiles = statistics.quantiles(rtts, n=100)
    return {
        "rate": total / elapsed,
        "p50": quantiles[49] * 1e3,
        "p99": quantiles[98] * 1e3,
        "cpu_us": cpu / total * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("variant", choices=["raw", "chanx"])
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    pin_client()
    with serving(args.framework, args.variant, args.server) as (port, pid):
        result = asyncio.run(run(port, pid, args.clients, args.seconds))
    tag = f"{args.server}_c{args.clients}"
    emit("e2e", args.framework, args.variant, f"{tag}_rate", result["rate"], "msg/s")
    emit("e2e", args.framework, args.variant, f"{tag}_rtt_p50", result["p50"], "ms")
    emit("e2e", args.framework, args.variant, f"{tag}_rtt_p99", result["p99"], "ms")
    emit("e2e", args.framework, args.variant, f"{tag}_server_cpu", result["cpu_us"], "us/msg")


if __name__ == "__main__":
    main()

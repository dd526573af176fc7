"""Scenario 2: end to end over a real server and the ``websockets`` client.

Both variants' servers run at once (on the servers' core), each with K connections from
this process (on the other core). The variants take turns in windows of half a second:
in a window, the K clients of one variant each send validated chat frames one after
another, waiting for each answer. Prints, per variant, messages per second, round-trip
p50/p99, and the server's CPU time per message (measured over its own windows).

    python -m bench.e2e <framework> --clients K [--server uvicorn|daphne]
        [--variants raw,chanx] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

import websockets

from bench.inproc import FRAMES
from bench.report import emit
from bench.servers import cpu_seconds, pin_client, serving

WINDOW = 0.2


@dataclass
class Side:
    """One variant's server and connections, and what its windows measured."""

    pid: int
    connections: list[websockets.ClientConnection]
    rtts: list[float] = field(default_factory=list)
    messages: int = 0
    seconds: float = 0.0
    cpu: float = 0.0


async def client(
    ws: websockets.ClientConnection, frame: str, until: float, rtts: list[float]
) -> int:
    sent = 0
    while time.perf_counter() < until:
        start = time.perf_counter()
        await ws.send(frame)
        await ws.recv()
        rtts.append(time.perf_counter() - start)
        sent += 1
    return sent


async def window(side: Side, frame: str, seconds: float, record: bool) -> None:
    rtts: list[float] = []
    cpu_before, start = cpu_seconds(side.pid), time.perf_counter()
    counts = await asyncio.gather(
        *(client(ws, frame, start + seconds, rtts) for ws in side.connections)
    )
    if record:
        side.seconds += time.perf_counter() - start
        side.cpu += cpu_seconds(side.pid) - cpu_before
        side.messages += sum(counts)
        side.rtts += rtts


async def run(
    servers: dict[str, tuple[int, int]], clients: int, seconds: float
) -> dict[str, dict[str, float]]:
    frame = FRAMES["chat"]
    sides = {}
    for variant, (port, pid) in servers.items():
        url = f"ws://127.0.0.1:{port}/ws"
        connections = [await websockets.connect(url, max_queue=None) for _ in range(clients)]
        sides[variant] = Side(pid, connections)
    for side in sides.values():
        await window(side, frame, 0.3, record=False)  # warm-up
    while min(side.seconds for side in sides.values()) < seconds:
        for side in sides.values():
            await window(side, frame, WINDOW, record=True)
    results = {}
    for variant, side in sides.items():
        await asyncio.gather(*(ws.close() for ws in side.connections), return_exceptions=True)
        quantiles = statistics.quantiles(side.rtts, n=100)
        results[variant] = {
            "rate": side.messages / side.seconds,
            "p50": quantiles[49] * 1e3,
            "p99": quantiles[98] * 1e3,
            "cpu_us": side.cpu / side.messages * 1e6,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--variants", default="raw,chanx", help="in the order they take turns")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    pin_client()
    with ExitStack() as stack:
        servers = {
            variant: stack.enter_context(serving(args.framework, variant, args.server))
            for variant in args.variants.split(",")
        }
        results = asyncio.run(run(servers, args.clients, args.seconds))
    tag = f"{args.server}_c{args.clients}"
    for variant, result in results.items():
        emit("e2e", args.framework, variant, f"{tag}_rate", result["rate"], "msg/s")
        emit("e2e", args.framework, variant, f"{tag}_rtt_p50", result["p50"], "ms")
        emit("e2e", args.framework, variant, f"{tag}_rtt_p99", result["p99"], "ms")
        emit("e2e", args.framework, variant, f"{tag}_server_cpu", result["cpu_us"], "us/msg")


if __name__ == "__main__":
    main()

"""Scenario 3: fan-out. N clients in one group; one broadcast must reach them all.

A sender (itself a member) sends ``shout``; the time until the last of the N receivers has
the ``shout_notice`` is one sample. Prints p50/p99 of that time and deliveries per second
(N / p50). With ``--layer redis`` two server processes share the group through Redis and
the receivers are split between them; the sender is on the first. Every connection has
answered a ping before the first broadcast, and two warm-up broadcasts must reach
everyone before the timed ones.

    python -m bench.fanout <framework> <variant> --clients N [--layer memory|redis]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from contextlib import ExitStack

import websockets

from bench.inproc import FRAMES
from bench.report import emit
from bench.servers import cpu_seconds, pin_client, serving


class Receivers:
    """Counts, for the broadcast in flight, how many receivers still wait for it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pending = 0
        self.token = ""
        self.done = asyncio.Event()

    def expect(self, token: str) -> None:
        self.token, self.pending = token, self.count
        self.done.clear()

    def received(self, frame: str) -> None:
        if self.token and self.token in frame:
            self.pending -= 1
            if self.pending == 0:
                self.done.set()


async def receive_forever(ws: websockets.ClientConnection, receivers: Receivers) -> None:
    async for frame in ws:
        receivers.received(frame if isinstance(frame, str) else frame.decode())


async def connect_ready(url: str) -> websockets.ClientConnection:
    """A connection whose server side has finished connecting (its pong proves it)."""
    ws = await websockets.connect(url, max_queue=None)
    await ws.send(FRAMES["ping"])
    await ws.recv()
    return ws


async def broadcast(
    sender: websockets.ClientConnection, receivers: Receivers, timeout: float
) -> float:
    """One ``shout``; seconds until every receiver has it."""
    token = uuid.uuid4().hex
    receivers.expect(token)
    start = time.perf_counter()
    await sender.send(json.dumps({"action": "shout", "payload": token}))
    await asyncio.wait_for(receivers.done.wait(), timeout)
    return time.perf_counter() - start


async def warm_up(sender: websockets.ClientConnection, receivers: Receivers) -> None:
    """Two broadcasts that reach everyone. Across processes a group subscription may be
    confirmed by Redis a little after the member's pong: a broadcast that misses someone
    is sent again (a later token; stragglers of the old one are not counted)."""
    reached = 0
    for _ in range(20):
        try:
            await broadcast(sender, receivers, 3.0)
        except asyncio.TimeoutError:
            continue
        reached += 1
        if reached == 2:
            return
    raise RuntimeError("broadcasts never reached every receiver")


async def run(
    urls: list[str], pids: list[int], clients: int, broadcasts: int
) -> tuple[list[float], float, float]:
    """Timed broadcasts: ``(seconds each, server CPU seconds, client CPU seconds)``."""
    receivers = Receivers(clients)
    connections = []
    for index in range(clients):
        connections.append(await connect_ready(urls[index % len(urls)]))
    sender = await connect_ready(urls[0])
    readers = [asyncio.create_task(receive_forever(ws, receivers)) for ws in connections]
    drain = asyncio.create_task(receive_forever(sender, Receivers(0)))
    await warm_up(sender, receivers)
    server_cpu, client_cpu = sum(map(cpu_seconds, pids)), time.process_time()
    samples = [await broadcast(sender, receivers, 30.0) for _ in range(broadcasts)]
    server_cpu = sum(map(cpu_seconds, pids)) - server_cpu
    client_cpu = time.process_time() - client_cpu
    for task in (*readers, drain):
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in (*connections, sender)), return_exceptions=True)
    return samples, server_cpu, client_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("variant", choices=["raw", "chanx"])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    pin_client()
    env = {"BENCH_LAYER": args.layer, "BENCH_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"}
    servers = 2 if args.layer == "redis" else 1
    with ExitStack() as stack:
        started = [
            stack.enter_context(serving(args.framework, args.variant, env=env))
            for _ in range(servers)
        ]
        urls = [f"ws://127.0.0.1:{port}/ws" for port, _ in started]
        pids = [pid for _, pid in started]
        samples, server_cpu, client_cpu = asyncio.run(
            run(urls, pids, args.clients, args.broadcasts)
        )
    p50 = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else p50
    tag = f"{args.layer}_n{args.clients}"
    emit("fanout", args.framework, args.variant, f"{tag}_p50", p50 * 1e3, "ms")
    emit("fanout", args.framework, args.variant, f"{tag}_p99", p99 * 1e3, "ms")
    emit("fanout", args.framework, args.variant, f"{tag}_rate", args.clients / p50, "deliveries/s")
    deliveries = args.clients * args.broadcasts
    emit(
        "fanout",
        args.framework,
        args.variant,
        f"{tag}_server_cpu",
        server_cpu / deliveries * 1e6,
        "us/delivery",
    )
    emit(
        "fanout",
        args.framework,
        args.variant,
        f"{tag}_client_cpu",
        client_cpu / deliveries * 1e6,
        "us/delivery",
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

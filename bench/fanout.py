"""Scenario 3: fan-out. N clients in one group; one broadcast must reach them all.

A sender (itself a member) sends ``shout``; the time until the last of the N receivers has
the ``shout_notice`` is one sample. With ``--layer redis`` each variant runs two server
processes sharing the group through Redis, the receivers split between them and the
sender on the first.

Both variants' servers run at once, each with its own N receivers, and the variants take
turns, one broadcast each, so a slow spell of the machine falls on both. Every connection
has answered a ping before the first broadcast, and two warm-up broadcasts must reach
everyone before the timed ones. Prints, per variant, p50/p99 of the time until all
received, deliveries per second (N / p50), and the CPU time per delivery of the servers
and of this process (the load generator: N websocket clients in one process).

    python -m bench.fanout <framework> --clients N [--layer memory|redis]
        [--variants raw,chanx] [--broadcasts B]
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
from dataclasses import dataclass, field

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


@dataclass
class Side:
    """One variant: its servers, sender and receivers, and what was measured."""

    pids: list[int]
    sender: websockets.ClientConnection
    connections: list[websockets.ClientConnection]
    receivers: Receivers
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    async def broadcast(self, timeout: float) -> float:
        """One ``shout``; seconds until every receiver has it."""
        token = uuid.uuid4().hex
        self.receivers.expect(token)
        start = time.perf_counter()
        await self.sender.send(json.dumps({"action": "shout", "payload": token}))
        await asyncio.wait_for(self.receivers.done.wait(), timeout)
        return time.perf_counter() - start

    async def warm_up(self) -> None:
        """Two broadcasts that reach everyone. Across processes a group subscription may
        be confirmed by Redis a little after the member's pong: a broadcast that misses
        someone is sent again (a later token; stragglers of the old one do not count)."""
        reached = 0
        for _ in range(20):
            try:
                await self.broadcast(3.0)
            except asyncio.TimeoutError:
                continue
            reached += 1
            if reached == 2:
                return
        raise RuntimeError("broadcasts never reached every receiver")

    async def timed_broadcast(self) -> None:
        client_cpu = time.process_time()
        self.samples.append(await self.broadcast(30.0))
        self.client_cpu += time.process_time() - client_cpu

    def servers_cpu(self) -> float:
        return sum(map(cpu_seconds, self.pids))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        everyone = (*self.connections, self.sender)
        await asyncio.gather(*(ws.close() for ws in everyone), return_exceptions=True)


async def open_side(urls: list[str], pids: list[int], clients: int) -> Side:
    connections = [await connect_ready(urls[index % len(urls)]) for index in range(clients)]
    side = Side(pids, await connect_ready(urls[0]), connections, Receivers(clients))
    side.tasks = [asyncio.create_task(receive_forever(ws, side.receivers)) for ws in connections]
    side.tasks.append(asyncio.create_task(receive_forever(side.sender, Receivers(0))))
    return side


async def settle(pids: list[int]) -> None:
    """Until the servers are idle: work a broadcast leaves behind once everyone has it
    (clean-ups, layer bookkeeping) must not run into the next broadcast, the other
    variant's in particular. Idle: under 5% of a core over 20 ms."""
    for _ in range(200):
        before = sum(map(cpu_seconds, pids))
        await asyncio.sleep(0.02)
        if sum(map(cpu_seconds, pids)) - before < 0.001:
            return


async def run(
    servers: dict[str, list[tuple[int, int]]], clients: int, broadcasts: int
) -> dict[str, Side]:
    sides = {}
    for variant, started in servers.items():
        urls = [f"ws://127.0.0.1:{port}/ws" for port, _ in started]
        sides[variant] = await open_side(urls, [pid for _, pid in started], clients)
    for side in sides.values():
        await side.warm_up()
    # Server CPU over the whole timed phase: a side's servers idle during the other's turns.
    everyone = [pid for side in sides.values() for pid in side.pids]
    await settle(everyone)
    cpu_before = {variant: side.servers_cpu() for variant, side in sides.items()}
    for _ in range(broadcasts):
        for side in sides.values():
            await settle(everyone)
            await side.timed_broadcast()
    for variant, side in sides.items():
        side.server_cpu = side.servers_cpu() - cpu_before[variant]
    for side in sides.values():
        await side.close()
    return sides


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--layer", choices=["memory", "redis", "redis-channel"], default="memory")
    parser.add_argument("--variants", default="raw,chanx", help="in the order they take turns")
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    pin_client()
    processes = 1 if args.layer == "memory" else 2
    with ExitStack() as stack:
        servers = {}
        for variant in args.variants.split(","):
            # A prefix per variant and measurement: the Redis server is shared.
            env = {"BENCH_LAYER": args.layer, "BENCH_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"}
            servers[variant] = [
                stack.enter_context(serving(args.framework, variant, env=env))
                for _ in range(processes)
            ]
        sides = asyncio.run(run(servers, args.clients, args.broadcasts))
    tag = f"{args.layer}_n{args.clients}"
    deliveries = args.clients * args.broadcasts
    for variant, side in sides.items():
        p50 = statistics.median(side.samples)
        p99 = statistics.quantiles(side.samples, n=100)[98] if len(side.samples) > 1 else p50
        report = [
            ("p50", p50 * 1e3, "ms"),
            ("p99", p99 * 1e3, "ms"),
            ("rate", args.clients / p50, "deliveries/s"),
            ("server_cpu", side.server_cpu / deliveries * 1e6, "us/delivery"),
            ("client_cpu", side.client_cpu / deliveries * 1e6, "us/delivery"),
        ]
        for metric, value, unit in report:
            emit("fanout", args.framework, variant, f"{tag}_{metric}", value, unit)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

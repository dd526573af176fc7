"""Scenario 3: fan-out. N clients in one group; one broadcast must reach them all.

A sender (itself a member) sends ``shout``; the time until the last of the N receivers has
the ``shout_notice`` is one sample. Prints p50/p99 of that time and deliveries per second
(N / p50). With ``--layer redis`` two server processes share the group through Redis and
the receivers are split between them; the sender is on the first.

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

from bench.report import emit
from bench.servers import serving


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


async def run(urls: list[str], clients: int, broadcasts: int) -> list[float]:
    receivers = Receivers(clients)
    connections = []
    for index in range(clients):
        connections.append(await websockets.connect(urls[index % len(urls)], max_queue=None))
    sender = await websockets.connect(urls[0], max_queue=None)
    readers = [asyncio.create_task(receive_forever(ws, receivers)) for ws in connections]
    drain = asyncio.create_task(receive_forever(sender, Receivers(0)))
    # Members joined: a ping round trip on every connection proves each is set up.
    await asyncio.sleep(0.5)
    samples = []
    for index in range(broadcasts + 2):
        token = uuid.uuid4().hex
        receivers.expect(token)
        start = time.perf_counter()
        await sender.send(json.dumps({"action": "shout", "payload": token}))
        await asyncio.wait_for(receivers.done.wait(), 30)
        if index >= 2:  # the first two warm up
            samples.append(time.perf_counter() - start)
    for task in (*readers, drain):
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in (*connections, sender)), return_exceptions=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("variant", choices=["raw", "chanx"])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--layer", choices=["memory", "redis"], default="memory")
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    env = {"BENCH_LAYER": args.layer, "BENCH_PREFIX": f"bench-{uuid.uuid4().hex[:8]}"}
    servers = 2 if args.layer == "redis" else 1
    with ExitStack() as stack:
        ports = [
            stack.enter_context(serving(args.framework, args.variant, env=env))[0]
            for _ in range(servers)
        ]
        samples = asyncio.run(
            run([f"ws://127.0.0.1:{p}/ws" for p in ports], args.clients, args.broadcasts)
        )
    p50 = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else p50
    tag = f"{args.layer}_n{args.clients}"
    emit("fanout", args.framework, args.variant, f"{tag}_p50", p50 * 1e3, "ms")
    emit("fanout", args.framework, args.variant, f"{tag}_p99", p99 * 1e3, "ms")
    emit("fanout", args.framework, args.variant, f"{tag}_rate", args.clients / p50, "deliveries/s")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

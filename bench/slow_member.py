"""Scenario 5: fan-out with a slow member. N fast members and a sender in the group; in
the ``slow`` variant, one more member never reads; in ``none``, there is no such member.

Both variants run the chanx app (one server each, side by side), with
``BENCH_OUTBOX_OVERFLOW=drop_oldest`` so that the slow member stays for the whole
measurement: a raw socket with a 4 KiB receive buffer that completes the handshake,
answers one ping, and never reads again. Before the fast members connect, the sender
broadcasts 8 MiB in 64 KiB shouts (in both variants): more than the loopback socket
buffers and the server's own buffer take, so every later delivery to the slow member
waits in its outbox (queued, the oldest dropped). The variants then alternate
broadcasts, the servers idle before each. Prints, per variant, p50/p99 of the fast
members' delivery latency (from the sender's send to each member's receipt), p50 of the
time until the last of them has it, and the servers' CPU per delivery.

    python -m bench.slow_member <framework> [--clients N] [--variants none,slow]
        [--broadcasts B]
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

from bench.fanout import connect_ready, settle
from bench.never_reader import NeverReader
from bench.report import emit
from bench.servers import cpu_seconds, pin_client, serving

FILL_SHOUTS = 128
FILL_SIZE = 64 * 1024


@dataclass
class Side:
    """One variant: its server, sender, fast members, the slow one (if any), samples."""

    pid: int
    sender: websockets.ClientConnection
    members: list[websockets.ClientConnection]
    slow: NeverReader | None
    token: str = ""
    sent_at: float = 0.0
    pending: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)
    timed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    server_cpu: float = 0.0
    fill_delivered: int = 0

    def received(self, frame: str) -> None:
        if self.token and self.token in frame:
            elapsed = time.perf_counter() - self.sent_at
            if self.timed:
                self.latencies.append(elapsed)
            self.pending -= 1
            if self.pending == 0:
                if self.timed:
                    self.last.append(elapsed)
                self.done.set()

    async def broadcast(self, timed: bool, timeout: float = 30.0) -> None:
        self.token, self.timed = uuid.uuid4().hex, timed
        self.pending = len(self.members)
        self.done.clear()
        self.sent_at = time.perf_counter()
        await self.sender.send(json.dumps({"action": "shout", "payload": self.token}))
        await asyncio.wait_for(self.done.wait(), timeout)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        everyone = (*self.members, self.sender)
        await asyncio.gather(*(ws.close() for ws in everyone), return_exceptions=True)
        if self.slow is not None:
            self.slow.close()


async def fill(sender: websockets.ClientConnection) -> None:
    """Broadcast ``FILL_SHOUTS`` large shouts, one at a time (the sender gets each back)."""
    payload = "x" * FILL_SIZE
    frame = json.dumps({"action": "shout", "payload": payload})
    for _ in range(FILL_SHOUTS):
        await sender.send(frame)
        await sender.recv()


async def receive_forever(ws: websockets.ClientConnection, side: Side) -> None:
    async for frame in ws:
        side.received(frame if isinstance(frame, str) else frame.decode())


async def open_side(port: int, pid: int, clients: int, slow: bool) -> Side:
    url = f"ws://127.0.0.1:{port}/ws"
    never_reader = None
    if slow:
        never_reader = NeverReader(port, "/ws")
        never_reader.send_text('{"action":"ping","payload":null}')
        never_reader.receive_text_containing('"pong"')
    sender = await connect_ready(url)
    await fill(sender)
    members = [await connect_ready(url) for _ in range(clients)]
    side = Side(pid, sender, members, never_reader)
    side.tasks = [asyncio.create_task(receive_forever(ws, side)) for ws in members]
    side.tasks.append(asyncio.create_task(drain(sender)))
    return side


async def drain(ws: websockets.ClientConnection) -> None:
    async for _ in ws:
        pass


async def run(
    servers: dict[str, tuple[int, int]], clients: int, broadcasts: int
) -> dict[str, Side]:
    sides = {
        variant: await open_side(port, pid, clients, slow=variant == "slow")
        for variant, (port, pid) in servers.items()
    }
    for side in sides.values():
        for _ in range(2):  # warm-up
            await side.broadcast(timed=False)
    pids = [side.pid for side in sides.values()]
    await settle(pids)
    cpu_before = {variant: cpu_seconds(side.pid) for variant, side in sides.items()}
    for _ in range(broadcasts):
        for side in sides.values():
            await settle(pids)
            await side.broadcast(timed=True)
    for variant, side in sides.items():
        side.server_cpu = cpu_seconds(side.pid) - cpu_before[variant]
        if side.slow is not None:
            side.fill_delivered = await asyncio.to_thread(catch_up, side.slow, side.token)
    for side in sides.values():
        await side.close()
    return sides


def catch_up(slow: NeverReader, last_token: str) -> int:
    """Read the slow member's backlog up to the last broadcast; how many fill shouts it
    got. Fewer than were sent: its outbox overflowed and dropped the oldest, so it was
    backlogged, every delivery waiting in its outbox, all along."""
    fills = 0
    while True:
        frame = slow.receive()
        if frame.opcode == 0x8:
            raise RuntimeError(f"the slow member was closed ({frame.close_code})")
        if len(frame.payload) > FILL_SIZE:
            fills += 1
        elif last_token.encode() in frame.payload:
            if fills >= FILL_SHOUTS:
                raise RuntimeError("the slow member got every fill shout: never backlogged")
            return fills


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--variants", default="none,slow", help="in the order they take turns")
    parser.add_argument("--broadcasts", type=int, default=20)
    args = parser.parse_args()
    pin_client()
    with ExitStack() as stack:
        servers = {}
        for variant in args.variants.split(","):
            if variant not in ("none", "slow"):
                raise SystemExit(f"unknown variant {variant!r}: none or slow")
            env = {"BENCH_OUTBOX_OVERFLOW": "drop_oldest"}
            servers[variant] = stack.enter_context(serving(args.framework, "chanx", env=env))
        sides = asyncio.run(run(servers, args.clients, args.broadcasts))
    tag = f"n{args.clients}"
    deliveries = args.clients * args.broadcasts
    for variant, side in sides.items():
        latencies = side.latencies
        report = [
            ("p50", statistics.median(latencies) * 1e3, "ms"),
            ("p99", statistics.quantiles(latencies, n=100)[98] * 1e3, "ms"),
            ("last_p50", statistics.median(side.last) * 1e3, "ms"),
            ("server_cpu", side.server_cpu / deliveries * 1e6, "us/delivery"),
        ]
        for metric, value, unit in report:
            emit("slow_member", args.framework, variant, f"{tag}_{metric}", value, unit)
        if side.slow is not None:
            emit(
                "slow_member",
                args.framework,
                variant,
                "fill_delivered",
                side.fill_delivered,
                "shouts",
                sent=FILL_SHOUTS,
            )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()

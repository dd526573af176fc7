"""Scenario 4: server memory per idle connection.

Opens one connection (to load everything lazy), reads the server's RSS, opens N more, has
each do one round trip so the server has fully set it up, reads RSS again.

    python -m bench.memory <framework> <variant> [--connections N]
"""

from __future__ import annotations

import argparse
import asyncio

import websockets

from bench.inproc import FRAMES
from bench.report import emit
from bench.servers import pin_client, rss_bytes, serving


async def run(port: int, pid: int, connections: int) -> float:
    url = f"ws://127.0.0.1:{port}/ws"
    first = await websockets.connect(url)
    await first.send(FRAMES["ping"])
    await first.recv()
    await asyncio.sleep(0.3)
    before = rss_bytes(pid)
    opened = []
    for _ in range(connections):
        ws = await websockets.connect(url, max_queue=None)
        await ws.send(FRAMES["ping"])
        await ws.recv()
        opened.append(ws)
    await asyncio.sleep(0.5)
    after = rss_bytes(pid)
    await asyncio.gather(*(ws.close() for ws in (*opened, first)), return_exceptions=True)
    return (after - before) / connections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("variant", choices=["raw", "idiomatic", "chanx"])
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()
    pin_client()
    with serving(args.framework, args.variant) as (port, pid):
        per_connection = asyncio.run(run(port, pid, args.connections))
    emit(
        "memory",
        args.framework,
        args.variant,
        f"rss_per_conn_{args.connections}",
        per_connection / 1024,
        "KiB",
    )


if __name__ == "__main__":
    main()

"""What one connection costs an app, in-process: the objects it keeps for the garbage
collector to scan, and the CPU time of setting it up (handshake, one ``ping`` answered).

Not part of the harness. Every app is driven the same way, over an in-memory ASGI
server (queues for ``receive`` and ``send``), one connection after another; the
connections stay open. Prints the GC-tracked objects per open connection (counted with
``gc.get_objects()`` before and after, so deterministic) and the CPU time per connection
(``--no-gc``: with the collector off, the apps' own work only; with it on, its passes
included, which grow with the number of open connections).

    hatch run python -m bench.connect_cost fastapi_chanx [--connections 3000] [--no-gc]
        [--types] [--pings 1]

The app is ``bench.apps.<name>``; put another checkout's ``packages/*/src`` first on
``PYTHONPATH`` to measure it. ``--types``: the kept objects by type.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import importlib
import os
import sys
import time
from typing import Any

PING = '{"action":"ping","payload":null}'
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"upgrade", b"websocket"),
    (b"connection", b"Upgrade"),
    (b"sec-websocket-version", b"13"),
    (b"sec-websocket-key", b"x3JJHMbDL1EzLkh9GBhXDw=="),
    (b"sec-websocket-extensions", b"permessage-deflate; client_max_window_bits"),
]


class Connection:
    """One client connection as the app sees it: a queue in, a queue out."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.outbox.put_nowait(message)


def scope() -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "headers": list(HEADERS),
        "subprotocols": [],
        "state": {},
        "extensions": {},
    }


async def start(app: Any) -> asyncio.Future[None]:
    """Run the app's lifespan startup (its layer starts there); returns its task."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "lifespan.startup"})
    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(lifespan, inbox.get, outbox.put))
    await outbox.get()
    return task


async def connect(app: Any, pings: int, kept: list[Any]) -> None:
    """Open one connection and wait for its pongs; it stays open (kept)."""
    connection = Connection()
    connection.inbox.put_nowait({"type": "websocket.connect"})
    for _ in range(pings):
        connection.inbox.put_nowait({"type": "websocket.receive", "text": PING})
    kept.append(
        (connection, asyncio.ensure_future(app(scope(), connection.receive, connection.send)))
    )
    for _ in range(pings):
        while (await connection.outbox.get())["type"] != "websocket.send":
            pass


def census() -> collections.Counter[str]:
    gc.collect()
    return collections.Counter(type(o).__qualname__ for o in gc.get_objects())


async def measure(name: str, connections: int, pings: int, types: bool) -> None:
    app = importlib.import_module(f"bench.apps.{name}").app
    kept: list[Any] = [await start(app)]
    for _ in range(20):  # what is lazy loads now
        await connect(app, pings, kept)
    before = census()
    cpu = time.process_time()
    for _ in range(connections):
        await connect(app, pings, kept)
    cpu = time.process_time() - cpu
    after = census()
    objects = (sum(after.values()) - sum(before.values())) / connections
    collector = "on" if gc.isenabled() else "off"
    print(
        f"{name}: {objects:.2f} GC-tracked objects per open connection, "
        f"{cpu / connections * 1e6:.1f} us CPU per connection (collector {collector})"
    )
    if types:
        for kind in sorted(after, key=lambda k: before[k] - after[k]):
            grown = (after[kind] - before[kind]) / connections
            if grown >= 0.5:
                print(f"    {grown:6.2f}  {kind}")
    # Thousands of connections are still open: ending them would only print their
    # cancellations.
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("app", help="a module of bench.apps, e.g. fastapi_chanx")
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--pings", type=int, default=1)
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument("--types", action="store_true")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    import uvloop  # the servers' loop

    uvloop.run(measure(args.app, args.connections, args.pings, args.types))


if __name__ == "__main__":
    main()

"""Scenario 1: request/response through the ASGI interface, in-process, no network.

Both variants' apps are loaded in one process (their lifespans started), each with one
connection; each frame is handed to the application as an ASGI message and the next
frame goes in once the reply has come out. The variants take turns in slices of 500
round trips until each has had about ``--seconds``, so a slow spell of the machine
falls on both. Prints messages per second for each.

    python -m bench.inproc <framework> <ping|chat> [--variants raw,chanx] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from bench.apps.raw_messages import ChatPayload, RawChat, RawPing
from bench.report import emit, load_app
from chanx.testing.asgi import build_scope

FRAMES = {
    "ping": RawPing().model_dump_json(),
    "chat": RawChat(
        payload=ChatPayload(
            room="lobby",
            text="hello there, how is it going?",
            mentions=["ada", "grace"],
            priority=2,
        )
    ).model_dump_json(),
}
SCOPE = build_scope("/ws")
SLICE = 500


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
    """Run the app's ASGI lifespan around the block, as a server would; yields the
    lifespan state. Apps that do not speak lifespan (Channels' router) just run."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    inbox.put_nowait({"type": "lifespan.startup"})
    started = asyncio.ensure_future(outbox.get())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():  # the app refused the lifespan scope
        started.cancel()
        with contextlib.suppress(Exception):
            task.result()
        yield state
        return
    message = started.result()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"startup failed: {message}")
    try:
        yield state
    finally:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait_for(outbox.get(), 10)
        await asyncio.wait_for(task, 10)


class Connection:
    """One in-process websocket connection to an app."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {**SCOPE, "state": dict(state)}
        self.task = asyncio.ensure_future(app(scope, self.inbox.get, self.outbox.put))

    async def open(self) -> None:
        self.inbox.put_nowait({"type": "websocket.connect"})
        accepted = await self.outbox.get()
        assert accepted["type"] == "websocket.accept", accepted

    def round_trips(self, frame: str) -> Callable[[int], Awaitable[None]]:
        message = {"type": "websocket.receive", "text": frame}
        put, get = self.inbox.put_nowait, self.outbox.get

        async def run(count: int) -> None:
            for _ in range(count):
                put(message)
                reply = await get()
            assert reply["type"] == "websocket.send", reply

        return run

    async def close(self) -> None:
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 5)


async def rates(apps: dict[str, Any], frame: str, seconds: float) -> dict[str, float]:
    """Replies per second of each app, taking turns, over about ``seconds`` each."""
    async with contextlib.AsyncExitStack() as stack:
        runs: dict[str, Callable[[int], Awaitable[None]]] = {}
        connections = []
        for variant, app in apps.items():
            state = await stack.enter_async_context(lifespan(app))
            connection = Connection(app, state)
            await connection.open()
            connections.append(connection)
            runs[variant] = connection.round_trips(frame)
            await runs[variant](2000)  # warm-up
        gc.collect()
        elapsed = dict.fromkeys(apps, 0.0)
        done = dict.fromkeys(apps, 0)
        while min(elapsed.values()) < seconds:
            for variant, run in runs.items():
                start = time.perf_counter()
                await run(SLICE)
                elapsed[variant] += time.perf_counter() - start
                done[variant] += SLICE
        for connection in connections:
            await connection.close()
    return {variant: done[variant] / elapsed[variant] for variant in apps}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("message", choices=sorted(FRAMES))
    parser.add_argument("--variants", default="raw,chanx", help="in the order they take turns")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    apps = {variant: load_app(args.framework, variant) for variant in args.variants.split(",")}
    results = asyncio.run(rates(apps, FRAMES[args.message], args.seconds))
    for variant, value in results.items():
        emit("inproc", args.framework, variant, f"{args.message}_per_s", value, "msg/s")


if __name__ == "__main__":
    main()

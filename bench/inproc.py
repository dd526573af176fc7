"""Scenario 1: request/response through the ASGI interface, in-process, no network.

One connection; each frame is handed to the application as an ASGI message and the next
frame goes in once the reply has come out. Prints messages per second.

    python -m bench.inproc <framework> <variant> <ping|chat> [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from typing import Any

from bench.apps.raw_messages import ChatPayload, RawChat, RawPing
from bench.report import emit, load_app

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
SCOPE: dict[str, Any] = {
    "type": "websocket",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "scheme": "ws",
    "server": ("bench", 80),
    "client": ("127.0.0.1", 50000),
    "root_path": "",
    "path": "/ws",
    "raw_path": b"/ws",
    "query_string": b"",
    "headers": [(b"host", b"bench")],
    "subprotocols": [],
    "extensions": {},
    "state": {},
}


async def rate(app: Any, frame: str, seconds: float) -> float:
    """Replies per second on one in-process connection over about ``seconds``."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.ensure_future(app(dict(SCOPE), inbox.get, outbox.put))
    inbox.put_nowait({"type": "websocket.connect"})
    accepted = await outbox.get()
    assert accepted["type"] == "websocket.accept", accepted
    message = {"type": "websocket.receive", "text": frame}

    async def round_trips(count: int) -> None:
        for _ in range(count):
            inbox.put_nowait(message)
            reply = await outbox.get()
        assert reply["type"] == "websocket.send", reply

    await round_trips(2000)  # warm-up
    gc.collect()
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        await round_trips(500)
        done += 500
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("framework")
    parser.add_argument("variant", choices=["raw", "chanx"])
    parser.add_argument("message", choices=sorted(FRAMES))
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    app = load_app(args.framework, args.variant)
    value = asyncio.run(rate(app, FRAMES[args.message], args.seconds))
    emit("inproc", args.framework, args.variant, f"{args.message}_per_s", value, "msg/s")


if __name__ == "__main__":
    main()

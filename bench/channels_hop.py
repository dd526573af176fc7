"""Per-frame cost of Channels' database-connection hop, and of chanx's Channels consumer.

    hatch run python -m bench.channels_hop [--frames N]

Each variant serves one in-process websocket connection (a Channels in-memory layer
configured, as in a real project) and answers N frames one after the other; the figure
is the mean round trip per frame. Variants:

* channels (hop): a plain Channels ``AsyncJsonWebsocketConsumer`` echo; its dispatch
  calls ``close_old_connections`` in the sync thread before every frame;
* channels (no hop): the same consumer with that call removed;
* chanx close_old_connections=...: chanx's Channels consumer answering ``ping``, with
  each clean-up mode ("auto" with no database connection open, so no hop);
* chanx core as_asgi: the framework-neutral consumer, for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import django
from django.conf import settings

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
    CHANX={"LOG_WEBSOCKET_MESSAGE": False},
)
django.setup()

from channels.consumer import get_handler_name  # noqa: E402
from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsJson  # noqa: E402

from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer  # noqa: E402
from chanx.ext.channels import db as hygiene  # noqa: E402
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer as ChanxChannels  # noqa: E402


class ChannelsEcho(ChannelsJson):
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"action": "pong", "payload": None})


class ChannelsEchoNoHop(ChannelsEcho):
    async def dispatch(self, message: Any) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class ChanxAuto(ChanxChannels):
    close_old_connections = "auto"


class ChanxAlways(ChanxChannels):
    close_old_connections = True


class ChanxNever(ChanxChannels):
    close_old_connections = False


class Core(CoreConsumer):
    log_websocket_message = False


async def per_frame(app: Any, frames: int) -> float:
    """Mean seconds per ping round trip over one connection."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}

    async def send(message: dict[str, Any]) -> None:
        replies.put_nowait(message)

    task = asyncio.ensure_future(app(scope, inbox.get, send))
    inbox.put_nowait({"type": "websocket.connect"})
    assert (await replies.get())["type"] == "websocket.accept"
    frame = {"type": "websocket.receive", "text": json.dumps({"action": "ping", "payload": None})}
    for _ in range(200):  # warm-up
        inbox.put_nowait(frame)
        await replies.get()
    started = time.perf_counter()
    for _ in range(frames):
        inbox.put_nowait(frame)
        await replies.get()
    elapsed = time.perf_counter() - started
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await task
    return elapsed / frames


VARIANTS: list[tuple[str, Any]] = [
    ("channels (hop)", ChannelsEcho.as_asgi()),
    ("channels (no hop)", ChannelsEchoNoHop.as_asgi()),
    ('chanx close_old_connections="auto"', ChanxAuto.as_asgi()),
    ("chanx close_old_connections=True", ChanxAlways.as_asgi()),
    ("chanx close_old_connections=False", ChanxNever.as_asgi()),
    ("chanx core as_asgi", Core.as_asgi()),
]


async def main(frames: int, rounds: int) -> None:
    print(f"{frames} frames per run, best of {rounds} runs, microseconds per frame")
    results = {}
    for name, app in VARIANTS:
        results[name] = min([await per_frame(app, frames) for _ in range(rounds)]) * 1e6
        print(f"  {name:<38} {results[name]:8.1f} us")
    hop, no_hop = results["channels (hop)"], results["channels (no hop)"]
    print(f"hop share of a plain Channels frame: {(hop - no_hop) / hop:.0%}")
    print(f"plain Channels without/with hop: {hop / no_hop:.1f}x faster")
    print(f"hops run by chanx clean-ups: {hygiene.tracker.cleanups}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.frames, arguments.rounds))

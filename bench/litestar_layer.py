"""Measurements for the Litestar adapter: ``python -m bench.litestar_layer [--quick]``.

1. Local fan-out: one broadcast to a group of 100 in-process members, through the
   ChannelsPlugin layer (memory backend) and through the core in-memory layer.
2. Across processes (two layers, two plugins, one backend): latency of one group message
   from layer A to a member on layer B, and throughput of a burst.
3. Connections: connect + disconnect through ``WebsocketCommunicator``, a Litestar route
   handler (guards, middleware, lifespan-started layer) against the core ``as_asgi()``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.psycopg import PsycoPgChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from starlette.routing import Router, WebSocketRoute

from chanx.core.layer import Envelope, GroupLayer, GroupMessage
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer as CoreConsumer
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChannelsPluginLayer, ChanxPlugin
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import WebsocketCommunicator

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
TEXT = '{"action":"notice","payload":{"text":"' + "x" * 100 + '"}}'


class Sink:
    """A receiver that counts (and can signal) deliveries."""

    def __init__(self, name: str) -> None:
        self.channel_name = name
        self.count = 0
        self.waiter: asyncio.Future[None] | None = None
        self.target = 0

    async def deliver(self, envelope: Envelope) -> None:
        self.count += 1
        if self.waiter is not None and self.count >= self.target and not self.waiter.done():
            self.waiter.set_result(None)

    def expect(self, total: int) -> asyncio.Future[None]:
        self.target = total
        self.waiter = asyncio.get_running_loop().create_future()
        if self.count >= total:
            self.waiter.set_result(None)
        return self.waiter


async def fan_out(layer: GroupLayer, members: int, rounds: int) -> float:
    sinks = [Sink("") for _ in range(members)]
    for sink in sinks:
        sink.channel_name = await layer.add_receiver(sink)
        await layer.join("bench", sink)
    envelope = GroupMessage(TEXT)
    start = time.perf_counter()
    for _ in range(rounds):
        await layer.send_group("bench", envelope)
    elapsed = time.perf_counter() - start
    assert all(sink.count == rounds for sink in sinks)
    for sink in sinks:
        await layer.leave("bench", sink)
        await layer.remove_receiver(sink)
    return elapsed / rounds * 1e6


async def bench_fan_out(rounds: int) -> None:
    print(f"\n1. local fan-out, 100 members, {rounds} broadcasts (us per broadcast)")
    core = await fan_out(InMemoryGroupLayer(), 100, rounds)
    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with plugin:
        layer = ChannelsPluginLayer(plugin, prefix="bench.")
        await layer.start()
        litestar = await fan_out(layer, 100, rounds)
        await layer.stop()
    print(f"   core InMemoryGroupLayer            {core:8.1f}")
    print(f"  ChannelsPluginLayer, memory backend {litestar:8.1f}")


def backends() -> dict[str, Callable[[], ChannelsBackend]]:
    return {
        "redis pub/sub": lambda: RedisChannelsPubSubBackend(
            redis=Redis.from_url("redis://127.0.0.1")
        ),
        "postgres asyncpg": lambda: AsyncPgChannelsBackend(POSTGRES_DSN),
        "postgres psycopg": lambda: PsycoPgChannelsBackend(POSTGRES_DSN),
    }


async def bench_across(
    kind: str, make: Callable[[], ChannelsBackend], samples: int, burst: int
) -> None:
    prefix = f"b{uuid.uuid4().hex[:8]}."
    async with AsyncExitStack() as stack:
        layers = []
        for _ in range(2):
            plugin = ChannelsPlugin(backend=make(), arbitrary_channels_allowed=True)
            await stack.enter_async_context(plugin)
            layer = ChannelsPluginLayer(plugin, prefix=prefix)
            await layer.start()
            stack.push_async_callback(layer.stop)
            layers.append(layer)
        sender, receiver = layers
        sink = Sink("")
        sink.channel_name = await receiver.add_receiver(sink)
        await receiver.join("bench", sink)
        latencies = []
        for _ in range(samples):
            waiter = sink.expect(sink.count + 1)
            start = time.perf_counter()
            await sender.send_group("bench", GroupMessage(TEXT))
            await asyncio.wait_for(waiter, 5)
            latencies.append((time.perf_counter() - start) * 1e3)
        waiter = sink.expect(sink.count + burst)
        start = time.perf_counter()
        for _ in range(burst):
            await sender.send_group("bench", GroupMessage(TEXT))
        await asyncio.wait_for(waiter, 60)
        rate = burst / (time.perf_counter() - start)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"   {kind:18} p50 {statistics.median(latencies):6.2f} ms  p99 {p99:6.2f} ms  "
            f"burst {rate:8.0f} msg/s"
        )


class LitestarEcho(AsyncJsonWebsocketConsumer):
    log_websocket_message = False
    groups = ["everyone"]


class CoreEcho(CoreConsumer):
    log_websocket_message = False
    groups = ["everyone"]


async def connections(app: Any, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        async with WebsocketCommunicator(app, "/ws"):
            pass
    return (time.perf_counter() - start) / count * 1e6


async def bench_connections(count: int) -> None:
    print(f"\n3. connect + disconnect, in-process, {count} connections (us per connection)")
    core = await connections(Router(routes=[WebSocketRoute("/ws", CoreEcho.as_asgi())]), count)
    app = Litestar(
        route_handlers=[LitestarEcho.as_route_handler("/ws")],
        plugins=[memory_channels(), ChanxPlugin()],
        logging_config=None,
    )
    async with lifespan(app):
        litestar = await connections(app, count)
    print(f"   core as_asgi() on a Starlette router {core:8.1f}")
    print(f"   Litestar route handler + ChanxPlugin {litestar:8.1f}")


async def main(quick: bool) -> None:
    await bench_fan_out(200 if quick else 2000)
    samples, burst = (50, 200) if quick else (300, 2000)
    print(f"\n2. across two layers: {samples} sequential messages, then a burst of {burst}")
    for kind, make in backends().items():
        await bench_across(kind, make, samples, burst)
    await bench_connections(100 if quick else 1000)


def run(main_: Callable[[bool], Awaitable[None]]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    asyncio.run(main_(parser.parse_args().quick))


if __name__ == "__main__":
    run(main)

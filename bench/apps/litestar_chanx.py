"""chanx-litestar as documented: ``as_route_handler()``, a ``ChannelsPlugin`` (memory
backend, or the Redis pub/sub backend with ``BENCH_LAYER=redis``) and ``ChanxPlugin``."""

from __future__ import annotations

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from bench.apps.chanx_consumer import BenchBehaviour
from bench.apps.config import LAYER, PREFIX, REDIS_URL
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin


class BenchConsumer(BenchBehaviour, AsyncJsonWebsocketConsumer):
    pass


backend: ChannelsBackend = (
    RedisChannelsPubSubBackend(redis=Redis.from_url(REDIS_URL))
    if LAYER == "redis"
    else MemoryChannelsBackend()
)
app = Litestar(
    route_handlers=[BenchConsumer.as_route_handler("/ws")],
    plugins=[
        ChannelsPlugin(backend=backend, arbitrary_channels_allowed=True),
        ChanxPlugin(prefix=f"{PREFIX}."),
    ],
)

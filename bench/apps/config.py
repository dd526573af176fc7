"""What the benchmark runner tells the apps, through the environment.

* ``BENCH_LAYER``: ``memory`` (one process) or ``redis`` (several processes share groups;
  on Channels, channels_redis' ``RedisPubSubChannelLayer``), or, on Channels only,
  ``redis-channel`` (channels_redis' ``RedisChannelLayer``);
* ``BENCH_PREFIX``: a name unique to one measurement, for everything it puts in Redis
  (the Redis server is shared);
* ``BENCH_REDIS_URL``: the Redis server (``redis://127.0.0.1:6379/0``).
"""

from __future__ import annotations

import os

LAYER = os.environ.get("BENCH_LAYER", "memory")
PREFIX = os.environ.get("BENCH_PREFIX", "bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GROUP = "bench"

if LAYER not in ("memory", "redis", "redis-channel"):
    raise ValueError(f"BENCH_LAYER must be memory, redis or redis-channel, not {LAYER!r}")

"""Django Channels over channels_redis' ``RedisPubSubChannelLayer`` (the real Redis on
127.0.0.1:6379, under a prefix of this test run's own)."""

from __future__ import annotations

import uuid

from tests.conformance.drivers.channels import ChannelsDriver
from tests.servers import SHARED_REDIS

DRIVER = ChannelsDriver(
    "channels-pubsub",
    {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [SHARED_REDIS],
            "prefix": f"chanx-conformance-{uuid.uuid4().hex[:12]}:",
        },
    },
    needs=("redis",),
    settles=False,
)

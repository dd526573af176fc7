"""Django settings shared by the two Channels apps, configured in code when the app module
is imported (the servers load ``bench.apps.channels_*:app`` directly).

The channel layer follows ``BENCH_LAYER``: Channels' ``InMemoryChannelLayer``,
channels_redis' ``RedisPubSubChannelLayer`` (``redis``: one subscription per group per
process) or its ``RedisChannelLayer`` (``redis-channel``: Redis lists, what most
projects configure), the same class for every app.

There is no ``CHANX`` setting, as in most projects (every key is optional);
``BENCH_DJANGO_CHANX=1`` sets the one earlier measurements used
(``{"SEND_COMPLETION": False, "LOG_WEBSOCKET_MESSAGE": False}``), e.g. to compare with
a checkout from before the setting was cached. An in-memory SQLite database is configured,
as a real project has one: Channels cleans up database connections around every message.

``BENCH_CHANNELS_RAW_HOP=0`` removes that clean-up from the *raw* consumer (see
``channels_raw``), for a comparison of the consumers alone.
"""

from __future__ import annotations

import os

import django
from django.conf import settings

from bench.apps.config import LAYER, PREFIX, REDIS_URL

RAW_HOP = os.environ.get("BENCH_CHANNELS_RAW_HOP", "1") != "0"
WITH_CHANX = os.environ.get("BENCH_DJANGO_CHANX", "0") == "1"


def channel_layers() -> dict[str, object]:
    if LAYER == "redis":
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL], "prefix": PREFIX},
            }
        }
    if LAYER == "redis-channel":
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL], "prefix": PREFIX},
            }
        }
    return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def setup() -> None:
    if settings.configured:
        return
    chanx = {"CHANX": {"SEND_COMPLETION": False, "LOG_WEBSOCKET_MESSAGE": False}}
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["channels"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CHANNEL_LAYERS=channel_layers(),
        LOGGING_CONFIG=None,
        USE_TZ=True,
        **(chanx if WITH_CHANX else {}),
    )
    django.setup()

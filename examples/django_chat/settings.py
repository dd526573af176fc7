"""Settings of the example project.

The channel layer comes from the environment, so the same project runs as one process
(in-memory layer) or as several server processes sharing Redis:

* ``CHANX_EXAMPLE_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``): use channels_redis;
* ``CHANX_EXAMPLE_LAYER=pubsub``: its ``RedisPubSubChannelLayer`` instead of
  ``RedisChannelLayer``;
* ``CHANX_EXAMPLE_PREFIX``: the Redis key / channel prefix (default ``chanx-example``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "chanx.ext.channels",  # python manage.py asyncapi
    "examples.django_chat.chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "examples.django_chat.urls"
ASGI_APPLICATION = "examples.django_chat.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CHANX_EXAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

_redis_url = os.environ.get("CHANX_EXAMPLE_REDIS_URL")
CHANNEL_LAYERS: dict[str, Any]
if _redis_url:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.pubsub.RedisPubSubChannelLayer"
                if os.environ.get("CHANX_EXAMPLE_LAYER") == "pubsub"
                else "channels_redis.core.RedisChannelLayer"
            ),
            "CONFIG": {
                "hosts": [_redis_url],
                "prefix": os.environ.get("CHANX_EXAMPLE_PREFIX", "chanx-example"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CHANX = {
    "SEND_COMPLETION": False,
    "LOG_WEBSOCKET_MESSAGE": DEBUG,  # a log line per message: while developing
    "LOG_IGNORED_ACTIONS": ["ping", "pong"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"chanx": {"handlers": ["console"], "level": "INFO"}},
}

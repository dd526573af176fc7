"""The crowd consumer on Django Channels (Django configured in code when imported, groups
over Channels' in-memory layer)."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=["channels"],
        DATABASES={},
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        CHANX={"SEND_COMPLETION": False, "LOG_WEBSOCKET_MESSAGE": False},
        USE_TZ=True,
    )
    django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from tests.e2e.apps.behaviour import BURSTER_PATH, CROWD_PATH, BursterBehaviour, CrowdBehaviour


class Crowd(CrowdBehaviour, AsyncJsonWebsocketConsumer):
    pass


class Burster(BursterBehaviour, AsyncJsonWebsocketConsumer):
    pass


routes = [
    path(CROWD_PATH.lstrip("/"), Crowd.as_asgi()),
    path(BURSTER_PATH.lstrip("/"), Burster.as_asgi()),
]
app = ProtocolTypeRouter({"websocket": URLRouter(routes)})

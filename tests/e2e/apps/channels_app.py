"""The crowd consumer on Django Channels (Django configured in code when imported, groups
over Channels' in-memory layer)."""

from __future__ import annotations

from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

import tests.e2e.apps.django_settings  # noqa: F401  (configures Django before Channels loads)
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

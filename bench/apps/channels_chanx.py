"""chanx-channels as documented: the consumer's ``as_asgi()`` in a ``URLRouter``, groups
and broadcasts over the configured Channels layer."""

from __future__ import annotations

from bench.apps.django_setup import setup

setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.apps.chanx_consumer import BenchBehaviour  # noqa: E402
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer  # noqa: E402


class BenchConsumer(BenchBehaviour, AsyncJsonWebsocketConsumer):
    pass


app = ProtocolTypeRouter({"websocket": URLRouter([path("ws", BenchConsumer.as_asgi())])})

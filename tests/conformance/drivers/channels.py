"""Django Channels: the behaviours as chanx Channels consumers behind ``URLRouter`` and
``AuthMiddlewareStack``, groups and events on a fresh in-memory Channels layer per test.
(``channels_redis.py`` and ``channels_pubsub.py`` run the same on channels_redis.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from tests.channels.django_setup import setup_django

setup_django()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import URLRouter  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from chanx.core.groups import PORTABLE  # noqa: E402
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from chanx.testing import WebsocketCommunicator  # noqa: E402
from tests.conformance.behaviours import (  # noqa: E402
    AuthBehaviour,
    BrokenBehaviour,
    EchoBehaviour,
    RoomBehaviour,
)
from tests.conformance.drivers import Driver  # noqa: E402


class EchoConsumer(EchoBehaviour, AsyncJsonWebsocketConsumer):
    pass


class RoomConsumer(RoomBehaviour, AsyncJsonWebsocketConsumer):
    pass


class AuthConsumer(AuthBehaviour, AsyncJsonWebsocketConsumer):
    pass


class BrokenConsumer(BrokenBehaviour, AsyncJsonWebsocketConsumer):
    pass


def channels_application() -> Any:
    """The behaviours on the conformance paths, as a Channels project would mount them."""
    return AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/echo", EchoConsumer.as_asgi()),
                path("ws/room/<str:room>", RoomConsumer.as_asgi()),
                path("ws/auth", AuthConsumer.as_asgi()),
                path("ws/broken", BrokenConsumer.as_asgi()),
            ]
        )
    )


class ChannelsDriver(Driver):
    name = "channels"
    group_rule = PORTABLE
    echo = EchoConsumer
    room = RoomConsumer
    auth = AuthConsumer
    broken = BrokenConsumer

    def __init__(
        self,
        name: str,
        channel_layer: Mapping[str, Any],
        needs: tuple[str, ...] = (),
        *,
        settles: bool = True,
    ) -> None:
        self.name = name
        self.channel_layer = channel_layer
        self.needs = needs
        self.settles = settles
        self.app = channels_application()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # A new CHANNEL_LAYERS value makes Channels build a fresh layer for the test.
        with override_settings(CHANNEL_LAYERS={"default": dict(self.channel_layer)}):
            try:
                yield
            finally:
                # Drops what the test left in the layer (Redis keys, subscriptions).
                await get_channel_layer().flush()

    def communicator(
        self, path: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> WebsocketCommunicator:
        return WebsocketCommunicator(self.app, path, headers=headers, **options)


DRIVER = ChannelsDriver("channels", {"BACKEND": "channels.layers.InMemoryChannelLayer"})

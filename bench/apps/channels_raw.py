"""Django Channels by hand: an ``AsyncWebsocketConsumer`` in the group ``bench``
(Channels' ``groups`` attribute: ``group_add`` at connect, ``group_discard`` at
disconnect), validation with the TypeAdapter of ``raw_messages``, a broadcast with the
channel layer's ``group_send``."""

from __future__ import annotations

from typing import Any

from bench.apps.django_setup import RAW_HOP, setup

setup()

from channels.consumer import get_handler_name  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from bench.apps.config import GROUP  # noqa: E402
from bench.apps.raw_messages import answer  # noqa: E402


class BenchConsumer(AsyncWebsocketConsumer):
    groups = [GROUP]

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        reply, broadcast = answer(text_data or "")
        if reply is not None:
            await self.send(text_data=reply)
        elif broadcast is not None:
            await self.channel_layer.group_send(GROUP, {"type": "shout.notice", "text": broadcast})

    async def shout_notice(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


class BenchConsumerNoHop(BenchConsumer):
    """Channels' dispatch without its database clean-up before every message."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


consumer = BenchConsumer if RAW_HOP else BenchConsumerNoHop
app = ProtocolTypeRouter({"websocket": URLRouter([path("ws", consumer.as_asgi())])})

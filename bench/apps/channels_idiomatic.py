"""Django Channels as its users write it: an ``AsyncJsonWebsocketConsumer`` in the group
``bench`` (Channels' ``groups``), ``receive_json`` with a branch per action, the payload
validated with a Pydantic model, ``send_json`` replies and a ``group_send`` handled by a
type-named method. Plain Channels: its database clean-up runs before every message."""

from __future__ import annotations

from typing import Any

from bench.apps.django_setup import setup

setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from bench.apps.config import GROUP  # noqa: E402
from bench.apps.idiomatic_messages import error_frame  # noqa: E402
from bench.apps.raw_messages import ChatPayload  # noqa: E402


class BenchConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    groups = [GROUP]

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action == "ping":
            await self.send_json({"action": "pong", "payload": None})
        elif action == "chat":
            try:
                payload = ChatPayload.model_validate(content.get("payload"))
            except ValidationError:
                await self.send_json(error_frame("invalid", "invalid chat payload"))
                return
            await self.send_json({"action": "chat_ack", "payload": payload.model_dump()})
        elif action == "shout" and isinstance(content.get("payload"), str):
            await self.channel_layer.group_send(
                GROUP, {"type": "shout.notice", "payload": content["payload"]}
            )
        else:
            await self.send_json(error_frame("unknown", "unknown action"))

    async def shout_notice(self, event: dict[str, Any]) -> None:
        await self.send_json({"action": "shout_notice", "payload": event["payload"]})


app = ProtocolTypeRouter({"websocket": URLRouter([path("ws", BenchConsumer.as_asgi())])})

"""The Channels tutorial's chat consumer (its JSON form: ``connect`` joins the room and
accepts, ``disconnect`` leaves, ``receive_json`` relays to the room with ``group_send``,
``chat_message`` writes to the socket) runs unchanged on chanx's base class, on the
in-memory layer and on both channels_redis layers; then with its client-message handler
moved to a typed ``@ws_handler``, old and new clients side by side.

The same conversation also runs on Channels' own class, so the test shows chanx behaving
as Channels does, not only behaving."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsJsonConsumer
from channels.layers import get_channel_layer
from django.test.utils import override_settings
from pydantic import BaseModel

from chanx.core.decorators import ws_handler
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from tests.channels.dropin.tutorial import (
    TIMEOUT,
    application,
    converse,
    join,
    tutorial_chat_consumer,
)
from tests.servers import SHARED_REDIS


class ChatText(BaseModel):
    message: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatText


class TypedChatConsumer(tutorial_chat_consumer(AsyncJsonWebsocketConsumer)):  # type: ignore[misc]
    """Step one of a migration: new clients send ``{"action": "chat", ...}``, validated;
    frames in the old shape still reach ``receive_json``."""

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message.payload.message}
        )


LAYERS = {
    "memory": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "redis": {"BACKEND": "channels_redis.core.RedisChannelLayer"},
    "pubsub": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"},
}


@pytest.fixture(params=list(LAYERS))
async def layer(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    config = dict(LAYERS[request.param])
    if request.param != "memory":
        config["CONFIG"] = {"hosts": [SHARED_REDIS], "prefix": f"chanx-tut-{uuid.uuid4().hex}"}
    with override_settings(CHANNEL_LAYERS={"default": config}):
        yield request.param
        await get_channel_layer().flush()


@pytest.mark.redis
@pytest.mark.parametrize("base", ["channels", "chanx"])
async def test_the_tutorial_consumer_runs_unchanged(layer: str, base: str) -> None:
    consumer = tutorial_chat_consumer(
        ChannelsJsonConsumer if base == "channels" else AsyncJsonWebsocketConsumer
    )
    await converse(application(consumer), [{"message": "hello"}])


@pytest.mark.redis
async def test_with_its_handler_moved_to_ws_handler(layer: str) -> None:
    app = application(TypedChatConsumer)
    typed = {"action": "chat", "payload": {"message": "hello"}}
    await converse(app, [typed, {"message": "hello"}])  # new clients and old ones

    communicator = await join(app, "lobby")
    await communicator.send_json_to({"action": "chat", "payload": {"message": 42}})
    error = await communicator.receive_json_from(TIMEOUT)
    assert error["action"] == "error"  # validated now: the room never sees it
    assert error["payload"]["errors"][0]["loc"] == ["payload", "message"]
    await communicator.send_json_to({"action": "ping"})
    assert await communicator.receive_json_from(TIMEOUT) == {"action": "pong", "payload": None}
    await communicator.disconnect(timeout=TIMEOUT)

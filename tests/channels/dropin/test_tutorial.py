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
from typing import Any, Literal

import pytest
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsJsonConsumer
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test.utils import override_settings
from django.urls import re_path
from pydantic import BaseModel

from chanx.core.decorators import ws_handler
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from tests.servers import SHARED_REDIS

TIMEOUT = 5


def tutorial_chat_consumer(base: type[Any]) -> type[Any]:
    """The tutorial's consumer, on ``base``; not a line of it knows chanx."""

    class ChatConsumer(base):  # type: ignore[misc, valid-type]
        async def connect(self) -> None:
            self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
            self.room_group_name = f"chat_{self.room_name}"
            await self.channel_layer.group_add(self.room_group_name, self.channel_name)
            await self.accept()

        async def disconnect(self, close_code: int) -> None:
            await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            message = content["message"]
            await self.channel_layer.group_send(
                self.room_group_name, {"type": "chat.message", "message": message}
            )

        async def chat_message(self, event: dict[str, Any]) -> None:
            await self.send_json({"message": event["message"]})

    return ChatConsumer


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


def application(consumer: type[Any]) -> Any:
    return AuthMiddlewareStack(
        URLRouter([re_path(r"ws/chat/(?P<room_name>\w+)/$", consumer.as_asgi())])
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


async def join(app: Any, room: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(app, f"/ws/chat/{room}/")
    connected, _ = await communicator.connect(TIMEOUT)
    assert connected
    return communicator


async def converse(app: Any, send_shapes: list[dict[str, Any]]) -> None:
    """Two members of one room and one of another: what a member sends (in each shape of
    ``send_shapes``) reaches exactly its room, in order."""
    alice, bob = await join(app, "lobby"), await join(app, "lobby")
    carol = await join(app, "kitchen")
    for shape in send_shapes:
        await alice.send_json_to(shape)
        for member in (alice, bob):
            assert await member.receive_json_from(TIMEOUT) == {"message": "hello"}
    await carol.send_json_to({"message": "just us"})
    # Carol's first frame is her own room's: nothing from the lobby reached her.
    assert await carol.receive_json_from(TIMEOUT) == {"message": "just us"}
    await alice.disconnect(timeout=TIMEOUT)
    await bob.send_json_to({"message": "still here"})
    assert await bob.receive_json_from(TIMEOUT) == {"message": "still here"}
    await bob.disconnect(timeout=TIMEOUT)
    await carol.disconnect(timeout=TIMEOUT)


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

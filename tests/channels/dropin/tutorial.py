"""The Channels tutorial's chat consumer (its JSON form), its routing, and a conversation
that checks what the tutorial promises: what a member says reaches exactly its room, in
order. Shared by the drop-in tests and the migration guide's tests."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import re_path

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


def application(consumer: type[Any]) -> Any:
    return AuthMiddlewareStack(
        URLRouter([re_path(r"ws/chat/(?P<room_name>\w+)/$", consumer.as_asgi())])
    )


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

"""The example's consumers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from chanx.core.decorators import event_handler, ws_handler
from chanx.core.groups import group_name
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, from_guard
from examples.litestar_chat.auth import admin_only
from examples.litestar_chat.messages import (
    AnnounceMessage,
    ChatMessage,
    ChatNotification,
    CustomMessage,
    CustomReply,
    GenerateStoryMessage,
    Identity,
    NotificationEvent,
    NotificationMessage,
    RoomInfo,
    RoomInfoMessage,
    StoryRequestedEvent,
    StreamChunk,
    StreamingMessage,
    WhoAmIMessage,
    WhoAmIReply,
)

CLOSED_ROOMS = frozenset({"attic"})


class BaseConsumer(AsyncJsonWebsocketConsumer):
    """Completion messages on (clients and tests know when an answer is done)."""

    send_completion = True
    log_websocket_message = False


class ChatConsumer(BaseConsumer):
    """``/ws/chat``: everyone is in ``users``; notifications come as events."""

    groups = ["users"]

    @ws_handler
    async def handle_custom(self, message: CustomMessage) -> CustomReply:
        return CustomReply(payload=message.payload)

    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> WhoAmIReply:
        name = self.user.name if self.user is not None else None
        return WhoAmIReply(payload=Identity(channel_name=self.channel_name, user=name))

    @ws_handler(output_type=NotificationMessage, permissions=[from_guard(admin_only)])
    async def handle_announce(self, message: AnnounceMessage) -> None:
        await type(self).broadcast_event(NotificationEvent(payload=message.payload), "users")

    @event_handler
    async def notify(self, event: NotificationEvent) -> NotificationMessage:
        return NotificationMessage(payload=event.payload)


class RoomChatConsumer(BaseConsumer):
    """``/ws/room/{room_name}``: chat messages go to everyone in the room."""

    room: str

    async def on_connect(self, room_name: FromPath[str]) -> None:
        # Litestar resolves ``room_name`` from the path, as for any handler.
        if room_name in CLOSED_ROOMS:
            raise NotFoundException(f"no room {room_name!r}")
        self.room = room_name

    async def get_groups(self) -> Iterable[str]:
        return [group_name("room", self.room)]

    @ws_handler(output_type=ChatNotification)
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatNotification(payload=message.payload))

    @ws_handler
    async def handle_room_info(self, message: RoomInfoMessage) -> RoomInfo:
        return RoomInfo(payload={"room": self.room, "path_params": self.path_params})


def fake_model(prompt: str) -> list[str]:
    """A stand-in for a language model: the story, word by word."""
    return f"Once upon a time someone asked: {prompt}. The end.".split()


class AIConsumer(BaseConsumer):
    """``/ws/ai-chat``: a prompt starts a story that streams back, word by word."""

    @ws_handler
    async def handle_generate(self, message: GenerateStoryMessage) -> None:
        # A worker process would send this event; here the consumer sends it to itself.
        await self.send_event(StoryRequestedEvent(payload=message.payload), self.channel_name)

    @event_handler
    async def stream_story(self, event: StoryRequestedEvent) -> AsyncIterator[StreamingMessage]:
        for word in fake_model(event.payload.prompt):
            yield StreamingMessage(payload=StreamChunk(text=word))

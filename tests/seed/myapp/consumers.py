"""Consumers of the seed guide's example application, on the core engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from chanx.core.decorators import event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from tests.seed.myapp.messages import (
    ChatMessage,
    ChatNotification,
    CustomMessage,
    CustomReply,
    GenerateStoryMessage,
    NotificationEvent,
    NotificationMessage,
    StoryRequestedEvent,
    StreamChunk,
    StreamingMessage,
)


class TestBaseConsumer(AsyncJsonWebsocketConsumer):
    """The guide's base: completion signals on, message logging off."""

    __test__ = False  # not a pytest test class, despite the name
    send_completion = True
    log_websocket_message = False


class ChatConsumer(TestBaseConsumer):
    """``/ws/chat``: ping (built in), a custom action, notifications for everyone."""

    groups = ["users"]

    @ws_handler
    async def handle_custom(self, message: CustomMessage) -> CustomReply:
        return CustomReply(payload=message.payload)

    @event_handler
    async def notify(self, event: NotificationEvent) -> NotificationMessage:
        return NotificationMessage(payload=event.payload)


class RoomChatConsumer(TestBaseConsumer):
    """``/ws/room/{room_name}``: chat messages go to everyone in the room."""

    async def get_groups(self) -> Iterable[str]:
        return [f"room_{self.path_params['room_name']}"]

    @ws_handler(output_type=ChatNotification)
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatNotification(payload=message.payload))


def fake_model(prompt: str) -> list[str]:
    """A stand-in for a language model: the story, word by word."""
    return f"Once upon a time someone asked: {prompt}. The end.".split()


class AIConsumer(TestBaseConsumer):
    """``/ws/ai-chat``: a prompt starts a story that streams back, word by word."""

    @ws_handler
    async def handle_generate(self, message: GenerateStoryMessage) -> None:
        # In production a worker would send this event; here the consumer sends it to itself.
        await self.send_event(StoryRequestedEvent(payload=message.payload), self.channel_name)

    @event_handler
    async def stream_story(self, event: StoryRequestedEvent) -> AsyncIterator[StreamingMessage]:
        for word in fake_model(event.payload.prompt):
            yield StreamingMessage(payload=StreamChunk(text=word))

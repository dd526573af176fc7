"""The example's consumers: a chat echo, rooms, a streaming story teller, members."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from chanx.core.decorators import channel, event_handler, ws_handler
from chanx.core.groups import group_name
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, DependencyAuthenticator
from examples.fastapi_chat.auth import User, get_current_user, is_moderator
from examples.fastapi_chat.messages import (
    Announcement,
    AnnouncementEvent,
    ChatMessage,
    ChatReply,
    ClearRoomMessage,
    GenerateStoryMessage,
    Identity,
    Notification,
    NotificationEvent,
    RoomCleared,
    RoomMessage,
    RoomMessagePayload,
    StoryJobEvent,
    StreamingChunk,
    StreamingMessage,
    WhoAmIMessage,
    WhoAmIReply,
)


class BaseConsumer(AsyncJsonWebsocketConsumer):
    """Settings shared by the app's consumers."""

    send_completion = True  # lets tests (and clients) know when an answer is complete
    log_websocket_message = False


@channel(name="chat", description="Echoes each line back to its sender")
class ChatConsumer(BaseConsumer):
    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> ChatReply:
        return ChatReply(payload=message.payload)


def room_group(room: str) -> str:
    """The group of a public room. The room comes from the URL: ``group_name`` turns any
    string into a name every layer accepts."""
    return group_name("room", room)


def members_group(room: str) -> str:
    """The group of a members-only room: never the public room of the same name."""
    return group_name("members", room)


@channel(name="room", description="A chat room per path: /ws/room/{room}")
class RoomChatConsumer(BaseConsumer):
    async def get_groups(self) -> Iterable[str]:
        return [room_group(self.path_params["room"])]

    @ws_handler(output_type=RoomMessage)
    async def handle_chat(self, message: ChatMessage) -> None:
        sender = self.client_label()
        await self.broadcast_message(
            RoomMessage(payload=RoomMessagePayload(message=message.payload.message, sender=sender))
        )

    @event_handler
    async def handle_announcement(self, event: AnnouncementEvent) -> Announcement:
        return Announcement(payload=event.payload)

    def client_label(self) -> str:
        client = self.websocket.client
        return f"{client.host}:{client.port}" if client else "anonymous"


STORY = (
    "Once upon a time, {prompt}, and a small websocket carried every word of it "
    "across the wire, one chunk after another, until the tale was told."
)


@channel(name="ai-chat", description="Streams a generated story in chunks")
class AIConsumer(BaseConsumer):
    @ws_handler
    async def handle_generate_story(self, message: GenerateStoryMessage) -> None:
        # Hand the job to the event path: the same one a worker process would use with
        # AIConsumer.send_event(...). Its chunks end with `event_complete`.
        await self.send_event(StoryJobEvent(payload=message.payload), self.channel_name)

    @event_handler(output_type=StreamingMessage)
    async def handle_story_job(self, event: StoryJobEvent) -> AsyncIterator[StreamingMessage]:
        words = STORY.format(prompt=event.payload.prompt.rstrip(".")).split()
        for index, word in enumerate(words):
            await asyncio.sleep(0)  # a real model would await its next token here
            yield StreamingMessage(
                payload=StreamingChunk(index=index, text=word, last=index == len(words) - 1)
            )


def user_group(username: str) -> str:
    """The group of one user's connections."""
    return group_name("user", username)


@channel(name="members", description="An authenticated room: /ws/members/{room}")
class MembersConsumer(BaseConsumer):
    """Members-only rooms: their groups are not the public rooms' (an anonymous client
    on ``/ws/room/{room}`` must not read them)."""

    authenticator = DependencyAuthenticator(get_current_user)
    user: User

    async def get_groups(self) -> Iterable[str]:
        return [members_group(self.path_params["room"]), user_group(self.user.username)]

    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> WhoAmIReply:
        return WhoAmIReply(
            payload=Identity(
                username=self.user.username,
                moderator=self.user.moderator,
                channel_name=self.channel_name,
                groups=list(self.joined_groups),
            )
        )

    @ws_handler(output_type=RoomMessage)
    async def handle_chat(self, message: ChatMessage) -> None:
        payload = RoomMessagePayload(message=message.payload.message, sender=self.user.username)
        await self.broadcast_message(
            RoomMessage(payload=payload), groups=members_group(self.path_params["room"])
        )

    @ws_handler(output_type=RoomCleared, permissions=[is_moderator])
    async def handle_clear_room(self, message: ClearRoomMessage) -> None:
        payload = RoomMessagePayload(message="history cleared", sender=self.user.username)
        await self.broadcast_message(
            RoomCleared(payload=payload), groups=members_group(self.path_params["room"])
        )

    @event_handler
    async def handle_announcement(self, event: AnnouncementEvent) -> Announcement:
        return Announcement(payload=event.payload)

    @event_handler
    async def handle_notification(self, event: NotificationEvent) -> Notification:
        return Notification(payload=event.payload)

"""The example's consumers: an authenticated chat and public rooms."""

from __future__ import annotations

from collections.abc import Iterable

from chanx.core.decorators import event_handler, ws_handler
from chanx.core.groups import group_name
from chanx.ext.channels.auth import SessionAuthenticator
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer

from .messages import (
    Announcement,
    AnnouncementEvent,
    ChatMessage,
    ChatNotice,
    ChatNoticePayload,
    Notification,
    NotificationEvent,
    ProtectedMessage,
    ProtectedReply,
    RoomNotice,
    SayMessage,
    TestMessage,
    TestReply,
)


def user_group(user_id: object) -> str:
    """The group of one user's connections (a database id: always a valid name)."""
    return f"user_{user_id}"


def room_group(room: str) -> str:
    """The group of one room's connections. The room comes from the URL: ``group_name``
    makes any string (spaces, accents, 200 characters) a name Channels accepts."""
    return group_name("room", room)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/chat/``: logged-in users only (Django session). Everyone shares the
    ``chat`` group; each user also has a personal ``user_<id>`` group for events."""

    authenticator = SessionAuthenticator()

    async def get_groups(self) -> Iterable[str]:
        return ["chat", user_group(self.user.pk)]

    @ws_handler(output_type=ChatNotice, summary="Post to the chat")
    async def handle_chat(self, message: ChatMessage) -> None:
        notice = ChatNoticePayload(message=message.payload.message, sender=self.user.get_username())
        await self.broadcast_message(ChatNotice(payload=notice), groups=["chat"])

    @ws_handler(summary="Something only a logged-in user may ask")
    async def handle_protected(self, message: ProtectedMessage) -> ProtectedReply:
        return ProtectedReply(payload={"user": self.user.get_username()})

    @ws_handler(summary="Round trip")
    async def handle_test(self, message: TestMessage) -> TestReply:
        return TestReply()

    @event_handler(summary="Relay a notification to the client")
    async def handle_notification(self, event: NotificationEvent) -> Notification:
        return Notification(payload=event.payload)


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/rooms/<room>/``: public rooms; what one member says, every member hears,
    in whichever server process they are connected."""

    async def get_groups(self) -> Iterable[str]:
        return [room_group(self.path_params["room"])]

    @ws_handler(output_type=RoomNotice, summary="Say something in the room")
    async def handle_say(self, message: SayMessage) -> None:
        await self.broadcast_message(RoomNotice(payload=message.payload))

    @event_handler(summary="Relay an announcement to the client")
    async def handle_announcement(self, event: AnnouncementEvent) -> Announcement:
        return Announcement(payload=event.payload)

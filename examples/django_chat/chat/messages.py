"""Every message the example's consumers receive, send, or get as server-side events."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from chanx.messages.base import BaseMessage

# ---------------------------------------------------------------------- chat (logged in)


class ChatPayload(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


class ChatMessage(BaseMessage):
    """A user posts to the chat; everyone in it gets a ``chat_notice``."""

    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatNoticePayload(BaseModel):
    message: str
    sender: str


class ChatNotice(BaseMessage):
    action: Literal["chat_notice"] = "chat_notice"
    payload: ChatNoticePayload


class ProtectedMessage(BaseMessage):
    """Only a logged-in user's connection ever gets an answer to this."""

    action: Literal["protected"] = "protected"
    payload: None = None


class ProtectedReply(BaseMessage):
    action: Literal["protected_reply"] = "protected_reply"
    payload: dict[str, str]


class TestMessage(BaseMessage):
    """A round trip used by the connection-lifecycle test."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    action: Literal["test"] = "test"
    payload: None = None


class TestReply(BaseMessage):
    __test__: ClassVar[bool] = False

    action: Literal["test_reply"] = "test_reply"
    payload: str = "ok"


class NotificationPayload(BaseModel):
    message: str


class NotificationEvent(BaseMessage):
    """Server-side event for one user (group ``user_<id>``) or everyone (``chat``)."""

    action: Literal["notification_event"] = "notification_event"
    payload: NotificationPayload


class Notification(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: NotificationPayload


# ---------------------------------------------------------------------- rooms (public)


class SayPayload(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class SayMessage(BaseMessage):
    """Say something in the room; every member gets a ``room_notice``."""

    action: Literal["say"] = "say"
    payload: SayPayload


class RoomNotice(BaseMessage):
    action: Literal["room_notice"] = "room_notice"
    payload: SayPayload


class AnnouncementEvent(BaseMessage):
    """Server-side event for a room, sent by the announce view or the notify script."""

    action: Literal["announcement_event"] = "announcement_event"
    payload: SayPayload


class Announcement(BaseMessage):
    action: Literal["announcement"] = "announcement"
    payload: SayPayload

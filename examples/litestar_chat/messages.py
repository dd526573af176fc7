"""The messages of the Litestar example: one Pydantic model per action."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from chanx.messages.base import BaseMessage


class ChatPayload(BaseModel):
    message: str


class ChatMessage(BaseMessage):
    """Client -> server: say something in the room."""

    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatNotification(BaseMessage):
    """Server -> every member of the room."""

    action: Literal["chat_notification"] = "chat_notification"
    payload: ChatPayload


class CustomPayload(BaseModel):
    data: str


class CustomMessage(BaseMessage):
    action: Literal["custom"] = "custom"
    payload: CustomPayload


class CustomReply(BaseMessage):
    action: Literal["custom_reply"] = "custom_reply"
    payload: CustomPayload


class NotificationPayload(BaseModel):
    message: str


class NotificationEvent(BaseMessage):
    """Server-side event: sent from HTTP handlers, tasks or other processes."""

    action: Literal["notification_event"] = "notification_event"
    payload: NotificationPayload


class NotificationMessage(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: NotificationPayload


class WhoAmIMessage(BaseMessage):
    action: Literal["whoami"] = "whoami"
    payload: None = None


class Identity(BaseModel):
    channel_name: str
    user: str | None


class WhoAmIReply(BaseMessage):
    action: Literal["whoami_reply"] = "whoami_reply"
    payload: Identity


class PromptPayload(BaseModel):
    prompt: str


class GenerateStoryMessage(BaseMessage):
    action: Literal["generate_story"] = "generate_story"
    payload: PromptPayload


class StoryRequestedEvent(BaseMessage):
    action: Literal["story_requested"] = "story_requested"
    payload: PromptPayload


class StreamChunk(BaseModel):
    text: str


class StreamingMessage(BaseMessage):
    action: Literal["streaming"] = "streaming"
    payload: StreamChunk


class AnnounceMessage(BaseMessage):
    """Admins only: a notification for every connected user."""

    action: Literal["announce"] = "announce"
    payload: NotificationPayload


class RoomInfoMessage(BaseMessage):
    action: Literal["room_info"] = "room_info"
    payload: None = None


class RoomInfo(BaseMessage):
    action: Literal["room_info_reply"] = "room_info_reply"
    payload: dict[str, Any]

"""Messages of the seed guide's example application."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chanx.messages.base import BaseMessage


class ChatPayload(BaseModel):
    message: str


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatNotification(BaseMessage):
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
    action: Literal["notification_event"] = "notification_event"
    payload: NotificationPayload


class NotificationMessage(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: NotificationPayload


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

"""The messages of the example app, one Pydantic model per action."""

from typing import Literal

from pydantic import BaseModel, Field

from chanx.messages.base import BaseMessage


class ChatPayload(BaseModel):
    message: str = Field(min_length=1, max_length=2000)


class ChatMessage(BaseMessage):
    """A client posts a line to the chat or the room."""

    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatReply(BaseMessage):
    """``/ws/chat`` answers each line to its sender only."""

    action: Literal["chat_reply"] = "chat_reply"
    payload: ChatPayload


class RoomMessagePayload(BaseModel):
    message: str
    sender: str


class RoomMessage(BaseMessage):
    """A line relayed to every member of a room."""

    action: Literal["room_message"] = "room_message"
    payload: RoomMessagePayload


class AnnouncementPayload(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class AnnouncementEvent(BaseMessage):
    """Server-side event: sent from HTTP endpoints, tasks or other processes."""

    action: Literal["announcement_event"] = "announcement_event"
    payload: AnnouncementPayload


class Announcement(BaseMessage):
    """What a room's members receive for an ``AnnouncementEvent``."""

    action: Literal["announcement"] = "announcement"
    payload: AnnouncementPayload


class StoryRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=500)


class GenerateStoryMessage(BaseMessage):
    """Ask ``/ws/ai-chat`` for a story; it streams back ``streaming`` chunks."""

    action: Literal["generate_story"] = "generate_story"
    payload: StoryRequest


class StoryJobEvent(BaseMessage):
    """The story job, handed to the event path (as a worker process would)."""

    action: Literal["story_job"] = "story_job"
    payload: StoryRequest


class StreamingChunk(BaseModel):
    index: int
    text: str
    last: bool = False


class StreamingMessage(BaseMessage):
    """One chunk of a streamed story."""

    action: Literal["streaming"] = "streaming"
    payload: StreamingChunk


class WhoAmIMessage(BaseMessage):
    action: Literal["whoami"] = "whoami"
    payload: None = None


class Identity(BaseModel):
    username: str
    moderator: bool
    channel_name: str
    groups: list[str]


class WhoAmIReply(BaseMessage):
    action: Literal["whoami_reply"] = "whoami_reply"
    payload: Identity


class ClearRoomMessage(BaseMessage):
    """Moderators only: tell every member to clear the room's history."""

    action: Literal["clear_room"] = "clear_room"
    payload: None = None


class RoomCleared(BaseMessage):
    action: Literal["room_cleared"] = "room_cleared"
    payload: RoomMessagePayload


class NotificationEvent(BaseMessage):
    """A private notice for one connection or one user's connections."""

    action: Literal["notification_event"] = "notification_event"
    payload: AnnouncementPayload


class Notification(BaseMessage):
    action: Literal["notification"] = "notification"
    payload: AnnouncementPayload

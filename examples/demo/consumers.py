"""The demo's messages and its one consumer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from chanx.core.decorators import channel, ws_handler
from chanx.core.groups import group_name
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage


class Say(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class SayMessage(BaseMessage):
    """The client posts a line to its room."""

    action: Literal["say"] = "say"
    payload: Say


class Line(BaseModel):
    name: str
    text: str


class LineMessage(BaseMessage):
    """A line posted to the room, as every member sees it."""

    action: Literal["line"] = "line"
    payload: Line


class Presence(BaseModel):
    name: str
    joined: bool


class PresenceMessage(BaseMessage):
    """Someone entered or left the room."""

    action: Literal["presence"] = "presence"
    payload: Presence


@channel(name="room", description="Chat in a room; everyone in the room sees each line.")
class RoomConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/room/{room}?name=...``: post lines, see others' lines and comings and goings."""

    send_completion = True
    outgoing_messages = (PresenceMessage,)  # sent from the connect and disconnect hooks

    @property
    def name(self) -> str:
        return self.query_params.get("name", "").strip()[:40] or "anonymous"

    @property
    def room_group(self) -> str:
        return group_name("room", self.path_params["room"])

    async def get_groups(self) -> Iterable[str]:
        return [self.room_group]

    async def post_authentication(self) -> None:
        await self.broadcast_message(PresenceMessage(payload=Presence(name=self.name, joined=True)))

    async def on_disconnect(self, code: int) -> None:
        left = PresenceMessage(payload=Presence(name=self.name, joined=False))
        await self.broadcast_message(left, groups=[self.room_group])

    @ws_handler(output_type=LineMessage, summary="Post a line to the room")
    async def handle_say(self, message: SayMessage) -> None:
        await self.broadcast_message(
            LineMessage(payload=Line(name=self.name, text=message.payload.text))
        )

"""What the idiomatic raw apps share: the messages as msgspec ``Struct`` types (Litestar's
app; FastAPI's and Channels' validate the chat payload with the Pydantic model of
``raw_messages``, the same rules) and the ``error`` frame of the JSON-dict apps."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec


class ChatStruct(msgspec.Struct):
    room: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    mentions: list[str] = []
    priority: Annotated[int, msgspec.Meta(ge=0, le=5)] = 0


class Ping(msgspec.Struct, tag_field="action", tag="ping"):
    payload: None = None


class Chat(msgspec.Struct, tag_field="action", tag="chat"):
    payload: ChatStruct


class Shout(msgspec.Struct, tag_field="action", tag="shout"):
    payload: str


Incoming = Ping | Chat | Shout


class Pong(msgspec.Struct, tag_field="action", tag="pong"):
    payload: None = None


class ChatAck(msgspec.Struct, tag_field="action", tag="chat_ack"):
    payload: ChatStruct


class ShoutNotice(msgspec.Struct, tag_field="action", tag="shout_notice"):
    payload: str


class Error(msgspec.Struct, tag_field="action", tag="error"):
    payload: list[dict[str, Any]]


def error_frame(kind: Literal["invalid", "unknown"], detail: str) -> dict[str, Any]:
    """The ``error`` frame of the JSON-dict apps (no client text in it)."""
    return {"action": "error", "payload": [{"type": kind, "msg": detail}]}

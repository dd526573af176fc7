"""The raw variants' messages: plain Pydantic models, validated through one TypeAdapter
over a discriminated union, the way a careful hand-written endpoint would."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError


class ChatPayload(BaseModel):
    room: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)
    mentions: list[str] = []
    priority: int = Field(default=0, ge=0, le=5)


class RawPing(BaseModel):
    action: Literal["ping"] = "ping"
    payload: None = None


class RawPong(BaseModel):
    action: Literal["pong"] = "pong"
    payload: None = None


class RawChat(BaseModel):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class RawChatAck(BaseModel):
    action: Literal["chat_ack"] = "chat_ack"
    payload: ChatPayload


class RawShout(BaseModel):
    action: Literal["shout"] = "shout"
    payload: str


class RawShoutNotice(BaseModel):
    action: Literal["shout_notice"] = "shout_notice"
    payload: str


class RawError(BaseModel):
    action: Literal["error"] = "error"
    payload: list[dict[str, object]]


Incoming = TypeAdapter(Annotated[RawPing | RawChat | RawShout, Field(discriminator="action")])


def answer(text: str) -> tuple[str | None, str | None]:
    """``(reply, broadcast)``: the reply for this connection, or the text to broadcast."""
    try:
        message = Incoming.validate_json(text)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        return RawError(payload=[dict(e) for e in errors]).model_dump_json(), None
    if isinstance(message, RawPing):
        return RawPong().model_dump_json(), None
    if isinstance(message, RawChat):
        return RawChatAck(payload=message.payload).model_dump_json(), None
    return None, RawShoutNotice(payload=message.payload).model_dump_json()

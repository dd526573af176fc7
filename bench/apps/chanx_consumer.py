"""The chanx variants' messages and handlers, written once; each framework's chanx app
combines :class:`BenchBehaviour` with its adapter's consumer base."""

from __future__ import annotations

import os
from typing import Literal

from bench.apps.raw_messages import ChatPayload
from chanx.core.decorators import ws_handler
from chanx.messages.base import BaseMessage


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class ChatAck(BaseMessage):
    action: Literal["chat_ack"] = "chat_ack"
    payload: ChatPayload


class ShoutMessage(BaseMessage):
    action: Literal["shout"] = "shout"
    payload: str


class ShoutNotice(BaseMessage):
    action: Literal["shout_notice"] = "shout_notice"
    payload: str


class BenchBehaviour:
    send_completion = False
    log_websocket_message = False
    groups = ["bench"]
    # The slow_member scenario keeps its never-reading member for the whole measurement.
    outbox_overflow = os.environ.get("BENCH_OUTBOX_OVERFLOW", "close")

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> ChatAck:
        return ChatAck(payload=message.payload)

    @ws_handler(output_type=ShoutNotice)
    async def handle_shout(self, message: ShoutMessage) -> None:
        await self.broadcast_message(ShoutNotice(payload=message.payload))  # type: ignore[attr-defined]

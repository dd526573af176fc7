"""The guide's "Understanding Completion Actions" examples, each stop action in use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel

from chanx.constants import (
    EVENT_ACTION_COMPLETE,
    GROUP_ACTION_COMPLETE,
    MESSAGE_ACTION_COMPLETE,
)
from chanx.core.decorators import event_handler, ws_handler
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator
from tests.seed.myapp.consumers import TestBaseConsumer


class TextPayload(BaseModel):
    text: str


class EchoMessage(BaseMessage):
    action: Literal["echo"] = "echo"
    payload: TextPayload


class EchoReply(BaseMessage):
    action: Literal["echo_reply"] = "echo_reply"
    payload: TextPayload


class ChatMessage(BaseMessage):
    action: Literal["room_chat"] = "room_chat"
    payload: TextPayload


class ChatBroadcast(BaseMessage):
    action: Literal["room_chat_broadcast"] = "room_chat_broadcast"
    payload: TextPayload


class NotificationEvent(BaseMessage):
    action: Literal["user_notification_event"] = "user_notification_event"
    payload: TextPayload


class Notification(BaseMessage):
    action: Literal["user_notification"] = "user_notification"
    payload: TextPayload


class StartProcessMessage(BaseMessage):
    action: Literal["start_process"] = "start_process"


class Step(BaseMessage):
    action: Literal["process_step"] = "process_step"
    payload: int


class ProcessComplete(BaseMessage):
    action: Literal["process_complete"] = "process_complete"


class JobStatus(BaseMessage):
    action: Literal["job_status"] = "job_status"
    payload: str


class ChatConsumer(TestBaseConsumer):
    groups = ["users"]

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoReply:
        return EchoReply(payload=message.payload)

    @ws_handler(output_type=ChatBroadcast)
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatBroadcast(payload=message.payload))

    @event_handler
    async def notify(self, event: NotificationEvent) -> Notification:
        return Notification(payload=event.payload)

    @ws_handler
    async def handle_start(
        self, message: StartProcessMessage
    ) -> AsyncIterator[Step | JobStatus | ProcessComplete]:
        yield Step(payload=1)
        yield JobStatus(payload="halfway")
        yield Step(payload=2)
        yield ProcessComplete()


app = FastAPI()
app.router.add_websocket_route("/ws/chat", ChatConsumer.as_asgi())


async def test_each_stop_action() -> None:
    async with WebsocketCommunicator(app, "/ws/chat", consumer=ChatConsumer) as comm:
        # Testing simple echo (ws_handler that returns directly)
        await comm.send_message(EchoMessage(payload={"text": "hello"}))
        responses = await comm.receive_all_messages()  # Uses MESSAGE_ACTION_COMPLETE
        assert [r.action for r in responses] == ["echo_reply"]

        # Testing broadcast functionality
        await comm.send_message(ChatMessage(payload={"text": "hello everyone"}))
        responses = await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert responses == [ChatBroadcast(payload={"text": "hello everyone"})]
        await comm.receive_all_messages(stop_action=MESSAGE_ACTION_COMPLETE)

        # Testing event broadcasting from outside WebSocket
        await ChatConsumer.broadcast_event(
            NotificationEvent(payload={"text": "ping"}), groups=["users"]
        )
        responses = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert responses == [Notification(payload={"text": "ping"})]

        # Using custom action as stop condition
        await comm.send_message(StartProcessMessage())
        responses = await comm.receive_all_messages(stop_action="process_complete")
        assert [r.action for r in responses] == [
            "process_step",
            "job_status",
            "process_step",
            "process_complete",
        ]
        await comm.receive_all_messages()

        # Wait for specific status message
        await comm.send_message(StartProcessMessage())
        responses = await comm.receive_all_messages(stop_action="job_status")
        assert responses == [Step(payload=1), JobStatus(payload="halfway")]
        rest = await comm.receive_all_messages()
        assert rest == [Step(payload=2), ProcessComplete()]

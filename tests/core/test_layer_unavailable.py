"""A group layer whose backing service is unreachable (``LayerUnavailable``): what the
engine answers and logs, whatever the layer (Redis, a Channels layer's server, ...)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Literal

import pytest
from pydantic import BaseModel

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, EVENT_ACTION_COMPLETE
from chanx.core.decorators import event_handler, ws_handler
from chanx.core.layer import Envelope, LayerUnavailable, OutageLog, Receiver
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.testing import WebsocketCommunicator


class FlakyLayer(InMemoryGroupLayer):
    """In memory, except that while ``down`` it delivers locally and then fails to reach
    "the other processes", as a cross-process layer does; ``refuse_joins`` fails joins."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.refuse_joins = False

    async def send_group(self, group: str, envelope: Envelope) -> None:
        await super().send_group(group, envelope)
        if self.down:
            raise LayerUnavailable("the service is unreachable")

    async def join(self, group: str, receiver: Receiver) -> None:
        if self.refuse_joins:
            raise LayerUnavailable("the service is unreachable")
        await super().join(group, receiver)


class Text(BaseModel):
    text: str


class SayMessage(BaseMessage):
    action: Literal["lu_say"] = "lu_say"
    payload: Text


class SaidMessage(BaseMessage):
    action: Literal["lu_said"] = "lu_said"
    payload: Text


class RelayEvent(BaseMessage):
    action: Literal["lu_relay"] = "lu_relay"
    payload: Text


LAYER = FlakyLayer()


class RoomConsumer(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    groups = ["lu_room"]
    layer = LAYER

    @ws_handler(output_type=SaidMessage)
    async def handle_say(self, message: SayMessage) -> None:
        await self.broadcast_message(SaidMessage(payload=message.payload))

    @event_handler(output_type=SaidMessage)
    async def handle_relay(self, event: RelayEvent) -> None:
        await self.broadcast_message(SaidMessage(payload=event.payload))


UNAVAILABLE = {
    "action": "error",
    "payload": {
        "detail": "Group layer unavailable",
        "errors": [{"loc": [], "msg": "Group layer unavailable", "type": "layer_unavailable"}],
    },
}


@pytest.fixture(autouse=True)
def fresh_state() -> Iterator[None]:
    LAYER.down = LAYER.refuse_joins = False
    try:
        yield
    finally:
        LAYER.down = LAYER.refuse_joins = False


def said(text: str) -> dict[str, object]:
    return {"action": "lu_said", "payload": {"text": text}}


async def test_a_handler_that_hits_it_gets_layer_unavailable_and_the_connection_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = RoomConsumer.as_asgi()
    async with WebsocketCommunicator(app, "/") as sender, WebsocketCommunicator(app, "/") as other:
        LAYER.down = True
        with caplog.at_level(logging.DEBUG, logger="chanx"):
            for text in ("one", "two"):
                await sender.send_message(SayMessage(payload=Text(text=text)))
                # Members in this process got it; the handler learnt the rest failed.
                assert await sender.receive_all_json() == [said(text), UNAVAILABLE]
                assert await other.receive_all_json("group_complete") == [said(text)]
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            "handler handle_say: the group layer is unavailable (the service is unreachable)"
        ]
        assert not any(r.exc_info for r in caplog.records)  # no traceback per message
        LAYER.down = False
        await sender.send_message(PingMessage())
        assert await sender.receive_all_json() == [{"action": "pong", "payload": None}]


async def test_an_event_handler_that_hits_it_gets_layer_unavailable() -> None:
    async with WebsocketCommunicator(RoomConsumer.as_asgi(), "/") as comm:
        LAYER.down = True
        await RoomConsumer.send_event(
            RelayEvent(payload=Text(text="e")), comm.tracker.consumer.channel_name
        )  # type: ignore[union-attr]
        frames = await comm.receive_all_json(EVENT_ACTION_COMPLETE)
        assert frames == [said("e"), UNAVAILABLE]


async def test_a_connection_whose_groups_cannot_be_joined_is_closed_with_4503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    LAYER.refuse_joins = True
    comm = WebsocketCommunicator(RoomConsumer.as_asgi(), "/")
    with caplog.at_level(logging.WARNING, logger="chanx"):
        accepted, _ = await comm.connect()
        assert accepted
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_LAYER_UNAVAILABLE
    assert [r.getMessage() for r in caplog.records] == [
        "RoomConsumer closed a connection (close 4503): the group layer is unavailable "
        "(the service is unreachable)"
    ]
    assert LAYER.members("lu_room") == []
    await comm.disconnect()


def test_outage_log_warns_once_per_interval_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    log = OutageLog(interval=10.0, clock=lambda: now[0])
    error = LayerUnavailable("down")
    with caplog.at_level(logging.WARNING, logger="chanx.layer"):
        for moment in (0.0, 1.0, 9.0, 10.0, 11.0):
            now[0] = moment
            log.note("x", error)
    assert [r.getMessage() for r in caplog.records] == [
        "x: the group layer is unavailable (down)",
        "x: the group layer is unavailable (down); 2 more since the last warning",
    ]

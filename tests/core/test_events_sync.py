"""Events from outside a connection: async, sync from threads, misuse from async code."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.core.decorators import event_handler
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import WebsocketCommunicator


class TickEvent(BaseMessage):
    action: Literal["s_tick"] = "s_tick"
    payload: int


class Tock(BaseMessage):
    action: Literal["s_tock"] = "s_tock"
    payload: int


class BoomEvent(BaseMessage):
    action: Literal["s_boom"] = "s_boom"


class Ticker(AsyncJsonWebsocketConsumer):
    send_completion = True
    groups = ["ticks"]
    layer = InMemoryGroupLayer()

    @event_handler
    async def on_tick(self, event: TickEvent) -> Tock:
        return Tock(payload=event.payload + 1)

    @event_handler
    async def on_boom(self, event: BoomEvent) -> None:
        raise ValueError("event went wrong")


async def test_default_groups_are_the_class_groups() -> None:
    async with WebsocketCommunicator(Ticker.as_asgi(), "/ws") as comm:
        await Ticker.broadcast_event(TickEvent(payload=1))
        assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == [
            Tock(payload=2)
        ]


async def test_sync_sender_from_a_worker_thread_reaches_the_loop() -> None:
    async with WebsocketCommunicator(Ticker.as_asgi(), "/ws") as comm:
        await asyncio.to_thread(Ticker.broadcast_event_sync, TickEvent(payload=41), "ticks")
        channel = comm.tracker.consumer.channel_name  # type: ignore[union-attr]
        await asyncio.to_thread(Ticker.send_event_sync, TickEvent(payload=9), channel)
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        messages += await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert messages == [Tock(payload=42), Tock(payload=10)]


async def test_sync_sender_inside_the_event_loop_is_refused() -> None:
    with pytest.raises(RuntimeError, match="await the async variant"):
        Ticker.broadcast_event_sync(TickEvent(payload=1))


def test_sync_sender_with_no_loop_running_anywhere_is_a_quiet_no_op() -> None:
    class Lonely(Ticker):
        layer = InMemoryGroupLayer()

    Lonely.broadcast_event_sync(TickEvent(payload=1), ["nobody"])


async def test_event_handler_failure_is_logged_answered_and_completed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Ticker.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.ERROR, logger="chanx"):
            await Ticker.broadcast_event(BoomEvent())
            [error] = await comm.receive_all_json(stop_action=EVENT_ACTION_COMPLETE)
        assert error["payload"]["detail"] == "Internal server error"
        assert "event went wrong" not in str(error)
        assert "event handler on_boom failed" in caplog.text
        await Ticker.broadcast_event(TickEvent(payload=0))
        assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == [
            Tock(payload=1)
        ]


async def test_event_from_another_process_is_validated_from_its_text() -> None:
    """Layers that cross processes carry only the JSON text; the receiver validates it."""
    from chanx.core.layer import EventEnvelope

    async with WebsocketCommunicator(Ticker.as_asgi(), "/ws") as comm:
        await Ticker.layer.send_group(  # type: ignore[union-attr]
            "ticks", EventEnvelope("s_tick", None, '{"action":"s_tick","payload":5}')
        )
        assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == [
            Tock(payload=6)
        ]
        await Ticker.layer.send_group(  # type: ignore[union-attr]
            "ticks", EventEnvelope("s_tick", None, '{"action":"s_tick","payload":"NaN"}')
        )
        await comm.receive_nothing()


async def test_events_after_disconnect_are_dropped() -> None:
    comm = WebsocketCommunicator(Ticker.as_asgi(), "/ws")
    await comm.connect()
    consumer = comm.tracker.consumer  # type: ignore[union-attr]
    await comm.disconnect()
    from chanx.core.layer import EventEnvelope

    await consumer.deliver(EventEnvelope.of(TickEvent(payload=1)))  # type: ignore[union-attr]
    assert consumer.outbox.idle  # type: ignore[union-attr]
    assert consumer.outbox.queued_messages == 0  # type: ignore[union-attr]

"""A consumer whose client stops reading, through the plain-ASGI driver: the close while
a send is stuck, the disconnect path, handlers caught mid-way, nothing left behind."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import pytest

from chanx.constants import CLOSE_SLOW_CONSUMER
from chanx.core.decorators import ws_handler
from chanx.core.layer import GroupMessage
from chanx.core.memory import InMemoryGroupLayer
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from tests.paused import PausableCommunicator, closed_with, eventually


class SayMessage(BaseMessage):
    action: Literal["o_say"] = "o_say"
    payload: str


class SaidMessage(BaseMessage):
    action: Literal["o_said"] = "o_said"
    payload: str


class Member(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    groups = ("members",)
    outbox_max_messages = 3
    ended: ClassVar[list[int]] = []

    @ws_handler
    async def handle_say(self, message: SayMessage) -> SaidMessage:
        return SaidMessage(payload=message.payload)

    async def on_disconnect(self, code: int) -> None:
        self.ended.append(code)


@pytest.fixture
async def layer() -> AsyncIterator[InMemoryGroupLayer]:
    fresh = InMemoryGroupLayer()
    Member.layer = fresh
    Member.ended.clear()
    yield fresh
    Member.layer = None


async def broadcast(layer: InMemoryGroupLayer, count: int) -> None:
    for n in range(count):
        await layer.send_group("members", GroupMessage(f'{{"action":"o_said","payload":"{n}"}}'))


async def test_a_stuck_client_is_closed_its_disconnect_runs_and_nothing_is_left(
    layer: InMemoryGroupLayer, caplog: pytest.LogCaptureFixture
) -> None:
    tasks_before = asyncio.all_tasks()
    comm = PausableCommunicator(Member.as_asgi(), "/ws")
    await comm.connect()
    consumer: Any = comm.tracker.consumer  # type: ignore[union-attr]
    comm.pause_reading()
    with caplog.at_level(logging.WARNING, logger="chanx"):
        await broadcast(layer, 5)  # one in flight, three queued, one too many
        await eventually(lambda: Member.ended == [CLOSE_SLOW_CONSUMER])
    assert layer.members("members") == []
    assert layer._receivers == {}
    assert consumer.outbox.stopped
    assert consumer.outbox.overflowed == "outbox_max_messages=3"
    [record] = caplog.records
    assert record.getMessage() == (
        f"Member {consumer.channel_name} is not reading fast enough: "
        "outbox over outbox_max_messages=3; closing it with 4429"
    )
    await broadcast(layer, 3)  # no longer a member: nothing reaches it
    comm.resume_reading()
    assert await closed_with(comm) == (CLOSE_SLOW_CONSUMER, [])
    await comm.disconnect()
    assert Member.ended == [CLOSE_SLOW_CONSUMER]  # once, with the slow-consumer code
    await eventually(lambda: asyncio.all_tasks() == tasks_before)


async def test_a_handler_waiting_behind_the_backlog_ends_quietly_at_the_close(
    layer: InMemoryGroupLayer, caplog: pytest.LogCaptureFixture
) -> None:
    comm = PausableCommunicator(Member.as_asgi(), "/ws")
    await comm.connect()
    consumer: Any = comm.tracker.consumer  # type: ignore[union-attr]
    comm.pause_reading()
    await broadcast(layer, 2)
    await comm.send_message(SayMessage(payload="mine"))  # its reply waits behind both
    await eventually(lambda: consumer.outbox._writes and len(consumer.outbox._writes) == 2)
    with caplog.at_level(logging.ERROR):
        await broadcast(layer, 4)
        await eventually(lambda: Member.ended == [CLOSE_SLOW_CONSUMER])
        await comm.send_message(PingMessage())  # ignored: the connection is closing
        await asyncio.sleep(0)
    assert caplog.records == []  # no handler failure reported
    comm.resume_reading()
    assert await closed_with(comm) == (CLOSE_SLOW_CONSUMER, [])
    await comm.disconnect()
    assert Member.ended == [CLOSE_SLOW_CONSUMER]


async def test_a_join_after_the_disconnect_is_ignored(layer: InMemoryGroupLayer) -> None:
    comm = PausableCommunicator(Member.as_asgi(), "/ws")
    await comm.connect()
    consumer: Any = comm.tracker.consumer  # type: ignore[union-attr]
    await comm.disconnect()
    await consumer.join_group("late")  # a handler finishing after its connection ended
    assert layer.group_names() == []
    assert consumer.joined_groups == ()


async def test_a_client_that_keeps_up_never_queues(layer: InMemoryGroupLayer) -> None:
    async with PausableCommunicator(Member.as_asgi(), "/ws") as comm:
        consumer: Any = comm.tracker.consumer  # type: ignore[union-attr]
        await broadcast(layer, 50)
        assert consumer.outbox.idle
        assert consumer.outbox.queued_messages == 0
        for n in range(50):
            assert await comm.receive_json() == {"action": "o_said", "payload": str(n)}
            assert (await comm.receive_json())["action"] == "group_complete"


async def test_a_failing_on_disconnect_after_a_slow_close_is_logged(
    layer: InMemoryGroupLayer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(self: Member, code: int) -> None:
        raise RuntimeError("on_disconnect broke")

    monkeypatch.setattr(Member, "on_disconnect", fails)
    comm = PausableCommunicator(Member.as_asgi(), "/ws")
    await comm.connect()
    comm.pause_reading()
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await broadcast(layer, 5)
        await eventually(lambda: "disconnecting Member" in caplog.text)
    comm.resume_reading()
    await comm.disconnect()


def test_bad_outbox_settings_fail_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="outbox_overflow must be one of"):

        class Typo(AsyncJsonWebsocketConsumer):
            outbox_overflow = "drop"  # type: ignore[assignment]

    with pytest.raises(TypeError, match="outbox_max_bytes must be a positive int or None"):

        class Zero(AsyncJsonWebsocketConsumer):
            outbox_max_bytes = 0


def test_defaults() -> None:
    assert AsyncJsonWebsocketConsumer.outbox_max_messages == 1000
    assert AsyncJsonWebsocketConsumer.outbox_max_bytes == 1024 * 1024
    assert AsyncJsonWebsocketConsumer.outbox_overflow == "close"

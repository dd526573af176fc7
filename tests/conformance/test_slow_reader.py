"""A client that stops reading: it never holds up its room, and over its outbox's bound
it is closed with 4429 (or, with ``drop_oldest``, loses the oldest messages)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chanx.constants import CLOSE_SLOW_CONSUMER, EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator
from tests.conformance.behaviours import (
    ROOM_OUTBOX_MAX_MESSAGES,
    NoticeEvent,
    NoticeReply,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
)
from tests.conformance.drivers import Driver
from tests.paused import PausableCommunicator, closed_with, eventually


def shout(text: str) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text))


def notice(text: str) -> ShoutNotice:
    return ShoutNotice(payload=Text(text=text))


IN_PROCESS = pytest.mark.in_process(
    "a client that stops reading is made in-process; over real sockets (uvicorn, daphne): "
    "tests/e2e/test_slow_reader.py"
)


def room(driver: Driver, name: str) -> PausableCommunicator:
    """A client of ``/ws/room/<name>`` on the driver's application that can stop reading."""
    path = f"/ws/room/{name}"
    comm = driver.communicator(path)
    assert isinstance(comm, WebsocketCommunicator), "slow-reader scenarios run in-process"
    return PausableCommunicator(comm.application, path)


def server_side(comm: PausableCommunicator) -> Any:
    assert comm.tracker is not None
    assert comm.tracker.consumer is not None
    return comm.tracker.consumer


async def shout_all(sender: PausableCommunicator, count: int, prefix: str = "n") -> None:
    """``count`` shouts, each answered (own copy, then ``complete``) before the next."""
    for n in range(count):
        await sender.send_message(shout(f"{prefix}{n}"))
        assert await sender.receive_all_messages() == [notice(f"{prefix}{n}")]


@IN_PROCESS
async def test_a_client_that_stops_reading_does_not_hold_up_its_room(driver: Driver) -> None:
    async with (
        room(driver, "slowpoke") as sender,
        room(driver, "slowpoke") as fast,
        room(driver, "slowpoke") as slow,
    ):
        slow.pause_reading()
        await shout_all(sender, 30)
        for n in range(30):
            got = await fast.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [notice(f"n{n}")]
        outbox = server_side(slow).outbox
        await eventually(lambda: outbox.queued_messages == 29)  # one more is in flight
        assert slow.blocked_sends == 1
        slow.resume_reading()
        for n in range(30):
            got = await slow.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [notice(f"n{n}")]
        await outbox.wait_idle()
        assert outbox.queued_messages == outbox.queued_bytes == outbox.dropped == 0


@IN_PROCESS
async def test_over_its_bound_a_slow_client_is_closed_with_4429(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    total = ROOM_OUTBOX_MAX_MESSAGES + 2  # one in flight, 40 queued, one too many
    async with room(driver, "overflow") as sender, room(driver, "overflow") as fast:
        slow = room(driver, "overflow")
        await slow.connect()
        consumer = server_side(slow)
        slow.pause_reading()
        with caplog.at_level(logging.WARNING, logger="chanx"):
            await shout_all(sender, total)
            await eventually(lambda: consumer.joined_groups == ())  # its disconnect ran
        assert consumer.outbox.overflowed == f"outbox_max_messages={ROOM_OUTBOX_MAX_MESSAGES}"
        assert consumer.outbox.queued_messages == 0
        [warning] = [r for r in caplog.records if "not reading fast enough" in r.getMessage()]
        assert warning.getMessage() == (
            f"{type(consumer).__name__} {consumer.channel_name} is not reading fast enough: "
            f"outbox over outbox_max_messages={ROOM_OUTBOX_MAX_MESSAGES}; closing it with 4429"
        )
        for n in range(total):
            got = await fast.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [notice(f"n{n}")]
        await shout_all(sender, 1, "after")  # the room goes on without it
        assert await fast.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == [
            notice("after0")
        ]
        slow.resume_reading()
        code, frames = await closed_with(slow)
        assert code == CLOSE_SLOW_CONSUMER
        assert frames == []  # the send that was stuck was abandoned, the rest dropped
        await slow.disconnect()


@IN_PROCESS
async def test_drop_oldest_keeps_a_slow_client_with_the_newest_messages(
    driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver.room, "outbox_overflow", "drop_oldest")
    total, bound = 50, ROOM_OUTBOX_MAX_MESSAGES
    async with room(driver, "dropping") as sender, room(driver, "dropping") as slow:
        slow.pause_reading()
        outbox = server_side(slow).outbox
        await shout_all(sender, total)
        await eventually(lambda: outbox.dropped == total - 1 - bound)
        assert outbox.queued_messages == bound
        slow.resume_reading()
        kept = [0, *range(total - bound, total)]  # the one in flight, then the newest
        for n in kept:
            got = await slow.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [notice(f"n{n}")]
        await slow.send_message(PingMessage())
        assert await slow.receive_all_messages() == [PongMessage()]


@IN_PROCESS
async def test_events_for_a_slow_client_count_toward_its_bound(driver: Driver) -> None:
    total = ROOM_OUTBOX_MAX_MESSAGES + 2  # one being handled, 40 queued, one too many
    async with room(driver, "slow_events") as fast:
        slow = room(driver, "slow_events")
        await slow.connect()
        consumer = server_side(slow)
        slow.pause_reading()
        for n in range(total):  # one at a time, as events keep coming
            event = NoticeEvent(payload=Text(text=f"e{n}"))
            await driver.broadcast_event(event, ["room_slow_events"])
            got = await fast.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [NoticeReply(payload=Text(text=f"e{n}"))]
        await eventually(lambda: consumer.joined_groups == ())
        assert consumer.outbox.overflowed == f"outbox_max_messages={ROOM_OUTBOX_MAX_MESSAGES}"
        slow.resume_reading()
        code, frames = await closed_with(slow)
        assert code == CLOSE_SLOW_CONSUMER
        assert frames == []
        await slow.disconnect()


@IN_PROCESS
async def test_a_handler_behind_a_backlog_keeps_its_order(driver: Driver) -> None:
    async with (
        room(driver, "backlog") as sender,
        room(driver, "backlog") as fast,
        room(driver, "backlog") as slow,
    ):
        slow.pause_reading()
        await shout_all(sender, 5)
        outbox = server_side(slow).outbox
        await eventually(lambda: outbox.queued_messages == 4)
        # The slow client shouts: its handler waits behind its own backlog, the
        # others get the shout at once.
        await slow.send_message(shout("mine"))
        for n in range(5):
            got = await fast.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [notice(f"n{n}")]
        assert await fast.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == [
            notice("mine")
        ]
        slow.resume_reading()
        frames = [await slow.receive_json() for _ in range(2 * 5 + 3)]
        actions = [f["action"] for f in frames]
        assert actions == ["shout_notice", "group_complete"] * 6 + ["complete"]
        texts = [f["payload"]["text"] for f in frames if f["action"] == "shout_notice"]
        assert texts == ["n0", "n1", "n2", "n3", "n4", "mine"]

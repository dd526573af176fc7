"""Quiescence instead of sleeping: ``settle()`` returns once the application is provably
idle, so everything it was going to send has arrived; ``receive_nothing()`` returns as
soon as that holds. Where idleness cannot be proven (a live server, a layer between
processes) both wait out their timeout, and say so by returning ``False``.

"Already arrived" is checked with ``timeout=0``: a receive that had to wait for anything
fails at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.testing import CommunicatorError
from tests.conformance.behaviours import (
    ECHO_PATH,
    CountMessage,
    CountReply,
    Delayed,
    DelayedNoticeEvent,
    NoticeEvent,
    NoticeReply,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
    WaitMessage,
    WaitReply,
)
from tests.conformance.drivers import Driver

PROVEN = 30.0
"""A timeout settle() never reaches when it can prove idleness (it returns long before)."""
UNPROVEN = 0.05
"""A timeout for drivers that cannot prove it: settle() waits exactly this long."""


async def settled(driver: Driver, *comms: object) -> None:
    """Settle, and check it says honestly whether it could prove the app idle."""
    from chanx.testing.base import BaseCommunicator

    comm = comms[0]
    assert isinstance(comm, BaseCommunicator)
    if driver.settles:
        assert await comm.settle(timeout=PROVEN) is True
    else:
        assert await comm.settle(timeout=UNPROVEN) is False


def arrived_within(driver: Driver) -> float:
    """How long a receive may wait after settle(): nothing when idleness was proven."""
    return 0 if driver.settles else 5.0


async def test_settle_waits_for_a_running_handler(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(WaitMessage(payload=0.05))
        await settled(driver, comm)
        replies = await comm.receive_all_messages(timeout=arrived_within(driver))
        assert replies == [WaitReply(payload=0.05)]


async def test_settle_waits_for_a_whole_stream(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=20))
        await settled(driver, comm)
        replies = await comm.receive_all_messages(timeout=arrived_within(driver))
        assert replies == [CountReply(payload=n) for n in range(20)]


async def test_settle_follows_a_broadcast_to_every_member(driver: Driver) -> None:
    path = "/ws/room/settle"
    async with driver.communicator(path) as sender, driver.communicator(path) as member:
        await sender.send_message(ShoutMessage(payload=ShoutPayload(text="all of you")))
        await settled(driver, member)  # settling the member covers the sender's frame
        heard = await member.receive_all_messages(
            stop_action=GROUP_ACTION_COMPLETE, timeout=arrived_within(driver)
        )
        assert heard == [ShoutNotice(payload=Text(text="all of you"))]


async def test_settle_follows_events_to_every_member(driver: Driver) -> None:
    path = "/ws/room/settle_events"
    async with driver.communicator(path) as first, driver.communicator(path) as second:
        event = DelayedNoticeEvent(payload=Delayed(text="slow", delay=0.05))
        await driver.broadcast_event(event, ["room_settle_events"])
        await settled(driver, first)
        for comm in (first, second):
            got = await comm.receive_all_messages(
                stop_action=EVENT_ACTION_COMPLETE, timeout=arrived_within(driver)
            )
            assert got == [NoticeReply(payload=Text(text="slow"))]


async def test_settle_follows_an_event_queued_behind_a_handler(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=10))
        assert (await comm.receive_json())["action"] == "count_reply"  # the handler runs
        await driver.send_event(
            NoticeEvent(payload=Text(text="behind")), driver.channel_name_of(comm)
        )
        await settled(driver, comm)
        within = arrived_within(driver)
        assert len(await comm.receive_all_messages(timeout=within)) == 9
        got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE, timeout=within)
        assert got == [NoticeReply(payload=Text(text="behind"))]


async def test_receive_nothing_is_true_when_nothing_comes(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        assert await comm.receive_nothing() is True
        assert await comm.receive_nothing(timeout=0.1, interval=0.01) is True  # Channels'


async def test_receive_nothing_returns_once_settled_not_after_its_timeout(
    driver: Driver,
) -> None:
    """Proven idle: back long before the timeout. Not provable: the whole timeout."""
    timeout = PROVEN if driver.settles else 0.2
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(CountMessage(payload=3))
        await comm.receive_all_messages()
        started = time.monotonic()
        assert await comm.receive_nothing(timeout=timeout)
        elapsed = time.monotonic() - started
        if driver.settles:
            assert elapsed < PROVEN / 2
        else:
            assert elapsed >= timeout * 0.99


async def test_receive_nothing_fails_on_a_reply_still_being_made(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        await comm.send_message(WaitMessage(payload=0.05))
        with pytest.raises(CommunicatorError, match=r"expected nothing, received .*waited"):
            await comm.receive_nothing(timeout=PROVEN if driver.settles else 5.0)


async def test_receive_nothing_fails_on_an_event_still_being_handled(driver: Driver) -> None:
    path = "/ws/room/late_event"
    async with driver.communicator(path) as comm:
        event = DelayedNoticeEvent(payload=Delayed(text="late", delay=0.05))
        await driver.broadcast_event(event, ["room_late_event"])
        with pytest.raises(CommunicatorError, match=r"expected nothing, received .*late"):
            await comm.receive_nothing(timeout=PROVEN if driver.settles else 5.0)


async def test_where_it_cannot_be_proven_settle_waits_out_its_timeout(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        result = await comm.settle(timeout=UNPROVEN)
        assert result is driver.settles  # True at once, or False after the timeout


async def test_settle_keeps_what_arrived_for_the_next_receive(driver: Driver) -> None:
    async with driver.communicator(ECHO_PATH) as comm:
        for n in range(3):
            await comm.send_message(CountMessage(payload=n + 1))
        await asyncio.wait_for(settled(driver, comm), 60)
        counts = []
        for _ in range(3):
            counts.append(len(await comm.receive_all_messages()))
        assert counts == [1, 2, 3]

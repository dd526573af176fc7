"""Database connection clean-up between frames: ``close_old_connections`` modes.

The handlers here open a connection to the ``hygiene`` file database in the thread
where synchronous ORM code runs (``sync_to_async``), as a handler using the ORM would;
the tests look at that thread's connection between frames.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from django.db import connections
from django.test.utils import override_settings
from django.urls import path

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core.decorators import event_handler, ws_handler
from chanx.ext.channels import db as hygiene
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.testing import WebsocketCommunicator

ALIAS = "hygiene"


class TouchDB(BaseMessage):
    action: Literal["touch_db"] = "touch_db"
    payload: None = None


class Touched(BaseMessage):
    action: Literal["touched"] = "touched"
    payload: None = None


class Relay(BaseMessage):
    action: Literal["relay"] = "relay"
    payload: None = None


class Relayed(BaseMessage):
    action: Literal["relayed"] = "relayed"
    payload: None = None


class Nudge(BaseMessage):
    action: Literal["nudge"] = "nudge"
    payload: None = None


def query() -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


@sync_to_async
def connection_is_open() -> bool:
    """Whether the sync thread holds an open connection to the hygiene database."""
    return connections[ALIAS].connection is not None


@sync_to_async
def close_connection() -> None:
    connections[ALIAS].close()


class DBConsumer(AsyncJsonWebsocketConsumer):
    groups = ["hygiene"]

    @ws_handler
    async def handle_touch(self, message: TouchDB) -> Touched:
        await sync_to_async(query)()
        return Touched()

    @ws_handler(output_type=Relayed)
    async def handle_relay(self, message: Relay) -> None:
        await self.broadcast_message(Relayed())

    @event_handler
    async def handle_nudge(self, event: Nudge) -> None:
        return None


class Always(DBConsumer):
    close_old_connections = True


class Never(DBConsumer):
    close_old_connections = False


APP = URLRouter(
    [
        path("auto", DBConsumer.as_asgi()),
        path("always", Always.as_asgi()),
        path("never", Never.as_asgi()),
    ]
)


@pytest.fixture(autouse=True)
def fresh_tracker(monkeypatch: pytest.MonkeyPatch) -> Iterator[hygiene.ConnectionTracker]:
    tracker = hygiene.ConnectionTracker()
    monkeypatch.setattr(hygiene, "tracker", tracker)
    in_memory = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=in_memory):
        yield tracker


@pytest.fixture
async def start_closed() -> AsyncIterator[None]:
    await close_connection()
    yield
    await close_connection()


async def roundtrip(comm: WebsocketCommunicator, message: BaseMessage) -> list[Any]:
    await comm.send_message(message)
    return await comm.receive_all_json()


@pytest.mark.usefixtures("start_closed")
async def test_auto_closes_a_connection_a_handler_opened_before_the_next_frame(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    async with WebsocketCommunicator(APP, "/auto") as comm:
        primed = fresh_tracker.cleanups  # the first check looks once
        await roundtrip(comm, TouchDB())
        assert await connection_is_open()
        await roundtrip(comm, PingMessage())
        assert not await connection_is_open()  # CONN_MAX_AGE = 0: closed, as per request
        assert fresh_tracker.cleanups == primed + 1


@pytest.mark.usefixtures("start_closed")
async def test_auto_skips_the_hop_when_nothing_is_open(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    async with WebsocketCommunicator(APP, "/auto") as comm:
        await roundtrip(comm, PingMessage())
        after_first = fresh_tracker.cleanups
        assert after_first <= 1
        for _ in range(5):
            await roundtrip(comm, PingMessage())
        assert fresh_tracker.cleanups == after_first


@pytest.mark.usefixtures("start_closed")
async def test_auto_cleans_before_every_frame_while_a_persistent_connection_is_open(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    connections.settings[ALIAS]["CONN_MAX_AGE"] = None
    try:
        async with WebsocketCommunicator(APP, "/auto") as comm:
            await roundtrip(comm, TouchDB())
            before = fresh_tracker.cleanups
            for _ in range(3):
                await roundtrip(comm, PingMessage())
            assert fresh_tracker.cleanups == before + 3
            assert await connection_is_open()  # persistent: checked, kept
    finally:
        connections.settings[ALIAS]["CONN_MAX_AGE"] = 0


@pytest.mark.usefixtures("start_closed")
async def test_events_clean_up_and_relayed_group_messages_do_not(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    async with WebsocketCommunicator(APP, "/always") as comm:
        before = fresh_tracker.cleanups
        await comm.send_message(Relay())
        assert await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == [Relayed()]
        await comm.receive_all_messages()
        assert fresh_tracker.cleanups == before + 1  # the frame, not the relay to itself
        await Always.broadcast_event(Nudge(), ["hygiene"])
        await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert fresh_tracker.cleanups == before + 2


@pytest.mark.usefixtures("start_closed")
async def test_true_cleans_before_every_frame(fresh_tracker: hygiene.ConnectionTracker) -> None:
    async with WebsocketCommunicator(APP, "/always") as comm:
        before = fresh_tracker.cleanups
        for _ in range(3):
            await roundtrip(comm, PingMessage())
        assert fresh_tracker.cleanups == before + 3


@pytest.mark.usefixtures("start_closed")
async def test_false_never_cleans_and_leaves_the_connection_to_others(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    async with WebsocketCommunicator(APP, "/never") as comm:
        await roundtrip(comm, TouchDB())
        await roundtrip(comm, PingMessage())
        assert await connection_is_open()
    assert fresh_tracker.cleanups == 0
    # Any consumer that does clean up closes it (the thread is shared).
    async with WebsocketCommunicator(APP, "/auto") as comm:
        await roundtrip(comm, PingMessage())
        assert not await connection_is_open()


@pytest.mark.usefixtures("start_closed")
async def test_disconnect_cleans_up_after_the_consumer(
    fresh_tracker: hygiene.ConnectionTracker,
) -> None:
    comm = WebsocketCommunicator(APP, "/auto")
    await comm.connect()
    await roundtrip(comm, TouchDB())
    assert await connection_is_open()
    await comm.disconnect()
    assert not await connection_is_open()


@pytest.mark.parametrize("mode", ["sometimes", None, 1])
def test_an_unknown_mode_is_refused(mode: Any) -> None:
    with pytest.raises(ValueError, match="close_old_connections"):
        hygiene.needs_cleanup(mode)


def test_the_default_mode_comes_from_the_chanx_setting() -> None:
    assert DBConsumer.close_old_connections == "auto"
    with override_settings(CHANX={"CLOSE_OLD_CONNECTIONS": False}):
        assert DBConsumer.close_old_connections is False
        assert Always.close_old_connections is True

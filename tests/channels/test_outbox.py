"""The outbox on Channels: its bounds and policy from the CHANX setting (read when a
connection starts), and a client that stops reading closed with 4429."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from django.test.utils import override_settings
from django.urls import path

from chanx.constants import CLOSE_SLOW_CONSUMER
from chanx.core.layer import GroupMessage, envelope_to_wire
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.testing import ConnectionClosed
from tests.paused import PausableCommunicator, eventually


class Listener(AsyncJsonWebsocketConsumer):
    groups = ("listeners",)


class Pinned(AsyncJsonWebsocketConsumer):
    groups = ("listeners",)
    outbox_max_messages = 2
    outbox_overflow = "drop_oldest"


APP = URLRouter([path("listener", Listener.as_asgi()), path("pinned", Pinned.as_asgi())])


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    with override_settings(
        CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    ):
        yield


def server_side(comm: PausableCommunicator) -> Any:
    assert comm.tracker is not None
    return comm.tracker.consumer


async def broadcast(count: int) -> None:
    layer = get_channel_layer()
    for n in range(count):
        text = f'{{"action":"n","payload":{n}}}'
        await layer.group_send("listeners", envelope_to_wire(GroupMessage(text)))


async def test_the_outbox_takes_its_bounds_from_the_setting_when_a_connection_starts() -> None:
    settings = {
        "OUTBOX_MAX_MESSAGES": 5,
        "OUTBOX_MAX_BYTES": None,
        "OUTBOX_OVERFLOW": "drop_oldest",
    }
    with override_settings(CHANX=settings):
        async with PausableCommunicator(APP, "/listener") as comm:
            outbox = server_side(comm).outbox
            assert (outbox.max_messages, outbox.max_bytes, outbox.overflow) == (
                5,
                None,
                "drop_oldest",
            )
    async with PausableCommunicator(APP, "/listener") as comm:
        outbox = server_side(comm).outbox
        assert (outbox.max_messages, outbox.max_bytes, outbox.overflow) == (
            1000,
            1024 * 1024,
            "close",
        )


async def test_class_attributes_win_over_the_setting() -> None:
    with override_settings(CHANX={"OUTBOX_MAX_MESSAGES": 5, "OUTBOX_OVERFLOW": "close"}):
        async with PausableCommunicator(APP, "/pinned") as comm:
            outbox = server_side(comm).outbox
            assert (outbox.max_messages, outbox.overflow) == (2, "drop_oldest")


async def test_a_slow_client_is_closed_per_the_setting() -> None:
    with override_settings(CHANX={"OUTBOX_MAX_MESSAGES": 3}):
        comm = PausableCommunicator(APP, "/listener")
        await comm.connect()
        consumer = server_side(comm)
        comm.pause_reading()
        await broadcast(5)  # one in flight, three queued, one too many
        await eventually(lambda: consumer.joined_groups == ())
        comm.resume_reading()
        with pytest.raises(ConnectionClosed) as closed:
            await comm.receive_json()
        assert closed.value.code == CLOSE_SLOW_CONSUMER
        await comm.disconnect()


async def test_a_bad_setting_fails_the_connection_loudly() -> None:
    with override_settings(CHANX={"OUTBOX_OVERFLOW": "drop_newest"}):
        comm = PausableCommunicator(APP, "/listener")
        with pytest.raises(ValueError, match="outbox_overflow must be one of"):
            await comm.connect()

"""Delivery on Channels with a client that reads slowly: layer messages keep leaving the
channel layer while a handler waits for the client (its channels drop what is over
their capacity), and every frame of the connection, Channels' own ``send()`` and
``close()`` included, goes out through the outbox in the order it was sent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from channels.layers import InMemoryChannelLayer
from channels.routing import URLRouter
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.urls import path

from chanx.core.decorators import ws_handler
from chanx.core.layer import GroupMessage, envelope_to_wire
from chanx.ext.channels.layer import ChannelsGroupLayer
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import ConnectionClosed
from tests.paused import PausableCommunicator, eventually
from tests.servers import SHARED_REDIS

BURST = 150  # over a Channels channel's default capacity (100)

pytestmark = pytest.mark.off_contract("group frames and Channels-native frames made by hand")


class Mixed(BaseMessage):
    action: Literal["mixed"] = "mixed"
    payload: None = None


class MixedDone(BaseMessage):
    action: Literal["mixed_done"] = "mixed_done"
    payload: None = None


class Leave(BaseMessage):
    action: Literal["leave"] = "leave"
    payload: None = None


def make_layer(kind: str, prefix: str) -> Any:
    if kind == "memory":
        return InMemoryChannelLayer()
    if kind == "redis":
        return RedisChannelLayer(hosts=[SHARED_REDIS], prefix=prefix)
    return RedisPubSubChannelLayer(hosts=[SHARED_REDIS], prefix=prefix)


@pytest.fixture(params=["memory", "redis", "pubsub"])
async def channel_layer(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Each Channels layer chanx runs on (the Redis ones on the shared server, under a
    prefix of the test's own)."""
    layer = make_layer(request.param, f"chanx-delivery-{uuid.uuid4().hex[:12]}")
    yield layer
    if request.param != "memory":
        await layer.flush()


def consumer_on(channel_layer: Any, group: str) -> type[AsyncJsonWebsocketConsumer]:
    class Member(AsyncJsonWebsocketConsumer):
        groups = (group,)
        layer = ChannelsGroupLayer(channel_layer)
        sending_native = False
        send_completion = False

        @ws_handler(output_type=MixedDone)
        async def handle_mixed(self, message: Mixed) -> MixedDone:
            # A Channels-native frame, a group message to itself, then the reply.
            self.sending_native = True
            await self.send_json({"action": "native", "payload": None})
            await self.broadcast_message(MixedDone(), exclude_current=False)
            return MixedDone()

        @ws_handler
        async def handle_leave(self, message: Leave) -> None:
            await self.send(text_data='{"action":"bye","payload":null}')
            await self.close(4321)

    return Member


@pytest.fixture
async def clients() -> AsyncIterator[list[PausableCommunicator]]:
    """Communicators made by a test: reading again and disconnected at the end, so a
    failing test does not leave a server send waiting forever."""
    made: list[PausableCommunicator] = []
    yield made
    for comm in made:
        comm.resume_reading()
        if comm.connected:
            await comm.disconnect()


async def connected(
    clients: list[PausableCommunicator], channel_layer: Any, group: str
) -> tuple[PausableCommunicator, Any]:
    """A client of a group member's consumer, and the consumer."""
    consumer = consumer_on(channel_layer, group)
    comm = PausableCommunicator(URLRouter([path("ws", consumer.as_asgi())]), "/ws")
    clients.append(comm)
    await comm.connect()
    return comm, server_side(comm)


async def group_message(channel_layer: Any, group: str, n: int) -> None:
    text = f'{{"action":"n","payload":{n}}}'
    await channel_layer.group_send(group, envelope_to_wire(GroupMessage(text)))


def server_side(comm: PausableCommunicator) -> Any:
    assert comm.tracker is not None
    return comm.tracker.consumer


async def receive_actions(comm: PausableCommunicator, count: int) -> list[Any]:
    return [await comm.receive_json() for _ in range(count)]


@pytest.mark.redis
async def test_layer_messages_keep_coming_while_a_handler_waits_for_a_slow_client(
    channel_layer: Any, clients: list[PausableCommunicator]
) -> None:
    group = f"burst-{uuid.uuid4().hex[:8]}"
    comm, consumer = await connected(clients, channel_layer, group)
    comm.pause_reading()
    await comm.send_json({"action": "ping", "payload": None})
    await eventually(lambda: comm.blocked_sends == 1)  # the pong waits for the client
    # The handler still waits; each group message still leaves the channel layer and
    # queues in the outbox (before, they stayed in the layer's channel, which drops
    # what is over its capacity of 100).
    for n in range(BURST):
        await group_message(channel_layer, group, n)
        await eventually(lambda n=n: consumer.outbox.queued_messages == n + 1)
    assert comm.blocked_sends == 1
    comm.resume_reading()
    assert (await comm.receive_json())["action"] == "pong"
    received = [(await comm.receive_json())["payload"] for _ in range(BURST)]
    assert received == list(range(BURST))
    await comm.receive_nothing()


@pytest.mark.redis
async def test_native_sends_replies_and_group_messages_keep_their_order(
    channel_layer: Any, clients: list[PausableCommunicator]
) -> None:
    group = f"order-{uuid.uuid4().hex[:8]}"
    comm, consumer = await connected(clients, channel_layer, group)
    comm.pause_reading()
    await group_message(channel_layer, group, 0)  # written, waits for the client
    await eventually(lambda: comm.blocked_sends == 1)
    await group_message(channel_layer, group, 1)  # queued behind it
    await eventually(lambda: consumer.outbox.queued_messages == 1)
    await comm.send_json({"action": "mixed", "payload": None})
    await eventually(lambda: consumer.sending_native)
    # The handler's Channels-native send waits in the outbox, behind the group
    # messages, not beside the write in flight at the server.
    assert comm.blocked_sends == 1
    await group_message(channel_layer, group, 2)  # the handler waits: queued after it
    await eventually(lambda: consumer.outbox.queued_messages == 2)
    comm.resume_reading()
    frames = await receive_actions(comm, 6)
    assert [(f["action"], f["payload"]) for f in frames] == [
        ("n", 0),
        ("n", 1),
        ("native", None),
        ("n", 2),
        ("mixed_done", None),  # its broadcast, to itself
        ("mixed_done", None),  # its reply
    ]
    await comm.receive_nothing()


def actions(frames: list[Any]) -> list[str]:
    return [frame["action"] for frame in frames]


@pytest.mark.redis
async def test_a_native_send_and_close_go_through_the_outbox(
    channel_layer: Any, clients: list[PausableCommunicator]
) -> None:
    group = f"close-{uuid.uuid4().hex[:8]}"
    comm, consumer = await connected(clients, channel_layer, group)
    comm.pause_reading()
    await comm.send_json({"action": "leave", "payload": None})
    await eventually(lambda: comm.blocked_sends == 1)  # its send() waits for the client
    await group_message(channel_layer, group, 7)
    await eventually(lambda: consumer.outbox.queued_messages == 1)
    comm.resume_reading()
    # bye, then the close: the group message queued when close() was called is
    # discarded, as core's close() does.
    assert actions(await receive_actions(comm, 1)) == ["bye"]
    with pytest.raises(ConnectionClosed) as closed:
        await comm.receive_json()
    assert closed.value.code == 4321

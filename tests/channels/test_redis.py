"""channels_redis: groups and events across separate layer instances (as across
processes) on the shared Redis, and what happens when Redis is unreachable or goes away
(on a private redis-server, never the shared one)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.routing import URLRouter
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.urls import path
from redis import asyncio as aioredis

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.ext.channels.layer import ChannelLayerUnavailable, ChannelsGroupLayer
from chanx.ext.channels.websocket import LAYER_FAILURE_CLOSE_CODE, AsyncJsonWebsocketConsumer
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import ConnectionClosed, WebsocketCommunicator
from tests.conformance.behaviours import (
    NoticeEvent,
    NoticeReply,
    RoomBehaviour,
    ShoutMessage,
    ShoutNotice,
    ShoutPayload,
    Text,
)
from tests.servers import REDIS_READY, SHARED_REDIS, Server, free_port, redis_args

BACKENDS = {"redis": RedisChannelLayer, "pubsub": RedisPubSubChannelLayer}


def channel_layer(backend: str, url: str, prefix: str) -> Any:
    return BACKENDS[backend](hosts=[url], prefix=prefix)


def room_consumer(layer: Any) -> type[AsyncJsonWebsocketConsumer]:
    class Room(RoomBehaviour, AsyncJsonWebsocketConsumer):
        pass

    Room.layer = ChannelsGroupLayer(layer)
    return Room


def app_for(consumer: type[AsyncJsonWebsocketConsumer]) -> Any:
    return URLRouter([path("ws/room/<str:room>", consumer.as_asgi())])


def shout(text: str) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text))


def notice(text: str) -> NoticeEvent:
    return NoticeEvent(payload=Text(text=text))


@pytest.fixture
async def layers() -> AsyncIterator[list[Any]]:
    """Channel layers made by a test; flushed (keys, connections) afterwards."""
    made: list[Any] = []
    yield made
    for layer in made:
        await layer.flush()


@pytest.mark.redis
@pytest.mark.parametrize("backend", BACKENDS)
async def test_groups_and_events_cross_separate_layer_instances(
    backend: str, layers: list[Any]
) -> None:
    prefix = f"chanx-test-{uuid.uuid4().hex[:12]}"
    # One layer instance per "process": two servers, an event sender, a sync script.
    layers += [channel_layer(backend, SHARED_REDIS, prefix) for _ in range(4)]
    first, second, sender, script = (room_consumer(layer) for layer in layers)
    async with (
        WebsocketCommunicator(app_for(first), "/ws/room/x") as one,
        WebsocketCommunicator(app_for(second), "/ws/room/x") as two,
    ):
        await one.send_message(shout("hello"))
        expected = [ShoutNotice(payload=Text(text="hello"))]
        assert await one.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected

        await sender.broadcast_event(notice("async"), "room_x")
        # The sync API from a thread with no connections of its own, as a script does.
        await asyncio.to_thread(script.broadcast_event_sync, notice("sync"), "room_x")
        for comm in (one, two):
            for text in ("async", "sync"):
                got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
                assert got == [NoticeReply(payload=Text(text=text))]

        target = two.tracker.consumer.channel_name  # type: ignore[union-attr]
        await sender.send_event(notice("just two"), target)
        got = await two.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [NoticeReply(payload=Text(text="just two"))]
        await one.receive_nothing()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_unreachable_redis_at_connect_closes_4503_with_a_clear_log(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    layer = channel_layer(backend, f"redis://127.0.0.1:{port}/0", "chanx-down")
    room = room_consumer(layer)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="chanx"):
        comm = WebsocketCommunicator(app_for(room), "/ws/room/down")
        await comm.connect()
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_LAYER_UNAVAILABLE
    assert time.monotonic() - started < 2
    # One line (no traceback per connection during an outage) names the layer, the
    # address and the operation.
    [line] = [r for r in caplog.records if "group layer is unavailable" in r.getMessage()]
    assert f"127.0.0.1:{port}" in line.getMessage()
    assert "unreachable during" in line.getMessage()
    assert line.exc_info is None
    await comm.disconnect()

    # Senders get the error too, async and sync: nothing is dropped silently.
    with pytest.raises(ChannelLayerUnavailable, match="group_send"):
        await room.broadcast_event(notice("lost?"), "room_down")
    with pytest.raises(ChannelLayerUnavailable, match="group_send"):
        await asyncio.to_thread(room.broadcast_event_sync, notice("lost?"), "room_down")
    if backend == "pubsub":
        await layer.flush()  # stops its reconnecting subscriber


async def test_redis_gone_mid_session_closes_every_connection_of_the_redis_layer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    redis = Server(redis_args(port))
    try:
        redis.wait_for(REDIS_READY)
        layer = channel_layer("redis", f"redis://127.0.0.1:{port}/0", "chanx-mid")
        first, second = room_consumer(layer), room_consumer(layer)
        async with (
            WebsocketCommunicator(app_for(first), "/ws/room/mid") as one,
            WebsocketCommunicator(app_for(second), "/ws/room/mid") as two,
        ):
            await one.send_message(shout("before"))
            assert len(await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)) == 1
            await one.receive_all_messages()

            with caplog.at_level(logging.ERROR, logger="chanx"):
                redis.kill()
                # Group memberships lived in Redis: a connection that stayed would never
                # hear its group again. Each one is closed instead, and the client knows.
                for comm in (one, two):
                    with pytest.raises(ConnectionClosed) as closed:
                        await comm.receive_json(timeout=3)
                    assert closed.value.code == LAYER_FAILURE_CLOSE_CODE
            assert "stopped delivering" in caplog.text
            with pytest.raises(ChannelLayerUnavailable):
                await first.broadcast_event(notice("after"), "room_mid")
    finally:
        redis.stop()


async def test_redis_gone_mid_session_pubsub_keeps_connections_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    redis = Server(redis_args(port))
    url = f"redis://127.0.0.1:{port}/0"
    layer = channel_layer("pubsub", url, "chanx-mid")
    first, second = room_consumer(layer), room_consumer(layer)
    try:
        redis.wait_for(REDIS_READY)
        async with (
            WebsocketCommunicator(app_for(first), "/ws/room/ps") as one,
            WebsocketCommunicator(app_for(second), "/ws/room/ps") as two,
        ):
            redis.kill()
            with caplog.at_level(logging.WARNING, logger="chanx"):
                await one.send_message(shout("into the void"))
                # The sender is told (an error reply), and the log says what failed.
                [error] = await one.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "layer_unavailable"
            assert "unreachable during group_send('room_ps')" in caplog.text
            await two.receive_nothing()
            # Direct request/response still works without Redis.
            await one.send_message(PingMessage())
            assert await one.receive_all_messages() == [PongMessage()]

            redis = Server(redis_args(port))
            redis.wait_for(REDIS_READY)
            await wait_for_subscription(url, "chanx-mid__group__room_ps")
            await one.send_message(shout("back"))
            expected = [ShoutNotice(payload=Text(text="back"))]
            assert await one.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
            assert await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
    finally:
        await layer.flush()
        redis.stop()


async def wait_for_subscription(url: str, channel: str, timeout: float = 10.0) -> None:
    """Until the layer's reconnected subscriber is back on ``channel`` (as Redis reports
    it): the layer retries once a second, so this waits on Redis' own state."""
    client = aioredis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            [(_, count)] = await client.pubsub_numsub(channel)
            if count:
                return
            assert time.monotonic() < deadline, f"no subscriber on {channel} in {timeout}s"
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()

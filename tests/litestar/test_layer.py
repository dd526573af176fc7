"""Groups and events over the ChannelsPlugin: subscriptions, publishes, which app a
class-level sender reaches, processes without an app, Redis streams."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack

import httpx
import pytest
from litestar import Litestar, Response, post
from litestar.background_tasks import BackgroundTask
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from chanx.constants import CLOSE_SERVER_ERROR, EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core import binding
from chanx.core.groups import group_name
from chanx.core.layer import EventEnvelope
from chanx.ext.litestar import (
    ChannelsPluginLayer,
    ChanxPlugin,
    app_layer,
    bind_layer,
    standalone_layer,
)
from chanx.ext.litestar.layer import MAX_CHANNEL_LENGTH
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import WebsocketCommunicator
from examples.litestar_chat.app import create_app
from examples.litestar_chat.consumers import ChatConsumer
from examples.litestar_chat.messages import (
    ChatMessage,
    ChatNotification,
    ChatPayload,
    NotificationEvent,
    NotificationMessage,
    NotificationPayload,
    WhoAmIMessage,
)
from tests.litestar.backends import backend, channels_plugin, unique_prefix

ALICE = {"authorization": "Bearer alice-token"}


def notification(text: str) -> NotificationMessage:
    return NotificationMessage(payload=NotificationPayload(message=text))


def event(text: str) -> NotificationEvent:
    return NotificationEvent(payload=NotificationPayload(message=text))


async def channel_name(comm: WebsocketCommunicator) -> str:
    await comm.send_message(WhoAmIMessage())
    [reply] = await comm.receive_all_messages()
    return str(reply.payload.channel_name)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- one process


class CountingBackend(MemoryChannelsBackend):
    """The memory backend, recording what the plugin asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = tuple(channels)
        self.calls.append(("subscribe", channels))
        await super().subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = tuple(channels)
        self.calls.append(("unsubscribe", channels))
        await super().unsubscribe(channels)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        channels = tuple(channels)
        self.calls.append(("publish", channels))
        await super().publish(data, channels)


async def test_one_subscription_and_one_publish_per_group_not_per_member() -> None:
    counting = CountingBackend()
    plugin = ChannelsPlugin(backend=counting, arbitrary_channels_allowed=True)
    async with lifespan(create_app(plugin)) as app:
        layer = app_layer(app)
        room = layer.group_channel(group_name("room", "kitchen"))
        assert room == f"chanx.g.{group_name('room', 'kitchen')}"
        path = "/ws/room/kitchen"
        async with (
            WebsocketCommunicator(app, path) as first,
            WebsocketCommunicator(app, path) as second,
            WebsocketCommunicator(app, path) as third,
        ):
            assert layer.members(group_name("room", "kitchen")) == [
                c.tracker.consumer.channel_name  # type: ignore[union-attr]
                for c in (first, second, third)
            ]
            await first.send_message(ChatMessage(payload=ChatPayload(message="hi")))
            expected = [ChatNotification(payload=ChatPayload(message="hi"))]
            for comm in (first, second, third):
                got = await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
                assert got == expected
            await first.receive_all_messages()
        room_calls = [call for call in counting.calls if call[1] == (room,)]
        assert [kind for kind, _ in room_calls] == ["subscribe", "publish", "unsubscribe"]
        assert layer.group_names() == []


async def test_http_handlers_broadcast_and_send_events(app: Litestar) -> None:
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        WebsocketCommunicator(app, "/ws/chat") as first,
        WebsocketCommunicator(app, "/ws/chat") as second,
    ):
        response = await http.post("/notify", json={"message": "from a view"}, headers=ALICE)
        assert response.status_code == 202
        for comm in (first, second):
            got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [notification("from a view")]

        # A synchronous handler, run by Litestar in a worker thread.
        response = await http.post("/notify-sync", json={"message": "sync"}, headers=ALICE)
        assert response.status_code == 202
        for comm in (first, second):
            got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [notification("sync")]

        target = await channel_name(second)
        response = await http.post(f"/direct/{target}", json={"message": "psst"}, headers=ALICE)
        assert response.status_code == 202
        got = await second.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [notification("psst")]
        await first.receive_nothing()


async def test_send_event_to_an_unknown_or_foreign_channel_name_is_dropped(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    async with WebsocketCommunicator(app, "/ws/chat") as comm:
        name = await channel_name(comm)
        await ChatConsumer.send_event(event("gone"), name + "0")  # no such connection
        with caplog.at_level(logging.WARNING, logger="chanx.litestar"):
            await ChatConsumer.send_event(event("elsewhere"), "memory.1.2.3")
        assert "not a chanx channel name" in caplog.text
        await comm.receive_nothing()


async def test_long_group_names_fit_postgres_channel_names(app: Litestar) -> None:
    layer = app_layer(app)
    long_a, long_b = "a" * 100, "a" * 99 + "b"
    channels = {layer.group_channel(name) for name in (long_a, long_b, "é" * 40)}
    assert len(channels) == 3
    assert all(len(channel.encode()) <= MAX_CHANNEL_LENGTH for channel in channels)
    async with (
        WebsocketCommunicator(app, f"/ws/room/{long_a}") as first,
        WebsocketCommunicator(app, f"/ws/room/{long_b}") as other,
    ):
        await first.send_message(ChatMessage(payload=ChatPayload(message="long")))
        assert len(await first.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)) == 1
        await other.receive_nothing()


# ---------------------------------------------------------------- which app a sender reaches


@pytest.fixture
async def two_apps() -> AsyncIterator[list[Litestar]]:
    async with (
        lifespan(create_app(memory_channels())) as a,
        lifespan(create_app(memory_channels())) as b,
    ):
        yield [a, b]


async def test_class_level_senders_pick_the_app_of_the_request(two_apps: list[Litestar]) -> None:
    a, b = two_apps
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=b), base_url="http://b") as http_b,
        WebsocketCommunicator(a, "/ws/chat") as on_a,
        WebsocketCommunicator(b, "/ws/chat") as on_b,
    ):
        # Inside app B's request (an async and a sync handler), B's layer is used.
        for route in ("/notify", "/notify-sync"):
            response = await http_b.post(route, json={"message": route}, headers=ALICE)
            assert response.status_code == 202
            got = await on_b.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [notification(route)]
        await on_a.receive_nothing()

        # Outside any request, with both apps mounting ChatConsumer: ambiguous, says so.
        with pytest.raises(RuntimeError, match="2 apps with their own chanx layer"):
            await ChatConsumer.broadcast_event(event("which?"), "users")
        with bind_layer(a):
            await ChatConsumer.broadcast_event(event("to a"), "users")
            await asyncio.to_thread(ChatConsumer.broadcast_event_sync, event("a, sync"), "users")
        got = await on_a.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        got += await on_a.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [notification("to a"), notification("a, sync")]
        await on_b.receive_nothing()

        # A layer object binds the same way as its app.
        with bind_layer(app_layer(b)) as bound:
            assert bound is app_layer(b)
            await ChatConsumer.broadcast_event(event("to b"), "users")
        got = await on_b.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [notification("to b")]
        await on_a.receive_nothing()


async def test_without_a_running_app_senders_say_what_to_do(stopped_app: Litestar) -> None:
    with pytest.raises(RuntimeError, match="no Litestar app with ChanxPlugin is running"):
        await ChatConsumer.broadcast_event(event("nobody"), "users")


@pytest.fixture
def stopped_app() -> Litestar:
    # Built in a fixture: Litestar configures logging when an app is created, which
    # would drop the handler pytest's caplog installs for the test itself.
    return create_app(memory_channels())


async def test_consumers_of_an_app_whose_lifespan_is_not_running_fail_clearly(
    stopped_app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    comm = WebsocketCommunicator(stopped_app, "/ws/chat")
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await comm.connect()
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_SERVER_ERROR
    assert "lifespan has not started" in caplog.text
    await comm.disconnect()


# ---------------------------------------------------------------- real backends


@pytest.mark.redis
async def test_a_process_without_an_app_publishes_through_standalone_layer() -> None:
    prefix = unique_prefix()
    async with AsyncExitStack() as stack:
        server_backend = await stack.enter_async_context(backend("redis"))
        app = await stack.enter_async_context(
            lifespan(create_app(channels_plugin(server_backend), prefix=prefix))
        )
        comm = await stack.enter_async_context(WebsocketCommunicator(app, "/ws/chat"))
        name = await channel_name(comm)
        worker_backend = await stack.enter_async_context(backend("redis"))
        async with standalone_layer(worker_backend, prefix=prefix) as layer:
            assert isinstance(layer, ChannelsPluginLayer)
            await ChatConsumer.broadcast_event(event("from a worker"), "users")
            await ChatConsumer.send_event(event("just you"), name)
        got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        got += await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [notification("from a worker"), notification("just you")]


@pytest.mark.redis
async def test_redis_streams_across_apps_without_replaying_history() -> None:
    """Litestar's streams backend replays a stream's retained entries to a process that
    starts reading it; chanx drops those (they predate the member joining).

    The apps start and stop inside the test body: stopping the streams backend right
    after pytest-asyncio restarts the loop (as fixture teardown does) can hang in
    Litestar's subscriber task, whatever chanx does.
    """
    prefix = unique_prefix()
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(2):
            chosen = await stack.enter_async_context(backend("redis-streams"))
            apps.append(
                await stack.enter_async_context(
                    lifespan(create_app(channels_plugin(chosen), prefix=prefix))
                )
            )
        a, b = apps
        path = "/ws/room/streams"
        # History: two messages in the room before anyone on B listens.
        async with WebsocketCommunicator(a, path) as early:
            for text in ("old 1", "old 2"):
                await early.send_message(ChatMessage(payload=ChatPayload(message=text)))
                await early.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
                await early.receive_all_messages()
        async with WebsocketCommunicator(a, path) as on_a, WebsocketCommunicator(b, path) as on_b:
            await on_a.send_message(ChatMessage(payload=ChatPayload(message="new")))
            expected = [ChatNotification(payload=ChatPayload(message="new"))]
            assert await on_b.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
            assert await on_a.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
            await on_b.receive_nothing(timeout=0.2)
        async with WebsocketCommunicator(a, "/ws/chat") as chat_on_a:
            name = await channel_name(chat_on_a)
            with bind_layer(b):
                await ChatConsumer.send_event(event("direct"), name)
            got = await chat_on_a.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [notification("direct")]


async def test_layer_envelopes_on_the_wire_carry_origin_and_sequence() -> None:
    """What one process publishes, as another reads it: the core wire format plus the
    publisher's origin and a sequence number (and the target for direct sends)."""
    counting = CountingBackend()
    published: list[bytes] = []
    original = counting.publish

    async def keep(data: bytes, channels: Iterable[str]) -> None:
        published.append(data)
        await original(data, channels)

    counting.publish = keep  # type: ignore[method-assign]
    async with ChannelsPlugin(backend=counting, arbitrary_channels_allowed=True) as plugin:
        layer = ChannelsPluginLayer(plugin, prefix=unique_prefix())
        await layer.start()
        try:
            await layer.send_group("g", EventEnvelope.of(event("e")))
            await layer.send_to(f"{layer.prefix}i.other!7", EventEnvelope.of(event("d")))
        finally:
            await layer.stop()
    import json

    group, direct = (json.loads(data) for data in published)
    assert group["type"] == "chanx.envelope"
    assert group["kind"] == "event"
    assert group["origin"]
    assert group["seq"] == 1
    assert direct["to"] == f"{layer.prefix}i.other!7"
    assert direct["seq"] == 2


async def test_background_tasks_of_a_request_reach_their_own_app() -> None:
    """A Litestar ``BackgroundTask`` runs after the response, still in the request's
    context: its class-level sender uses the app that served the request."""

    @post("/later", status_code=202)
    async def later() -> Response[None]:
        task = BackgroundTask(ChatConsumer.broadcast_event, event("after the response"), "users")
        return Response(None, status_code=202, background=task)

    def build() -> Litestar:
        return Litestar(
            route_handlers=[ChatConsumer.as_route_handler("/ws/chat"), later],
            plugins=[memory_channels(), ChanxPlugin()],
        )

    async with lifespan(build()) as a, lifespan(build()) as b:
        transport = httpx.ASGITransport(app=b)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://b") as http,
            WebsocketCommunicator(a, "/ws/chat") as on_a,
            WebsocketCommunicator(b, "/ws/chat") as on_b,
        ):
            assert (await http.post("/later")).status_code == 202
            got = await on_b.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [notification("after the response")]
            await on_a.receive_nothing()


def test_cores_layer_functions_read_a_litestar_apps_binding() -> None:
    app = create_app()
    assert binding.app_layer(app) is app_layer(app)
    with binding.bind_layer(app) as chosen:
        assert chosen is app_layer(app)

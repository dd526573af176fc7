"""The chanx consumer as a Channels consumer: routing, scope, channel layer, names that
both Channels and chanx define, the fallback without a layer, and HTTP views."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from io import StringIO
from typing import Any, Literal

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.routing import URLRouter
from django.core.management import call_command
from django.test import AsyncClient
from django.test.utils import override_settings
from django.urls import re_path

from chanx.constants import CLOSE_SERVER_ERROR, EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from chanx.core.decorators import event_handler, ws_handler
from chanx.core.layer import EventEnvelope, GroupMessage, envelope_to_wire
from chanx.ext.channels.layer import ChannelsGroupLayer
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import ConnectionClosed, WebsocketCommunicator
from examples.django_chat.asgi import application as example_application
from examples.django_chat.chat.consumers import RoomConsumer
from examples.django_chat.chat.messages import Announcement, RoomNotice, SayMessage, SayPayload

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


class Where(BaseMessage):
    action: Literal["where"] = "where"
    payload: None = None


class Here(BaseMessage):
    action: Literal["here"] = "here"
    payload: dict[str, Any]


class Bye(BaseMessage):
    action: Literal["bye"] = "bye"
    payload: int | None = None


class Ping2(BaseMessage):
    action: Literal["poke"] = "poke"
    payload: None = None


class Poked(BaseMessage):
    action: Literal["poked"] = "poked"
    payload: str


class ScopeConsumer(AsyncJsonWebsocketConsumer):
    """Reports what it sees; answers raw Channels messages too."""

    async def get_groups(self) -> list[str]:
        return [f"scope_{self.path_params['name']}"]

    def select_subprotocol(self, requested: Any) -> str | None:
        return "chanx.v1" if "chanx.v1" in requested else None

    @ws_handler
    async def handle_where(self, message: Where) -> Here:
        return Here(
            payload={
                "url_route": self.scope["url_route"]["kwargs"],
                "path_params": self.path_params,
                "has_layer": self.channel_layer is not None,
                "channel_name": self.channel_name,
                "user": str(self.user),
            }
        )

    @ws_handler
    async def handle_bye(self, message: Bye) -> None:
        if message.payload is None:
            await self.send_json({"action": "leaving", "payload": None}, close=True)
        else:
            await self.close(code=message.payload)

    @event_handler
    async def handle_poke(self, event: Ping2) -> Poked:
        return Poked(payload="by event")

    async def custom_boom(self, message: dict[str, Any]) -> None:
        raise RuntimeError("boom from a layer message")

    async def custom_stop(self, message: dict[str, Any]) -> None:
        raise StopConsumer

    async def custom_hello(self, message: dict[str, Any]) -> None:
        """A Channels-style handler, reached with {"type": "custom.hello"}."""
        await self.send_json({"action": "hello", "payload": message["text"]})


APP = AuthMiddlewareStack(
    URLRouter([re_path(r"^ws/scope/(?P<name>\w+)$", ScopeConsumer.as_asgi())])
)


@pytest.fixture(autouse=True)
def in_memory_layer() -> Iterator[None]:
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        yield


async def where(comm: WebsocketCommunicator) -> dict[str, Any]:
    await comm.send_message(Where())
    [here] = await comm.receive_all_json()
    return dict(here["payload"])


def test_it_is_a_channels_consumer() -> None:
    assert issubclass(ScopeConsumer, AsyncWebsocketConsumer)
    app = ScopeConsumer.as_asgi()
    assert app.consumer_class is ScopeConsumer  # Channels' as_asgi, not core's
    assert app.consumer_initkwargs == {}


async def test_url_route_kwargs_are_the_path_params() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/blue") as comm:
        seen = await where(comm)
        assert seen["url_route"] == {"name": "blue"}
        assert seen["path_params"] == {"name": "blue"}
        assert seen["user"] == "AnonymousUser"  # AuthMiddlewareStack's user, unauthenticated


async def test_channel_layer_and_channel_name_are_the_channels_ones() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/x") as comm:
        seen = await where(comm)
        assert seen["has_layer"]
        assert "!" in seen["channel_name"]  # a process-specific Channels channel
        consumer = comm.tracker.consumer  # type: ignore[union-attr]
        assert consumer.channel_layer is get_channel_layer()


async def test_subprotocol_is_selected() -> None:
    comm = WebsocketCommunicator(APP, "/ws/scope/x", subprotocols=["other", "chanx.v1"])
    accepted, subprotocol = await comm.connect()
    assert accepted
    assert subprotocol == "chanx.v1"
    await comm.disconnect()


@pytest.mark.off_contract("Channels-style handlers send raw JSON that no chanx model declares")
async def test_plain_channels_messages_reach_channels_style_handlers() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/raw") as comm:
        layer = get_channel_layer()
        await layer.group_send("scope_raw", {"type": "custom.hello", "text": "from a group"})
        assert await comm.receive_json() == {"action": "hello", "payload": "from a group"}
        name = (await where(comm))["channel_name"]
        await layer.send(name, {"type": "custom.hello", "text": "direct"})
        assert await comm.receive_json() == {"action": "hello", "payload": "direct"}


class LoggedTransport:
    def __init__(self, transport: Any, log: list[str]) -> None:
        self.transport, self.log = transport, log

    async def send_text(self, text: str) -> None:
        self.log.append("send")
        await self.transport.send_text(text)

    async def accept(self, subprotocol: str | None = None) -> None:
        await self.transport.accept(subprotocol)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.transport.close(code, reason)


async def test_members_woken_by_one_group_send_all_write_before_the_in_memory_scans() -> None:
    # InMemoryChannelLayer scans all its channels at the start of every receive; a
    # member must not start its next receive (the scan) before the others have written.
    layer = get_channel_layer()
    log: list[str] = []
    scan = layer._clean_expired

    def logged_scan() -> None:
        log.append("scan")
        scan()

    async with (
        WebsocketCommunicator(APP, "/ws/scope/fan") as one,
        WebsocketCommunicator(APP, "/ws/scope/fan") as two,
        WebsocketCommunicator(APP, "/ws/scope/fan") as three,
    ):
        for comm in (one, two, three):
            await where(comm)  # a round trip: its layer reader is waiting by now
            consumer = comm.tracker.consumer  # type: ignore[union-attr]
            consumer.transport = LoggedTransport(consumer.transport, log)
        layer._clean_expired = logged_scan
        try:
            # A relayed group message: no database clean-up (a thread hop) before it.
            text = '{"action":"here","payload":{}}'
            log.append("group_send")
            await layer.group_send("scope_fan", envelope_to_wire(GroupMessage(text)))
            for comm in (one, two, three):
                assert await comm.receive_json() == {"action": "here", "payload": {}}
        finally:
            del layer._clean_expired
        after = log[log.index("group_send") :]
        # Once the first member writes, the others write before anyone scans again.
        assert after[after.index("send") :][:3] == ["send", "send", "send"], after


async def test_plain_channels_code_can_send_chanx_events_on_the_wire_format() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/wire") as comm:
        wire = envelope_to_wire(EventEnvelope.of(Ping2()))
        await get_channel_layer().group_send("scope_wire", wire)
        assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == [
            Poked(payload="by event")
        ]


async def test_malformed_envelope_is_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/bad") as comm:
        with caplog.at_level(logging.WARNING, logger="chanx"):
            bad = {"type": "chanx.envelope", "kind": "?"}
            await get_channel_layer().group_send("scope_bad", bad)
            await comm.send_message(PingMessage())
            assert await comm.receive_all_messages() == [PongMessage()]
        assert "malformed chanx envelope" in caplog.text


async def test_a_failing_layer_message_closes_4500_with_the_traceback_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    comm = WebsocketCommunicator(APP, "/ws/scope/boom")
    await comm.connect()
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await get_channel_layer().group_send("scope_boom", {"type": "custom.boom"})
        with pytest.raises(ConnectionClosed) as closed:
            await comm.receive_json()
    assert closed.value.code == CLOSE_SERVER_ERROR
    [record] = caplog.records
    assert "'custom.boom' from the layer failed" in record.getMessage()
    assert "boom from a layer message" in str(record.exc_info[1])  # type: ignore[index]
    await comm.send_message(PingMessage())  # too late: nothing is handled any more
    await comm.receive_nothing()
    await comm.disconnect()


async def test_stop_consumer_from_a_layer_message_closes_normally() -> None:
    comm = WebsocketCommunicator(APP, "/ws/scope/stop")
    await comm.connect()
    await get_channel_layer().group_send("scope_stop", {"type": "custom.stop"})
    with pytest.raises(ConnectionClosed) as closed:
        await comm.receive_json()
    assert closed.value.code == 1000
    await comm.disconnect()


@pytest.mark.off_contract("Channels' send_json sends raw JSON that no chanx model declares")
async def test_send_json_close_and_close_keep_their_channels_meaning() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/a") as comm:
        await comm.send_message(Bye())
        assert await comm.receive_json() == {"action": "leaving", "payload": None}
        await comm.receive_nothing()
        assert comm.close_code == 1000
    async with WebsocketCommunicator(APP, "/ws/scope/b") as comm:
        await comm.send_message(Bye(payload=4321))
        await comm.receive_nothing()
        assert comm.close_code == 4321


async def test_without_a_channel_layer_groups_and_events_stay_in_process() -> None:
    with override_settings(CHANNEL_LAYERS={}):
        async with (
            WebsocketCommunicator(APP, "/ws/scope/solo") as first,
            WebsocketCommunicator(APP, "/ws/scope/solo") as second,
        ):
            seen = await where(first)
            assert not seen["has_layer"]
            assert seen["channel_name"].startswith("memory.")
            await ScopeConsumer.broadcast_event(Ping2(), ["scope_solo"])
            for comm in (first, second):
                got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
                assert got == [Poked(payload="by event")]


async def test_an_explicit_layer_wins_over_channel_layers() -> None:
    own = InMemoryChannelLayer()

    class Own(ScopeConsumer):
        layer = ChannelsGroupLayer(own)

    app = URLRouter([re_path(r"^ws/(?P<name>\w+)$", Own.as_asgi())])
    async with WebsocketCommunicator(app, "/ws/own") as comm:
        assert comm.tracker.consumer.channel_layer is own  # type: ignore[union-attr]
        await Own.broadcast_event(Ping2(), "scope_own")
        assert len(await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)) == 1
        # The settings' layer does not reach it.
        await ScopeConsumer.broadcast_event(Ping2(), "scope_own")
        await comm.receive_nothing()


async def test_the_layer_remembers_the_loop_serving_connections() -> None:
    async with WebsocketCommunicator(APP, "/ws/scope/loop"):
        layer = ScopeConsumer.get_layer()
        assert isinstance(layer, ChannelsGroupLayer)
        import asyncio

        assert layer.loop is asyncio.get_running_loop()


async def test_a_view_broadcasts_an_event_to_the_room() -> None:
    async with (
        WebsocketCommunicator(
            example_application, "/ws/rooms/lobby/", headers={"origin": "http://testserver"}
        ) as member,
        WebsocketCommunicator(
            example_application, "/ws/rooms/elsewhere/", headers={"origin": "http://testserver"}
        ) as outsider,
    ):
        response = await AsyncClient().post(
            "/rooms/lobby/announce", {"text": "doors close at 10"}, content_type="application/json"
        )
        assert response.status_code == 200
        assert response.json() == {"room": "lobby", "sent": "doors close at 10"}
        got = await member.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Announcement(payload=SayPayload(text="doors close at 10"))]
        await outsider.receive_nothing()


async def test_a_management_command_announces_to_the_room() -> None:
    origin = {"origin": "http://testserver"}
    async with WebsocketCommunicator(example_application, "/ws/rooms/cmd/", origin) as comm:
        out = StringIO()
        await sync_to_async(call_command)("announce", "cmd", "from a command", stdout=out)
        assert "announced" in out.getvalue()
        got = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [Announcement(payload=SayPayload(text="from a command"))]


async def test_the_view_refuses_a_bad_body() -> None:
    response = await AsyncClient().post(
        "/rooms/lobby/announce", {"nope": 1}, content_type="application/json"
    )
    assert response.status_code == 400


async def test_example_rooms_broadcast_to_members() -> None:
    headers = {"origin": "http://testserver"}
    async with (
        WebsocketCommunicator(example_application, "/ws/rooms/r1/", headers=headers) as one,
        WebsocketCommunicator(example_application, "/ws/rooms/r1/", headers=headers) as two,
    ):
        await one.send_message(SayMessage(payload=SayPayload(text="hi")))
        expected = [RoomNotice(payload=SayPayload(text="hi"))]
        assert await one.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert await two.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == expected
        assert RoomConsumer.get_layer() is ChannelsGroupLayer.for_alias("default")


async def test_the_origin_validator_still_guards_the_example() -> None:
    comm = WebsocketCommunicator(
        example_application, "/ws/rooms/r1/", headers={"origin": "http://evil.example"}
    )
    accepted, _ = await comm.connect()
    assert not accepted

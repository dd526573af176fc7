"""Connecting as a Channels consumer does, with chanx's sequence inside ``accept()``:
the channel exists before ``connect()``, ``accept()`` with or without ``super()``,
``close()``, ``DenyConnection``/``AcceptConnection``, authentication, groups and
``post_authentication`` in their documented order, failures closed with a code the
client sees, and the log lines that say when an override keeps chanx out."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Literal

import pytest
from channels.exceptions import AcceptConnection, DenyConnection, StopConsumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, CLOSE_SERVER_ERROR
from chanx.core.auth import AuthResult
from chanx.core.decorators import ws_handler
from chanx.ext.channels.layer import ChannelsGroupLayer
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from tests.servers import SHARED_REDIS

TIMEOUT = 5


class Relay(AsyncJsonWebsocketConsumer):
    async def relay(self, event: dict[str, Any]) -> None:
        """A Channels-style handler: ``{"type": "relay", "text": ...}`` from the layer."""
        await self.send(text_data=event["text"])


async def test_channel_name_exists_inside_connect_before_accept() -> None:
    class Room(Relay):
        async def connect(self) -> None:
            await self.channel_layer.group_add("room", self.channel_name)
            await self.accept()

    communicator = WebsocketCommunicator(Room.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    # Joined before the handshake was answered: a send right after the accept arrives.
    await get_channel_layer().group_send("room", {"type": "relay", "text": "hi"})
    assert await communicator.receive_from(TIMEOUT) == "hi"
    await communicator.disconnect(timeout=TIMEOUT)


@pytest.mark.redis
async def test_a_client_that_sees_the_accept_is_in_its_class_groups_already() -> None:
    # channels_redis' group_add is a round trip to Redis: the handshake answer waits for it.
    prefix = f"chanx-accept-{uuid.uuid4().hex}"
    consumer_layer = RedisChannelLayer(hosts=[SHARED_REDIS], prefix=prefix)
    elsewhere = RedisChannelLayer(hosts=[SHARED_REDIS], prefix=prefix)  # another process

    class Member(Relay):
        groups = ["members"]
        layer = ChannelsGroupLayer(consumer_layer)

    try:
        for _ in range(5):
            communicator = WebsocketCommunicator(Member.as_asgi(), "/")
            assert (await communicator.connect(TIMEOUT))[0]
            await elsewhere.group_send("members", {"type": "relay", "text": "in"})
            assert await communicator.receive_from(TIMEOUT) == "in"
            await communicator.disconnect(timeout=TIMEOUT)
    finally:
        await consumer_layer.flush()
        await elsewhere.flush()


class Recorder(AsyncJsonWebsocketConsumer):
    """Writes down each step of its connection."""

    steps: list[str]
    groups = ["recorded"]

    async def authenticate(self) -> AuthResult | None:
        self.steps.append("authenticate")
        if self.scope["path"] == "/refused":
            return AuthResult.deny(403, "no")
        return AuthResult.allow("ada")

    async def get_groups(self) -> Any:
        self.steps.append("get_groups")
        return await super().get_groups()

    async def post_authentication(self) -> None:
        self.steps.append(f"post_authentication in {list(self.joined_groups)}")

    async def on_disconnect(self, code: int) -> None:
        self.steps.append(f"on_disconnect {code}")


def recorder(**methods: Any) -> tuple[type[Recorder], list[str]]:
    steps: list[str] = []
    return type("Recorded", (Recorder,), {"steps": steps, **methods}), steps


async def test_accept_runs_chanx_connection_sequence_without_super() -> None:
    async def connect(self: Recorder) -> None:
        self.steps.append(f"connect as {self.user!r}")
        await self.accept()
        self.steps.append(f"accepted as {self.user!r}")

    async def disconnect(self: Recorder, code: int) -> None:
        self.steps.append(f"disconnect in {list(self.joined_groups)}")

    consumer, steps = recorder(connect=connect, disconnect=disconnect)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    # The client's first frame is the authentication result.
    authentication = await communicator.receive_json_from(TIMEOUT)
    assert authentication["action"] == "authentication"
    assert authentication["payload"]["status_code"] == 200
    await communicator.disconnect(code=1001, timeout=TIMEOUT)
    assert steps == [
        "connect as None",
        "authenticate",
        "get_groups",
        "post_authentication in ['recorded']",
        "accepted as 'ada'",
        "on_disconnect 1001",  # chanx leaves the groups, then Channels' hook runs
        "disconnect in []",
    ]


async def test_super_connect_then_more_work() -> None:
    async def connect(self: Recorder) -> None:
        await super(Recorder, self).connect()
        await self.send_json({"welcome": self.user})

    consumer, steps = recorder(connect=connect)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    assert (await communicator.receive_json_from(TIMEOUT))["action"] == "authentication"
    assert await communicator.receive_json_from(TIMEOUT) == {"welcome": "ada"}
    await communicator.disconnect(timeout=TIMEOUT)
    assert steps[:3] == ["authenticate", "get_groups", "post_authentication in ['recorded']"]


async def test_a_refused_authentication_ends_it_and_the_rest_of_connect_is_dropped() -> None:
    async def connect(self: Recorder) -> None:
        await self.accept()
        await self.send_json({"welcome": "refused clients never see this"})

    consumer, steps = recorder(connect=connect)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/refused")
    assert (await communicator.connect(TIMEOUT))[0]
    authentication = await communicator.receive_json_from(TIMEOUT)
    assert authentication["payload"]["status_code"] == 403
    assert await communicator.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": 4403,
        "reason": "",
    }
    await communicator.wait(TIMEOUT)  # the consumer has ended
    assert steps == ["authenticate"]
    assert get_channel_layer().groups == {}


@pytest.mark.parametrize("how", ["close", "deny"])
async def test_close_or_deny_in_connect_refuses_the_handshake(how: str) -> None:
    async def connect(self: Recorder) -> None:
        if how == "close":
            await self.close()
        else:
            raise DenyConnection

    consumer, steps = recorder(connect=connect)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert await communicator.connect(TIMEOUT) == (False, 1000)
    await communicator.wait(TIMEOUT)
    assert steps == []  # no authentication, no groups, no hooks


async def test_accept_connection_raised_in_connect_accepts() -> None:
    async def connect(self: Recorder) -> None:
        raise AcceptConnection

    consumer, steps = recorder(connect=connect)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    assert (await communicator.receive_json_from(TIMEOUT))["payload"]["status_code"] == 200
    await communicator.disconnect(timeout=TIMEOUT)
    assert steps[-1] == "on_disconnect 1000"


async def test_a_failing_connect_closes_4500_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            raise RuntimeError("no luck")

    with caplog.at_level(logging.ERROR, "chanx"):
        communicator = WebsocketCommunicator(Broken.as_asgi(), "/")
        assert (await communicator.connect(TIMEOUT))[0]  # accepted so the code is seen
        closed = await communicator.receive_output(TIMEOUT)
        await communicator.wait(TIMEOUT)
    assert closed["code"] == CLOSE_SERVER_ERROR
    assert "Broken.connect() failed (RuntimeError: no luck)" in caplog.text


async def test_an_unreachable_layer_in_connect_closes_4503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Tutorial(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1")

    with caplog.at_level(logging.WARNING, "chanx"):
        communicator = WebsocketCommunicator(Tutorial.as_asgi(), "/")
        assert (await communicator.connect(TIMEOUT))[0]
        closed = await communicator.receive_output(TIMEOUT)
        await communicator.wait(TIMEOUT)
    assert closed["code"] == CLOSE_LAYER_UNAVAILABLE
    assert "Error 111" in caplog.text


class Approve(BaseMessage):
    action: Literal["approve"] = "approve"
    payload: None = None


async def test_a_pending_handshake_is_logged_once_and_can_be_accepted_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connecting: asyncio.Queue[str] = asyncio.Queue()

    class Later(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            connecting.put_nowait(self.channel_name)  # accepted when the layer says so

        async def gate_open(self, message: dict[str, Any]) -> None:
            await self.accept()

    with caplog.at_level(logging.WARNING, "chanx"):
        communicator = WebsocketCommunicator(Later.as_asgi(), "/")
        await communicator.send_input({"type": "websocket.connect"})
        name = await asyncio.wait_for(connecting.get(), TIMEOUT)
        await get_channel_layer().send(name, {"type": "gate.open"})
        assert (await communicator.receive_output(TIMEOUT))["type"] == "websocket.accept"
        await communicator.send_json_to({"action": "ping"})
        assert await communicator.receive_json_from(TIMEOUT) == {"action": "pong", "payload": None}
        await communicator.disconnect(timeout=TIMEOUT)
        second = WebsocketCommunicator(Later.as_asgi(), "/")
        await second.send_input({"type": "websocket.connect"})
        await asyncio.wait_for(connecting.get(), TIMEOUT)
        await second.disconnect(timeout=TIMEOUT)
    pending = [r for r in caplog.records if "returned without accept() or close()" in r.message]
    assert len(pending) == 1  # once per class
    assert "Later.connect()" in pending[0].message


async def test_stop_consumer_from_a_frame_handler_closes_the_socket() -> None:
    class Quitter(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            raise StopConsumer

    communicator = WebsocketCommunicator(Quitter.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_json_to({"bye": True})
    # A server keeps the socket of an application that returned open: chanx closes it.
    assert await communicator.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": 1000,
        "reason": "",
    }
    await communicator.wait(TIMEOUT)


async def test_an_exception_in_channels_style_frame_code_propagates_as_in_channels() -> None:
    class Crashing(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            raise KeyError("message")

    communicator = WebsocketCommunicator(Crashing.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_json_to({"no message": True})
    with pytest.raises(KeyError):
        await communicator.wait(TIMEOUT)
    # And the client was told, before the application ended.
    assert communicator.output_queue.get_nowait() == {
        "type": "websocket.close",
        "code": CLOSE_SERVER_ERROR,
        "reason": "",
    }


async def test_frames_sent_after_close_are_dropped() -> None:
    class Chatty(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def handle_approve(self, message: Approve) -> None:
            await self.close(code=4000)
            await self.send_json({"too": "late"})
            await self.close(code=4001)  # once closed, closed

    communicator = WebsocketCommunicator(Chatty.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_json_to({"action": "approve"})
    assert (await communicator.receive_output(TIMEOUT))["code"] == 4000
    await communicator.disconnect(timeout=TIMEOUT)
    assert communicator.output_queue.empty()


@pytest.mark.parametrize("failing", ["close(1011) in connect()", "get_groups() raises"])
async def test_a_close_code_the_server_refuses_never_leaves_the_socket_open(failing: str) -> None:
    # daphne refuses close codes other than 1000 and 3000-4999 (it raises on the send).
    sent: list[dict[str, Any]] = []
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(message: dict[str, Any]) -> None:
        code = message.get("code", 1000)
        if message["type"] == "websocket.close" and code != 1000 and not 3000 <= code <= 4999:
            raise ValueError(f"invalid close code {code}")
        sent.append(message)

    class Refusing(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept()
            if failing.startswith("close"):
                await self.close(code=1011)  # the server refuses it: nothing is closed yet

        async def get_groups(self) -> list[str]:
            if failing.startswith("get_groups"):
                raise RuntimeError("no groups today")
            return []

    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}
    task = asyncio.ensure_future(Refusing.as_asgi()(scope, inbox.get, send))
    inbox.put_nowait({"type": "websocket.connect"})
    await asyncio.wait_for(task, TIMEOUT)  # a failing connect(): closed, and the consumer ends
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[-1]["code"] == CLOSE_SERVER_ERROR

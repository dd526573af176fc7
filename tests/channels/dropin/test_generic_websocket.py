"""Channels' generic websocket consumer scenarios, on chanx's class.

Each test is a behaviour Channels' own suite checks for its ``AsyncWebsocketConsumer`` /
``AsyncJsonWebsocketConsumer``, written here for a subclass of
``chanx.ext.channels.websocket.AsyncJsonWebsocketConsumer`` and driven by Channels'
``WebsocketCommunicator``. Where chanx answers differently on purpose (binary frames,
layer messages without a handler), the test says what chanx does instead.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer as ChannelsJsonConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import SessionMiddlewareStack
from channels.testing import WebsocketCommunicator
from django.test.utils import override_settings

from chanx.constants import CLOSE_SERVER_ERROR
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer

TIMEOUT = 5  # seconds to wait for something that must come


def test_it_is_a_channels_json_consumer() -> None:
    assert issubclass(AsyncJsonWebsocketConsumer, ChannelsJsonConsumer)
    assert issubclass(AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer)


async def test_connect_receive_and_disconnect_overrides_run_as_in_channels() -> None:
    seen: dict[str, Any] = {}

    class Echo(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            seen["connected"] = True
            await self.accept()

        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            seen["received"] = (text_data, bytes_data)
            await self.send(text_data=text_data, bytes_data=bytes_data)

        async def disconnect(self, code: int) -> None:
            seen["disconnected"] = code

    communicator = WebsocketCommunicator(Echo.as_asgi(), "/testws/")
    connected, _ = await communicator.connect(TIMEOUT)
    assert connected
    assert seen["connected"]
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_from(TIMEOUT) == "hello"
    assert seen["received"] == ("hello", None)
    await communicator.send_to(bytes_data=b"w\0\0\0")
    assert await communicator.receive_from(TIMEOUT) == b"w\0\0\0"
    assert seen["received"] == (None, b"w\0\0\0")
    await communicator.disconnect(code=4321, timeout=TIMEOUT)
    assert seen["disconnected"] == 4321


async def test_a_consumer_instance_is_an_application_too() -> None:
    class Hello(AsyncJsonWebsocketConsumer):
        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            await self.send(text_data=f"hello {text_data}")

    communicator = WebsocketCommunicator(Hello(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_to(text_data="you")
    assert await communicator.receive_from(TIMEOUT) == "hello you"
    await communicator.disconnect(timeout=TIMEOUT)


async def test_each_connection_has_its_own_scope_behind_session_middleware() -> None:
    class Path(AsyncJsonWebsocketConsumer):
        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            await self.send(text_data=self.scope["path"])

    app = SessionMiddlewareStack(Path.as_asgi())
    first = WebsocketCommunicator(app, "/first/")
    second = WebsocketCommunicator(app, "/second/")
    assert (await first.connect(TIMEOUT))[0]
    assert (await second.connect(TIMEOUT))[0]
    await second.send_to(text_data="where?")  # the later connection answers first
    assert await second.receive_from(TIMEOUT) == "/second/"
    await first.send_to(text_data="where?")
    assert await first.receive_from(TIMEOUT) == "/first/"
    await first.disconnect(timeout=TIMEOUT)
    await second.disconnect(timeout=TIMEOUT)


async def test_connect_accepts_the_subprotocol_it_names() -> None:
    class Sub(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            assert self.scope["subprotocols"] == ["subprotocol1", "subprotocol2"]
            await self.accept("subprotocol2")

    communicator = WebsocketCommunicator(
        Sub.as_asgi(), "/testws/", subprotocols=["subprotocol1", "subprotocol2"]
    )
    assert await communicator.connect(TIMEOUT) == (True, "subprotocol2")
    await communicator.disconnect(timeout=TIMEOUT)


async def test_class_groups_are_joined_on_connect_and_left_on_disconnect() -> None:
    seen: dict[str, Any] = {}

    class Chat(AsyncJsonWebsocketConsumer):
        groups = ["chat"]

        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            seen["received"] = (text_data, bytes_data)
            await self.send(text_data=text_data, bytes_data=bytes_data)

    communicator = WebsocketCommunicator(Chat.as_asgi(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    layer = get_channel_layer()
    # A group message dispatched like a client frame, as in Channels.
    await layer.group_send("chat", {"type": "websocket.receive", "text": "hello"})
    assert await communicator.receive_from(TIMEOUT) == "hello"
    assert seen["received"] == ("hello", None)
    await communicator.disconnect(timeout=TIMEOUT)
    assert layer.groups == {}


async def test_channel_layer_alias_picks_the_layer() -> None:
    class Aliased(AsyncJsonWebsocketConsumer):
        channel_layer_alias = "testlayer"

        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            await self.send(text_data=text_data, bytes_data=bytes_data)

    layers = {"testlayer": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        communicator = WebsocketCommunicator(Aliased.as_asgi(), "/testws/")
        assert (await communicator.connect(TIMEOUT))[0]
        layer = get_channel_layer("testlayer")
        assert layer is not None
        # The connection reads its channel from the start: the layer knows it already.
        [channel_name] = list(layer.channels)
        await layer.send(channel_name, {"type": "websocket.receive", "text": "hello"})
        assert await communicator.receive_from(TIMEOUT) == "hello"
        await communicator.disconnect(timeout=TIMEOUT)


async def test_json_consumer_receive_json_and_send_json() -> None:
    seen: dict[str, Any] = {}

    class Json(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept()

        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            seen["received"] = content
            await self.send_json(content)

    communicator = WebsocketCommunicator(Json.as_asgi(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_json_to({"hello": "world"})
    assert await communicator.receive_json_from(TIMEOUT) == {"hello": "world"}
    assert seen["received"] == {"hello": "world"}
    # Deliberate difference: Channels raises ValueError on a binary frame (the
    # application dies); chanx answers with an error and the connection stays usable.
    await communicator.send_to(bytes_data=b"w\0\0\0")
    error = await communicator.receive_json_from(TIMEOUT)
    assert error["action"] == "error"
    assert error["payload"]["errors"][0]["type"] == "binary_frame"
    await communicator.send_json_to({"still": "here"})
    assert await communicator.receive_json_from(TIMEOUT) == {"still": "here"}
    await communicator.disconnect(timeout=TIMEOUT)


@pytest.mark.parametrize("kind", ["_my_private_handler", ".my_private_handler"])
async def test_a_layer_message_cannot_reach_a_private_method(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    called: list[Any] = []

    class Private(AsyncJsonWebsocketConsumer):
        channel_layer_alias = "testlayer"

        async def _my_private_handler(self, message: Any) -> None:
            called.append(message)
            await self.send(text_data="should never be called")

    layers = {"testlayer": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=layers), caplog.at_level(logging.ERROR, "chanx"):
        communicator = WebsocketCommunicator(Private.as_asgi(), "/testws/")
        assert (await communicator.connect(TIMEOUT))[0]
        layer = get_channel_layer("testlayer")
        [channel_name] = list(layer.channels)
        await layer.send(channel_name, {"type": kind, "text": "hello"})
        # Deliberate difference: Channels lets the ValueError end the application;
        # chanx closes the connection with a code the client sees, and logs why.
        closed = await communicator.receive_output(TIMEOUT)
        assert closed == {"type": "websocket.close", "code": CLOSE_SERVER_ERROR, "reason": ""}
        await communicator.disconnect(timeout=TIMEOUT)
    assert called == []
    assert "Malformed type in message (leading underscore)" in caplog.text


async def test_a_layer_message_without_a_handler_closes_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    communicator = WebsocketCommunicator(AsyncJsonWebsocketConsumer.as_asgi(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    layer = get_channel_layer()
    [channel_name] = list(layer.channels)
    with caplog.at_level(logging.ERROR, "chanx"):
        await layer.send(channel_name, {"type": "nobody.home"})
        closed = await communicator.receive_output(TIMEOUT)
    assert closed["code"] == CLOSE_SERVER_ERROR
    assert "No handler for message type nobody.home" in caplog.text
    await communicator.disconnect(timeout=TIMEOUT)


async def test_accept_sends_the_headers_it_is_given() -> None:
    class Headers(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept(headers=[[b"foo", b"bar"]])

    communicator = WebsocketCommunicator(Headers.as_asgi(), "/testws/", spec_version="2.3")
    assert (await communicator.connect(TIMEOUT))[0]
    assert communicator.response_headers == [[b"foo", b"bar"]]
    await communicator.disconnect(timeout=TIMEOUT)


async def test_close_sends_its_code_and_reason() -> None:
    class Closing(AsyncJsonWebsocketConsumer):
        async def connect(self) -> None:
            await self.accept()
            await self.close(code=4007, reason="test reason")

    communicator = WebsocketCommunicator(Closing.as_asgi(), "/testws/", spec_version="2.3")
    assert (await communicator.connect(TIMEOUT))[0]
    closed = await communicator.receive_output(TIMEOUT)
    assert closed == {"type": "websocket.close", "code": 4007, "reason": "test reason"}
    await communicator.disconnect(timeout=TIMEOUT)


async def test_a_receive_event_with_text_none_is_a_binary_frame() -> None:
    class Sizes(AsyncJsonWebsocketConsumer):
        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            if text_data:
                await self.send(text_data=f"Received text: {text_data}")
            elif bytes_data:
                await self.send(text_data=f"Received bytes of length: {len(bytes_data)}")

    communicator = WebsocketCommunicator(Sizes.as_asgi(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    # Hypercorn sends both keys, text None; uvicorn and daphne send only "bytes".
    await communicator.send_input(
        {"type": "websocket.receive", "text": None, "bytes": b"test data"}
    )
    assert await communicator.receive_from(TIMEOUT) == "Received bytes of length: 9"
    await communicator.send_input({"type": "websocket.receive", "bytes": b"more data"})
    assert await communicator.receive_from(TIMEOUT) == "Received bytes of length: 9"
    await communicator.send_input({"type": "websocket.receive", "text": "Hello, world!"})
    assert await communicator.receive_from(TIMEOUT) == "Received text: Hello, world!"
    await communicator.disconnect(timeout=TIMEOUT)


async def test_send_json_uses_channels_encoding() -> None:
    class Json(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            await self.send_json(content)

    communicator = WebsocketCommunicator(Json.as_asgi(), "/testws/")
    assert (await communicator.connect(TIMEOUT))[0]
    await communicator.send_json_to({"a": [1, 2]})
    assert await communicator.receive_from(TIMEOUT) == json.dumps({"a": [1, 2]})
    await communicator.disconnect(timeout=TIMEOUT)

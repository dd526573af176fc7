"""Frames on a consumer migrating from Channels: what ``@ws_handler`` takes, what reaches
``receive_json``, what chanx's engine answers, ``decode_json``/``encode_json`` overrides
on every path, and the log line when ``receive()`` keeps frames from chanx."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any, Literal

import pytest
from channels.testing import WebsocketCommunicator
from pydantic import BaseModel

from chanx.core.decorators import ws_handler
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage

TIMEOUT = 5
PONG = {"action": "pong", "payload": None}


class Price(BaseModel):
    amount: Decimal


class Quote(BaseMessage):
    action: Literal["quote"] = "quote"
    payload: Price


class Quoted(BaseMessage):
    action: Literal["quoted"] = "quoted"
    payload: Price


class Migrating(AsyncJsonWebsocketConsumer):
    """One action typed already, the rest still in ``receive_json``."""

    @ws_handler
    async def handle_quote(self, message: Quote) -> Quoted:
        return Quoted(payload=message.payload)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"untyped": content})


async def connected(consumer: type[Any]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect(TIMEOUT))[0]
    return communicator


async def test_typed_actions_go_to_their_handler_and_the_rest_to_receive_json() -> None:
    communicator = await connected(Migrating)
    await communicator.send_json_to({"action": "quote", "payload": {"amount": "1.5"}})
    assert await communicator.receive_json_from(TIMEOUT) == {
        "action": "quoted",
        "payload": {"amount": "1.5"},
    }
    for frame in ({"message": "hi"}, {"action": "subscribe", "topic": "x"}, [1, 2], "text", 3):
        await communicator.send_json_to(frame)
        assert await communicator.receive_json_from(TIMEOUT) == {"untyped": frame}
    await communicator.send_json_to({"action": "ping"})  # chanx's built-in handler
    assert await communicator.receive_json_from(TIMEOUT) == PONG
    await communicator.disconnect(timeout=TIMEOUT)


async def test_a_typed_action_with_a_bad_payload_is_answered_by_chanx() -> None:
    communicator = await connected(Migrating)
    await communicator.send_json_to({"action": "quote", "payload": {"amount": "lots"}})
    error = await communicator.receive_json_from(TIMEOUT)
    assert error["action"] == "error"
    assert error["payload"]["errors"][0]["loc"] == ["payload", "amount"]
    await communicator.disconnect(timeout=TIMEOUT)


async def test_text_that_is_not_json_is_logged_and_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    communicator = await connected(Migrating)
    with caplog.at_level(logging.WARNING, "chanx"):
        await communicator.send_to(text_data="{not json")
        await communicator.send_json_to({"action": "ping"})
        assert await communicator.receive_json_from(TIMEOUT) == PONG  # and nothing before it
    assert "decode_json() refused (JSONDecodeError)" in caplog.text
    assert "{not json" not in caplog.text
    await communicator.disconnect(timeout=TIMEOUT)


class HandsBack(AsyncJsonWebsocketConsumer):
    """Frames no handler takes go to ``receive_json``, which hands them back to chanx."""

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await super().receive_json(content)


class Decodes(AsyncJsonWebsocketConsumer):
    """``decode_json`` overridden (Channels' own), and one typed handler."""

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return json.loads(text_data)

    @ws_handler
    async def handle_quote(self, message: Quote) -> Quoted:
        return Quoted(payload=message.payload)


DEEP = "[" * 100_000 + "]" * 100_000
UNPAIRED = '"\\ud800"'  # JSON text for a string holding half of a surrogate pair
HOSTILE_FRAMES = {
    "nested 100,000 deep": '{"action": "quote", "payload": ' + DEEP + "}",
    "unknown action, nested": '{"action": "other", "payload": ' + DEEP + "}",
    "unpaired surrogate": '{"action": "quote", "payload": {"amount": ' + UNPAIRED + "}}",
    "unknown action, unpaired surrogate": '{"action": "other", "payload": ' + UNPAIRED + "}",
}


@pytest.mark.parametrize("consumer", [Migrating, HandsBack, Decodes])
@pytest.mark.parametrize("frame", list(HOSTILE_FRAMES.values()), ids=list(HOSTILE_FRAMES))
async def test_text_python_decodes_but_chanx_cannot_take_is_ignored(
    consumer: type[Any], frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    """JSON nested deeper than Python's recursion limit, or whose strings hold half of a
    surrogate pair, decodes as far as Channels' ``decode_json`` goes, but has no JSON
    form for the engine: logged and ignored, like text that is not JSON, and the
    connection stays."""
    communicator = await connected(consumer)
    with caplog.at_level(logging.WARNING, "chanx"):
        await communicator.send_to(text_data=frame)
        await communicator.send_json_to({"action": "ping"})
        reply = await communicator.receive_json_from(TIMEOUT)
    if reply != PONG:  # Migrating's own receive_json may answer an unknown action first
        assert consumer is Migrating
        assert reply["untyped"]["action"] == "other"
        assert await communicator.receive_json_from(TIMEOUT) == PONG
    else:
        assert "ignored a frame" in caplog.text
    assert "Traceback" not in caplog.text
    await communicator.disconnect(timeout=TIMEOUT)


async def test_without_receive_json_chanx_answers_every_frame() -> None:
    communicator = await connected(AsyncJsonWebsocketConsumer)
    await communicator.send_json_to({"action": "subscribe"})
    error = await communicator.receive_json_from(TIMEOUT)
    assert error["payload"]["errors"][0]["type"] == "unknown_action"
    await communicator.send_json_to({"message": "hi"})  # not a chanx message: no reply
    await communicator.send_json_to({"action": "ping"})
    assert await communicator.receive_json_from(TIMEOUT) == PONG
    await communicator.disconnect(timeout=TIMEOUT)


async def test_receive_json_can_hand_a_frame_back_to_chanx() -> None:
    class Picky(AsyncJsonWebsocketConsumer):
        async def receive_json(self, content: Any, **kwargs: Any) -> None:
            if isinstance(content, dict) and "legacy" in content:
                await self.send_json({"legacy": True})
            else:
                await super().receive_json(content)

    communicator = await connected(Picky)
    await communicator.send_json_to({"legacy": 1})
    assert await communicator.receive_json_from(TIMEOUT) == {"legacy": True}
    await communicator.send_json_to({"action": "nope"})
    error = await communicator.receive_json_from(TIMEOUT)
    assert error["payload"]["errors"][0]["type"] == "unknown_action"
    await communicator.disconnect(timeout=TIMEOUT)


async def test_removing_the_builtin_ping_sends_ping_to_receive_json() -> None:
    class OwnPing(Migrating):
        async def handle_ping(self, message: PingMessage) -> PongMessage:  # not a handler now
            raise AssertionError("not called")

    communicator = await connected(OwnPing)
    await communicator.send_json_to({"action": "ping"})
    assert await communicator.receive_json_from(TIMEOUT) == {"untyped": {"action": "ping"}}
    await communicator.disconnect(timeout=TIMEOUT)


class Enveloped(Migrating):
    """A wire format of its own: every frame is ``{"v": 1, "data": <content>}``, and
    numbers are decoded as Decimal."""

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        frame = json.loads(text_data, parse_float=Decimal)
        assert frame["v"] == 1
        return frame["data"]

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return json.dumps({"v": 1, "data": content}, sort_keys=True)


async def test_encode_and_decode_overrides_apply_to_every_frame() -> None:
    communicator = await connected(Enveloped)
    # Typed handler: decoded by decode_json (a Decimal), reply encoded by encode_json.
    await communicator.send_to(
        text_data='{"v": 1, "data": {"action": "quote", "payload": {"amount": 2.50}}}'
    )
    assert await communicator.receive_from(TIMEOUT) == (
        '{"data": {"action": "quoted", "payload": {"amount": "2.50"}}, "v": 1}'
    )
    # receive_json and send_json.
    await communicator.send_to(text_data='{"v": 1, "data": {"message": "hi"}}')
    assert await communicator.receive_from(TIMEOUT) == (
        '{"data": {"untyped": {"message": "hi"}}, "v": 1}'
    )
    # chanx's own replies: the built-in pong, and errors.
    await communicator.send_to(text_data='{"v": 1, "data": {"action": "ping"}}')
    assert await communicator.receive_from(TIMEOUT) == (
        '{"data": {"action": "pong", "payload": null}, "v": 1}'
    )
    await communicator.send_to(bytes_data=b"\x00")
    error = json.loads(await communicator.receive_from(TIMEOUT))
    assert error["v"] == 1
    assert error["data"]["action"] == "error"
    await communicator.disconnect(timeout=TIMEOUT)


async def test_an_encoder_applies_to_group_messages_too() -> None:
    class Shout(BaseMessage):
        action: Literal["shout"] = "shout"
        payload: str

    class Loud(AsyncJsonWebsocketConsumer):
        groups = ["loud"]

        @classmethod
        async def encode_json(cls, content: Any) -> str:
            return json.dumps(content).upper()

        @ws_handler(output_type=Shout)
        async def handle_shout(self, message: Shout) -> None:
            await self.broadcast_message(message)

    one, other = await connected(Loud), await connected(Loud)
    await one.send_json_to({"action": "shout", "payload": "hey"})
    for communicator in (one, other):
        assert await communicator.receive_from(TIMEOUT) == '{"ACTION": "SHOUT", "PAYLOAD": "HEY"}'
        await communicator.disconnect(timeout=TIMEOUT)


@pytest.mark.parametrize("name", ["encode_json", "decode_json"])
def test_a_synchronous_encoder_or_decoder_is_refused_when_the_class_is_made(name: str) -> None:
    def sync(cls: type, value: Any) -> Any:
        return value

    with pytest.raises(TypeError, match=rf"Sync\.{name} must be an async classmethod"):
        type("Sync", (AsyncJsonWebsocketConsumer,), {name: classmethod(sync)})


async def test_a_receive_override_that_keeps_frames_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Raw(AsyncJsonWebsocketConsumer):
        async def receive(
            self, text_data: str | None = None, bytes_data: bytes | None = None
        ) -> None:
            if text_data == "mine":
                await self.send(text_data="kept")
            else:
                await super().receive(text_data, bytes_data)

    with caplog.at_level(logging.INFO, "chanx"):
        communicator = await connected(Raw)
        await communicator.send_json_to({"action": "ping"})  # passed on: no log line
        assert await communicator.receive_json_from(TIMEOUT) == PONG
        assert "kept a frame" not in caplog.text
        for _ in range(2):
            await communicator.send_to(text_data="mine")
            assert await communicator.receive_from(TIMEOUT) == "kept"
        await communicator.disconnect(timeout=TIMEOUT)
    [line] = [r.message for r in caplog.records if "kept a frame" in r.message]
    assert line.startswith("test_a_receive_override_that_keeps_frames_is_logged_once.<locals>.Raw")
    assert "never reach @ws_handler methods or the built-in ping" in line

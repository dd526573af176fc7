"""Handler discovery: decorators, routing tables, inheritance and mistakes caught early."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import pytest

from chanx.core.decorators import CHANNEL_ATTRIBUTE, ChannelInfo, channel, event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import BUILTIN_OUTGOING, PongMessage


class AMessage(BaseMessage):
    action: Literal["h_a"] = "h_a"


class BMessage(BaseMessage):
    action: Literal["h_b"] = "h_b"


class AReply(BaseMessage):
    action: Literal["h_a_reply"] = "h_a_reply"


class BReply(BaseMessage):
    action: Literal["h_b_reply"] = "h_b_reply"


class Notice(BaseMessage):
    action: Literal["h_notice"] = "h_notice"


class AnEvent(BaseMessage):
    action: Literal["h_event"] = "h_event"


def test_bare_and_configured_decorators_build_one_table() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def on_a(self, message: AMessage) -> AReply:
            return AReply()

        @ws_handler(output_type=Notice, summary="b", description="does b")
        async def on_b(self, message: BMessage) -> BReply | None:
            return None

        @event_handler
        async def on_event(self, event: AnEvent) -> AReply:
            return AReply()

    table = Consumer.message_handlers
    assert set(table.by_action) == {"ping", "h_a", "h_b"}
    assert table.by_action["h_b"].options.summary == "b"
    assert table.by_action["h_b"].output_types == (BReply, Notice)
    assert set(Consumer.event_handlers.by_action) == {"h_event"}
    assert Consumer.outgoing_message_types() == [
        AReply,
        BReply,
        Notice,
        *BUILTIN_OUTGOING,
    ]
    assert BUILTIN_OUTGOING[0] is PongMessage


def test_one_handler_can_take_a_union_of_messages() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def on_either(self, message: AMessage | BMessage) -> None:
            return None

    table = Consumer.message_handlers
    assert table.by_action["h_a"] is table.by_action["h_b"]
    assert isinstance(table.validate_json('{"action": "h_b"}'), BMessage)


def test_streaming_handlers_are_recognised_with_their_item_type() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def on_a(self, message: AMessage) -> AsyncIterator[AReply]:
            yield AReply()

    handler = Consumer.message_handlers.by_action["h_a"]
    assert handler.streaming
    assert handler.output_types == (AReply,)


def test_two_handlers_for_one_action_fail_at_class_creation() -> None:
    with pytest.raises(TypeError, match="action 'h_a' has two message handlers"):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler
            async def first(self, message: AMessage) -> None: ...

            @ws_handler
            async def second(self, message: AMessage) -> None: ...


def test_a_second_ping_handler_under_another_name_is_refused() -> None:
    with pytest.raises(TypeError, match="'my_ping' and 'handle_ping'"):

        class Consumer(AsyncJsonWebsocketConsumer):
            @ws_handler
            async def my_ping(self, message: PingMessage) -> None: ...


def test_overriding_a_handler_by_name_replaces_it() -> None:
    class Base(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def on_a(self, message: AMessage) -> AReply:
            return AReply()

    class Child(Base):
        @ws_handler
        async def on_a(self, message: AMessage) -> None:
            return None

    assert Child.message_handlers.by_action["h_a"].func is Child.__dict__["on_a"]
    assert Base.message_handlers.by_action["h_a"].func is Base.__dict__["on_a"]


def test_overriding_without_the_decorator_removes_the_handler() -> None:
    class Base(AsyncJsonWebsocketConsumer):
        @ws_handler
        async def on_a(self, message: AMessage) -> None: ...

    class Child(Base):
        async def on_a(self, message: AMessage) -> None:  # type: ignore[override]
            ...

    assert "h_a" in Base.message_handlers.by_action
    assert "h_a" not in Child.message_handlers.by_action


def test_handlers_from_plain_mixins_are_found() -> None:
    class Mixin:
        @ws_handler
        async def on_a(self, message: AMessage) -> AReply:
            return AReply()

    class Consumer(Mixin, AsyncJsonWebsocketConsumer):
        pass

    assert "h_a" in Consumer.message_handlers.by_action


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("def on_a(self, message: AMessage) -> None: ...", "async def"),
        ("async def on_a(self, message) -> None: ...", "annotate the message parameter"),
        ("async def on_a(self, message: int) -> None: ...", "annotate the message parameter"),
        ("async def on_a(self) -> None: ...", "exactly \\(self, message\\)"),
        ("async def on_a(self, message: 'Missing') -> None: ...", "cannot resolve"),
    ],
)
def test_mistakes_in_handler_signatures_are_reported(source: str, error: str) -> None:
    namespace: dict[str, object] = {"AMessage": AMessage}
    exec(source, namespace)
    func = ws_handler(namespace["on_a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=error):
        type("Broken", (AsyncJsonWebsocketConsumer,), {"on_a": func})


def test_event_and_message_handlers_are_separate_tables() -> None:
    class Consumer(AsyncJsonWebsocketConsumer):
        @event_handler
        async def on_a_event(self, event: AMessage) -> None: ...

        @ws_handler
        async def on_a_message(self, message: AMessage) -> None: ...

    assert Consumer.message_handlers.by_action["h_a"].name == "on_a_message"
    assert Consumer.event_handlers.by_action["h_a"].name == "on_a_event"


def test_channel_decorator_attaches_metadata() -> None:
    @channel(name="chat", description="Room chat", tags=["chat", "rooms"])
    class Consumer(AsyncJsonWebsocketConsumer):
        pass

    expected = ChannelInfo("chat", "Room chat", ("chat", "rooms"))
    assert getattr(Consumer, CHANNEL_ATTRIBUTE) == expected


def test_the_base_consumer_answers_ping() -> None:
    assert set(AsyncJsonWebsocketConsumer.message_handlers.by_action) == {"ping"}
    assert AsyncJsonWebsocketConsumer.event_handlers.adapter is None

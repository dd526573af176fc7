"""Mistakes explained in the server log: unknown actions, handlers that return no message."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from chanx.core.decorators import event_handler, ws_handler
from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator

INTERNAL_ERROR = {
    "action": "error",
    "payload": {
        "detail": "Internal server error",
        "errors": [{"loc": [], "msg": "Internal server error", "type": "internal_error"}],
    },
}


class Hello(BaseMessage):
    action: Literal["m_hello"] = "m_hello"


class Forgotten(BaseMessage):
    action: Literal["m_forgotten"] = "m_forgotten"


class AsDict(BaseMessage):
    action: Literal["m_dict"] = "m_dict"


class StreamOfDicts(BaseMessage):
    action: Literal["m_stream"] = "m_stream"


class DictEvent(BaseMessage):
    action: Literal["m_dict_event"] = "m_dict_event"


class Chat(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    @ws_handler
    async def handle_hello(self, message: Hello) -> PongMessage:
        return PongMessage()

    async def handle_forgotten(self, message: Forgotten) -> PongMessage:  # no @ws_handler
        return PongMessage()

    @ws_handler
    async def handle_dict(self, message: AsDict) -> Any:
        return {"action": "pong"}

    @ws_handler
    async def handle_stream(self, message: StreamOfDicts) -> AsyncIterator[Any]:
        yield PongMessage()
        yield ["not", "a", "message"]

    @event_handler
    async def on_dict_event(self, event: DictEvent) -> Any:
        return {"action": "pong"}


def warnings_and_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_an_unknown_action_logs_one_line_naming_it_and_the_consumer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.INFO, logger="chanx"):
            with comm.off_contract("an unknown action, on purpose"):
                await comm.send_json({"action": "no_such_thing", "payload": None})
            [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "unknown_action"
    [record] = warnings_and_errors(caplog)
    assert record.getMessage() == "Chat refused unknown action 'no_such_thing'"


async def test_the_action_is_escaped_and_cut(caplog: pytest.LogCaptureFixture) -> None:
    action = "x\n2026-01-01 CRITICAL forged\x1b[2J\u202e" + "y" * 500
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.INFO, logger="chanx"):
            with comm.off_contract("an unknown action, on purpose"):
                await comm.send_json({"action": action, "payload": None})
            await comm.receive_all_json()
    [record] = warnings_and_errors(caplog)
    line = record.getMessage()
    assert line.isprintable()
    assert line.isascii()
    assert "'x\\n2026-01-01 CRITICAL forged\\x1b[2J\\u202e" in line
    assert "y" * 65 not in line
    assert f"({len(action)} characters)" in line


async def test_at_debug_the_line_lists_the_actions_and_a_forgotten_decorator_is_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.DEBUG, logger="chanx"):
            with comm.off_contract("a message whose handler was not decorated, on purpose"):
                await comm.send_message(Forgotten())
            [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "unknown_action"
    [record] = warnings_and_errors(caplog)
    assert record.getMessage() == (
        "Chat refused unknown action 'm_forgotten'; Forgotten has this action, but no "
        "@ws_handler of Chat takes it; the actions it handles: m_dict, m_hello, m_stream, ping"
    )


async def test_a_handler_returning_a_dict_is_named_with_the_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.INFO, logger="chanx"):
            await comm.send_message(AsDict())
            assert await comm.receive_all_json() == [INTERNAL_ERROR]
    [record] = warnings_and_errors(caplog)
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(
        "Chat.handle_dict returned 'dict', not a message: return (or yield) a BaseMessage"
    )
    assert "send_json()" in record.getMessage()
    assert "AttributeError" not in caplog.text


async def test_a_stream_yielding_something_else_stops_with_the_same_explanation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.INFO, logger="chanx"):
            await comm.send_message(StreamOfDicts())
            got = await comm.receive_all_json()
        assert got == [{"action": "pong", "payload": None}, INTERNAL_ERROR]
    [record] = warnings_and_errors(caplog)
    assert record.getMessage().startswith("Chat.handle_stream yielded 'list', not a message")


async def test_an_event_handler_returning_a_dict_is_explained_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Chat.as_asgi(), "/ws") as comm:
        with caplog.at_level(logging.INFO, logger="chanx"):
            await Chat.send_event(DictEvent(), comm.tracker.consumer.channel_name)  # type: ignore[union-attr]
            got = await comm.receive_all_json(stop_action="event_complete")
        assert got == [INTERNAL_ERROR]
    [record] = warnings_and_errors(caplog)
    assert record.getMessage().startswith("Chat.on_dict_event returned 'dict', not a message")

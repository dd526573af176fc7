"""A client sending refused frames cannot flood the log: per connection, the first
refusal of each kind is a warning, the rest are summed up in one line when it ends."""

from __future__ import annotations

import logging

import pytest

from chanx.core.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import WebsocketCommunicator


class Small(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    max_message_size = 100


async def refuse_many(comm: WebsocketCommunicator) -> None:
    with comm.off_contract("refused frames, on purpose"):
        for n in range(100):
            await comm.send_json({"action": f"nope{n}", "payload": None})
        for _ in range(50):
            await comm.send_text("not json")
        for _ in range(10):
            await comm.send_bytes(b"\x00")
        for _ in range(5):
            await comm.send_text('{"action": "ping", "payload": "' + "x" * 200 + '"}')
    await comm.send_message(PingMessage())
    replies = await comm.receive_all_messages(stop_action="pong")
    assert replies[-1] == PongMessage()
    assert len(replies) == 100 + 10 + 5 + 1  # every refusal still answered


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_the_first_refusal_of_each_kind_is_a_warning_and_the_rest_are_summed_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="chanx"):
        comm = WebsocketCommunicator(Small.as_asgi(), "/ws")
        await comm.connect()
        consumer = comm.tracker.consumer if comm.tracker else None
        assert consumer is not None
        await refuse_many(comm)
        assert warnings(caplog) == [
            "Small refused unknown action 'nope0'",
            "ignored a frame that is not a chanx message: not valid JSON",
            "binary frame of 1 bytes refused",
            "frame of 233 characters over max_message_size=100 refused",
        ]
        caplog.clear()
        await comm.disconnect()
    assert warnings(caplog) == [
        f"Small {consumer.channel_name} refused 161 more frames from its client than were "
        "logged (binary frame: 9, frame over max_message_size: 4, not a chanx message: 49, "
        "unknown action: 99)"
    ]


async def test_each_connection_logs_its_own_first_refusals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="chanx"):
        for _ in range(2):
            async with WebsocketCommunicator(Small.as_asgi(), "/ws") as comm:
                with comm.off_contract("an unknown action, on purpose"):
                    await comm.send_json({"action": "nope", "payload": None})
                await comm.receive_all_messages()
    lines = [r for r in caplog.records if "refused unknown action" in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
    assert not [r for r in caplog.records if "more frames" in r.getMessage()]

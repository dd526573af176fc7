"""The demo against a client that probes it: fuzzed frames never come back in an error."""

from __future__ import annotations

from chanx.testing import WebsocketCommunicator
from examples.demo.app import app
from examples.demo.consumers import RoomConsumer
from tests.fuzz import check_schema_frame, for_each_example, frames_for


async def test_errors_never_echo_fuzzed_frames() -> None:
    async def check(frame: str) -> None:
        async with WebsocketCommunicator(app, "/ws/room/fuzz", consumer=RoomConsumer) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(RoomConsumer.message_handlers.inputs()), check)

"""Fuzzing every adapter: frames built from the behaviours' schemas, and any text at all.

No ``error`` the server sends carries text the client chose (a marker put in every
string, key, tag and action of valid frames and of every one-point mutation of them);
whatever the frame, text or binary, the connection stays usable and the server logs no
error.
"""

from __future__ import annotations

import pytest

from tests.conformance.behaviours import ECHO_PATH, ROOM_PATH, FailMessage, WaitMessage
from tests.conformance.drivers import Driver

# Every driver mounts the same behaviours: the asgi driver's classes give the schemas.
from tests.conformance.drivers.asgi import EchoConsumer, RoomConsumer
from tests.fuzz import (
    answer_to,
    check_no_echo_in_errors,
    check_schema_frame,
    for_each_example,
    frames_for,
    server_errors,
    whole_frames,
)

ROOM = ROOM_PATH.format(room="fuzz")
# handle_fail raises on purpose; handle_wait waits (up to half a second) on purpose.
ECHO_INPUTS = [
    cls for cls in EchoConsumer.message_handlers.inputs() if cls not in (FailMessage, WaitMessage)
]


async def test_errors_never_echo_echo_frames(driver: Driver) -> None:
    async def check(frame: str) -> None:
        async with driver.communicator(ECHO_PATH) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(ECHO_INPUTS), check)


async def test_errors_never_echo_room_frames(driver: Driver) -> None:
    async def check(frame: str) -> None:
        async with driver.communicator(ROOM) as comm:
            await check_schema_frame(comm, frame)

    await for_each_example(frames_for(RoomConsumer.message_handlers.inputs()), check)


async def test_any_text_leaves_the_connection_usable_and_the_server_quiet(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    async def check(frame: str) -> None:
        caplog.clear()
        async with driver.communicator(ECHO_PATH) as comm:
            answer = await answer_to(comm, frame, frame.encode())  # as text, then binary
        check_no_echo_in_errors([frame], answer)
        if '"fail"' not in frame:
            assert server_errors(caplog.records) == []

    await for_each_example(whole_frames, check, max_examples=40)

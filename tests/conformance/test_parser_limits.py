"""Where chanx's JSON parser stops (docs/reference.md): text nested about 200 deep, an
integer of more than 4300 digits, or an escape of half a surrogate pair is not JSON for
it. Such a frame gets no reply, whatever its action, and the connection stays; just
under those limits a frame is parsed (and its bad payload answered)."""

from __future__ import annotations

import pytest

from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from tests.conformance.behaviours import ROOM_PATH
from tests.conformance.drivers import Driver


def shout_with(text: str) -> str:
    """A ``shout`` frame whose ``payload.text`` is ``text`` (JSON, inserted as is)."""
    return '{"action": "shout", "payload": {"text": ' + text + "}}"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("frame", "parsed"),
    [
        (shout_with(nested(150)), True),
        (shout_with(nested(250)), False),
        (shout_with("9" * 4300), True),
        (shout_with("9" * 4301), False),
        (shout_with('"\\ud83d\\ude00"'), True),  # a whole surrogate pair
        (shout_with('"\\ud800"'), False),
    ],
    ids=["150 deep", "250 deep", "4300 digits", "4301 digits", "pair", "half a pair"],
)
async def test_frames_past_the_parser_s_limits_get_no_reply(
    driver: Driver, frame: str, parsed: bool
) -> None:
    async with driver.communicator(ROOM_PATH.format(room="limits")) as comm:
        with comm.off_contract("frames at the parser's limits, on purpose"):
            await comm.send_text(frame)
        await comm.send_message(PingMessage())
        first = await comm.receive_all_messages()
        if parsed:  # a notice (and its group_complete) or an error, then complete
            assert PongMessage() not in first
            assert await comm.receive_all_messages() == [PongMessage()]
        else:
            assert first == [PongMessage()]

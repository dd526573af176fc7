"""A frame the server refuses to send while the client is still there (daphne refuses
frames over its size limit, raising a ``RuntimeError``): the member it was for is closed
with 4500 and leaves its room, never left open and deaf, and the room goes on."""

from __future__ import annotations

import logging

import pytest

from chanx.constants import CLOSE_SERVER_ERROR, GROUP_ACTION_COMPLETE
from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator
from tests.conformance.behaviours import ShoutMessage, ShoutNotice, ShoutPayload, Text
from tests.conformance.drivers import Driver
from tests.paused import closed_with, eventually

pytestmark = pytest.mark.in_process(
    "stands in for a server that refuses a frame (tests/e2e/test_daphne_refusals.py: daphne)"
)

LIMIT = 200
"""Characters of a text frame the refusing server still sends."""


class RefusingCommunicator(WebsocketCommunicator):
    """A client whose server refuses to send it text frames over :data:`LIMIT`
    characters, with an exception that does not mean the client has gone."""

    async def _app_send(self, message: Message) -> None:
        text = message.get("text")
        if message["type"] == "websocket.send" and text is not None and len(text) > LIMIT:
            raise RuntimeError(f"a frame of {len(text)} characters is over the limit")
        await super()._app_send(message)


def room(driver: Driver, refusing: bool = False) -> WebsocketCommunicator:
    path = "/ws/room/refusals"
    comm = driver.communicator(path)
    assert isinstance(comm, WebsocketCommunicator), "these scenarios run in-process"
    return RefusingCommunicator(comm.application, path) if refusing else comm


def shout(text: str) -> ShoutMessage:
    return ShoutMessage(payload=ShoutPayload(text=text))


async def test_a_member_the_server_cannot_send_a_group_message_to_is_closed_with_4500(
    driver: Driver, caplog: pytest.LogCaptureFixture
) -> None:
    async with room(driver) as sender:
        refused = room(driver, refusing=True)
        await refused.connect()
        assert refused.tracker is not None
        consumer = refused.tracker.consumer
        assert consumer is not None
        big = "x" * LIMIT
        with caplog.at_level(logging.WARNING, logger="chanx"):
            await sender.send_message(shout(big))
            assert await sender.receive_all_messages() == [ShoutNotice(payload=Text(text=big))]
            await eventually(lambda: consumer.joined_groups == ())  # its disconnect ran
        [line] = [r for r in caplog.records if "closing it with 4500" in r.getMessage()]
        assert line.levelno == logging.ERROR
        assert line.getMessage().startswith(
            f"writing to {type(consumer).__name__} {consumer.channel_name} failed "
            "(RuntimeError: a frame of"
        )
        assert await closed_with(refused) == (CLOSE_SERVER_ERROR, [])
        await refused.disconnect()
        async with room(driver, refusing=True) as newcomer:  # the room goes on
            await sender.send_message(shout("small"))
            assert await sender.receive_all_messages() == [ShoutNotice(payload=Text(text="small"))]
            got = await newcomer.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert got == [ShoutNotice(payload=Text(text="small"))]

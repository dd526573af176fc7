"""A client that sees its connection accepted is in its groups already: whatever is
broadcast to them from then on reaches it (with a layer that crosses processes, joining
waits for the subscription: a client told "open" before that would miss what others
send meanwhile). The handshake is answered once the connection sequence is done, as
Channels does (it joins before accepting)."""

from __future__ import annotations

import pytest

from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator
from tests.conformance.behaviours import ROOM_PATH
from tests.conformance.drivers import Driver

pytestmark = pytest.mark.in_process(
    "reads the server-side consumer's groups when the handshake is answered"
)


class WatchingCommunicator(WebsocketCommunicator):
    """Notes the consumer's groups at the moment the application accepts."""

    groups_at_accept: tuple[str, ...] | None = None

    async def _app_send(self, message: Message) -> None:
        if message["type"] == "websocket.accept":
            assert self.tracker is not None
            assert self.tracker.consumer is not None
            self.groups_at_accept = self.tracker.consumer.joined_groups
        await super()._app_send(message)


async def test_the_handshake_is_answered_once_the_connection_is_in_its_groups(
    driver: Driver,
) -> None:
    path = ROOM_PATH.format(room="accepted")
    comm = driver.communicator(path)
    assert isinstance(comm, WebsocketCommunicator), "this scenario runs in-process"
    async with WatchingCommunicator(comm.application, path) as watching:
        assert watching.groups_at_accept == ("room_accepted",)

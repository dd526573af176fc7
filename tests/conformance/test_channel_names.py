"""A connection's channel name is the address ``send_event`` reaches it at, from any
HTTP endpoint or task: knowing one connection's (a client learns its own) must not give
away the others'. Names carry a random part, on every layer."""

from __future__ import annotations

import pytest

from chanx.testing import WebsocketCommunicator
from tests.conformance.behaviours import ECHO_PATH
from tests.conformance.drivers import Driver

pytestmark = pytest.mark.in_process("reads the server-side consumers' channel names")

CONNECTIONS = 8


async def test_channel_names_cannot_be_guessed_from_one_another(driver: Driver) -> None:
    names = []
    for _ in range(CONNECTIONS):
        comm = driver.communicator(ECHO_PATH)
        assert isinstance(comm, WebsocketCommunicator)
        await comm.connect()
        assert comm.tracker is not None
        assert comm.tracker.consumer is not None
        names.append(comm.tracker.consumer.channel_name)
        await comm.disconnect()
    assert len(set(names)) == CONNECTIONS
    shared = 0
    while len({name[: shared + 1] for name in names}) == 1:
        shared += 1
    tails = [name[shared:] for name in names]
    # What tells connections apart is random: at least 12 characters of it, not a count.
    assert all(len(tail) >= 12 for tail in tails), names
    assert not all(tail.isdigit() for tail in tails), names

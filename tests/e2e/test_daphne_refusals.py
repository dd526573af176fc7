"""What becomes of a connection whose frames daphne refuses to send, for the core consumer
(as a plain ASGI app) and chanx's Channels consumer.

daphne's ``send`` raises autobahn exceptions (``RuntimeError`` subclasses, where the
ASGI spec asks for an ``OSError`` once the client has gone):

* once a client has closed (its close frame read) and until the socket is gone, every
  send raises ``Disconnected``, and the app learns of the close only when it next
  reads: such a connection ends quietly (``on_disconnect`` sees 1006), no traceback;
* a frame over ``--websocket_max_message_size`` (1 MiB by default) raises
  ``PayloadExceededError``: a member that cannot be sent a group message is closed
  with 4500 and leaves its groups, never left open and deaf; the others keep working.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.never_reader import NeverReader
from chanx.constants import CLOSE_SERVER_ERROR
from tests.e2e.apps.refusals import ENDED, HOLDING
from tests.servers import Server, free_port, python

pytestmark = pytest.mark.e2e

FAMILIES = ["core", "channels"]
DAPHNE_LIMIT = 2**20


@pytest.fixture(scope="module")
def daphne() -> Iterator[tuple[Server, int]]:
    port = free_port()
    command = python("-m", "daphne", "-b", "127.0.0.1", "-p", str(port))
    server = Server([*command, "tests.e2e.apps.refusals:app"], {"PYTHONUNBUFFERED": "1"})
    try:
        server.wait_for("Listening on TCP address")
        yield server, port
    finally:
        server.stop()


def close_frame(code: int = 1000) -> bytes:
    mask = os.urandom(4)
    payload = struct.pack("!H", code)
    masked = bytes(b ^ mask[i] for i, b in enumerate(payload))
    return bytes([0x88, 0x80 | len(payload)]) + mask + masked


def message(action: str, payload: object = None) -> str:
    return json.dumps({"action": action, "payload": payload})


async def wait_logged(server: Server, text: str) -> None:
    await asyncio.to_thread(server.wait_for, text)


@pytest.mark.parametrize("family", FAMILIES)
async def test_writes_to_a_client_that_closed_end_its_connection_quietly(
    daphne: tuple[Server, int], family: str
) -> None:
    server, port = daphne
    mark = len(server.output)
    holder = NeverReader(port, f"/ws/{family}/holder")
    try:
        holder.send_text(message("hold"))
        await wait_logged(server, f"{HOLDING}: {family}")
        holder.sock.sendall(close_frame())
        async with connect(f"ws://127.0.0.1:{port}/ws/{family}/releaser") as releaser:
            await releaser.send(message("release"))
            assert json.loads(await releaser.recv())["action"] == "released"
        await wait_logged(server, f"{ENDED}: /ws/{family}/holder with 1006")
    finally:
        holder.close()
    logged = server.output[mark:]
    for sign in ("Traceback", "failed", "Exception inside application", "WARNING", "ERROR"):
        assert sign not in logged, logged


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_group_message_daphne_refuses_closes_its_members_with_4500(
    daphne: tuple[Server, int], family: str
) -> None:
    server, port = daphne
    url = f"ws://127.0.0.1:{port}/ws/{family}"
    mark = len(server.output)
    async with (
        connect(f"{url}/listener", max_size=None) as first,
        connect(f"{url}/listener", max_size=None) as second,
        connect(f"{url}/shouter") as shouter,
    ):
        for listener in (first, second):  # in the group once a ping is answered
            await listener.send(message("ping"))
            assert json.loads(await listener.recv())["action"] == "pong"
        await shouter.send(message("shout", DAPHNE_LIMIT))  # its JSON is over the limit
        assert json.loads(await shouter.recv())["action"] == "shouted"
        for listener in (first, second):
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(listener.recv(), 10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CLOSE_SERVER_ERROR
        await wait_logged(server, f"{ENDED}: /ws/{family}/listener with {CLOSE_SERVER_ERROR}")
        async with connect(f"{url}/listener") as third:
            await third.send(message("ping"))
            assert json.loads(await third.recv())["action"] == "pong"
            await shouter.send(message("shout", 10))
            assert json.loads(await shouter.recv())["action"] == "shouted"
            assert json.loads(await third.recv()) == {"action": "text", "payload": "x" * 10}
    logged = server.output[mark:]
    refused = [line for line in logged.splitlines() if "closing it with 4500" in line]
    assert len(refused) == 2, logged
    assert "PayloadExceededError" in refused[0]
    assert "Exception inside application" not in logged

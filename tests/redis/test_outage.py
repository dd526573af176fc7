"""What clients see when Redis dies and comes back, on real servers: for each adapter, two
uvicorn processes share groups through a private redis-server, which is killed with
``kill -9`` in the middle and restarted on the same port; the clients are ``websockets``
connections. No client is ever left open and deaf:

* on core's Redis layer (plain ASGI, Starlette, FastAPI, Litestar with
  ``ChanxPlugin(layer=...)``) connections keep working: members in the sending process
  keep receiving, a handler that broadcasts gets an ``error`` of type
  ``layer_unavailable``, HTTP senders get 503, and once Redis is back each process
  resubscribes (groups joined meanwhile included) and traffic crosses again; what was
  published during the outage is lost, not replayed;
* on Litestar's ``ChannelsPlugin`` (its Redis pub/sub backend), whose reader ends for good
  when the connection drops, chanx closes every connection with 4503 and refuses new ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest

from chanx.constants import CLOSE_LAYER_UNAVAILABLE, GROUP_ACTION_COMPLETE
from chanx.testing import ConnectionClosed
from tests.servers import PrivateRedis, Server, free_port, python
from tests.socket_client import SocketCommunicator

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

CORE_LAYER_ADAPTERS = ["asgi", "starlette", "fastapi", "litestar"]


class App:
    """One uvicorn process serving ``tests.redis.apps`` for an adapter."""

    def __init__(self, adapter: str, redis_url: str, prefix: str) -> None:
        self.port = free_port()
        command = python("-m", "uvicorn", "--factory", "tests.redis.apps:app_from_env")
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        env = {"CHANX_ADAPTER": adapter, "CHANX_REDIS_URL": redis_url, "CHANX_PREFIX": prefix}
        self.server = Server(command, {**env, "PYTHONUNBUFFERED": "1"})

    def client(self, path: str) -> SocketCommunicator:
        return SocketCommunicator(f"ws://127.0.0.1:{self.port}{path}")

    async def post(self, path: str, body: dict[str, Any]) -> int:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http:
            return (await http.post(path, json=body, timeout=10)).status_code

    async def ready(self) -> bool:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http:
            return bool((await http.get("/health", timeout=10)).json()["ready"])


@pytest.fixture
def two_apps(
    request: pytest.FixtureRequest, private_redis: PrivateRedis, prefix: str
) -> Iterator[tuple[App, App]]:
    """Two server processes of the adapter ``request.param`` on the private Redis."""
    apps = (
        App(request.param, private_redis.url, prefix),
        App(request.param, private_redis.url, prefix),
    )
    with ExitStack() as stack:
        for app in apps:  # both start in parallel
            stack.callback(app.server.stop)
        for app in apps:
            app.server.wait_for_port(app.port)
        yield apps
    for app in apps:
        output = app.server.output
        if request.param == "litestar-channels":
            # Litestar's plugin raises its dead reader's error again at shutdown.
            output, _, shutdown = output.partition("Exception Group Traceback")
            assert "in _on_shutdown" in shutdown, shutdown
        assert "Traceback" not in output, output


@asynccontextmanager
async def joined(app: App, room: str) -> AsyncIterator[SocketCommunicator]:
    """A client in ``room_<room>``, connected and in its group (a ping is answered only
    once the connection has finished connecting)."""
    async with app.client(f"/ws/room/{room}") as client:
        await client.send_json({"action": "ping"})
        assert await client.receive_all_json() == [{"action": "pong", "payload": None}]
        yield client


async def shout(client: SocketCommunicator, text: str) -> None:
    await client.send_json({"action": "shout", "payload": {"text": text}})


def notice(text: str) -> dict[str, Any]:
    return {"action": "shout_notice", "payload": {"text": text}}


def event_notice(text: str) -> dict[str, Any]:
    return {"action": "notice", "payload": {"text": text}}


LAYER_UNAVAILABLE = {
    "action": "error",
    "payload": {
        "detail": "Group layer unavailable",
        "errors": [{"loc": [], "msg": "Group layer unavailable", "type": "layer_unavailable"}],
    },
}


async def wait_ready(*apps: App, timeout: float = 15.0) -> None:
    """Until every process reports its layer connected and resubscribed."""
    deadline = time.monotonic() + timeout
    for app in apps:
        while not await app.ready():
            assert time.monotonic() < deadline, f"{app.port} did not resubscribe in time"
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("two_apps", CORE_LAYER_ADAPTERS, indirect=True)
async def test_connections_keep_working_through_a_redis_restart(
    two_apps: tuple[App, App], private_redis: PrivateRedis
) -> None:
    a, b = two_apps
    async with joined(a, "r") as on_a, joined(b, "r") as on_b:
        await shout(on_a, "before")
        assert await on_a.receive_all_json() == [notice("before")]
        assert await on_b.receive_all_json(GROUP_ACTION_COMPLETE) == [notice("before")]

        private_redis.stop()  # kill -9
        # The sender's own process still delivers; the handler learns the rest failed.
        await shout(on_a, "during")
        assert await on_a.receive_all_json() == [notice("during"), LAYER_UNAVAILABLE]
        assert await a.post("/announce/r", {"text": "during"}) == 503
        assert await on_a.receive_all_json("event_complete") == [event_notice("during")]
        # Connections are not deaf to their own server, and new ones join meanwhile.
        async with joined(b, "late") as late_on_b:
            await on_b.send_json({"action": "ping"})
            assert await on_b.receive_all_json() == [{"action": "pong", "payload": None}]

            private_redis.start()
            await wait_ready(a, b)
            await shout(on_a, "after")
            assert await on_a.receive_all_json() == [notice("after")]
            # "during" was published while B was cut off: lost, not replayed.
            assert await on_b.receive_all_json(GROUP_ACTION_COMPLETE) == [notice("after")]
            assert await b.post("/announce/r", {"text": "back"}) == 200
            for client in (on_a, on_b):
                assert await client.receive_all_json("event_complete") == [event_notice("back")]
            # The group B joined during the outage was subscribed on reconnection.
            async with joined(a, "late") as late_on_a:
                await shout(late_on_a, "late")
                assert await late_on_a.receive_all_json() == [notice("late")]
                assert await late_on_b.receive_all_json(GROUP_ACTION_COMPLETE) == [notice("late")]
            await on_b.receive_nothing()


@pytest.mark.parametrize("two_apps", ["litestar-channels"], indirect=True)
async def test_litestar_channels_plugin_closes_connections_it_can_no_longer_serve(
    two_apps: tuple[App, App], private_redis: PrivateRedis
) -> None:
    a, b = two_apps
    async with joined(a, "r") as on_a, joined(b, "r") as on_b:
        await shout(on_a, "before")
        assert await on_a.receive_all_json() == [notice("before")]
        assert await on_b.receive_all_json(GROUP_ACTION_COMPLETE) == [notice("before")]

        private_redis.stop()  # kill -9
        for client in (on_a, on_b):
            with pytest.raises(ConnectionClosed) as closed:
                await client.receive_json(timeout=10)
            assert closed.value.code == CLOSE_LAYER_UNAVAILABLE
    assert await a.post("/announce/r", {"text": "during"}) == 503
    assert not await a.ready()

    # The plugin does not read again once Redis is back: new connections are refused
    # with the same code until the process restarts.
    private_redis.start()
    for app in (a, b):
        client = app.client("/ws/room/r")
        assert (await client.connect())[0]
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive_json(timeout=10)
        assert closed.value.code == CLOSE_LAYER_UNAVAILABLE
        await client.disconnect()

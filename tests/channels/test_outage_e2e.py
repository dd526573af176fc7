"""A Redis outage as clients see it: the example project served by two daphne processes
linked by a private redis-server (its own port, never the shared one), real websocket
clients in one room across both processes, Redis killed with ``kill -9``, then restarted
on the same port.

* ``RedisChannelLayer`` keeps group memberships in Redis; a Redis that died (and comes
  back empty) has forgotten them, so every client is closed with
  ``CLOSE_LAYER_UNAVAILABLE`` (4503) and reconnects; the new connections share the room
  across both processes again, and nothing sent after that is lost.
* ``RedisPubSubChannelLayer`` keeps memberships in each process: clients stay open and
  keep being answered during the outage, a sender is told its broadcast failed, and the
  room works again across both processes once channels_redis has subscribed again.

Either way, no client is ever left open and deaf, and an HTTP view sending an event
during the outage answers 503.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chanx.constants import CLOSE_LAYER_UNAVAILABLE
from chanx.core.groups import group_name
from tests.servers import Server, free_port, private_redis, python

pytestmark = pytest.mark.e2e

APP = "examples.django_chat.asgi:application"
ORIGIN = "http://127.0.0.1"
TIMEOUT = 10.0
BURST = 30  # messages each client sends once the room works again


class Project:
    """Two daphne processes serving the example project on a private Redis."""

    def __init__(self, backend: str, redis_port: int, tmp_path: Path) -> None:
        self.prefix = f"chanx-outage-{uuid.uuid4().hex[:10]}"
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.env = {
            "DJANGO_SETTINGS_MODULE": "examples.django_chat.settings",
            "CHANX_EXAMPLE_REDIS_URL": self.redis_url,
            "CHANX_EXAMPLE_LAYER": backend,
            "CHANX_EXAMPLE_PREFIX": self.prefix,
            "CHANX_EXAMPLE_DB": str(tmp_path / "db.sqlite3"),
        }
        self.ports = [free_port(), free_port()]
        self.servers: list[Server] = []

    def start(self, stack: ExitStack) -> None:
        for port in self.ports:  # both start at once; wait for both after
            args = python("-m", "daphne", "-b", "127.0.0.1", "-p", str(port), APP)
            server = Server(args, self.env)
            stack.callback(server.stop)
            self.servers.append(server)
        for server in self.servers:
            server.wait_for("Listening on TCP address")

    def url(self, process: int, room: str) -> str:
        return f"ws://127.0.0.1:{self.ports[process]}/ws/rooms/{room}/"

    def output(self) -> str:
        return "\n".join(server.output for server in self.servers)


async def frame(ws: ClientConnection, action: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next frame with ``action``; fails with what came instead."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            data = json.loads(await ws.recv())
            if data["action"] == action:
                return dict(data)
            seen.append(data)
            assert len(seen) < 100, f"no {action!r}; got {seen[:5]}..."


async def ping(ws: ClientConnection) -> None:
    """A round trip: the connection is in (groups joined) and answering."""
    await ws.send(json.dumps({"action": "ping"}))
    await frame(ws, "pong")


async def say(ws: ClientConnection, text: str) -> None:
    await ws.send(json.dumps({"action": "say", "payload": {"text": text}}))


async def close_code(ws: ClientConnection, timeout: float = TIMEOUT) -> int | None:
    """Wait until the server closes ``ws``; its close code."""
    async with asyncio.timeout(timeout):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None


async def room_works(project: Project, clients: list[ClientConnection], room: str) -> None:
    """Each client (one per process) says BURST lines; every client hears all of them,
    in order: the room spans both processes and loses nothing."""
    for index, ws in enumerate(clients):
        for n in range(BURST):
            await say(ws, f"{index}:{n}")
    for ws in clients:
        heard: dict[str, list[int]] = {str(i): [] for i in range(len(clients))}
        for _ in range(BURST * len(clients)):
            sender, n = (await frame(ws, "room_notice"))["payload"]["text"].split(":")
            heard[sender].append(int(n))
        assert all(numbers == list(range(BURST)) for numbers in heard.values()), heard


async def announce(project: Project, room: str) -> int:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        response = await http.post(
            f"http://127.0.0.1:{project.ports[1]}/rooms/{room}/announce", json={"text": "hi"}
        )
    return response.status_code


async def subscribers(url: str, channel: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def wait_for_subscribers(url: str, channel: str, count: int) -> None:
    """Until Redis reports ``count`` subscribers of ``channel``: channels_redis subscribes
    again on its own schedule (it retries once a second), so this waits on Redis' state."""
    deadline = time.monotonic() + TIMEOUT
    while await subscribers(url, channel) < count:
        assert time.monotonic() < deadline, f"{channel} never had {count} subscribers again"
        await asyncio.sleep(0.05)


async def test_redis_layer_closes_every_client_with_4503_and_serves_them_again(
    tmp_path: Path,
) -> None:
    redis_port = free_port()  # restarted on the same port
    project = Project("redis", redis_port, tmp_path)
    room = f"r{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        _, redis = stack.enter_context(private_redis(redis_port))
        project.start(stack)
        async with (
            connect(project.url(0, room), origin=ORIGIN) as first,
            connect(project.url(1, room), origin=ORIGIN) as second,
        ):
            await ping(first)
            await ping(second)
            await room_works(project, [first, second], room)

            redis.kill()
            # Both are closed with the documented code, whichever process serves them.
            assert await close_code(first) == CLOSE_LAYER_UNAVAILABLE
            assert await close_code(second) == CLOSE_LAYER_UNAVAILABLE

        # While Redis is down: a connection is refused with the same code, an HTTP
        # sender is told.
        async with connect(project.url(0, room), origin=ORIGIN) as early:
            assert await close_code(early) == CLOSE_LAYER_UNAVAILABLE
        assert await announce(project, room) == 503

        stack.enter_context(private_redis(redis_port))
        async with (
            connect(project.url(0, room), origin=ORIGIN) as first,
            connect(project.url(1, room), origin=ORIGIN) as second,
        ):
            await ping(first)
            await ping(second)
            await room_works(project, [first, second], room)
            assert await announce(project, room) == 200
            for ws in (first, second):
                assert (await frame(ws, "announcement"))["payload"] == {"text": "hi"}

        output = project.output()
        assert output.count("stopped delivering") >= 2, output  # one line per process
        assert "Exception inside application" not in output, output


async def test_pubsub_layer_keeps_clients_answered_and_recovers(tmp_path: Path) -> None:
    redis_port = free_port()  # restarted on the same port
    project = Project("pubsub", redis_port, tmp_path)
    room = f"r{uuid.uuid4().hex[:8]}"
    # The example's room group (examples/django_chat/chat/consumers.py: room_group).
    group_channel = f"{project.prefix}__group__{group_name('room', room)}"
    with ExitStack() as stack:
        _, redis = stack.enter_context(private_redis(redis_port))
        project.start(stack)
        async with (
            connect(project.url(0, room), origin=ORIGIN) as first,
            connect(project.url(1, room), origin=ORIGIN) as second,
        ):
            await ping(first)
            await ping(second)
            await room_works(project, [first, second], room)

            redis.kill()
            # Open and answered, never deaf; the sender of a broadcast is told.
            await ping(first)
            await ping(second)
            await say(first, "into the void")
            error = await frame(first, "error")
            assert error["payload"]["errors"][0]["type"] in {"internal_error", "layer_unavailable"}
            assert await announce(project, room) == 503

            stack.enter_context(private_redis(redis_port))
            await wait_for_subscribers(project.redis_url, group_channel, 2)
            await ping(first)
            await ping(second)
            await room_works(project, [first, second], room)

        output = project.output()
        assert "Exception inside application" not in output, output

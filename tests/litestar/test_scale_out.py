"""Scale-out for real: two uvicorn processes serving the example app on one backend
(Redis pub/sub, PostgreSQL through asyncpg and psycopg), clients on both, a third process
without an app publishing too."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
import websockets

from chanx.ext.litestar import standalone_layer
from examples.litestar_chat.consumers import ChatConsumer
from examples.litestar_chat.messages import NotificationEvent, NotificationPayload
from tests.litestar.backends import POSTGRES_DSN, REDIS_URL, backend, marks_for, unique_prefix
from tests.servers import free_port, running

ADMIN = {"authorization": "Bearer alice-token"}


@pytest.fixture(
    params=[
        pytest.param(kind, marks=[pytest.mark.e2e, *marks_for(kind)])
        for kind in ("redis", "asyncpg", "psycopg")
    ]
)
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, list[int]]]:
    """Two server processes on ``request.param``'s backend; yields (kind, prefix, ports)."""
    kind: str = request.param
    prefix = unique_prefix()
    env = {
        "CHANX_BACKEND": kind,
        "CHANX_PREFIX": prefix,
        "REDIS_URL": REDIS_URL,
        "POSTGRES_DSN": POSTGRES_DSN,
    }
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        for port in ports:
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "examples.litestar_chat.app:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            stack.enter_context(running(command, port, env=env))
        yield kind, prefix, ports


class Client:
    """A websocket client that reads chanx frames."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    async def send(self, action: str, payload: Any = None) -> None:
        await self.connection.send(json.dumps({"action": action, "payload": payload}))

    async def receive(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), 5))  # type: ignore[no-any-return]

    async def until(self, stop: str) -> list[dict[str, Any]]:
        """Frames up to and including the first with action ``stop``."""
        frames = [await self.receive()]
        while frames[-1]["action"] != stop:
            frames.append(await self.receive())
        return frames

    async def channel_name(self) -> str:
        await self.send("whoami")
        reply, _complete = await self.until("complete")
        return str(reply["payload"]["channel_name"])


@asynccontextmanager
async def client(port: int, path: str) -> AsyncIterator[Client]:
    async with websockets.connect(f"ws://127.0.0.1:{port}{path}") as connection:
        joined = Client(connection)
        # Frames are answered once the connection has joined its groups (an anonymous
        # connection gets no authentication message to wait for).
        await joined.send("ping")
        assert [frame["action"] for frame in await joined.until("complete")] == ["pong", "complete"]
        yield joined


async def test_rooms_notifications_and_direct_events_cross_processes(
    servers: tuple[str, str, list[int]],
) -> None:
    kind, prefix, (one, two) = servers
    async with AsyncExitStack() as stack:
        room_one = await stack.enter_async_context(client(one, "/ws/room/lobby"))
        room_two = await stack.enter_async_context(client(two, "/ws/room/lobby"))
        chat_one = await stack.enter_async_context(client(one, "/ws/chat"))
        chat_two = await stack.enter_async_context(client(two, "/ws/chat"))

        # A room message from process one reaches the member on process two.
        await room_one.send("chat", {"message": "hello from one"})
        notice = {"action": "chat_notification", "payload": {"message": "hello from one"}}
        assert await room_one.until("group_complete") == [notice, group_complete()]
        assert await room_one.until("complete") == [complete()]
        assert await room_two.until("group_complete") == [notice, group_complete()]

        # An HTTP handler on process two broadcasts an event to both processes.
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"http://127.0.0.1:{two}/notify", json={"message": "maintenance"}, headers=ADMIN
            )
            assert response.status_code == 202
            expected = [notification("maintenance"), event_complete()]
            for chat in (chat_one, chat_two):
                assert await chat.until("event_complete") == expected

            # An event to one connection of process one, sent by process two.
            target = await chat_one.channel_name()
            response = await http.post(
                f"http://127.0.0.1:{two}/direct/{target}", json={"message": "psst"}, headers=ADMIN
            )
            assert response.status_code == 202
            got = await chat_one.until("event_complete")
            assert got == [notification("psst"), event_complete()]
        # Nothing reached process two's connection in between: its next frame answers this.
        await chat_two.send("ping")
        assert await chat_two.until("complete") == [{"action": "pong", "payload": None}, complete()]

        # A process without an app (a worker) publishes to connections of both.
        async with (
            backend(kind) as worker_backend,
            standalone_layer(worker_backend, prefix=prefix),
        ):
            await ChatConsumer.broadcast_event(
                NotificationEvent(payload=NotificationPayload(message="from a worker")), "users"
            )
        for chat in (chat_one, chat_two):
            expected = [notification("from a worker"), event_complete()]
            assert await chat.until("event_complete") == expected


def notification(text: str) -> dict[str, Any]:
    return {"action": "notification", "payload": {"message": text}}


def complete() -> dict[str, Any]:
    return {"action": "complete", "payload": None}


def group_complete() -> dict[str, Any]:
    return {"action": "group_complete", "payload": None}


def event_complete() -> dict[str, Any]:
    return {"action": "event_complete", "payload": None}

"""Scale-out, for real: the example project served by two processes (daphne and
uvicorn) sharing the Redis on 127.0.0.1:6379, a websocket client on each, a broadcast
from one process, an event from a plain Python script, and one from an HTTP view."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.servers import ROOT as REPO
from tests.servers import SHARED_REDIS, Server, free_port, python

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

APP = "examples.django_chat.asgi:application"


def project_env(backend: str, prefix: str, tmp_db: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "examples.django_chat.settings",
        "CHANX_EXAMPLE_REDIS_URL": SHARED_REDIS,
        "CHANX_EXAMPLE_LAYER": backend,
        "CHANX_EXAMPLE_PREFIX": prefix,
        "CHANX_EXAMPLE_DB": tmp_db,
    }


@pytest.fixture(params=["redis", "pubsub"])
def servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], list[int]]]:
    prefix = f"chanx-e2e-{uuid.uuid4().hex[:12]}"
    env = project_env(request.param, prefix, str(tmp_path / "db.sqlite3"))
    ports = [free_port(), free_port()]
    daphne = python("-m", "daphne", "-b", "127.0.0.1", "-p", str(ports[0]), APP)
    uvicorn = python("-m", "uvicorn", "--host", "127.0.0.1", "--port", str(ports[1]))
    commands = [
        (daphne, "Listening on TCP address"),
        ([*uvicorn, "--lifespan", "off", APP], "Uvicorn running on"),
    ]
    with ExitStack() as stack:
        started = [Server(args, env) for args, _ in commands]  # both start in parallel
        for server in started:
            stack.callback(server.stop)
        for server, (_, ready) in zip(started, commands, strict=True):
            server.wait_for(ready)
        yield env, ports
        for server in started:
            assert "Traceback" not in server.output, server.output


async def expect(ws: ClientConnection, action: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame with ``action`` (others, e.g. completion signals, are skipped)."""
    seen = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0)))
        except asyncio.TimeoutError:
            raise AssertionError(f"no {action!r} within {timeout}s; got {seen}") from None
        if frame["action"] == action:
            return dict(frame)
        seen.append(frame)


async def ready(ws: ClientConnection) -> None:
    """A pong proves the consumer finished connecting (groups joined): frames are
    handled in order, after the connection sequence."""
    await ws.send(json.dumps({"action": "ping"}))
    await expect(ws, "pong")


async def test_two_server_processes_share_groups_and_events(
    servers: tuple[dict[str, str], list[int]],
) -> None:
    env, (daphne_port, uvicorn_port) = servers
    room = f"r{uuid.uuid4().hex[:10]}"
    path = f"/ws/rooms/{room}/"
    async with (
        connect(f"ws://127.0.0.1:{daphne_port}{path}", origin="http://127.0.0.1") as on_daphne,
        connect(f"ws://127.0.0.1:{uvicorn_port}{path}", origin="http://127.0.0.1") as on_uvicorn,
    ):
        await ready(on_daphne)
        await ready(on_uvicorn)

        # A broadcast from one process reaches both.
        await on_daphne.send(json.dumps({"action": "say", "payload": {"text": "hello"}}))
        for ws in (on_daphne, on_uvicorn):
            assert (await expect(ws, "room_notice"))["payload"] == {"text": "hello"}

        # An event from a third process, a plain script using the sync API.
        script = await asyncio.to_thread(
            subprocess.run,
            python("-m", "examples.django_chat.notify", room, "from a script"),
            cwd=REPO,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert script.returncode == 0, script.stderr
        assert "Warning" not in script.stderr, script.stderr
        for ws in (on_daphne, on_uvicorn):
            assert (await expect(ws, "announcement"))["payload"] == {"text": "from a script"}

        # An event from an HTTP view served by the other process.
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"http://127.0.0.1:{uvicorn_port}/rooms/{room}/announce",
                json={"text": "from a view"},
            )
        assert response.status_code == 200, response.text
        for ws in (on_daphne, on_uvicorn):
            assert (await expect(ws, "announcement"))["payload"] == {"text": "from a view"}

"""End to end: the example app in two uvicorn processes sharing groups through Redis.
(What clients see when Redis dies and comes back, on every adapter: tests/redis.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator

import pytest

from chanx.constants import EVENT_ACTION_COMPLETE, GROUP_ACTION_COMPLETE
from examples.fastapi_chat.consumers import AIConsumer, MembersConsumer, RoomChatConsumer
from examples.fastapi_chat.messages import (
    Announcement,
    ChatMessage,
    GenerateStoryMessage,
    Notification,
    RoomMessage,
    WhoAmIMessage,
)
from tests.fastapi.servers import UvicornServer
from tests.servers import ROOT, free_port
from tests.socket_client import SocketCommunicator

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture
def two_servers(redis_url: str, prefix: str) -> Iterator[tuple[UvicornServer, UvicornServer]]:
    servers = (UvicornServer(redis_url, prefix), UvicornServer(redis_url, prefix))
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def room_client(server: UvicornServer, room: str) -> SocketCommunicator:
    return SocketCommunicator(f"{server.ws}/ws/room/{room}", consumer=RoomChatConsumer)


def member(server: UvicornServer, room: str, token: str) -> SocketCommunicator:
    return SocketCommunicator(
        f"{server.ws}/ws/members/{room}",
        {"authorization": f"Bearer {token}"},
        consumer=MembersConsumer,
    )


async def announcements(*clients: SocketCommunicator) -> list[str]:
    texts = []
    for client in clients:
        [message] = await client.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert isinstance(message, Announcement)
        texts.append(message.payload.text)
    return texts


async def test_rooms_events_and_direct_sends_cross_processes(
    two_servers: tuple[UvicornServer, UvicornServer], redis_url: str, prefix: str
) -> None:
    a, b = two_servers
    async with (
        room_client(a, "lobby") as on_a,
        room_client(b, "lobby") as on_b,
        room_client(b, "elsewhere") as elsewhere,
        member(a, "club", "alice-token") as alice,
        member(b, "club", "bob-token") as bob,
    ):
        for client in (on_a, on_b, elsewhere):
            await client.settled()
        for client in (alice, bob):
            await client.assert_authenticated_status_ok()

        # A room message sent on A reaches the member on B.
        await on_a.send_message(ChatMessage(payload={"message": "hello from A"}))
        for client in (on_a, on_b):
            [relayed] = await client.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
            assert isinstance(relayed, RoomMessage)
            assert relayed.payload.message == "hello from A"
        await on_a.receive_all_messages()  # the sender's own `complete`

        # Events from HTTP endpoints of either process: async, sync, background tasks.
        for server, path in [
            (a, "/rooms/lobby/announce"),
            (b, "/rooms/lobby/announce-sync"),
            (a, "/rooms/lobby/announce-later"),
            (b, "/rooms/lobby/announce-later?sync=true"),
        ]:
            response = await server.apost(path, {"text": path})
            assert response.status_code in (200, 202), response.text
            assert await announcements(on_a, on_b) == [path, path]

        # From a separate process that serves nothing: a script with the sync sender.
        script = [sys.executable, "-m", "examples.fastapi_chat.notify", "lobby", "cron says hi"]
        script += ["--redis", redis_url, "--prefix", prefix]
        done = await asyncio.to_thread(
            subprocess.run, script, cwd=ROOT, capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode()
        assert await announcements(on_a, on_b) == ["cron says hi", "cron says hi"]

        # One connection in B, addressed from A by its channel name.
        await bob.send_message(WhoAmIMessage())
        [identity] = await bob.receive_all_messages()
        channel_name = identity.payload.channel_name  # type: ignore[attr-defined]
        response = await a.apost(
            f"/connections/{channel_name}/notify",
            {"text": "just bob"},
            headers={"authorization": "Bearer alice-token"},
        )
        assert response.status_code == 200
        [notice] = await bob.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert notice == Notification(payload={"text": "alice: just bob"})

        # A user's group, from an authenticated endpoint of A.
        response = a.post(
            "/users/bob/notify", {"text": "ping"}, headers={"authorization": "Bearer alice-token"}
        )
        assert response.status_code == 200
        [notice] = await bob.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert notice == Notification(payload={"text": "alice: ping"})

        for client in (elsewhere, alice):
            await client.receive_nothing(timeout=0.2)


async def test_streaming_over_a_real_socket(
    two_servers: tuple[UvicornServer, UvicornServer],
) -> None:
    a, _ = two_servers
    async with SocketCommunicator(f"{a.ws}/ws/ai-chat", consumer=AIConsumer) as comm:
        await comm.send_message(GenerateStoryMessage(payload={"prompt": "a lighthouse"}))
        messages = await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert [m.action for m in messages] == ["streaming"] * len(messages)
        assert messages[-1].payload.last  # type: ignore[attr-defined]


def test_redis_down_at_startup_is_a_clear_error(prefix: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    server = UvicornServer(url, prefix)
    process = server.launch().proc
    try:
        returncode = process.wait(timeout=30)
    finally:
        server.stop()
    output = server.output()
    assert returncode != 0
    assert f"chanx cannot connect to Redis at {url}" in output, output
    assert "Application startup failed" in output

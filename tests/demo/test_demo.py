"""The demo chat, in-process and served for real by uvicorn."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator

import pytest
import websockets

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.testing import WebsocketCommunicator
from examples.demo.app import app
from examples.demo.consumers import Line, LineMessage, Presence, PresenceMessage, Say, SayMessage
from tests.servers import free_port, running


async def test_lines_reach_the_room_and_presence_is_announced() -> None:
    async with WebsocketCommunicator(app, "/ws/room/demo-a?name=ada") as ada:
        [joined] = await ada.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert joined == PresenceMessage(payload=Presence(name="ada", joined=True))
        async with WebsocketCommunicator(app, "/ws/room/demo-a?name=bob") as bob:
            for comm in (ada, bob):
                [msg] = await comm.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
                assert msg == PresenceMessage(payload=Presence(name="bob", joined=True))
            await bob.send_message(SayMessage(payload=Say(text="hi ada")))
            expected = LineMessage(payload=Line(name="bob", text="hi ada"))
            assert await ada.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == [expected]
            assert await bob.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE) == [expected]
        [left] = await ada.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert left == PresenceMessage(payload=Presence(name="bob", joined=False))


async def test_unknown_paths_are_closed_and_http_serves_the_page() -> None:
    comm = WebsocketCommunicator(app, "/ws/nowhere")
    assert await comm.connect() == (False, 4404)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app({"type": "http", "path": "/"}, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    assert b"chanx demo chat" in sent[1]["body"]  # type: ignore[operator]


@pytest.fixture
def demo_server() -> Iterator[int]:
    port = free_port()
    with running([sys.executable, "-m", "examples.demo", "--port", str(port)], port):
        yield port


@pytest.mark.e2e
async def test_the_demo_command_serves_chat_over_real_sockets(demo_server: int) -> None:
    url = f"ws://127.0.0.1:{demo_server}/ws/room/e2e"

    async def next_action(conn: websockets.ClientConnection, action: str) -> dict[str, object]:
        while True:
            frame = json.loads(await asyncio.wait_for(conn.recv(), 5))
            if frame["action"] == action:
                return frame  # type: ignore[no-any-return]

    async with websockets.connect(url + "?name=ada") as ada:
        await next_action(ada, "presence")
        async with websockets.connect(url + "?name=bob") as bob:
            await next_action(ada, "presence")
            await bob.send(json.dumps({"action": "say", "payload": {"text": "over the wire"}}))
            line = await next_action(ada, "line")
            assert line["payload"] == {"name": "bob", "text": "over the wire"}

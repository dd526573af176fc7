"""The benchmark's apps (bench/apps): on every framework, the raw app and the chanx app
answer the same frames with the same frames, so the benchmark compares equal work.
Driven in-process, once each; nothing here is timed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bench.inproc import FRAMES, lifespan
from bench.report import load_app
from chanx.testing import WebsocketCommunicator
from tests.channels.django_setup import setup_django

# The Channels apps configure Django only when nothing has: keep the test settings.
setup_django()

SHOUT = json.dumps({"action": "shout", "payload": "hello, room"})
BAD_CHAT = json.dumps({"action": "chat", "payload": {"room": "", "text": "x"}})


async def conversation(app: Any) -> dict[str, Any]:
    """What two connections see for a ping, a chat, a bad chat and a shout."""
    async with (
        lifespan(app),
        WebsocketCommunicator(app, "/ws") as one,
        WebsocketCommunicator(app, "/ws") as two,
    ):
        seen: dict[str, Any] = {}
        for name, frame in (("ping", FRAMES["ping"]), ("chat", FRAMES["chat"])):
            await one.send_text(frame)
            seen[name] = await one.receive_json()
        with one.off_contract("a bad chat on purpose: both apps answer it with an error"):
            await one.send_text(BAD_CHAT)
        seen["bad_chat"] = (await one.receive_json())["action"]
        await one.send_text(SHOUT)
        seen["shout"] = [await one.receive_json(), await two.receive_json()]
        await asyncio.gather(one.receive_nothing(), two.receive_nothing())
        return seen


@pytest.mark.parametrize("framework", ["asgi", "fastapi", "litestar", "channels"])
async def test_raw_and_chanx_answer_alike(framework: str) -> None:
    raw = await conversation(load_app(framework, "raw"))
    chanx = await conversation(load_app(framework, "chanx"))
    assert raw == chanx
    assert chanx["ping"] == {"action": "pong", "payload": None}
    assert chanx["chat"] == {"action": "chat_ack", "payload": json.loads(FRAMES["chat"])["payload"]}
    assert chanx["bad_chat"] == "error"
    assert chanx["shout"] == [{"action": "shout_notice", "payload": "hello, room"}] * 2


@pytest.mark.parametrize("framework", ["fastapi", "litestar", "channels"])
async def test_the_idiomatic_apps_answer_alike(framework: str) -> None:
    # Against the raw app (which answers as chanx's does, above): a Litestar app with a
    # ChannelsPlugin does not start a second lifespan in one process.
    idiomatic = await conversation(load_app(framework, "idiomatic"))
    assert idiomatic == await conversation(load_app(framework, "raw"))

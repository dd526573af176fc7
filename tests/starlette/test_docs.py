"""docs/starlette.md runs as written: the complete app, its tests, the Redis snippets;
and so does the package README's example."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from chanx.core.redis import RedisGroupLayer
from chanx.ext.starlette import app_layer, configure_layer
from chanx.testing import WebsocketCommunicator, lifespan
from tests.docs.test_snippets import python_blocks, run_as_module

DOC = "docs/starlette.md"


def block_with(text: str, document: str = DOC) -> str:
    [block] = [block for block in python_blocks(document) if text in block]
    return block


@pytest.fixture
def chat() -> Any:
    """The quick start's ``chat.py``, importable as ``chat`` (as its test expects)."""
    namespace = run_as_module("chat", block_with("# chat.py"))
    try:
        yield namespace
    finally:
        sys.modules.pop("chat", None)


async def test_the_quick_start_tests_pass(chat: Any) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(block_with("# test_chat.py"), "<starlette.md tests>", "exec"), namespace)
    await namespace["test_room_and_announcements"]()
    await namespace["test_members_only"]()


@pytest.mark.redis
async def test_the_redis_snippets_run(chat: Any, redis_url: str, prefix: str) -> None:
    from starlette.applications import Starlette

    app = Starlette(routes=chat["app"].routes)
    source = block_with('configure_layer(app, "redis://').replace(
        '"redis://localhost:6379/0", prefix="chat"', "redis_url, prefix=prefix"
    )
    exec(
        source,
        {"configure_layer": configure_layer, "app": app, "redis_url": redis_url, "prefix": prefix},
    )
    assert isinstance(app_layer(app), RedisGroupLayer)
    async with (
        lifespan(app),
        WebsocketCommunicator(app, "/ws/room/lobby") as member,
    ):
        script = block_with("with bind_layer(RedisGroupLayer(").replace(
            '"redis://localhost:6379/0", prefix="chat"', "redis_url, prefix=prefix"
        )
        namespace = {**chat, "redis_url": redis_url, "prefix": prefix}
        await asyncio.to_thread(exec, script, namespace)
        [line] = await member.receive_all_messages(stop_action="event_complete")
        assert line.payload.text == "hi"  # type: ignore[attr-defined]


async def test_the_package_readme_example_serves() -> None:
    [block] = python_blocks("packages/chanx-starlette/README.md")
    readme = run_as_module("starlette_readme", block)
    app, say, text = readme["app"], readme["SayMessage"], readme["Text"]
    async with (
        WebsocketCommunicator(app, "/ws/lobby") as alice,
        WebsocketCommunicator(app, "/ws/lobby") as bob,
    ):
        await alice.send_message(say(payload=text(text="hi")))
        assert await bob.receive_json() == {"action": "line", "payload": {"text": "hi"}}

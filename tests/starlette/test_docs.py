"""docs/starlette.md runs as written: the quick start's app and its tests in-process (the
whole quick start runs as a project of its own in tests/packaging/test_quick_starts.py),
the origin and Redis snippets; and so does the package README's example."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from chanx.core.groups import group_name
from chanx.core.redis import RedisGroupLayer
from chanx.ext.starlette import app_layer, configure_layer
from chanx.testing import WebsocketCommunicator, lifespan
from tests.docs.fences import fences
from tests.docs.test_snippets import python_blocks, run_as_module

DOC = "docs/starlette.md"


def block_with(text: str, document: str = DOC) -> str:
    [block] = [block for block in python_blocks(document) if text in block]
    return block


def titled(title: str) -> str:
    """A quick-start file: the page's blocks with that title, in order."""
    return "\n".join(f.body for f in fences(DOC) if f.title == title)


@pytest.fixture
def chat() -> Any:
    """The quick start's ``chat.py``, importable as ``chat`` (as its tests expect)."""
    namespace = run_as_module("chat", titled("chat.py"))
    try:
        yield namespace
    finally:
        sys.modules.pop("chat", None)


async def test_the_quick_start_tests_pass(chat: Any) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(titled("tests/test_chat.py"), "<starlette.md tests>", "exec"), namespace)
    await namespace["test_room_and_announcements"]()
    await namespace["test_members_only"]()


async def test_the_origin_snippet(chat: Any) -> None:
    exec(block_with("allowed_origins"), chat)
    partner = chat["PartnerMembersConsumer"]
    app = chat["app"]
    app.routes.append(partner.as_route("/partner/{room}"))
    token = {"authorization": "Bearer alice-token"}
    for origin, accepted in [
        ("https://app.example.com", True),
        ("http://localhost:5173", True),
        ("http://evil.example", False),
    ]:
        comm = WebsocketCommunicator(app, "/partner/club", headers={**token, "origin": origin})
        assert (await comm.connect())[0] is accepted, origin
        await comm.disconnect()


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
        assert member.tracker is not None
        assert member.tracker.consumer is not None
        assert member.tracker.consumer.joined_groups == (group_name("room", "lobby"),)


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

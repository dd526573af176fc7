"""The code in README.md and the core docs runs as written."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from chanx.constants import GROUP_ACTION_COMPLETE
from chanx.core.groups import group_name
from chanx.core.redis import RedisGroupLayer
from chanx.testing import WebsocketCommunicator, lifespan
from tests.docs.fences import fences

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(document: str) -> list[str]:
    """The Python blocks of ``document``, but the quick start's test files and client
    (run by tests/packaging/test_quick_starts.py in a project of their own)."""
    return [
        fence.body
        for fence in fences(document)
        if fence.lang == "python" and not (fence.title or "").startswith(("tests/", "client"))
    ]


def run_as_module(name: str, source: str) -> dict[str, Any]:
    """Execute ``source`` as a real module, so annotations resolve as they would in a file."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module.__dict__


async def test_readme_example_and_its_test() -> None:
    consumer_block, test_block = python_blocks("README.md")[:2]
    namespace = run_as_module("readme_example", consumer_block)
    exec(compile(test_block, "<readme test>", "exec"), namespace)
    await namespace["test_say"]()


async def test_asgi_quick_start() -> None:
    chat_block, router_block, origins_block, _ = python_blocks("docs/asgi.md")
    chat = run_as_module("asgi_quick_start", chat_block)
    app, say, text = chat["app"], chat["SayMessage"], chat["Text"]
    async with WebsocketCommunicator(app, "/") as first, WebsocketCommunicator(app, "/") as other:
        await first.send_message(say(payload=text(text="hi")))
        [line] = await other.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert line.action == "line"
    exec(compile(router_block, "<asgi router>", "exec"), chat)
    async with WebsocketCommunicator(chat["app"], "/ws/room/kitchen") as comm:
        assert comm.tracker is not None
        assert comm.tracker.consumer is not None
        assert comm.tracker.consumer.joined_groups == (group_name("room", "kitchen"),)
    exec(compile(origins_block, "<asgi origins>", "exec"), chat)
    partner = chat["PartnerRoomConsumer"].as_asgi()
    for origin, accepted in [
        ("https://app.example.com", True),
        ("https://a.partner.example", True),
        ("http://evil.example", False),
    ]:
        comm = WebsocketCommunicator(partner, "/", headers={"origin": origin})
        assert (await comm.connect())[0] is accepted, origin
        await comm.disconnect()


@pytest.mark.redis
async def test_core_package_readme(redis_url: str, prefix: str) -> None:
    block, redis_block = python_blocks("packages/chanx-core/README.md")
    echo = run_as_module("core_readme", block)
    async with WebsocketCommunicator(echo["app"], "/") as comm:
        await comm.send_message(echo["EchoMessage"](payload=echo["Text"](text="hi")))
        assert await comm.receive_json() == {"action": "echo_reply", "payload": {"text": "hi"}}
    exec(with_redis(redis_block, redis_url, prefix), echo)
    async with lifespan(echo["scaled"]), WebsocketCommunicator(echo["scaled"], "/") as comm:
        assert comm.tracker is not None
        assert comm.tracker.consumer is not None
        assert isinstance(comm.tracker.consumer.get_layer(), RedisGroupLayer)


@pytest.mark.redis
async def test_asgi_redis_section(redis_url: str, prefix: str) -> None:
    chat_block, _, _, redis_block = python_blocks("docs/asgi.md")
    chat = run_as_module("asgi_redis_chat", chat_block)
    apps = []
    for _ in range(2):  # two "processes"
        exec(with_redis(redis_block, redis_url, prefix), chat)
        apps.append(chat["app"])
    async with (
        lifespan(apps[0]),
        lifespan(apps[1]),
        WebsocketCommunicator(apps[0], "/ws/room/kitchen") as first,
        WebsocketCommunicator(apps[1], "/ws/room/kitchen") as second,
    ):
        await first.send_message(chat["SayMessage"](payload=chat["Text"](text="hi")))
        [line] = await second.receive_all_messages(stop_action=GROUP_ACTION_COMPLETE)
        assert line.action == "line"


def with_redis(block: str, redis_url: str, prefix: str) -> str:
    """A snippet with the shared test Redis and a prefix of the test's own."""
    source = block.replace('"redis://localhost:6379/0"', repr(redis_url))
    if "prefix=" in source:
        return source.replace('prefix="chat"', f"prefix={prefix!r}")
    return source.replace(repr(redis_url), f"{redis_url!r}, prefix={prefix!r}")

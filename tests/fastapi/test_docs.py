"""docs/fastapi.md runs as written: the testing helpers of section 6 against the example
app (which section 3 describes), and the package README's example. (The quick start runs
as a project of its own in tests/packaging/test_quick_starts.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from chanx.testing import WebsocketCommunicator
from examples.fastapi_chat.auth import User, get_current_user
from examples.fastapi_chat.consumers import MembersConsumer
from examples.fastapi_chat.main import app as example_app
from examples.fastapi_chat.main import create_app
from tests.docs.test_snippets import python_blocks, run_as_module

DOC = "docs/fastapi.md"


def block_with(text: str) -> str:
    [block] = [block for block in python_blocks(DOC) if text in block]
    return block


@pytest.mark.redis
async def test_the_testing_helpers_as_documented(redis_url: str, prefix: str) -> None:
    namespace: dict[str, Any] = {
        "app": example_app,
        "User": User,
        "MembersConsumer": MembersConsumer,
        "get_current_user": get_current_user,
    }
    block = block_with("async def test_moderator_clears_the_room")
    exec(compile(block, "<fastapi.md testing helpers>", "exec"), namespace)
    await namespace["test_moderator_clears_the_room"]()
    await namespace["test_with_fake_user_store"]()
    await namespace["test_with_redis"](create_app(redis_url, prefix))
    assert not example_app.dependency_overrides


async def test_the_package_readme_example_serves() -> None:
    [block] = python_blocks("packages/chanx-fastapi/README.md")
    readme = run_as_module("fastapi_readme", block)
    app, say, text = readme["app"], readme["SayMessage"], readme["Text"]
    async with (
        WebsocketCommunicator(app, "/ws/lobby") as alice,
        WebsocketCommunicator(app, "/ws/lobby") as bob,
    ):
        await alice.send_message(say(payload=text(text="hi")))
        assert await bob.receive_json() == {"action": "line", "payload": {"text": "hi"}}

"""docs/litestar.md runs as written: every Python block, in order, as one module; so does
the package README's example. (The quick start runs as a project of its own in
tests/packaging/test_quick_starts.py.)"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import CommunicatorError, WebsocketCommunicator
from tests.docs.test_snippets import python_blocks, run_as_module
from tests.litestar.backends import backend


class EveryoneAnonymous(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: Any) -> AuthenticationResult:
        return AuthenticationResult(user=None, auth=None)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return run_as_module("litestar_quick_start", "\n\n".join(python_blocks("docs/litestar.md")))


async def test_guards_permissions_and_events_as_documented(doc: dict[str, Any]) -> None:
    text, say, line = doc["Text"], doc["SayMessage"], doc["LineMessage"]
    app = Litestar(
        route_handlers=[
            doc["NewsRoomConsumer"].as_route_handler("/ws/room/{room:str}"),
            doc["ModerationConsumer"].as_route_handler("/ws/moderated/{room:str}"),
            doc["members_route"],
            doc["announce"],
        ],
        middleware=[DefineMiddleware(EveryoneAnonymous)],
        plugins=[memory_channels(), doc["ChanxPlugin"]()],
    )
    async with lifespan(app):
        refused = WebsocketCommunicator(app, "/ws/members/lobby")
        await refused.connect()
        assert (await refused.wait_for_auth()).payload.status_code == 401
        await refused.receive_nothing()
        assert refused.close_code == 4401
        await refused.disconnect()

        async with WebsocketCommunicator(app, "/ws/room/lobby") as member:
            # Anonymous on a route without guards: no authentication step.
            with pytest.raises(CommunicatorError, match="sent no authentication message"):
                await member.wait_for_auth()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://docs") as http:
                assert (await http.post("/announce/lobby")).status_code == 202
            got = await member.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [line(payload=text(text="closing soon"))]

        # Everyone is anonymous here: nobody is an admin, the message is refused.
        async with WebsocketCommunicator(app, "/ws/moderated/lobby") as anonymous:
            await anonymous.send_message(say(payload=text(text="hi")))
            [error] = await anonymous.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "permission_denied"


@pytest.mark.redis
async def test_the_worker_reaches_a_server_through_redis(doc: dict[str, Any]) -> None:
    room = f"docs-{uuid.uuid4().hex[:8]}"
    text, line = doc["Text"], doc["LineMessage"]
    async with backend("redis") as server_backend, backend("redis") as worker_backend:
        app = Litestar(
            route_handlers=[doc["NewsRoomConsumer"].as_route_handler("/ws/room/{room:str}")],
            plugins=[
                doc["ChannelsPlugin"](backend=server_backend, arbitrary_channels_allowed=True),
                doc["ChanxPlugin"](),
            ],
        )
        async with lifespan(app), WebsocketCommunicator(app, f"/ws/room/{room}") as member:
            await doc["nightly_job"](worker_backend, room)
            got = await member.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
            assert got == [line(payload=text(text="good night"))]


def test_core_redis_layer_app_as_documented(doc: dict[str, Any]) -> None:
    from chanx.core.redis import RedisGroupLayer
    from chanx.ext.litestar import app_layer

    layer = app_layer(doc["core_redis_app"])
    assert isinstance(layer, RedisGroupLayer)
    assert layer.prefix == "chat"


async def test_the_package_readme_example_serves() -> None:
    [block] = python_blocks("packages/chanx-litestar/README.md")
    readme = run_as_module("litestar_readme", block)
    say, text = readme["SayMessage"], readme["Text"]
    async with (
        lifespan(readme["app"]) as app,
        WebsocketCommunicator(app, "/ws/lobby") as alice,
        WebsocketCommunicator(app, "/ws/lobby") as bob,
    ):
        await alice.send_message(say(payload=text(text="hi")))
        assert await bob.receive_json() == {"action": "line", "payload": {"text": "hi"}}

"""Connecting as a user on FastAPI: for this connection only, the user dependency
answers the user; every other dependency (checks, mount dependencies, those depending
on the user) and the handlers' permissions run; ``app.dependency_overrides`` is never
touched, so users connect side by side. In-process and over a real socket."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Header, HTTPException, status

from chanx.core.decorators import ws_handler
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer
from chanx.ext.fastapi.auth import DependencyAuthenticator
from chanx.ext.fastapi.testing import AuthenticatedCommunicator
from chanx.testing import CommunicatorError, WebsocketCommunicator
from chanx.testing.base import BaseCommunicator
from chanx.testing.live import UvicornLiveServer
from examples.fastapi_chat.auth import User, get_current_user, get_token, is_moderator
from examples.fastapi_chat.messages import Identity, WhoAmIMessage, WhoAmIReply
from tests.fastapi.test_auth import WhoMessage, WhoReply


async def not_banned(user: Annotated[User, Depends(get_current_user)]) -> None:
    """A check that depends on the user dependency."""
    if user.username == "mallory":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "banned")


async def tenant(x_tenant: Annotated[str, Header()]) -> str:
    return x_tenant


class Members(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    authenticator = DependencyAuthenticator(get_current_user, dependencies=[Depends(not_banned)])

    @ws_handler
    async def handle_who(self, message: WhoMessage) -> WhoReply:
        return WhoReply(payload=self.user.username)

    @ws_handler(permissions=[is_moderator])
    async def handle_whoami(self, message: WhoAmIMessage) -> WhoAmIReply:
        return WhoAmIReply(
            payload=Identity(
                username=self.user.username,
                moderator=True,
                channel_name=self.channel_name,
                groups=[],
            )
        )


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_api_websocket_route("/ws", Members.as_endpoint())
    app.add_api_websocket_route("/ws/tenant", Members.as_endpoint(dependencies=[Depends(tenant)]))
    return app


@pytest.fixture(params=["in_process", "live"])
async def connect(request: pytest.FixtureRequest) -> Any:
    """``connect(app, path, **options)``: a communicator in-process, or over a real
    socket to uvicorn serving the same app."""
    servers: list[UvicornLiveServer] = []

    def make(app: FastAPI, path: str, headers: Any = None, **options: Any) -> BaseCommunicator:
        if request.param == "in_process":
            return WebsocketCommunicator(app, path, headers, **options)
        if not servers or servers[0].app is not app:
            servers.insert(0, UvicornLiveServer(app))
        return servers[0].communicator(path, headers, **options)

    yield make
    for server in servers:
        await server.stop()


async def who(comm: BaseCommunicator) -> Any:
    await comm.send_message(WhoMessage())
    return (await comm.assert_receives(WhoReply)).payload


async def test_a_user_not_in_any_token_store_is_admitted(connect: Any) -> None:
    app = make_app()
    async with connect(app, "/ws", user=User("carol")) as comm:
        await comm.assert_authenticated_status_ok()
        assert await who(comm) == "carol"
    assert app.dependency_overrides == {}


async def test_checks_depending_on_the_user_see_it(connect: Any) -> None:
    comm = connect(make_app(), "/ws", user=User("mallory"))
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert (auth.payload.status_code, auth.payload.data) == (403, {"detail": "banned"})
    await comm.disconnect()


async def test_mount_dependencies_still_run(connect: Any) -> None:
    app = make_app()
    comm = connect(app, "/ws/tenant", user=User("carol"))
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401  # x-tenant missing
    await comm.disconnect()
    async with connect(app, "/ws/tenant", {"x-tenant": "acme"}, user=User("carol")) as ok:
        await ok.assert_authenticated_status_ok()


async def test_handler_permissions_run_for_the_user(connect: Any) -> None:
    app = make_app()
    async with connect(app, "/ws", user=User("bob")) as bob:
        await bob.send_message(WhoAmIMessage())
        [error] = await bob.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
    async with connect(app, "/ws", user=User("mod", moderator=True)) as mod:
        await mod.send_message(WhoAmIMessage())
        assert (await mod.assert_receives(WhoAmIReply)).payload.username == "mod"


async def test_users_connect_side_by_side(connect: Any) -> None:
    app = make_app()
    comms = [connect(app, "/ws", user=User(name)) for name in ("ann", "ben", "cid")]
    await asyncio.gather(*(comm.connect() for comm in comms))
    assert app.dependency_overrides == {}
    assert [await who(comm) for comm in comms] == ["ann", "ben", "cid"]
    for comm in comms:
        await comm.disconnect()


async def test_without_a_user_the_token_is_required(connect: Any) -> None:
    comm = connect(make_app(), "/ws")
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.disconnect()


async def test_authenticated_communicator_may_name_another_dependency() -> None:
    """``dependency=get_token``: the token answers, the user dependency runs on it."""
    app = make_app()
    async with AuthenticatedCommunicator(app, "/ws", "bob-token", dependency=get_token) as comm:
        assert await who(comm) == "bob"
    comm = AuthenticatedCommunicator(app, "/ws", "nobody-token", dependency=get_token)
    with pytest.raises(CommunicatorError, match="authentication failed: 403"):
        await comm.connect()
    await comm.disconnect()
    assert app.dependency_overrides == {}

"""Connecting as a user on Litestar, through its authentication contract: the user (and
``auth``) become ``connection.user`` / ``connection.auth`` as an authentication
middleware's ``AuthenticationResult`` would make them, the middleware is skipped for the
connection (however its ``exclude_from_auth`` key is named), guards and per-handler
permissions run. In-process and over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from chanx.ext.litestar import ChanxPlugin, requires_user
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import WebsocketCommunicator
from chanx.testing.base import BaseCommunicator
from chanx.testing.live import UvicornLiveServer
from examples.litestar_chat.auth import User, admin_only
from examples.litestar_chat.consumers import ChatConsumer
from examples.litestar_chat.messages import (
    AnnounceMessage,
    NotificationMessage,
    NotificationPayload,
    WhoAmIMessage,
    WhoAmIReply,
)


class StrictTokens(AbstractAuthenticationMiddleware):
    """No token at all: 401 (so a connection as a user gets in only if it is skipped)."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        if connection.headers.get("authorization") != "Bearer ok":
            raise NotAuthorizedException("a token is required")
        return AuthenticationResult(user=User("token-holder"), auth="ok")


def create_app(exclude_key: str = "exclude_from_auth") -> Litestar:
    return Litestar(
        route_handlers=[
            ChatConsumer.as_route_handler("/ws/members", guards=[requires_user]),
            ChatConsumer.as_route_handler("/ws/admins", guards=[admin_only]),
        ],
        middleware=[DefineMiddleware(StrictTokens, exclude_from_auth_key=exclude_key)],
        plugins=[memory_channels(), ChanxPlugin()],
    )


@pytest.fixture(params=["in_process", "live"])
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """``connect(path, app=None, **options)`` on an app whose lifespan runs: in-process,
    or over a real socket to uvicorn serving it."""
    apps: dict[str, Litestar] = {}
    servers: dict[str, UvicornLiveServer] = {}

    async def make(path: str, exclude_key: str = "exclude_from_auth", **options: Any) -> Any:
        if exclude_key not in apps:
            app = apps[exclude_key] = create_app(exclude_key)
            await stack.enter_async_context(lifespan(app))
            if request.param == "live":
                servers[exclude_key] = UvicornLiveServer(app)
                await stack.enter_async_context(servers[exclude_key])
        app = apps[exclude_key]
        comm: BaseCommunicator
        if request.param == "in_process":
            comm = WebsocketCommunicator(app, path, **options)
        else:
            comm = servers[exclude_key].communicator(path, **options)
        return comm

    async with AsyncExitStack() as stack:
        yield make


async def whoami(comm: BaseCommunicator) -> Any:
    await comm.send_message(WhoAmIMessage())
    return (await comm.assert_receives(WhoAmIReply)).payload


async def test_the_user_gets_past_the_middleware_and_the_guard(connect: Any) -> None:
    async with await connect("/ws/members", user=User("carol")) as comm:
        await comm.assert_authenticated_status_ok()
        assert (await whoami(comm)).user == "carol"


async def test_without_a_user_the_middleware_refuses(connect: Any) -> None:
    comm = await connect("/ws/members")
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert (auth.payload.status_code, auth.payload.data) == (401, {"detail": "a token is required"})
    await comm.disconnect()


async def test_guards_still_run_for_the_user(connect: Any) -> None:
    comm = await connect("/ws/admins", user=User("bob"))
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert (auth.payload.status_code, auth.payload.data) == (403, {"detail": "admins only"})
    await comm.assert_closed(code=4403)
    await comm.disconnect()
    async with await connect("/ws/admins", user=User("alice", is_admin=True)) as admin:
        await admin.assert_authenticated_status_ok()


async def test_handler_permissions_still_run_for_the_user(connect: Any) -> None:
    announce = AnnounceMessage(payload=NotificationPayload(message="hear ye"))
    async with await connect("/ws/members", user=User("bob")) as bob:
        await bob.send_message(announce)
        [error] = await bob.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
    async with await connect("/ws/members", user=User("alice", is_admin=True)) as alice:
        await alice.send_message(announce)
        notice = await alice.assert_receives(NotificationMessage)
        assert notice.payload.message == "hear ye"


async def test_a_middleware_with_its_own_exclude_key_is_skipped_too(connect: Any) -> None:
    async with await connect("/ws/members", "skip_auth", user=User("dora")) as comm:
        assert (await whoami(comm)).user == "dora"


async def test_auth_becomes_connection_auth(connect: Any) -> None:
    async with await connect("/ws/members", user=User("erin"), auth="a-scope") as comm:
        assert (await whoami(comm)).user == "erin"
        consumer = comm.tracker.consumer if comm.tracker else None
        assert consumer is not None
        assert consumer.websocket.auth == "a-scope"  # type: ignore[attr-defined]
        assert consumer.websocket.user == User("erin")  # type: ignore[attr-defined]

"""Connecting as a user on Starlette: the user (and ``auth``, default credentials with
the ``authenticated`` scope) in place of what ``AuthenticationMiddleware`` found;
``requires(...)`` still checks the scopes. In-process and over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.authentication import AuthCredentials, SimpleUser, UnauthenticatedUser

from chanx.testing import WebsocketCommunicator
from chanx.testing.base import BaseCommunicator
from chanx.testing.live import UvicornLiveServer
from tests.starlette.test_auth import WhoAmIMessage, WhoAmIReply, build

ADMIN = AuthCredentials(["authenticated", "admin"])


@pytest.fixture(params=["in_process", "live"])
async def connect(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    app = build()
    if request.param == "in_process":
        yield lambda path, *args, **options: WebsocketCommunicator(app, path, *args, **options)
        return
    async with UvicornLiveServer(app) as server:
        yield server.communicator


async def whoami(comm: BaseCommunicator) -> Any:
    await comm.send_message(WhoAmIMessage())
    return (await comm.assert_receives(WhoAmIReply)).payload


async def test_a_user_is_authenticated_with_the_default_scope(connect: Any) -> None:
    async with connect("/members", user=SimpleUser("ann")) as comm:
        await comm.assert_authenticated_status_ok()
        assert await whoami(comm) == {
            "user": "ann",
            "authenticated": True,
            "scopes": ["authenticated"],
        }


async def test_requires_still_checks_the_scopes(connect: Any) -> None:
    comm = connect("/admins", user=SimpleUser("ann"))
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 404  # no "admin" scope
    await comm.disconnect()
    async with connect("/admins", user=SimpleUser("root"), auth=ADMIN) as admin:
        assert (await whoami(admin))["scopes"] == ["authenticated", "admin"]


async def test_an_unauthenticated_user_object_is_refused(connect: Any) -> None:
    comm = connect("/members", user=UnauthenticatedUser())
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == 401
    await comm.disconnect()


async def test_a_consumer_without_an_authenticator_is_told_it_authenticated(
    connect: Any,
) -> None:
    async with connect("/open", user=SimpleUser("bo")) as comm:
        await comm.assert_authenticated_status_ok()
        assert (await whoami(comm))["user"] == "bo"


async def test_the_middleware_runs_and_its_finding_is_replaced(connect: Any) -> None:
    """Starlette's middleware still runs for the handshake (it has no opt-out): a user
    it found from a credential is replaced by the known one."""
    async with connect(
        "/members", {"authorization": "Bearer mallory"}, user=SimpleUser("ann")
    ) as comm:
        assert (await whoami(comm))["user"] == "ann"

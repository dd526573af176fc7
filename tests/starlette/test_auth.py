"""Starlette's AuthenticationMiddleware as chanx authentication: ``self.user`` and
``self.auth``, the ``authentication`` message for authenticated users, ``requires``."""

from __future__ import annotations

import logging
from typing import Any, Literal

import pytest
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from chanx.core.decorators import ws_handler
from chanx.ext.starlette import AsyncJsonWebsocketConsumer, configure_layer, requires
from chanx.messages.base import BaseMessage
from chanx.testing import AuthenticatedCommunicator, WebsocketCommunicator


class WhoAmIMessage(BaseMessage):
    action: Literal["st_whoami"] = "st_whoami"
    payload: None = None


class WhoAmIReply(BaseMessage):
    action: Literal["st_whoami_reply"] = "st_whoami_reply"
    payload: dict[str, Any]


class Open(AsyncJsonWebsocketConsumer):
    send_completion = True
    groups = ["st_open"]

    @ws_handler
    async def handle_whoami(self, message: WhoAmIMessage) -> WhoAmIReply:
        return WhoAmIReply(
            payload={
                "user": self.user.display_name,
                "authenticated": self.user.is_authenticated,
                "scopes": self.auth.scopes,
            }
        )


class Members(Open):
    authenticator = requires("authenticated")


class Admins(Open):
    authenticator = requires("authenticated", "admin", status_code=404)


class Backend(AuthenticationBackend):
    """``Bearer <name>`` is user ``<name>``; ``Bearer root`` also has ``admin``;
    ``Bearer !`` is a malformed credential."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        token = conn.headers.get("authorization", "").removeprefix("Bearer ")
        if not token:
            return None
        if token == "!":
            raise AuthenticationError("malformed")
        scopes = ["authenticated", "admin"] if token == "root" else ["authenticated"]
        return AuthCredentials(scopes), SimpleUser(token)


def build(middleware: bool = True) -> Starlette:
    app = Starlette(
        routes=[Open.as_route("/open"), Members.as_route("/members"), Admins.as_route("/admins")],
        middleware=[Middleware(AuthenticationMiddleware, backend=Backend())] if middleware else [],
    )
    configure_layer(app)
    return app


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_middlewares_user_is_the_consumers_and_is_told_it_is_in() -> None:
    app = build()
    async with WebsocketCommunicator(app, "/open", headers=bearer("alice")) as comm:
        auth = await comm.wait_for_auth()
        assert auth.payload.status_code == 200
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload == {
            "user": "alice",
            "authenticated": True,
            "scopes": ["authenticated"],
        }  # type: ignore[attr-defined]


async def test_an_anonymous_connection_is_served_without_an_authentication_message() -> None:
    async with WebsocketCommunicator(build(), "/open") as comm:
        with pytest.raises(AssertionError, match="no authentication message"):
            await comm.wait_for_auth()
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload == {"user": "", "authenticated": False, "scopes": []}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/members", None, 401),
        ("/admins", None, 401),
        ("/admins", "alice", 404),  # authenticated, missing the scope: status_code
    ],
)
async def test_requires_refuses_with_the_authentication_message_and_a_close(
    path: str, token: str | None, status: int
) -> None:
    app = build()
    comm = WebsocketCommunicator(app, path, headers=bearer(token) if token else None)
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == status
    await comm.receive_nothing()
    assert comm.close_code == 4000 + status
    await comm.disconnect()


async def test_requires_admits_users_holding_every_scope() -> None:
    app = build()
    async with AuthenticatedCommunicator(app, "/admins", headers=bearer("root")) as comm:
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload["scopes"] == ["authenticated", "admin"]  # type: ignore[attr-defined]
    async with AuthenticatedCommunicator(app, "/members", headers=bearer("bob")):
        pass


async def test_a_backend_error_rejects_the_handshake_the_starlette_way() -> None:
    comm = WebsocketCommunicator(build(), "/members", headers=bearer("!"))
    accepted, code = await comm.connect()
    assert (accepted, code) == (False, 1000)


async def test_requires_without_the_middleware_says_what_is_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    comm = WebsocketCommunicator(build(middleware=False), "/members")
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await comm.connect()
        await comm.receive_nothing()
    assert "AuthenticationMiddleware" in caplog.text
    assert comm.close_code is not None
    assert comm.close_code >= 1011
    await comm.disconnect()

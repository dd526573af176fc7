"""On Litestar the origin check runs first: a refused handshake reaches no authentication
middleware, guard or on_connect (they would see the visitor's cookies)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
    DefineMiddleware,
)

from chanx.core.origins import REFUSED_CLOSE_CODE
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin
from chanx.ext.litestar.testing import lifespan, memory_channels
from chanx.testing import WebsocketCommunicator

seen: list[str] = []


class CookieAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        seen.append("middleware")
        return AuthenticationResult(user=connection.cookies.get("session"), auth=None)


def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    seen.append("guard")


class Private(AsyncJsonWebsocketConsumer):
    async def on_connect(self) -> None:
        seen.append("on_connect")


async def test_a_cross_site_handshake_is_refused_before_anything_sees_it() -> None:
    app = Litestar(
        route_handlers=[Private.as_route_handler("/ws", guards=[guard])],
        middleware=[DefineMiddleware(CookieAuth)],
        plugins=[memory_channels(), ChanxPlugin()],
    )
    async with lifespan(app):
        seen.clear()
        headers = {"origin": "http://evil.example", "cookie": "session=alice"}
        comm = WebsocketCommunicator(app, "/ws", headers=headers)
        assert await comm.connect() == (False, REFUSED_CLOSE_CODE)
        await comm.disconnect()
        assert seen == []
        own = {"origin": "http://testserver", "cookie": "session=alice"}
        async with WebsocketCommunicator(app, "/ws", headers=own) as comm:
            await comm.assert_authenticated_status_ok()
        assert seen == ["middleware", "guard", "on_connect"]

"""Litestar authentication in chanx terms: guards, authentication middleware,
``connection.user``, per-handler permissions; refusals keep the chanx contract."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest
from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.handlers.base import BaseRouteHandler

from chanx.constants import EVENT_ACTION_COMPLETE
from chanx.core.decorators import ws_handler
from chanx.ext.litestar import AsyncJsonWebsocketConsumer, ChanxPlugin, from_guard, requires_user
from chanx.ext.litestar.testing import AuthenticatedCommunicator, lifespan, memory_channels
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import CommunicatorError, WebsocketCommunicator
from examples.litestar_chat.consumers import ChatConsumer
from examples.litestar_chat.messages import (
    AnnounceMessage,
    NotificationEvent,
    NotificationMessage,
    NotificationPayload,
    WhoAmIMessage,
)

ALICE = {"authorization": "Bearer alice-token"}  # admin
BOB = {"authorization": "Bearer bob-token"}


# ---------------------------------------------------------------- the example app


async def test_guard_refuses_anonymous_with_401_and_close_4401(app: Litestar) -> None:
    comm = WebsocketCommunicator(app, "/ws/members")
    accepted, _ = await comm.connect()
    assert accepted  # the chanx contract: accept, say why, close
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == 401
    assert auth.payload.status_text == "Unauthorized"
    assert auth.payload.data == {"detail": "authentication required"}
    await comm.receive_nothing()
    assert comm.close_code == 4401
    assert not comm.connected
    await comm.disconnect()


async def test_authentication_middleware_refusal_is_a_chanx_refusal(app: Litestar) -> None:
    # The middleware raises NotAuthorizedException for an unknown token, before routing
    # reaches the handler; the route is public, so only the middleware refuses.
    comm = WebsocketCommunicator(app, "/ws/chat", headers={"authorization": "Bearer forged"})
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert (auth.payload.status_code, auth.payload.data) == (401, {"detail": "unknown token"})
    await comm.receive_nothing()
    assert comm.close_code == 4401
    await comm.disconnect()


async def test_token_in_query_string_authenticates(app: Litestar) -> None:
    async with AuthenticatedCommunicator(app, "/ws/members?token=bob-token") as comm:
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload.user == "bob"  # type: ignore[attr-defined]


async def test_handlers_see_connection_user_and_auth(app: Litestar) -> None:
    async with AuthenticatedCommunicator(app, "/ws/members", headers=BOB) as comm:
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert reply.payload.user == "bob"  # type: ignore[attr-defined]
        assert comm.tracker is not None
        consumer = comm.tracker.consumer
        assert consumer is not None
        assert consumer.user.name == "bob"
        assert consumer.auth == "bob-token"  # type: ignore[attr-defined]
        assert consumer.websocket.user is consumer.user  # type: ignore[attr-defined]


async def test_authentication_middleware_user_alone_sends_authentication_ok(
    app: Litestar,
) -> None:
    """The route has no guard; the middleware found bob's token and set him as the user."""
    comm = WebsocketCommunicator(app, "/ws/chat", headers=BOB)
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == 200
    await comm.send_message(WhoAmIMessage())
    [reply] = await comm.receive_all_messages()
    assert reply.payload.user == "bob"  # type: ignore[attr-defined]
    await comm.disconnect()


async def test_anonymous_connection_is_not_told_it_authenticated(app: Litestar) -> None:
    """The route has no guard; the middleware ran and set ``user=None``: no
    authentication step, as for a consumer without an authenticator elsewhere."""
    comm = WebsocketCommunicator(app, "/ws/chat")
    await comm.connect()
    with pytest.raises(CommunicatorError, match="sent no authentication message"):
        await comm.wait_for_auth()
    await comm.send_message(WhoAmIMessage())
    [reply] = await comm.receive_all_messages()
    assert reply.payload.user is None  # type: ignore[attr-defined]
    await comm.disconnect()

    # A connection that must be admitted says why this one was not.
    must_be_admitted = AuthenticatedCommunicator(app, "/ws/chat")
    with pytest.raises(CommunicatorError, match="sent no authentication message"):
        await must_be_admitted.connect()
    await must_be_admitted.disconnect()


async def test_per_handler_permission_from_a_guard(app: Litestar) -> None:
    async with (
        AuthenticatedCommunicator(app, "/ws/members", headers=BOB) as bob,
        AuthenticatedCommunicator(app, "/ws/members", headers=ALICE) as alice,
    ):
        announce = AnnounceMessage(payload=NotificationPayload(message="hello all"))
        await bob.send_message(announce)
        [error] = await bob.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
        await alice.receive_nothing()  # bob's announce went nowhere

        # The connection stays usable, and the admin may announce.
        await bob.send_message(PingMessage())
        assert await bob.receive_all_messages() == [PongMessage()]
        await alice.send_message(announce)
        assert await alice.receive_all_messages() == []  # its own `complete`
        expected = [NotificationMessage(payload=NotificationPayload(message="hello all"))]
        for comm in (alice, bob):
            assert await comm.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE) == expected


async def test_authenticated_communicator_says_why_it_was_refused(app: Litestar) -> None:
    comm = AuthenticatedCommunicator(app, "/ws/members")
    with pytest.raises(CommunicatorError, match="authentication failed: 401"):
        await comm.connect()
    await comm.disconnect()


async def test_on_connect_http_exception_refuses_with_its_status(app: Litestar) -> None:
    comm = WebsocketCommunicator(app, "/ws/room/attic")
    await comm.connect()
    auth = await comm.wait_for_auth()
    assert auth.payload.status_code == 404
    assert auth.payload.data == {"detail": "no room 'attic'"}
    await comm.receive_nothing()
    assert comm.close_code == 4404
    await comm.disconnect()


async def test_refused_connection_never_joins_groups(app: Litestar) -> None:
    refused = WebsocketCommunicator(app, "/ws/members")
    await refused.connect()
    async with AuthenticatedCommunicator(app, "/ws/members", headers=BOB) as admitted:
        await ChatConsumer.broadcast_event(
            NotificationEvent(payload=NotificationPayload(message="only members")), "users"
        )
        got = await admitted.receive_all_messages(stop_action=EVENT_ACTION_COMPLETE)
        assert got == [NotificationMessage(payload=NotificationPayload(message="only members"))]
    await refused.receive_nothing()
    await refused.disconnect()


# ---------------------------------------------------------------- guards at every layer


class Secret(BaseMessage):
    action: Literal["secret"] = "secret"
    payload: None = None


class SecretReply(BaseMessage):
    action: Literal["secret_reply"] = "secret_reply"
    payload: str


def needs_header(name: str, status: type[HTTPException]) -> Any:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if name not in connection.headers:
            raise status(f"missing {name}")

    guard.__name__ = f"needs_{name}"
    return guard


def crashes(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    raise RuntimeError("guard bug")


def is_vip(consumer: Any, message: Any) -> bool:
    return bool(consumer.websocket.headers.get("x-vip"))


class GuardedConsumer(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False
    connects: list[dict[str, Any]] = []

    async def on_connect(self, expensive: NamedDependency[str]) -> None:
        type(self).connects.append({"expensive": expensive})

    @ws_handler(permissions=[is_vip])
    async def handle_secret(self, message: Secret) -> SecretReply:
        return SecretReply(payload="vip only")


resolved: list[str] = []


async def expensive() -> str:
    resolved.append("expensive")
    return "resolved"


@pytest.fixture
async def guarded_app() -> AsyncIterator[Litestar]:
    resolved.clear()
    GuardedConsumer.connects.clear()
    router = Router(
        "/api",
        guards=[needs_header("x-router", PermissionDeniedException)],
        route_handlers=[
            GuardedConsumer.as_route_handler(
                "/ws", guards=[needs_header("x-handler", TooManyRequestsException)]
            ),
            GuardedConsumer.as_route_handler("/crash", guards=[crashes]),
        ],
    )
    app = Litestar(
        route_handlers=[router],
        guards=[needs_header("x-app", NotAuthorizedException)],
        dependencies={"expensive": Provide(expensive)},
        plugins=[memory_channels(), ChanxPlugin()],
    )
    async with lifespan(app):
        yield app


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),  # the app's guard
        ({"x-app": "1"}, 403),  # the router's guard
        ({"x-app": "1", "x-router": "1"}, 429),  # the handler's guard, any 4xx status
    ],
)
async def test_guards_of_every_layer_refuse_before_dependencies(
    guarded_app: Litestar, headers: dict[str, str], status: int
) -> None:
    comm = WebsocketCommunicator(guarded_app, "/api/ws", headers=headers)
    await comm.connect()
    assert (await comm.wait_for_auth()).payload.status_code == status
    await comm.receive_nothing()
    assert comm.close_code == 4000 + status
    await comm.disconnect()
    assert resolved == []  # no dependency resolved, no hook ran
    assert GuardedConsumer.connects == []


async def test_guards_passed_then_dependencies_reach_on_connect(guarded_app: Litestar) -> None:
    headers = {"x-app": "1", "x-router": "1", "x-handler": "1"}
    async with AuthenticatedCommunicator(guarded_app, "/api/ws", headers=headers) as comm:
        assert GuardedConsumer.connects == [{"expensive": "resolved"}]
        auth = await comm.wait_for_auth()
        assert auth.payload.status_code == 200  # guards count as an authentication step
        await comm.send_message(Secret())
        [error] = await comm.receive_all_json()
        assert error["payload"]["detail"] == "Permission denied"
    vip = {**headers, "x-vip": "yes"}
    async with AuthenticatedCommunicator(guarded_app, "/api/ws", headers=vip) as comm:
        await comm.send_message(Secret())
        assert await comm.receive_all_messages() == [SecretReply(payload="vip only")]


async def test_a_guard_that_crashes_keeps_litestars_close(
    guarded_app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    """Only 4xx refusals become chanx refusals; a bug is Litestar's 4500 close, no accept."""
    headers = {"x-app": "1", "x-router": "1"}
    comm = WebsocketCommunicator(guarded_app, "/api/crash", headers=headers)
    with caplog.at_level(logging.ERROR):
        assert await comm.connect() == (False, 4500)
    assert GuardedConsumer.connects == []


def test_requires_user_and_from_guard_are_plain_callables() -> None:
    assert callable(requires_user)
    assert from_guard(requires_user).__name__ == "from_guard(requires_user)"


async def failing_user() -> str:
    raise NotAuthorizedException("no user")


class NeedsUserDependency(AsyncJsonWebsocketConsumer):
    async def on_connect(self, user: NamedDependency[str]) -> None:
        self.name = user


async def test_a_dependency_that_refuses_keeps_litestars_close() -> None:
    """Dependencies are resolved inside Litestar's own error handling, out of chanx's
    reach: authenticate in middleware or guards to get the chanx refusal."""
    app = Litestar(
        route_handlers=[NeedsUserDependency.as_route_handler("/ws")],
        dependencies={"user": Provide(failing_user)},
        plugins=[memory_channels(), ChanxPlugin()],
    )
    async with lifespan(app):
        comm = WebsocketCommunicator(app, "/ws")
        assert await comm.connect() == (False, 4500)

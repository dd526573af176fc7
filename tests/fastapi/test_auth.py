"""Authentication with FastAPI dependencies, resolved by FastAPI at connect."""

# No `from __future__ import annotations` here: FastAPI reads the annotations of the
# dependencies defined inside the tests at run time.

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import pytest
from fastapi import (
    Cookie,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Query,
    Security,
    WebSocketException,
    status,
)
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
)

from chanx.constants import CLOSE_SERVER_ERROR
from chanx.core.auth import AuthResult
from chanx.core.decorators import ws_handler
from chanx.ext.fastapi import AsyncJsonWebsocketConsumer, DependencyAuthenticator
from chanx.ext.fastapi.auth import status_for_close_code
from chanx.ext.fastapi.testing import AuthenticatedCommunicator, override_dependencies
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage
from chanx.testing import CommunicatorError, WebsocketCommunicator
from examples.fastapi_chat.auth import User
from examples.fastapi_chat.consumers import MembersConsumer, members_group, user_group
from examples.fastapi_chat.main import app as example_app
from examples.fastapi_chat.messages import (
    ChatMessage,
    ClearRoomMessage,
    RoomCleared,
    RoomMessage,
    WhoAmIMessage,
    WhoAmIReply,
)

TOKENS = {"good": "alice", "other": "bob"}


class WhoMessage(BaseMessage):
    action: Literal["who"] = "who"
    payload: None = None


class WhoReply(BaseMessage):
    action: Literal["who_reply"] = "who_reply"
    payload: Any = None


class Base(AsyncJsonWebsocketConsumer):
    send_completion = True
    log_websocket_message = False

    @ws_handler
    async def handle_who(self, message: WhoMessage) -> WhoReply:
        return WhoReply(payload=self.user)


def user_for(token: str) -> str:
    name = TOKENS.get(token)
    if name is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "unknown token")
    return name


def mounted(
    consumer: type[AsyncJsonWebsocketConsumer], path: str = "/ws", **options: Any
) -> FastAPI:
    app = FastAPI()
    app.add_api_websocket_route(path, consumer.as_endpoint(**options))
    return app


async def connect(app: FastAPI, path: str = "/ws", **options: Any) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(app, path, **options)
    accepted, _ = await comm.connect()
    assert accepted  # chanx accepts first, then authenticates
    return comm


async def who(comm: WebsocketCommunicator) -> Any:
    await comm.send_message(WhoMessage())
    [reply] = await comm.receive_all_messages()
    return reply.payload  # type: ignore[attr-defined]


async def refused(app: FastAPI, path: str = "/ws", **options: Any) -> tuple[int, Any]:
    """Connect, expect a refusal; returns (status, data) and checks the close code."""
    comm = await connect(app, path, **options)
    auth = await comm.wait_for_auth()
    await comm.send_message(WhoMessage())
    await comm.receive_nothing()
    assert comm.close_code == 4000 + auth.payload.status_code
    await comm.disconnect()
    return auth.payload.status_code, auth.payload.data


# ---------------------------------------------------------------------- security schemes

oauth2 = OAuth2PasswordBearer(tokenUrl="/token")


async def oauth2_user(token: Annotated[str, Depends(oauth2)]) -> str:
    return user_for(token)


class OAuth2Consumer(Base):
    authenticator = DependencyAuthenticator(oauth2_user)


async def test_oauth2_bearer_header() -> None:
    app = mounted(OAuth2Consumer)
    comm = await connect(app, headers={"authorization": "Bearer good"})
    await comm.assert_authenticated_status_ok()
    assert await who(comm) == "alice"
    await comm.disconnect()


async def test_oauth2_missing_token_is_401() -> None:
    assert await refused(mounted(OAuth2Consumer)) == (401, {"detail": "Not authenticated"})


async def test_oauth2_invalid_token_is_403() -> None:
    app = mounted(OAuth2Consumer)
    got = await refused(app, headers={"authorization": "Bearer forged"})
    assert got == (403, {"detail": "unknown token"})


http_bearer = HTTPBearer()


async def bearer_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(http_bearer)],
) -> str:
    return user_for(credentials.credentials)


class HTTPBearerConsumer(Base):
    authenticator = DependencyAuthenticator(bearer_user)


async def test_http_bearer() -> None:
    app = mounted(HTTPBearerConsumer)
    comm = await connect(app, headers={"authorization": "Bearer other"})
    assert await who(comm) == "bob"
    await comm.disconnect()
    assert (await refused(app))[0] == 401
    assert (await refused(app, headers={"authorization": "Basic eA=="}))[0] == 401
    assert (await refused(app, headers={"authorization": "Bearer nobody"}))[0] == 403


api_key = APIKeyHeader(name="x-api-key")


class APIKeyConsumer(Base):
    authenticator = DependencyAuthenticator(Depends(api_key))


async def test_api_key_header_value_becomes_the_user() -> None:
    app = mounted(APIKeyConsumer)
    comm = await connect(app, headers={"x-api-key": "k-123"})
    assert await who(comm) == "k-123"
    await comm.disconnect()
    assert (await refused(app))[0] == 401


# ---------------------------------------------------------------------- query, cookie, header


async def query_user(token: Annotated[str, Query(min_length=3)]) -> str:
    return user_for(token)


class QueryConsumer(Base):
    authenticator = DependencyAuthenticator(query_user)


async def test_query_token() -> None:
    app = mounted(QueryConsumer)
    comm = await connect(app, "/ws?token=good")
    assert await who(comm) == "alice"
    await comm.disconnect()


async def test_missing_or_malformed_parameters_are_401_without_the_input() -> None:
    app = mounted(QueryConsumer)
    status_code, data = await refused(app)
    assert status_code == 401
    assert data["errors"] == [
        {"loc": ["query", "token"], "msg": "Field required", "type": "missing"}
    ]
    status_code, data = await refused(app, "/ws?token=xy")
    assert status_code == 401
    [error] = data["errors"]
    assert error["type"] == "string_too_short"
    assert "xy" not in str(data)


async def cookie_user(session: Annotated[str, Cookie()]) -> str:
    return user_for(session)


class CookieConsumer(Base):
    authenticator = DependencyAuthenticator(cookie_user)


async def test_cookie_token() -> None:
    app = mounted(CookieConsumer)
    comm = await connect(app, headers={"cookie": "session=other"})
    assert await who(comm) == "bob"
    await comm.disconnect()
    assert (await refused(app, headers={"cookie": "session=bad"}))[0] == 403


# ---------------------------------------------------------------------- outcomes


def raises_ws(code: int, reason: str = "") -> Any:
    def dependency() -> None:
        raise WebSocketException(code, reason)

    return dependency


@pytest.mark.parametrize(
    ("code", "expected"),
    [(status.WS_1008_POLICY_VIOLATION, 403), (4401, 401), (4429, 429), (1011, 500), (1003, 403)],
)
async def test_websocket_exception_close_codes_map_to_statuses(code: int, expected: int) -> None:
    assert status_for_close_code(code) == expected

    class Refusing(Base):
        authenticator = DependencyAuthenticator(raises_ws(code, "go away"))

    assert await refused(mounted(Refusing)) == (expected, {"detail": "go away"})


async def test_dependency_may_return_an_auth_result() -> None:
    async def decide(x_mode: Annotated[str, Header()]) -> AuthResult:
        if x_mode == "guest":
            return AuthResult.allow("guest", data={"role": "guest"})
        return AuthResult(402, None, {"detail": "pay first"})

    class Deciding(Base):
        authenticator = DependencyAuthenticator(decide)

    app = mounted(Deciding)
    comm = await connect(app, headers={"x-mode": "guest"})
    assert (await comm.wait_for_auth()).payload.data == {"role": "guest"}
    assert await who(comm) == "guest"
    await comm.disconnect()
    assert await refused(app, headers={"x-mode": "other"}) == (402, {"detail": "pay first"})


async def test_unexpected_dependency_error_closes_4500_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> str:
        raise RuntimeError("database on fire")

    class Broken(Base):
        authenticator = DependencyAuthenticator(broken)

    comm = WebsocketCommunicator(mounted(Broken), "/ws")
    with caplog.at_level(logging.ERROR, logger="chanx"):
        await comm.connect()
        await comm.receive_nothing()
    assert comm.close_code == CLOSE_SERVER_ERROR
    assert any("database on fire" in str(r.exc_info) for r in caplog.records)
    await comm.disconnect()


async def test_path_parameters_feed_dependencies() -> None:
    async def room_member(room: str, token: Annotated[str, Query()]) -> str:
        if room == "vip" and token != "good":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "vip only")
        return f"{user_for(token)}@{room}"

    class Rooms(Base):
        authenticator = DependencyAuthenticator(room_member)

    app = mounted(Rooms, "/ws/{room}")
    comm = await connect(app, "/ws/vip?token=good")
    assert await who(comm) == "alice@vip"
    await comm.disconnect()
    assert await refused(app, "/ws/vip?token=other") == (403, {"detail": "vip only"})


async def test_security_scopes_reach_the_dependency() -> None:
    async def scoped(scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> str:
        return f"{user_for(token)}:{scopes.scope_str}"

    class Scoped(Base):
        authenticator = DependencyAuthenticator(Security(scoped, scopes=["chat", "read"]))

    comm = await connect(mounted(Scoped), headers={"authorization": "Bearer good"})
    assert await who(comm) == "alice:chat read"
    await comm.disconnect()


async def test_yield_dependency_lives_as_long_as_the_connection() -> None:
    events: list[str] = []

    async def session() -> AsyncIterator[str]:
        events.append("open")
        yield "db-session"
        events.append("close")

    async def user_with_session(db: Annotated[str, Depends(session)]) -> str:
        return f"alice via {db}"

    class WithSession(Base):
        authenticator = DependencyAuthenticator(user_with_session)

    comm = await connect(mounted(WithSession))
    assert await who(comm) == "alice via db-session"
    assert events == ["open"]
    await comm.disconnect()
    assert events == ["open", "close"]


# ---------------------------------------------------------------------- mount dependencies


async def test_mount_dependencies_run_first_and_refuse_with_the_auth_message() -> None:
    order: list[str] = []

    async def origin_check(origin: Annotated[str | None, Header()] = None) -> None:
        order.append("mount")
        if origin != "https://chat.example":
            raise HTTPException(status.HTTP_403_FORBIDDEN, "bad origin")

    async def tracked_user(token: Annotated[str, Query()]) -> str:
        order.append("user")
        return user_for(token)

    class Tracked(Base):
        authenticator = DependencyAuthenticator(tracked_user)

    app = mounted(Tracked, dependencies=[Depends(origin_check)])
    good = {"origin": "https://chat.example"}
    comm = await connect(app, "/ws?token=good", headers=good)
    assert await who(comm) == "alice"
    await comm.disconnect()
    assert order == ["mount", "user"]
    assert await refused(app, "/ws?token=good") == (403, {"detail": "bad origin"})
    assert order == ["mount", "user", "mount"]  # the user dependency never ran


async def test_mount_dependencies_alone_make_an_authentication_step() -> None:
    async def require_header(x_tenant: Annotated[str, Header()]) -> None:
        return None

    class Open(Base):
        pass

    app = mounted(Open, dependencies=[Depends(require_header)])
    comm = await connect(app, headers={"x-tenant": "acme"})
    await comm.assert_authenticated_status_ok()
    assert await who(comm) is None
    await comm.disconnect()
    assert (await refused(app))[0] == 401


async def test_checks_on_the_authenticator_run_before_its_dependency() -> None:
    def closed_for_maintenance() -> None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "maintenance")

    class Maintenance(Base):
        authenticator = DependencyAuthenticator(
            oauth2_user, dependencies=[Depends(closed_for_maintenance)]
        )

    got = await refused(mounted(Maintenance), headers={"authorization": "Bearer good"})
    assert got == (503, {"detail": "maintenance"})


# ---------------------------------------------------------------------- overrides in tests


async def test_app_dependency_overrides_apply_to_websocket_auth() -> None:
    app = mounted(OAuth2Consumer)
    app.dependency_overrides[oauth2_user] = lambda: "test-user"
    try:
        comm = await connect(app)  # no token at all
        await comm.assert_authenticated_status_ok()
        assert await who(comm) == "test-user"
        await comm.disconnect()
    finally:
        app.dependency_overrides.clear()
    assert (await refused(app))[0] == 401


async def test_override_dependencies_restores_what_was_there() -> None:
    app = mounted(OAuth2Consumer)
    app.dependency_overrides[oauth2] = lambda: "good"
    with override_dependencies(app, {oauth2_user: lambda: "carol", oauth2: lambda: "other"}):
        comm = await connect(app)
        assert await who(comm) == "carol"
        await comm.disconnect()
    assert oauth2_user not in app.dependency_overrides
    assert app.dependency_overrides[oauth2]() == "good"


async def test_authenticated_communicator_connects_as_a_user() -> None:
    dave = User("dave")
    async with AuthenticatedCommunicator(
        example_app, "/ws/members/lobby", dave, consumer=MembersConsumer
    ) as comm:
        await comm.assert_authenticated_status_ok()
        await comm.send_message(WhoAmIMessage())
        [reply] = await comm.receive_all_messages()
        assert isinstance(reply, WhoAmIReply)
        assert reply.payload.username == "dave"
        assert set(reply.payload.groups) == {members_group("lobby"), user_group("dave")}
    assert not example_app.dependency_overrides


def closed_to_everyone() -> None:
    raise HTTPException(status.HTTP_403_FORBIDDEN, "closed")


async def test_authenticated_communicator_says_why_it_was_refused() -> None:
    # The user dependency is overridden, but a check of the mount still refuses.
    app = mounted(OAuth2Consumer, dependencies=[Depends(closed_to_everyone)])
    comm = AuthenticatedCommunicator(app, "/ws", "alice", consumer=OAuth2Consumer)
    with pytest.raises(CommunicatorError, match=r"authentication failed: 403 .*'closed'"):
        await comm.connect()
    assert not app.dependency_overrides
    await comm.disconnect()


async def test_authenticated_communicator_without_a_user_dependency_admits_the_user() -> None:
    async with AuthenticatedCommunicator(mounted(Base), "/ws", "xavier") as comm:
        assert await who(comm) == "xavier"


# ---------------------------------------------------------------------- permissions


async def test_permission_denied_on_one_handler_while_others_work() -> None:
    bob = {"authorization": "Bearer bob-token"}
    async with WebsocketCommunicator(
        example_app, "/ws/members/mods", headers=bob, consumer=MembersConsumer
    ) as comm:
        await comm.assert_authenticated_status_ok()
        await comm.send_message(ClearRoomMessage())
        [error] = await comm.receive_all_json()
        assert error["payload"]["errors"][0]["type"] == "permission_denied"
        await comm.send_message(ChatMessage(payload={"message": "still here"}))
        [post] = await comm.receive_all_messages(stop_action="group_complete")
        assert isinstance(post, RoomMessage)
        assert post.payload.sender == "bob"
        await comm.receive_all_messages()
        await comm.send_message(PingMessage())
        assert await comm.receive_all_messages() == [PongMessage()]


async def test_permission_granted_to_a_moderator() -> None:
    async with (
        WebsocketCommunicator(
            example_app,
            "/ws/members/mods?token=alice-token",
            consumer=MembersConsumer,
        ) as alice,
        WebsocketCommunicator(
            example_app,
            "/ws/members/mods",
            headers={"cookie": "session=bob-token"},
            consumer=MembersConsumer,
        ) as bob,
    ):
        await alice.send_message(ClearRoomMessage())
        for comm in (alice, bob):
            [cleared] = await comm.receive_all_messages(stop_action="group_complete")
            assert isinstance(cleared, RoomCleared)
            assert cleared.payload.sender == "alice"

"""WebsocketTestCase itself: cleanup at teardown, headers, application, users.

Most tests here run a small WebsocketTestCase with unittest and inspect the result, so
they can check what happens after its teardown."""

from __future__ import annotations

import asyncio
import unittest
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.contrib.auth import get_user_model
from django.urls import path

from chanx.ext.channels.auth import SessionAuthenticator
from chanx.ext.channels.testing import WebsocketTestCase
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage

EVENTS: list[str] = []


class Tracked(AsyncJsonWebsocketConsumer):
    def select_subprotocol(self, requested: Any) -> str | None:
        return requested[0] if requested else None

    async def post_authentication(self) -> None:
        EVENTS.append(f"connected {self.path_params.get('tag', '')}")

    async def on_disconnect(self, code: int) -> None:
        EVENTS.append(f"disconnected {self.path_params.get('tag', '')} {code}")


class Stubborn(AsyncJsonWebsocketConsumer):
    async def on_disconnect(self, code: int) -> None:
        await asyncio.Event().wait()


class LoggedIn(Tracked):
    authenticator = SessionAuthenticator()


ROUTES = AuthMiddlewareStack(
    URLRouter(
        [
            path("ws/tracked/<str:tag>", Tracked.as_asgi()),
            path("ws/stubborn", Stubborn.as_asgi()),
            path("ws/logged-in", LoggedIn.as_asgi()),
        ]
    )
)


def run(case: type[unittest.TestCase], name: str) -> unittest.TestResult:
    EVENTS.clear()
    result = unittest.TestResult()
    case(name)(result)  # through Django's __call__, as test runners do
    return result


def problems(result: unittest.TestResult) -> list[str]:
    return [text for _, text in result.errors + result.failures]


def test_every_communicator_is_disconnected_when_the_test_ends() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES
        ws_path = "/ws/tracked/a"

        async def test_it(self) -> None:
            await self.communicator.connect()
            await self.create_communicator(path="/ws/tracked/b").connect()
            self.create_communicator(path="/ws/tracked/never")  # never connected
            assert EVENTS == ["connected a", "connected b"]

    result = run(Case, "test_it")
    assert result.wasSuccessful(), problems(result)
    assert sorted(EVENTS) == [
        "connected a",
        "connected b",
        "disconnected a 1000",
        "disconnected b 1000",
    ]


def test_a_failing_test_still_disconnects_and_keeps_its_own_failure() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES
        ws_path = "/ws/tracked/f"

        async def test_it(self) -> None:
            await self.communicator.connect()
            raise AssertionError("the test's own failure")

    result = run(Case, "test_it")
    [failure] = problems(result)
    assert "the test's own failure" in failure
    assert EVENTS == ["connected f", "disconnected f 1000"]


def test_a_consumer_that_never_finishes_its_disconnect_fails_the_test() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES
        ws_path = "/ws/stubborn"

        async def test_it(self) -> None:
            await self.communicator.connect()

    result = run(Case, "test_it")
    [error] = problems(result)
    assert "did not finish" in error


def test_async_get_ws_headers_and_subprotocols() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES
        ws_path = "/ws/logged-in"

        async def get_ws_headers(self) -> Any:
            self.user, headers = await self.acreate_user_and_ws_headers()
            return headers

        def get_subprotocols(self) -> list[str]:
            return ["chanx.test"]

        async def test_it(self) -> None:
            accepted, subprotocol = await self.auth_communicator.connect()
            assert (accepted, subprotocol) == (True, "chanx.test")
            await self.auth_communicator.assert_authenticated_status_ok()
            assert self.auth_communicator.tracker.consumer.user == self.user  # type: ignore[union-attr]
            await self.auth_communicator.send_message(PingMessage())
            assert await self.auth_communicator.receive_all_messages() == [PongMessage()]

    result = run(Case, "test_it")
    assert result.wasSuccessful(), problems(result)


def test_sync_tests_run_as_usual() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES
        ws_path = "/ws/tracked/s"

        def test_it(self) -> None:
            user, headers = self.create_user_and_ws_headers()
            assert user.pk is not None
            assert headers[0][0] == b"cookie"

    result = run(Case, "test_it")
    assert result.wasSuccessful(), problems(result)


def test_without_ws_path_the_error_says_so() -> None:
    class Case(WebsocketTestCase):
        application = ROUTES

        async def test_it(self) -> None:
            self.communicator  # noqa: B018

    [error] = problems(run(Case, "test_it"))
    assert "set ws_path" in error


def test_the_origin_header_is_sent_unless_disabled() -> None:
    class Case(WebsocketTestCase):
        ws_path = "/ws/rooms/lobby/"  # the example project: AllowedHostsOriginValidator

        async def test_default_origin(self) -> None:
            accepted, _ = await self.communicator.connect()
            assert accepted

        async def test_no_origin(self) -> None:
            self.ws_origin = None
            accepted, _ = await self.communicator.connect()
            assert not accepted

    for name in ("test_default_origin", "test_no_origin"):
        result = run(Case, name)
        assert result.wasSuccessful(), problems(result)


class TestUsers(WebsocketTestCase):
    def test_create_user_makes_unique_users_without_usable_password(self) -> None:
        first = self.create_user()
        second = self.create_user(first_name="Ada")
        assert first.username != second.username
        assert first.email
        assert first.email != second.email
        assert second.first_name == "Ada"
        assert not first.has_usable_password()
        assert get_user_model().objects.count() == 2

    def test_login_headers_carry_a_session_of_that_user(self) -> None:
        from django.contrib.auth import SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        user, [(name, value)] = self.create_user_and_ws_headers()
        assert name == b"cookie"
        session_key = value.decode().split("=", 1)[1]
        assert SessionStore(session_key=session_key)[SESSION_KEY] == str(user.pk)

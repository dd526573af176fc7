"""Connecting as a Django user: a user object, no session cookie; the consumer's
authorization still runs for it (SessionAuthenticator's checks, DRF permissions and
throttles, handler checks). And chanx 1.x's WebsocketTestCase names."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from django.contrib.auth.models import AnonymousUser, Permission

from chanx.ext.channels import pytest_plugin
from chanx.ext.channels.testing import WebsocketTestCase
from chanx.testing import AuthenticatedCommunicator, CommunicatorError, WebsocketCommunicator
from tests.channels.test_auth import (
    ROUTES,
    AdminViaDRF,
    CanDelete,
    Done,
    Me,
    Root,
    StaffOnly,
    WhoAmI,
)

APPLICATION = AuthMiddlewareStack(URLRouter(ROUTES))


class AsUser(WebsocketTestCase):
    application = APPLICATION
    ws_path = "/ws/session"

    async def user(self, **fields: Any) -> Any:
        return await sync_to_async(self.create_user)(**fields)

    async def test_a_user_object_connects_without_a_session_cookie(self) -> None:
        user = await self.user()
        comm = self.create_communicator(user=user)
        assert all(name != b"cookie" for name, _ in comm.scope["headers"])
        await comm.connect()
        await comm.assert_authenticated_status_ok()
        await comm.send_message(WhoAmI())
        assert await comm.assert_receives(Me) == Me(payload=user.username)

    async def test_the_session_authenticator_still_checks_the_user(self) -> None:
        inactive = await self.user(is_active=False)
        for who, detail in (
            (inactive, "User inactive or deleted."),
            (AnonymousUser(), "Authentication credentials were not provided."),
        ):
            comm = self.create_communicator(user=who)
            await comm.connect()
            auth = await comm.wait_for_auth()
            assert (auth.payload.status_code, auth.payload.data) == (403, {"detail": detail})
            await comm.assert_closed(code=4403)

    async def test_drf_skips_authentication_and_runs_permissions(self) -> None:
        plain, staff = await self.user(), await self.user(is_staff=True)
        # BasicAuthentication would want a password: the known user skips it.
        basic = self.create_communicator(path="/ws/drf/basic", user=plain)
        await basic.connect()
        await basic.assert_authenticated_status_ok()
        # IsAdminUser still decides.
        refused = self.create_communicator(path="/ws/drf/admin", user=plain)
        await refused.connect()
        auth = await refused.wait_for_auth()
        assert auth.payload.status_code == 403
        admitted = self.create_communicator(path="/ws/drf/admin", user=staff)
        await admitted.connect()
        await admitted.assert_authenticated_status_ok()

    async def test_handler_checks_run_for_the_user(self) -> None:
        plain = await self.user()
        comm = self.create_communicator(user=plain)
        await comm.connect()
        for message in (StaffOnly(), CanDelete(), AdminViaDRF(), Root()):
            await comm.send_message(message)
            [error] = await comm.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "permission_denied", message
        boss = await self.user(is_staff=True, is_superuser=True)
        permitted = self.create_communicator(user=boss)
        await permitted.connect()
        for message in (StaffOnly(), CanDelete(), AdminViaDRF(), Root()):
            await permitted.send_message(message)
            assert await permitted.receive_all_messages() == [Done()], message

    async def test_has_perms_asks_the_backends_for_that_user(self) -> None:
        user = await self.user()
        permission = await Permission.objects.aget(codename="delete_user")
        await sync_to_async(user.user_permissions.add)(permission)
        comm = self.create_communicator(user=user)
        await comm.connect()
        await comm.send_message(CanDelete())
        assert await comm.receive_all_messages() == [Done()]

    async def test_the_core_communicator_takes_a_django_user_too(self) -> None:
        user = await self.user()
        headers = {"origin": "http://testserver"}
        async with AuthenticatedCommunicator(APPLICATION, "/ws/session", headers, user=user) as c:
            await c.send_message(WhoAmI())
            assert (await c.assert_receives(Me)).payload == user.username
        inactive = await self.user(is_active=False)
        comm = AuthenticatedCommunicator(APPLICATION, "/ws/session", headers, user=inactive)
        with pytest.raises(CommunicatorError, match="authentication failed: 403"):
            await comm.connect()
        await comm.disconnect()
        plain = WebsocketCommunicator(APPLICATION, "/ws/session", headers, user=inactive)
        await plain.connect()
        assert (await plain.wait_for_auth()).payload.status_code == 403
        await plain.disconnect()


class OneDotXNames(WebsocketTestCase):
    """chanx 1.x's test case names: ``router``, ``create_communicator()`` sending
    ``get_ws_headers()``, ``wait_for_auth(max_auth_time=)``."""

    router = APPLICATION
    ws_path = "/ws/session"

    def get_ws_headers(self) -> Any:
        self.user, headers = self.create_user_and_ws_headers()
        return headers

    async def test_router_is_the_application(self) -> None:
        assert self.router is APPLICATION
        assert self.get_application() is APPLICATION

    async def test_create_communicator_sends_the_ws_headers(self) -> None:
        comm = self.create_communicator()
        await comm.connect()
        auth = await comm.wait_for_auth(max_auth_time=2)
        assert auth.payload.status_code == 200
        await comm.send_message(WhoAmI())
        assert (await comm.assert_receives(Me)).payload == self.user.username

    async def test_the_unauthenticated_communicator_sends_none(self) -> None:
        await self.communicator.connect()
        assert (await self.communicator.wait_for_auth()).payload.status_code == 403


class AssignedRouter(WebsocketTestCase):
    ws_path = "/ws/session"

    def setUp(self) -> None:
        super().setUp()
        self.router = APPLICATION  # 1.x tests may set it in setUp

    async def test_an_assigned_router_is_the_application(self) -> None:
        assert self.get_application() is APPLICATION
        await self.communicator.connect()
        assert (await self.communicator.wait_for_auth()).payload.status_code == 403


def test_the_channels_plugin_gives_each_test_fresh_memory_layers(
    request: pytest.FixtureRequest,
) -> None:
    assert "chanx_channel_layers" in request.fixturenames  # loaded, automatic
    before = get_channel_layer()
    assert get_channel_layer() is before
    pytest_plugin._drop_memory_layers()
    assert get_channel_layer() is not before

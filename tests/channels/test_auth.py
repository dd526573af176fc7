"""Django authentication: the session authenticator, DRF classes, per-handler checks."""

from __future__ import annotations

import base64
import logging
from typing import Any, Literal

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.contrib.auth.models import Permission
from django.test.utils import override_settings
from django.urls import path
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from chanx.constants import CLOSE_SERVER_ERROR
from chanx.core.decorators import ws_handler
from chanx.ext.channels.auth import SessionAuthenticator, has_perms, is_staff, is_superuser
from chanx.ext.channels.drf import DRFAuthenticator, drf_permissions
from chanx.ext.channels.testing import WebsocketTestCase
from chanx.ext.channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.testing import CommunicatorError


class WhoAmI(BaseMessage):
    action: Literal["whoami"] = "whoami"
    payload: None = None


class Me(BaseMessage):
    action: Literal["me"] = "me"
    payload: str


class StaffOnly(BaseMessage):
    action: Literal["staff_only"] = "staff_only"
    payload: None = None


class CanDelete(BaseMessage):
    action: Literal["can_delete"] = "can_delete"
    payload: None = None


class AdminViaDRF(BaseMessage):
    action: Literal["admin_via_drf"] = "admin_via_drf"
    payload: None = None


class Root(BaseMessage):
    action: Literal["root"] = "root"
    payload: None = None


class Done(BaseMessage):
    action: Literal["done"] = "done"
    payload: None = None


class Base(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def handle_whoami(self, message: WhoAmI) -> Me:
        return Me(payload=self.user.get_username())

    @ws_handler(permissions=[is_staff])
    async def handle_staff(self, message: StaffOnly) -> Done:
        return Done()

    @ws_handler(permissions=[has_perms("auth.delete_user")])
    async def handle_can_delete(self, message: CanDelete) -> Done:
        return Done()

    @ws_handler(permissions=[drf_permissions(IsAdminUser)])
    async def handle_admin(self, message: AdminViaDRF) -> Done:
        return Done()

    @ws_handler(permissions=[is_superuser])
    async def handle_root(self, message: Root) -> Done:
        return Done()


class SessionConsumer(Base):
    authenticator = SessionAuthenticator()


class Session401Consumer(Base):
    authenticator = SessionAuthenticator(status_code=401)


class DRFSessionConsumer(Base):
    authenticator = DRFAuthenticator(
        authentication_classes=[SessionAuthentication], permission_classes=[IsAuthenticated]
    )


class DRFBasicConsumer(Base):
    authenticator = DRFAuthenticator(
        authentication_classes=[BasicAuthentication], permission_classes=[IsAuthenticated]
    )


class DRFAdminConsumer(Base):
    authenticator = DRFAuthenticator(
        authentication_classes=[SessionAuthentication], permission_classes=[IsAdminUser]
    )


class DRFDefaultsConsumer(Base):
    authenticator = DRFAuthenticator()


ROUTES = [
    path("ws/session", SessionConsumer.as_asgi()),
    path("ws/session401", Session401Consumer.as_asgi()),
    path("ws/drf/session", DRFSessionConsumer.as_asgi()),
    path("ws/drf/basic", DRFBasicConsumer.as_asgi()),
    path("ws/drf/admin", DRFAdminConsumer.as_asgi()),
    path("ws/drf/defaults", DRFDefaultsConsumer.as_asgi()),
]


class AuthTestCase(WebsocketTestCase):
    application = AuthMiddlewareStack(URLRouter(ROUTES))

    def get_ws_headers(self) -> Any:
        self.user, headers = self.create_user_and_ws_headers()
        return headers

    async def assert_refused(self, path: str, status: int, headers: Any = ()) -> Any:
        comm = self.create_communicator(path=path, headers=headers)
        await comm.connect()
        auth = await comm.wait_for_auth()
        assert auth.payload.status_code == status
        await comm.send_message(WhoAmI())
        await comm.receive_nothing()  # no handler runs, the connection is closed
        assert comm.close_code == 4000 + status
        return auth

    async def assert_admitted(self) -> None:
        comm = self.auth_communicator
        await comm.connect()
        await comm.assert_authenticated_status_ok()
        await comm.send_message(WhoAmI())
        assert await comm.receive_all_messages() == [Me(payload=self.user.username)]


class TestSessionAuthenticator(AuthTestCase):
    ws_path = "/ws/session"

    async def test_a_logged_in_user_is_admitted_and_is_self_user(self) -> None:
        await self.assert_admitted()

    async def test_an_anonymous_connection_gets_403(self) -> None:
        auth = await self.assert_refused(self.ws_path, 403)
        assert auth.payload.data == {"detail": "Authentication credentials were not provided."}

    async def test_the_refusal_status_is_configurable(self) -> None:
        await self.assert_refused("/ws/session401", 401)

    async def test_a_session_of_a_deleted_user_gets_403(self) -> None:
        user, headers = await self.acreate_user_and_ws_headers()
        await sync_to_async(user.delete)()
        await self.assert_refused(self.ws_path, 403, headers)

    @override_settings(
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    )
    async def test_an_inactive_user_gets_403(self) -> None:
        _, headers = await self.acreate_user_and_ws_headers(is_active=False)
        auth = await self.assert_refused(self.ws_path, 403, headers)
        assert auth.payload.data == {"detail": "User inactive or deleted."}

    async def test_without_auth_middleware_the_connection_fails_with_a_clear_log(self) -> None:
        comm = self.create_communicator()
        comm.application = URLRouter(ROUTES)
        with self.assertLogs("chanx", logging.ERROR) as logs:
            await comm.connect()
            await comm.receive_nothing()
        assert comm.close_code == CLOSE_SERVER_ERROR
        assert "AuthMiddlewareStack" in "\n".join(logs.output)

    async def test_without_auth_middleware_the_test_failure_names_it(self) -> None:
        comm = self.create_communicator()
        comm.application = URLRouter(ROUTES)
        with self.assertLogs("chanx", logging.ERROR):
            await comm.connect()
        with pytest.raises(CommunicatorError) as failure:
            await comm.wait_for_auth()
        assert str(failure.value) == (
            "SessionConsumer sent no authentication message: its SessionAuthenticator "
            "cannot work here: SessionConsumer authenticates with the Django session, but the "
            'scope has no "user": wrap the websocket application in '
            "channels.auth.AuthMiddlewareStack"
        )

    async def test_handler_checks_refuse_without_running_the_handler(self) -> None:
        await self.auth_communicator.connect()
        for message in (StaffOnly(), CanDelete(), AdminViaDRF(), Root()):
            await self.auth_communicator.send_message(message)
            [error] = await self.auth_communicator.receive_all_json()
            assert error["payload"]["errors"][0]["type"] == "permission_denied", message

    async def test_handler_checks_admit_users_who_qualify(self) -> None:
        _, headers = await self.acreate_user_and_ws_headers(is_staff=True, is_superuser=True)
        comm = self.create_communicator(headers=headers)
        await comm.connect()
        for message in (StaffOnly(), CanDelete(), AdminViaDRF(), Root()):
            await comm.send_message(message)
            assert await comm.receive_all_messages() == [Done()], message

    async def test_has_perms_asks_the_backends(self) -> None:
        user, headers = await self.acreate_user_and_ws_headers()
        permission = await Permission.objects.aget(codename="delete_user")
        await sync_to_async(user.user_permissions.add)(permission)
        comm = self.create_communicator(headers=headers)
        await comm.connect()
        await comm.send_message(CanDelete())
        assert await comm.receive_all_messages() == [Done()]


class TestDRFAuthenticator(AuthTestCase):
    ws_path = "/ws/drf/session"

    async def test_session_authentication_admits_a_logged_in_user(self) -> None:
        await self.assert_admitted()

    async def test_session_authentication_refuses_anonymous_with_403(self) -> None:
        # Session authentication has no challenge to offer: DRF answers 403, not 401.
        auth = await self.assert_refused(self.ws_path, 403)
        assert auth.payload.data == {"detail": "Authentication credentials were not provided."}

    async def test_a_challenging_authentication_class_gives_401(self) -> None:
        await self.assert_refused("/ws/drf/basic", 401)

    async def test_basic_credentials_are_checked_by_drf(self) -> None:
        user = await sync_to_async(self.create_user)()
        await sync_to_async(user.set_password)("s3cret")
        await user.asave()
        good = base64.b64encode(f"{user.username}:s3cret".encode()).decode()
        comm = self.create_communicator(
            path="/ws/drf/basic", headers={"authorization": f"Basic {good}"}
        )
        await comm.connect()
        await comm.assert_authenticated_status_ok()
        bad = base64.b64encode(f"{user.username}:wrong".encode()).decode()
        auth = await self.assert_refused("/ws/drf/basic", 401, {"authorization": f"Basic {bad}"})
        assert auth.payload.data == {"detail": "Invalid username/password."}

    async def test_a_refused_permission_gives_403_with_drf_detail(self) -> None:
        _, headers = await self.acreate_user_and_ws_headers()
        auth = await self.assert_refused("/ws/drf/admin", 403, headers)
        assert auth.payload.data == {"detail": "You do not have permission to perform this action."}
        _, headers = await self.acreate_user_and_ws_headers(is_staff=True)
        comm = self.create_communicator(path="/ws/drf/admin", headers=headers)
        await comm.connect()
        await comm.assert_authenticated_status_ok()

    @override_settings(
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework.authentication.SessionAuthentication"
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        }
    )
    async def test_drf_defaults_are_read_when_used(self) -> None:
        await self.assert_refused("/ws/drf/defaults", 403)

    async def test_drf_defaults_allow_any(self) -> None:
        comm = self.create_communicator(path="/ws/drf/defaults")
        await comm.connect()
        await comm.assert_authenticated_status_ok()
